//! The differential harness over the `__sk_buff` program types: generated
//! socket filters and tc classifiers ([`cranebpf_difftest::gen::skb`]) on
//! the interpreter, the JIT, the audited elide JIT and the Linux kernel
//! (`BPF_PROG_TEST_RUN` with the context as `ctx_in`), compared per frame:
//! the return value, the output packet and the context fields the program
//! wrote (mark, priority, cb).
//!
//! The engines are always compared. The kernel needs root and `bpf()`;
//! without it the tests say so loudly and compare the engines only, unless
//! `CRANEBPF_REQUIRE_KERNEL=1` makes the kernel required.

use cranebpf::EngineKind;
use cranebpf_difftest::cli::elide_engine;
use cranebpf_difftest::gen::skb::{readable, SkbCase};
use cranebpf_difftest::skb::{
    kernel_available, run_in_kernel, run_on, run_skb_batch, SkbBatch, SkbSummary,
};
use cranebpf_runtime::ctx::{SkbKind, SkbMeta};
use cranebpf_runtime::{AluOp, Engine, Insn, InterpreterEngine, Reg, Size, Src, Width};

fn kernel_required() -> bool {
    std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

/// Whether the kernel takes part; a loud notice if it cannot.
fn kernel(what: &str) -> bool {
    match kernel_available() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                !kernel_required(),
                "CRANEBPF_REQUIRE_KERNEL=1 but bpf() is unusable: {why}"
            );
            eprintln!(
                "\n*** KERNEL COMPARISON SKIPPED ({what}): bpf() is not usable here: {why} ***\n"
            );
            false
        }
    }
}

/// A batch of `count` cases of `kind` from `seed`: interpreter against
/// `target`, and the kernel where it can.
fn batch(kind: SkbKind, seed: u64, count: u64, target: &dyn Engine) -> SkbSummary {
    let b = SkbBatch {
        kind,
        seed,
        count,
        reference: &InterpreterEngine,
        target,
        kernel: kernel(&format!("{kind:?}")),
    };
    let s = run_skb_batch(&b, &|| {});
    eprintln!(
        "{kind:?} vs {}: {} programs, {} engine comparisons, {} kernel comparisons, {} refused by the kernel",
        target.name(),
        s.cases,
        s.compared,
        s.kernel_compared,
        s.kernel_refused
    );
    let shown: Vec<String> = s
        .divergences
        .iter()
        .take(3)
        .map(|d| d.to_string())
        .collect();
    assert!(
        s.divergences.is_empty(),
        "{} divergences:\n{}",
        s.divergences.len(),
        shown.join("\n\n")
    );
    assert_eq!(
        s.compared,
        count * cranebpf_difftest::gen::skb::FRAMES as u64
    );
    if b.kernel {
        assert!(
            s.kernel_refused * 10 <= count,
            "the kernel refused {} of {count} programs",
            s.kernel_refused
        );
        assert!(s.kernel_compared > 0);
    }
    s
}

#[test]
fn generated_socket_filters_agree_across_engines_and_with_the_kernel() {
    batch(SkbKind::SocketFilter, 0x50c4_e7f1, 80, &EngineKind::Jit);
}

#[test]
fn generated_tc_programs_agree_across_engines_and_with_the_kernel() {
    batch(SkbKind::SchedCls, 0x7c_c1a5, 150, &EngineKind::Jit);
}

#[test]
fn generated_skb_programs_pass_the_elide_audit() {
    let audited = elide_engine(true);
    batch(SkbKind::SocketFilter, 0xa0d17, 40, &audited);
    batch(SkbKind::SchedCls, 0xa0d18, 60, &audited);
}

/// Regression (found by this generator): a broadcast frame's `pkt_type`
/// is `PACKET_MULTICAST` under `BPF_PROG_TEST_RUN` (lo's broadcast address
/// is all zeros), and `SkbMeta::from_frame` said `PACKET_BROADCAST`.
#[test]
fn broadcast_frames_get_the_kernels_pkt_type() {
    let mut frame = cranebpf_difftest::gen::skb::generate_skb(1, SkbKind::SchedCls).frames[0]
        .0
        .clone();
    frame[..6].copy_from_slice(&[0xff; 6]);
    let meta = SkbMeta::from_frame(&frame);
    assert_eq!(meta.pkt_type, 2, "PACKET_MULTICAST");
    if !kernel("pkt_type") {
        return;
    }
    let insns = field_program(4, Size::W, false);
    let frames = [(frame, meta)];
    for kind in [SkbKind::SocketFilter, SkbKind::SchedCls] {
        let ours = run_on(&InterpreterEngine, kind, &insns, &frames).map(|v| v[0].r0.clone());
        let theirs = run_in_kernel(kind, &insns, &frames).map(|v| v[0].r0.clone());
        assert_eq!(ours.ok(), theirs.ok(), "{kind:?}");
    }
}

/// Every readable field, one program each, against the kernel: pins down
/// which field a difference in the generated programs comes from.
#[test]
fn each_field_reads_as_in_the_kernel() {
    if !kernel("fields") {
        return;
    }
    let mut diffs = Vec::new();
    for kind in [SkbKind::SocketFilter, SkbKind::SchedCls] {
        let frames = &cranebpf_difftest::gen::skb::generate_skb(7, kind).frames;
        for (off, size) in readable(kind)
            .into_iter()
            .filter(|(o, s)| *s != Size::H && *s != Size::B && o % 4 == 0)
        {
            for high in [false, true] {
                if high && size != Size::DW {
                    continue;
                }
                let insns = field_program(off, size, high);
                let ours = run_on(&InterpreterEngine, kind, &insns, frames)
                    .unwrap_or_else(|e| panic!("{kind:?} field {off}: {e}"));
                let theirs = run_in_kernel(kind, &insns, frames)
                    .unwrap_or_else(|e| panic!("{kind:?} field {off}: {e:?}"));
                for (i, (a, k)) in ours.iter().zip(&theirs).enumerate() {
                    if a.r0 != k.r0 {
                        diffs.push(format!(
                            "{kind:?} offset {off}{} frame {i}: ours {:?}, kernel {:?}",
                            if high { " (high)" } else { "" },
                            a.r0,
                            k.r0
                        ));
                    }
                }
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}

/// `r0 = ctx[off]` (of `size`; its high half if `high`), exit.
fn field_program(off: i16, size: Size, high: bool) -> Vec<Insn> {
    let mut insns = vec![Insn::Ldx {
        size,
        sx: false,
        dst: Reg::R0,
        src: Reg::R1,
        off,
    }];
    if high {
        insns.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Rsh,
            dst: Reg::R0,
            src: Src::Imm(32),
        });
    }
    insns.push(Insn::Exit);
    insns
}

/// The step tracing of a report names a step inside the program.
#[test]
fn prefixes_cover_the_program() {
    let c: SkbCase = cranebpf_difftest::gen::skb::generate_skb(3, SkbKind::SchedCls);
    let last = c.steps.len() - 1;
    assert_eq!(c.prefix(last), c.insns);
    assert!(!c.step(1).is_empty());
}

/// Regressions (found by this generator against the kernel): a VLAN tag
/// moved into the packet goes in at byte 12 and leaves the two bytes that
/// were there as the encapsulated protocol, even after
/// `bpf_skb_change_head` moved the MAC addresses; and `bpf_skb_change_tail`
/// refuses a length short of the network header, which `change_head` moves.
#[test]
fn helper_sequences_after_change_head_match_the_kernel() {
    let mut frame = vec![2u8, 0, 0, 0, 0, 9, 2, 0, 0, 0, 1, 7, 0x08, 0x00];
    frame.extend(0x40..0x68u8);
    let frames = [(frame.clone(), SkbMeta::from_frame(&frame))];
    let sequences: [&[(i32, i32)]; 4] = [
        &[(43, 2), (18, 0), (18, 0)],
        &[(18, 0), (43, 2), (18, 0)],
        &[(43, 6), (38, 16)],
        &[(18, 0), (18, 0), (38, 14)],
    ];
    let with_kernel = kernel("helper sequences");
    for seq in sequences {
        let insns = helper_sequence(seq);
        let ours = run_on(&InterpreterEngine, SkbKind::SchedCls, &insns, &frames)
            .unwrap_or_else(|e| panic!("{seq:?}: {e}"));
        if seq == [(43, 2), (18, 0), (18, 0)] {
            // 2 zero bytes, then the first 10 bytes of the MACs, the tag,
            // and the two MAC bytes that were at 12.
            assert_eq!(
                &ours[0].packet[12..18],
                &[0x81, 0x00, 0x01, 0x23, 0x01, 0x07]
            );
        }
        if seq == [(43, 6), (38, 16)] {
            assert_eq!(
                ours[0].r0,
                Ok((-22i32) as u32),
                "change_tail below the network header"
            );
        }
        if with_kernel {
            let theirs = run_in_kernel(SkbKind::SchedCls, &insns, &frames)
                .unwrap_or_else(|e| panic!("{seq:?}: {e:?}"));
            assert_eq!(ours, theirs, "{seq:?}");
        }
    }
}

/// Calls each `(helper, arg)` on the context in turn (`change_head` and
/// `change_tail` take `arg` as the length, `vlan_push` pushes 802.1Q TCI
/// 0x123) and returns the sum of the results.
fn helper_sequence(seq: &[(i32, i32)]) -> Vec<Insn> {
    let mov = |dst: Reg, src: Src| Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst,
        src,
    };
    let mut p = vec![mov(Reg::R6, Src::Reg(Reg::R1)), mov(Reg::R7, Src::Imm(0))];
    for &(helper, arg) in seq {
        p.push(mov(Reg::R1, Src::Reg(Reg::R6)));
        let (r2, r3) = if helper == 18 {
            (0x0081, 0x123)
        } else {
            (arg, 0)
        };
        p.push(mov(Reg::R2, Src::Imm(r2)));
        p.push(mov(Reg::R3, Src::Imm(r3)));
        p.push(Insn::Call {
            kind: cranebpf_runtime::CallKind::Helper,
            imm: helper,
        });
        p.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Add,
            dst: Reg::R7,
            src: Src::Reg(Reg::R0),
        });
    }
    p.push(mov(Reg::R0, Src::Reg(Reg::R7)));
    p.push(Insn::Exit);
    p
}
