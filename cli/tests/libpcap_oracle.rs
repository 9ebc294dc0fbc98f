//! libpcap as the oracle of the cBPF translation: for many tcpdump
//! expressions (compiled by libpcap) over the shipped capture and generated
//! traffic (VLAN, IPv6, fragments, truncated frames), and for random valid
//! cBPF programs, cranebpf's verdict per packet on both engines equals
//! libpcap's: `bpf_filter` with the packet's wire length, and
//! `pcap_offline_filter` (the `pcap` crate's `BpfProgram::filter`).
//!
//! libpcap is linked into the CLI, so these tests always run.

#[path = "../src/libpcap.rs"]
mod libpcap;

use cranebpf::filter::{disassemble, CbpfProgram, Flavor, PacketFilter, PacketMeta, SockFilter};
use cranebpf::EngineKind;
use libpcap::LibpcapFilter;
use std::path::PathBuf;

/// A packet as captured: bytes and length on the wire.
struct Packet {
    data: Vec<u8>,
    wire_len: u32,
}
#[allow(dead_code)]
#[path = "common/cbpf_gen.rs"]
mod cbpf_gen;
use cbpf_gen::{random_filter, Rng};

const SEED: u64 = 0x5eed_cbbf_0001;

fn shipped_capture() -> Vec<Packet> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/pcap/mixed.pcap");
    let bytes = std::fs::read(&path).expect("examples/pcap/mixed.pcap");
    let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).expect("a pcap");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("a packet");
        out.push(Packet {
            wire_len: p.orig_len,
            data: p.data.into_owned(),
        });
    }
    out
}

/// Ethernet + optional VLAN tags + IPv4/IPv6/ARP + TCP/UDP/ICMP, with
/// fragments, options, random fields, and some frames truncated.
fn generated_traffic(rng: &mut Rng, count: usize) -> Vec<Packet> {
    (0..count).map(|_| generated_packet(rng)).collect()
}

fn generated_packet(rng: &mut Rng) -> Packet {
    let mut p = Vec::new();
    let macs: [[u8; 6]; 3] = [
        [0xff; 6],
        [0, 0x11, 0x22, 0x33, 0x44, 0x55],
        [1, 0, 0x5e, 0, 0, 1],
    ];
    p.extend_from_slice(&rng.pick(&macs));
    p.extend_from_slice(&rng.pick(&macs));
    for _ in 0..rng.pick(&[0u64, 0, 0, 1, 1, 2]) {
        p.extend_from_slice(&[rng.pick(&[0x81u8, 0x88]), rng.pick(&[0x00u8, 0xa8])]);
        let any = rng.below(4096) as u16;
        let vid = rng.pick(&[100u16, 200, 4095, any]);
        p.extend_from_slice(&vid.to_be_bytes());
    }
    let l3 = rng.below(10);
    let any = rng.below(256) as u8;
    let proto = rng.pick(&[6u8, 17, 1, 58, 47, any]);
    match l3 {
        0..=5 => {
            p.extend_from_slice(&[0x08, 0x00]);
            ipv4(rng, &mut p, proto);
        }
        6..=8 => {
            p.extend_from_slice(&[0x86, 0xdd]);
            ipv6(rng, &mut p, proto);
        }
        _ => {
            p.extend_from_slice(&[0x08, 0x06]);
            p.extend((0..28).map(|_| rng.below(256) as u8));
        }
    }
    transport(rng, &mut p, proto);
    p.extend((0..rng.pick(&[0u64, 4, 20, 600])).map(|_| rng.below(256) as u8));
    let wire_len = p.len() as u32;
    if rng.below(5) == 0 {
        // Truncated: captured fewer bytes than were on the wire.
        let keep = rng.below(p.len() as u64) as usize;
        p.truncate(keep);
    }
    Packet { data: p, wire_len }
}

fn ipv4(rng: &mut Rng, p: &mut Vec<u8>, proto: u8) {
    let ihl = rng.pick(&[5u8, 5, 5, 6, 15]);
    let total = rng.pick(&[40u16, 576, 577, 1500]);
    let frag: u16 = rng.pick(&[0, 0, 0x2000, 0x00b9, 0x4000, 0x1fff]);
    p.extend_from_slice(&[0x40 | ihl, 0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 1]);
    p.extend_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(&[rng.pick(&[1u8, 64, 255]), proto, 0, 0]);
    let addrs: [[u8; 4]; 4] = [
        [10, 0, 0, 100],
        [192, 168, 1, 10],
        [224, 0, 0, 1],
        [8, 8, 8, 8],
    ];
    p.extend_from_slice(&rng.pick(&addrs));
    p.extend_from_slice(&rng.pick(&addrs));
    p.extend((0..(ihl as usize - 5) * 4).map(|_| 1u8));
}

fn ipv6(rng: &mut Rng, p: &mut Vec<u8>, proto: u8) {
    p.extend_from_slice(&[0x60, 0, 0, 0, 0, 40, proto, 64]);
    let addrs: [[u8; 16]; 3] = [
        [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ];
    p.extend_from_slice(&rng.pick(&addrs));
    p.extend_from_slice(&rng.pick(&addrs));
}

fn transport(rng: &mut Rng, p: &mut Vec<u8>, proto: u8) {
    let port = |rng: &mut Rng| {
        let any = rng.below(65536) as u16;
        rng.pick(&[23u16, 53, 80, 443, 1500, 2000, any])
    };
    match proto {
        6 | 17 => {
            p.extend_from_slice(&port(rng).to_be_bytes());
            p.extend_from_slice(&port(rng).to_be_bytes());
            p.extend_from_slice(&[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 0]);
            p.extend_from_slice(&[0x50, rng.pick(&[0x02u8, 0x12, 0x10, 0x18, 0x01, 0x04])]);
            p.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
        }
        1 | 58 => p.extend_from_slice(&[rng.pick(&[0u8, 8, 3, 128]), 0, 0, 0, 0, 1, 0, 1]),
        _ => {}
    }
}

/// The verdicts of cranebpf (both engines) and libpcap for one filter and
/// packet must agree; `what` names the case in a failure.
fn assert_same(filters: &[SockFilter], packets: &[Packet], what: &str) -> usize {
    let lp = LibpcapFilter::new(filters).unwrap_or_else(|| panic!("{what}: bpf_validate refuses"));
    let mut engines: Vec<PacketFilter> = [EngineKind::Interpreter, EngineKind::Jit]
        .into_iter()
        .map(|e| {
            PacketFilter::new(filters.to_vec(), e)
                .unwrap_or_else(|err| panic!("{what}: cranebpf refuses: {err}"))
        })
        .collect();
    let mut matched = 0;
    for (i, p) in packets.iter().enumerate() {
        let want = lp.run(&p.data, p.wire_len);
        for f in &mut engines {
            let got = f
                .run(&p.data, &PacketMeta::with_len(p.wire_len))
                .unwrap_or_else(|e| panic!("{what}: packet {i}: fault {e}"));
            assert_eq!(
                got,
                want,
                "{what}: packet {i} ({:?}, wire length {}): {:?} vs libpcap; the filter:\n{}",
                p.data,
                p.wire_len,
                f.engine(),
                disassemble(filters)
            );
        }
        matched += (want != 0) as usize;
    }
    // The batch path gives the same verdicts, packet by packet.
    for f in &mut engines {
        let mut batch = Vec::new();
        f.run_batch(
            packets.iter().map(|p| (&p.data[..], p.wire_len)),
            &mut batch,
        )
        .unwrap_or_else(|e| panic!("{what}: batch fault {e}"));
        for (i, (p, got)) in packets.iter().zip(&batch).enumerate() {
            assert_eq!(
                *got,
                lp.run(&p.data, p.wire_len),
                "{what}: packet {i}: {:?} batch vs libpcap",
                f.engine()
            );
        }
        assert_eq!(batch.len(), packets.len(), "{what}: one verdict per packet");
    }
    matched
}

const EXPRESSIONS: &[&str] = &[
    "",
    "ip",
    "ip6",
    "arp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "host 10.0.0.100",
    "src host 192.168.1.10 and dst host 10.0.0.100",
    "dst net 10.0.0.0/8",
    "net 192.168.1.0/24",
    "port 80",
    "tcp port 23",
    "udp port 53",
    "portrange 1000-2000",
    "tcp dst portrange 20-25",
    "vlan",
    "vlan 100",
    "vlan and ip",
    "vlan 200 and tcp port 80",
    "tcp[tcpflags] & tcp-syn != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn",
    "ip[2:2] > 576",
    "len <= 128",
    "greater 100",
    "less 64",
    "ip and not tcp",
    "tcp or udp",
    "not (port 80 or port 443)",
    "ip6 and tcp",
    "ip6 host fe80::1",
    "ip6 and udp port 53",
    "ip[6:2] & 0x1fff != 0",
    "ip[6] & 0x20 != 0",
    "icmp[icmptype] == icmp-echo",
    "ether broadcast",
    "ether host 00:11:22:33:44:55",
    "ip proto 47",
    "ip multicast",
    "ip[0] & 0xf > 5",
    "tcp[13] & 2 != 0 and ip[8] < 64",
    "udp[8:4] = 0x12345678",
    "ip[2:2] / 3 > 100 and ip[2:2] % 7 = 1",
    "(tcp and port 443) or (udp and not port 53) or icmp6",
];

#[test]
fn libpcap_expressions_agree_with_bpf_filter_and_pcap_offline_filter() {
    let mut rng = Rng(SEED);
    eprintln!("libpcap oracle: traffic seed {SEED:#x}");
    let mut packets = shipped_capture();
    assert!(packets.len() > 100, "the shipped capture has its packets");
    packets.extend(generated_traffic(&mut rng, 600));
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).expect("pcap_open_dead");
    for expr in EXPRESSIONS {
        let filters = libpcap::compile(expr, 1).expect("libpcap compiles it");
        let matched = assert_same(&filters, &packets, expr);
        // pcap_offline_filter (through the pcap crate) sees caplen as the
        // wire length: compare with that.
        let prog = dead.compile(expr, true).expect("compiles");
        let mut jit = PacketFilter::new(filters, EngineKind::Jit).expect("translates");
        let mut offline = 0;
        for (i, p) in packets.iter().enumerate() {
            let ours = jit.matches(&p.data, p.data.len() as u32).expect("runs");
            assert_eq!(
                ours,
                prog.filter(&p.data),
                "`{expr}`: packet {i} vs pcap_offline_filter"
            );
            offline += usize::from(ours);
        }
        let batch = packets.iter().map(|p| (&p.data[..], p.data.len() as u32));
        assert_eq!(
            jit.count(batch).expect("runs"),
            offline,
            "`{expr}`: batch count vs pcap_offline_filter"
        );
        eprintln!("`{expr}`: {matched} of {} packets match", packets.len());
    }
}

#[test]
fn libpcap_unoptimised_filters_agree_too() {
    // Without the optimiser libpcap emits scratch memory, `tax`/`txa` and
    // `[x + k]` loads that the optimised code folds away.
    let mut rng = Rng(SEED ^ 1);
    let packets = generated_traffic(&mut rng, 300);
    let dead = pcap::Capture::dead(pcap::Linktype::ETHERNET).expect("pcap_open_dead");
    for expr in [
        "tcp port 80",
        "ip[ip[0] & 0xf] = 4",
        "vlan and udp",
        "ip6 and tcp[tcpflags] & tcp-syn != 0",
    ] {
        let prog = match dead.compile(expr, false) {
            Ok(p) => p,
            Err(e) => panic!("`{expr}`: {e}"),
        };
        let filters: Vec<SockFilter> = prog
            .get_instructions()
            .iter()
            .map(|i| {
                let f: Vec<u64> = i
                    .to_string()
                    .split(' ')
                    .map(|s| s.parse().unwrap())
                    .collect();
                SockFilter::new(f[0] as u16, f[1] as u8, f[2] as u8, f[3] as u32)
            })
            .collect();
        assert_same(&filters, &packets, expr);
    }
}

#[test]
fn random_cbpf_programs_agree_with_libpcap_bpf_filter() {
    const PROGRAMS: usize = 300;
    let seed = SEED ^ 0xabc;
    eprintln!("random cBPF vs libpcap: seed {seed:#x}, {PROGRAMS} programs");
    let mut rng = Rng(seed);
    let mut packets = generated_traffic(&mut rng, 40);
    packets.push(Packet {
        data: Vec::new(),
        wire_len: 0,
    });
    let mut nonzero = 0;
    for n in 0..PROGRAMS {
        let body = 1 + rng.below(40) as usize;
        let f = random_filter(&mut rng, body);
        // The generator keeps to what both checkers accept; prove it.
        if let Err(e) = CbpfProgram::new(f.clone(), Flavor::Socket) {
            panic!("program {n}: the generator made an invalid filter: {e}");
        }
        nonzero += assert_same(&f, &packets, &format!("random program {n}"));
    }
    // The programs must not all return 0, or the comparison proves little.
    assert!(nonzero > PROGRAMS, "only {nonzero} nonzero verdicts");
}
