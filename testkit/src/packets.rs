//! The example packets: a deterministic mix of frames (IPv4 TCP/UDP flows,
//! some to the load balancer's virtual IP, ICMP, ARP, IPv6, IPv4 with
//! options, truncated frames), written to `examples/pcap/mixed.pcap`, and
//! the independent Rust models of the example programs.
//!
//! Used by `runtime/tests/elf` (interpreter), `jit/tests/elf_examples.rs`
//! (JIT) and the CLI's tests.

/// Internet checksum (RFC 1071) of `data`, folded and complemented.
pub fn inet_checksum(data: &[u8], initial: u32) -> u16 {
    let mut sum = initial;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Recomputes the IPv4 header checksum and the TCP/UDP checksum of an
/// Ethernet frame from scratch. A UDP checksum of 0 ("none") is kept 0.
pub fn fix_checksums(pkt: &mut [u8]) {
    let ihl = usize::from(pkt[14] & 0x0f) * 4;
    pkt[24] = 0;
    pkt[25] = 0;
    let c = inet_checksum(&pkt[14..14 + ihl], 0);
    pkt[24..26].copy_from_slice(&c.to_be_bytes());
    let proto = pkt[23];
    let l4 = 14 + ihl;
    let off = match proto {
        6 => 16,
        17 => 6,
        _ => return,
    };
    if proto == 17 && pkt[l4 + 6] == 0 && pkt[l4 + 7] == 0 {
        return;
    }
    pkt[l4 + off] = 0;
    pkt[l4 + off + 1] = 0;
    let len = pkt.len() - l4;
    let mut pseudo = 0u32;
    for w in [&pkt[26..28], &pkt[28..30], &pkt[30..32], &pkt[32..34]] {
        pseudo += u32::from(u16::from_be_bytes([w[0], w[1]]));
    }
    pseudo += u32::from(proto) + len as u32;
    let mut c = inet_checksum(&pkt[l4..], pseudo);
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    pkt[l4 + off..l4 + off + 2].copy_from_slice(&c.to_be_bytes());
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0b];
/// The load balancer's virtual IP.
pub const VIP: [u8; 4] = [10, 0, 0, 100];

fn eth(ethertype: u16) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&MAC_B);
    p.extend_from_slice(&MAC_A);
    p.extend_from_slice(&ethertype.to_be_bytes());
    p
}

/// An IPv4 frame with `options` words of IP options and an L4 payload.
fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, options: usize, l4: &[u8], id: u16) -> Vec<u8> {
    let mut p = eth(0x0800);
    let ihl = 5 + options;
    let total = (ihl * 4 + l4.len()) as u16;
    p.push(0x40 | ihl as u8);
    p.push(0);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x40, 0]); // DF
    p.push(64);
    p.push(proto);
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend(std::iter::repeat_n(1u8, options * 4)); // NOP options
    p.extend_from_slice(l4);
    fix_checksums(&mut p);
    p
}

fn tcp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&sport.to_be_bytes());
    t.extend_from_slice(&dport.to_be_bytes());
    t.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend((0..payload).map(|i| i as u8));
    t
}

fn udp(sport: u16, dport: u16, payload: usize, with_checksum: bool) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload) as u16).to_be_bytes());
    u.extend_from_slice(if with_checksum {
        &[0xff, 0xff]
    } else {
        &[0, 0]
    });
    u.extend((0..payload).map(|i| (i * 7) as u8));
    u
}

/// The example packets, deterministically.
pub fn packets() -> Vec<Vec<u8>> {
    let mut rng = Rng(0x00c0_ffee_1234_5678);
    let clients: Vec<[u8; 4]> = (0..6).map(|i| [192, 168, 1, 10 + i]).collect();
    let servers = [[10, 0, 0, 1], [10, 0, 0, 2], VIP];
    let mut out = Vec::new();
    for i in 0..240u32 {
        let id = i as u16;
        let src = clients[rng.below(clients.len() as u32) as usize];
        let dst = servers[rng.below(servers.len() as u32) as usize];
        let sport = 40000 + rng.below(3) as u16;
        let pkt = match rng.below(20) {
            0..=6 => {
                let dport = [80, 443, 22, 23][rng.below(4) as usize];
                ipv4(
                    src,
                    dst,
                    6,
                    0,
                    &tcp(sport, dport, rng.below(64) as usize),
                    id,
                )
            }
            7..=12 => {
                let dport = [53, 123, 4789][rng.below(3) as usize];
                let payload = 12 + rng.below(40) as usize;
                ipv4(
                    src,
                    dst,
                    17,
                    0,
                    &udp(sport, dport, payload, rng.below(4) != 0),
                    id,
                )
            }
            13 => {
                // TCP behind IP options: the firewall follows ihl, the load
                // balancer only handles ihl == 5.
                ipv4(
                    src,
                    dst,
                    6,
                    1 + rng.below(2) as usize,
                    &tcp(sport, 8080, 8),
                    id,
                )
            }
            14 | 15 => {
                let icmp = [8, 0, 0, 0, 0, 1, 0, id as u8];
                ipv4(src, dst, 1, 0, &icmp, id)
            }
            16 => {
                let mut p = eth(0x0806);
                p.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
                p.extend_from_slice(&MAC_A);
                p.extend_from_slice(&src);
                p.extend_from_slice(&[0; 6]);
                p.extend_from_slice(&dst);
                p
            }
            17 => {
                let mut p = eth(0x86dd);
                p.extend_from_slice(&[0x60, 0, 0, 0, 0, 8, 17, 64]);
                p.extend_from_slice(&[0xfe; 32]);
                p.extend_from_slice(&udp(sport, 53, 0, false));
                p
            }
            18 => {
                // Truncated inside the IPv4 or TCP header.
                let full = ipv4(src, dst, 6, 0, &tcp(sport, 80, 0), id);
                full[..16 + rng.below(24) as usize].to_vec()
            }
            _ => {
                // Runt: shorter than an Ethernet header (the kernel refuses
                // these in BPF_PROG_TEST_RUN; cranebpf runs them).
                eth(0x0800)[..6 + rng.below(8) as usize].to_vec()
            }
        };
        out.push(pkt);
    }
    out
}

/// The pcap file (microsecond timestamps, Ethernet) of [`packets`].
pub fn pcap_bytes() -> Vec<u8> {
    use pcap_file::pcap::{PcapPacket, PcapWriter};
    let mut w = PcapWriter::new(Vec::new()).expect("pcap header");
    for (i, p) in packets().iter().enumerate() {
        let ts = std::time::Duration::from_micros(1_700_000_000_000_000 + i as u64 * 1000);
        w.write_packet(&PcapPacket::new(ts, p.len() as u32, p))
            .expect("pcap packet");
    }
    w.into_writer()
}

/// Reads every packet of a pcap file.
pub fn read_pcap(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut r = pcap_file::pcap::PcapReader::new(bytes).expect("pcap header");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        out.push(p.expect("pcap packet").data.into_owned());
    }
    out
}
