//! The JIT using a proof (`JitOptions::with_proof`): loops whose back-edges
//! are proven bounded keep exact counts and budget faults at every budget,
//! and in audit mode a wrong access fact is a `ProofViolation` at its pc
//! where the interpreter faults out of bounds.

use cranebpf::insn::*;
use cranebpf::{FaultKind, JitOptions, JitProgram, RunOptions, VerifyMode, Vm};
use cranebpf_runtime::analysis::proof::{AccessFact, LoopFact, Proof, RegionKind};
use cranebpf_testkit::build::{alu64, jmp, ldx, mov, prog, EXIT};

/// An outer loop (5 trips, not proven) around an inner one (10 trips per
/// entry; its back-edge 5 -> 3 is proven bounded by 9 per entry of the
/// loop), and that proof. The fast copy then compares only at the function
/// start and the outer header, against `9 × (1 + 9) = 90`; the whole run
/// charges 167, so budgets between make the fast copy hand over.
fn nested_loops() -> (Vec<Insn>, Proof) {
    let insns = vec![
        mov(0, 0),
        mov(2, 5),
        mov(1, 10),
        alu64(AluOp::Add, 0, 3),
        alu64(AluOp::Sub, 1, 1),
        jmp(Width::W64, JmpCond::Ne, 1, Src::Imm(0), -3),
        alu64(AluOp::Sub, 2, 1),
        jmp(Width::W64, JmpCond::Ne, 2, Src::Imm(0), -6),
        EXIT,
    ];
    let mut proof = Proof::empty(insns.len());
    proof.push_loop(LoopFact::Bounded {
        from: 5,
        to: 3,
        max_trips: 9,
    });
    proof.push_loop(LoopFact::Unproven {
        from: 7,
        to: 2,
        reason: "test".into(),
    });
    (insns, proof)
}

fn jit_with(proof: Proof, audit: bool) -> JitOptions {
    let mut o = JitOptions::default();
    o.verify = VerifyMode::Elide;
    o.audit = audit;
    // SAFETY: the tests' proofs hold no `Proven` access fact unless
    // `audit` is on (then a wrong one is a fault, not an access).
    unsafe { o.with_proof(proof) }
}

#[test]
fn bounded_loops_keep_exact_counts_at_every_budget() {
    let (insns, proof) = nested_loops();
    let p = prog(&insns);
    let interp = Vm::interpreter(&p, cranebpf::Helpers::new()).expect("loads");
    let jit = Vm::jit_with(&p, cranebpf::Helpers::new(), &jit_with(proof, false)).expect("jits");
    let mut budgets: Vec<Option<u64>> = (0..200).map(Some).collect();
    budgets.push(None);
    for budget in budgets {
        let opts = RunOptions { budget };
        let a = interp.run_input(&mut [], &opts);
        let b = jit.run_input(&mut [], &opts);
        assert_eq!(
            (&a.result, a.insn_count),
            (&b.result, b.insn_count),
            "budget {budget:?}"
        );
    }
    assert_eq!(jit.run(&mut []), Ok(150));
}

#[test]
fn audit_reports_a_wrong_access_fact_as_a_proof_violation() {
    // r0 = *(u32 *)(r1 + 6) on a 4-byte input: out of bounds, but the
    // proof claims it is in the input.
    let insns = [mov(0, 0), ldx(Size::W, 0, 1, 6), EXIT];
    let mut proof = Proof::empty(insns.len());
    proof.set_access(
        1,
        AccessFact::Proven {
            region: RegionKind::Input,
        },
    );
    let p = prog(&insns);
    let jit = JitProgram::with_options(&p, cranebpf::Helpers::new(), &jit_with(proof, true))
        .expect("jits");
    let vm_interp = Vm::interpreter(&p, cranebpf::Helpers::new()).expect("loads");
    let mut input = [1u8, 2, 3, 4];
    let a = vm_interp.run(&mut input).expect_err("out of bounds");
    let mut mem = cranebpf::MemoryMap::new();
    let region = mem.add_mut(&mut input);
    let b = jit
        .run_with(
            &mut mem,
            [region.start, region.len, 0, 0, 0],
            &RunOptions::default(),
            None,
        )
        .result
        .expect_err("audited");
    assert_eq!((a.pc, b.pc), (1, 1));
    match (a.kind, b.kind) {
        (
            FaultKind::OutOfBounds { size: 4, .. },
            FaultKind::ProofViolation {
                size: 4, access, ..
            },
        ) => assert_eq!(access, cranebpf::Access::Read),
        other => panic!("{other:?}"),
    }
}

/// `Strict` refuses, kernel-style, a program the verifier cannot prove: a
/// depth-0 store to `[r10 - 520]`, another frame's stack. `Elide` compiles
/// the same program (its store stays checked) and every engine faults there.
#[test]
fn strict_refuses_an_out_of_frame_store_that_elide_keeps_checked() {
    let st = Insn::St {
        size: Size::DW,
        dst: Reg::R10,
        off: -520,
        imm: 1,
    };
    let p = prog(&[mov(0, 0), st, EXIT]);
    let mut strict = JitOptions::default();
    strict.verify = VerifyMode::Strict;
    let err = JitProgram::with_options(&p, cranebpf::Helpers::new(), &strict)
        .expect_err("strict refuses [r10-520]");
    let why = err.verify_error().expect("a verifier refusal").to_string();
    assert!(why.starts_with("pc 1:"), "{why}");
    assert!(err.to_string().contains("refused by the verifier"), "{err}");

    let mut elide = JitOptions::default();
    elide.verify = VerifyMode::Elide;
    elide.audit = true;
    let jit = Vm::jit_with(&p, cranebpf::Helpers::new(), &elide).expect("elide never refuses");
    let interp = Vm::interpreter(&p, cranebpf::Helpers::new()).expect("loads");
    let a = interp.run_input(&mut [], &RunOptions::default());
    let b = jit.run_input(&mut [], &RunOptions::default());
    assert_eq!((&a.result, a.insn_count), (&b.result, b.insn_count));
}

/// With no options beyond `Strict`, a program the verifier proves compiles
/// and runs like the interpreter.
#[test]
fn strict_accepts_a_proven_program() {
    let insns = [
        mov(0, 7),
        Insn::Stx {
            size: Size::DW,
            dst: Reg::R10,
            src: Reg::R0,
            off: -8,
        },
        ldx(Size::DW, 0, 10, -8),
        EXIT,
    ];
    let p = prog(&insns);
    let mut strict = JitOptions::default();
    strict.verify = VerifyMode::Strict;
    let jit = Vm::jit_with(&p, cranebpf::Helpers::new(), &strict).expect("proven");
    assert_eq!(jit.run(&mut []), Ok(7));
}

/// `sum += p[i]` for `i < r2`: under the raw-memory convention (r1 = the
/// input, r2 = its length) every load is proven, and Elide drops its
/// checks.
fn sum_to_r2() -> cranebpf::Program {
    cranebpf::Program::from_insns(
        &cranebpf_runtime::asm::assemble(
            "mov %r0, 0
             mov %r3, 0
             jeq %r2, 0, +6
             mov %r4, %r1
             add %r4, %r3
             ldxb %r4, [%r4]
             add %r0, %r4
             add %r3, 1
             jlt %r3, %r2, -6
             exit",
        )
        .expect("assembles"),
    )
    .expect("loads")
}

/// Elide proves input accesses under the raw-memory convention and guards
/// it at entry: a run that keeps it (`Vm::run`) uses the elided code, and a
/// run through `Prepared::run` that breaks it (r2 past the input's end)
/// runs checked code and faults out of bounds, as the interpreter does.
#[test]
fn elide_guards_the_raw_memory_convention() {
    use cranebpf::Prepared;
    let p = sum_to_r2();
    let mut o = JitOptions::default();
    o.verify = VerifyMode::Elide;
    let jit = Vm::jit_with(&p, cranebpf::Helpers::new(), &o).expect("jits");
    let interp = Vm::interpreter(&p, cranebpf::Helpers::new()).expect("loads");
    let mut input = [1u8, 2, 3, 4];
    assert_eq!(jit.run(&mut input), Ok(10));
    for (vm, name) in [(&jit, "jit"), (&interp, "interp")] {
        let mut input = [1u8, 2, 3, 4];
        let mut mem = cranebpf::MemoryMap::new();
        let r = mem.add_mut(&mut input);
        let mut stack = cranebpf::Stack::boxed();
        let out = Prepared::run(
            vm,
            &mut stack,
            &mut mem,
            [r.start, r.len + 4, 0, 0, 0],
            &RunOptions::default(),
            None,
        );
        let fault = out.result.expect_err(name);
        assert!(
            matches!(fault.kind, FaultKind::OutOfBounds { .. }),
            "{name}: {fault:?}"
        );
        assert_eq!(fault.pc, 5, "{name}");
    }
}

/// `ObjectVm::with_options` in Elide mode verifies each program under
/// `VerifyConfig::for_loaded` and drops the checks that proof covers; with
/// audit on, the firewall's XDP runs agree with the interpreter on varied
/// packets (no proof violation), and so do runs through the raw-memory
/// driver, which break the XDP convention and so run checked code.
#[test]
fn object_vm_elides_by_the_loaded_proof() {
    use cranebpf::{EngineKind, ObjectVm};
    use cranebpf_runtime::elf::{LoadOptions, Object};
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bpf/firewall.o");
    let obj = Object::parse(&std::fs::read(path).expect("reads")).expect("parses");
    let set = || {
        obj.load_set("xdp_firewall", LoadOptions::default())
            .expect("loads")
    };
    let mut o = JitOptions::default();
    o.verify = VerifyMode::Elide;
    o.audit = true;
    let jit = ObjectVm::with_options(set(), &o).expect("jits");
    let interp = ObjectVm::new(set(), EngineKind::Interpreter).expect("loads");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for len in [0usize, 13, 14, 33, 34, 38, 54, 60, 64, 128] {
        for round in 0..16 {
            let mut packet: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            if len >= 14 && round % 2 == 0 {
                packet[12..14].copy_from_slice(&[0x08, 0x00]);
                if len > 23 {
                    packet[14] = 0x45;
                    packet[23] = [6u8, 17][round % 4 / 2];
                }
            }
            let mut a = packet.clone();
            let mut b = packet.clone();
            let x = interp.run_xdp(&mut a, &RunOptions::default());
            let y = jit.run_xdp(&mut b, &RunOptions::default());
            assert_eq!(
                x.outcome.result, y.outcome.result,
                "len {len} round {round}"
            );
            assert_eq!(a, b);
            let x = interp.run_mem(&mut packet.clone(), &RunOptions::default());
            let y = jit.run_mem(&mut packet.clone(), &RunOptions::default());
            assert_eq!(x.outcome.result, y.outcome.result, "mem, len {len}");
        }
    }
}

/// The same for `__sk_buff` programs: the tc rewrites (`tc_dnat`, whose
/// packet accesses go through `data`/`data_end` and whose helpers change
/// the packet, and `tc_vlan`) and the socket filter, in Elide mode with
/// audit on, agree with the interpreter on varied packets: verdicts,
/// packets and the metadata they write.
#[test]
fn skb_programs_elide_by_the_loaded_proof() {
    use cranebpf::{EngineKind, ObjectVm};
    use cranebpf_runtime::ctx::SkbMeta;
    use cranebpf_runtime::elf::{LoadOptions, Object};
    let mut o = JitOptions::default();
    o.verify = VerifyMode::Elide;
    o.audit = true;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for (file, name) in [
        ("tc_rewrite.o", "tc_dnat"),
        ("tc_rewrite.o", "tc_vlan"),
        ("sockfilter.o", "sock_filter"),
    ] {
        let path = format!("{}/../examples/bpf/{file}", env!("CARGO_MANIFEST_DIR"));
        let obj = Object::parse(&std::fs::read(path).expect("reads")).expect("parses");
        let set = || obj.load_set(name, LoadOptions::default()).expect("loads");
        let jit = ObjectVm::with_options(set(), &o).expect("jits");
        let interp = ObjectVm::new(set(), EngineKind::Interpreter).expect("loads");
        for len in [0usize, 14, 33, 34, 41, 42, 60, 100] {
            for round in 0..12 {
                let mut packet: Vec<u8> = (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed as u8
                    })
                    .collect();
                if len >= 34 && round % 3 != 0 {
                    packet[12..14].copy_from_slice(&[0x08, 0x00]);
                    packet[14] = 0x45;
                    packet[22] = 64;
                    packet[23] = [1u8, 6, 17][round % 3];
                    if len >= 38 && round % 2 == 0 {
                        packet[36..38].copy_from_slice(&[0, 53]);
                    }
                }
                let meta = SkbMeta::from_frame(&packet);
                let (mut a, mut b) = (packet.clone(), packet.clone());
                let (mut ma, mut mb) = (meta.clone(), meta.clone());
                let x = interp.run_skb(&mut a, &mut ma, &RunOptions::default());
                let y = jit.run_skb(&mut b, &mut mb, &RunOptions::default());
                let what = format!("{name}, len {len}, round {round}");
                assert_eq!(x.0.outcome.result, y.0.outcome.result, "{what}");
                assert_eq!((a, ma, x.1), (b, mb, y.1), "{what}");
            }
        }
    }
}
