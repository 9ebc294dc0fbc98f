//! The socket filter and tc examples under the interpreter, against the
//! models in `testkit`: verdicts, output packets, written `__sk_buff`
//! fields and maps.

use super::{object, u64s};
use cranebpf_runtime::ctx::SkbMeta;
use cranebpf_runtime::elf::{LoadedProgram, SkbOutcome};
use cranebpf_runtime::kernel::Redirect;
use cranebpf_runtime::{Interpreter, RunOptions};
use cranebpf_testkit::{models, packets};

fn run(lp: &LoadedProgram, it: &Interpreter, p: &mut Vec<u8>, meta: &mut SkbMeta) -> SkbOutcome {
    lp.run_skb(p, meta, &RunOptions::default(), it)
}

/// A socket's view of a frame: from the network header, with the
/// metadata the kernel derives from the frame.
pub fn socket_view(frame: &[u8]) -> (Vec<u8>, SkbMeta) {
    (
        frame.get(14..).unwrap_or(&[]).to_vec(),
        SkbMeta::from_frame(frame),
    )
}

#[test]
fn sockfilter_matches_model() {
    let obj = object("sockfilter.o");
    let lp = obj.load("sock_filter").unwrap();
    assert_eq!(lp.prog_type().name, "socket");
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut model = models::SockFilter::default();
    for (i, frame) in packets::packets().iter().enumerate() {
        let (mut p, mut meta) = socket_view(frame);
        let before = p.clone();
        let out = run(&lp, &it, &mut p, &mut meta);
        let (keep, cb0) = model.run(&before, meta.protocol);
        assert_eq!(out.outcome.result, Ok(keep), "packet {i}");
        assert_eq!(meta.cb[0], cb0, "packet {i}: cb[0]");
        assert_eq!(p, before, "packet {i}: a socket filter cannot write");
    }
    let counts: Vec<(u8, u64)> = obj
        .map("proto_count")
        .unwrap()
        .entries()
        .into_iter()
        .filter(|(_, v)| u64s(v)[0] != 0)
        .map(|(k, v)| (k[0], u64s(&v)[0]))
        .collect();
    assert_eq!(counts, model.proto_count.into_iter().collect::<Vec<_>>());
    let bss = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(u64s(&bss), vec![model.not_ipv4]);
}

#[test]
fn tc_dnat_rewrites_and_fixes_checksums() {
    let obj = object("tc_rewrite.o");
    let lp = obj.load("tc_dnat").unwrap();
    assert_eq!(lp.prog_type().name, "tc");
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut counts = [0u64; 8];
    let mut rewritten = 0;
    for (i, frame) in packets::packets().iter().enumerate() {
        let mut p = frame.clone();
        let mut meta = SkbMeta::from_frame(frame);
        let out = run(&lp, &it, &mut p, &mut meta);
        let (v, want, mark, prio, redirected) = models::tc_dnat(frame);
        assert_eq!(out.outcome.result, Ok(v), "packet {i}");
        assert_eq!(p, want, "packet {i}: output");
        assert_eq!((meta.mark, meta.priority), (mark, prio), "packet {i}");
        let target = redirected.then_some(Redirect {
            ifindex: 1,
            ingress: false,
        });
        assert_eq!(out.redirect, target, "packet {i}");
        counts[models::tc_verdict_key(v) as usize] += 1;
        rewritten += usize::from(mark == 0x53);
    }
    assert!(rewritten > 5, "the capture has DNS packets to rewrite");
    let map = obj.map("verdicts").unwrap();
    for (k, want) in counts.iter().enumerate() {
        let v = map.lookup(&(k as u32).to_le_bytes()).unwrap();
        assert_eq!(u64s(&v)[0], *want, "verdict {k}");
    }
}

#[test]
fn tc_vlan_pushes_two_tags_and_trims() {
    let obj = object("tc_rewrite.o");
    let lp = obj.load("tc_vlan").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    for (i, frame) in packets::packets()
        .iter()
        .enumerate()
        .filter(|(_, p)| p.len() >= 14)
    {
        let mut p = frame.clone();
        let mut meta = SkbMeta::from_frame(frame);
        let out = run(&lp, &it, &mut p, &mut meta);
        let (want, cb1, cb2) = models::tc_vlan(frame);
        assert_eq!(out.outcome.result, Ok(0), "packet {i}");
        assert_eq!(p, want, "packet {i}");
        assert_eq!((meta.cb[1], meta.cb[2]), (cb1, cb2), "packet {i}");
        assert!(meta.vlan_present);
        assert_eq!((meta.vlan_proto, meta.vlan_tci), (0x88a8, 200));
        assert_eq!(
            meta.protocol, 0x8100,
            "packet {i}: the inner tag's protocol"
        );
    }
}

/// Packets of one thread share its reused buffer: after a large packet, a
/// small one still sees only its own bytes (`data_end - data` is its
/// length, and `bpf_skb_load_bytes` past it fails), and the large one's
/// bytes come back unchanged when it runs again.
#[test]
fn a_reused_buffer_shows_each_packet_only_its_own_bytes() {
    use cranebpf_runtime::asm::assemble;
    use cranebpf_runtime::ctx::ProgramType;
    use cranebpf_runtime::elf::LoadOptions;
    use cranebpf_runtime::encode_all;
    // r0 = data_end - data, plus 0x10000 if 8 bytes at offset 100 load.
    let text = "
        mov %r6, %r1
        ldxw %r2, [%r1+76]
        ldxw %r7, [%r1+80]
        sub %r7, %r2
        mov %r1, %r6
        mov %r2, 100
        mov %r3, %r10
        add %r3, -8
        mov %r4, 8
        call 26
        mov %r8, %r0
        mov %r0, %r7
        jne %r8, 0, out
        add %r0, 0x10000
    out:
        exit
    ";
    let insns = assemble(text).unwrap();
    let lp = LoadedProgram::from_slots(
        "reuse",
        &encode_all(&insns),
        ProgramType::sched_cls(),
        LoadOptions::default(),
    )
    .unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let big: Vec<u8> = (0..1500u32).map(|i| i as u8).collect();
    let small = big[..40].to_vec();
    for (packet, want) in [(&big, 0x10000 + 1500), (&small, 40), (&big, 0x10000 + 1500)] {
        let mut p = packet.clone();
        let mut meta = SkbMeta::from_frame(packet);
        let out = run(&lp, &it, &mut p, &mut meta);
        assert_eq!(out.outcome.result, Ok(want), "{} bytes", packet.len());
        assert_eq!(&p, packet, "{} bytes: unchanged", packet.len());
    }
}
