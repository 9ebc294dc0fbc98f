//! A function longer than `cranebpf_lower::SEGMENT_INSNS` is compiled as
//! several Cranelift functions (`lower/src/split.rs`). Control crosses
//! between them on fall-through, forward and backward jumps, inside a loop
//! (so in both budget copies) and around a local call; every budget and a
//! fault must still give the interpreter's result, pc and count.

use crate::harness::{both_in, engines, helpers, prog, Arena};
use cranebpf::insn::*;
use cranebpf_lower::{FunctionPlan, LowerOptions, SEGMENT_INSNS};

fn r(n: u8) -> Reg {
    Reg::new(n).expect("register")
}

fn add(dst: u8, k: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: AluOp::Add,
        dst: r(dst),
        src: Src::Imm(k),
    }
}

/// `n` adds to r7, with a never-taken `jeq` every 50 (so leaders exist to
/// cut at).
fn body(v: &mut Vec<Insn>, n: usize, k: i32) {
    for i in 0..n {
        if i % 50 == 0 {
            v.push(Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Eq,
                dst: r(7),
                src: Src::Imm(-1),
                off: 1,
            });
        }
        v.push(add(7, k));
    }
}

/// Three trips of a loop whose body spans several segments; the second
/// part of the body is skipped by a forward jump from the second trip on;
/// each trip calls a local function and reads the input (`ldxdw [r1]`).
fn crossing_program() -> Vec<Insn> {
    let mov = |dst: u8, k: i32| Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: r(dst),
        src: Src::Imm(k),
    };
    let mut v = vec![mov(6, 0), mov(7, 0)];
    let outer = v.len();
    body(&mut v, 3 * SEGMENT_INSNS / 2, 1);
    let skip_at = v.len();
    v.push(Insn::Ja {
        off: 0,
        wide: false,
    }); // patched below
    body(&mut v, SEGMENT_INSNS + 100, 3);
    let skip_to = v.len();
    v[skip_at] = Insn::Jmp {
        w: Width::W64,
        cond: JmpCond::Gt,
        dst: r(6),
        src: Src::Imm(0),
        off: (skip_to - skip_at - 1) as i16,
    };
    let call_at = v.len();
    v.push(Insn::Call {
        kind: CallKind::Local,
        imm: 0, // patched below
    });
    v.push(Insn::Alu {
        w: Width::W64,
        op: AluOp::Add,
        dst: r(7),
        src: Src::Reg(r(0)),
    });
    v.push(Insn::Ldx {
        size: Size::DW,
        sx: false,
        dst: r(2),
        src: r(1),
        off: 0,
    });
    v.push(add(6, 1));
    let back_at = v.len();
    v.push(Insn::Jmp {
        w: Width::W64,
        cond: JmpCond::Lt,
        dst: r(6),
        src: Src::Imm(3),
        off: (outer as i64 - back_at as i64 - 1) as i16,
    });
    v.push(Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: r(0),
        src: Src::Reg(r(7)),
    });
    v.push(Insn::Exit);
    let f = v.len();
    v[call_at] = Insn::Call {
        kind: CallKind::Local,
        imm: (f - call_at - 1) as i32,
    };
    v.push(mov(0, 5));
    v.push(Insn::Exit);
    v
}

#[test]
fn split_function_agrees_with_the_interpreter_at_every_sampled_budget() {
    let p = prog(&crossing_program());
    let plan = FunctionPlan::new(&p, 0, &LowerOptions::default()).expect("plans");
    assert!(plan.parts() >= 3, "not split: {plan:?}");
    let (interp, jit) = engines(&p, &helpers());
    let mut arena = Arena::new(8);
    let mem = [0u8; 8];
    let (full, _) = both_in(&interp, &jit, &mem, arena.buf(), None, "no budget");
    assert!(full.result.is_ok(), "{full:?}");
    let n = full.insn_count;
    assert!(n > 3 * SEGMENT_INSNS as u64, "{n}");
    let mut budgets: Vec<u64> = (0..=n + 1).step_by(173).collect();
    for s in 1..=4u64 {
        let edge = s * SEGMENT_INSNS as u64;
        budgets.extend(edge.saturating_sub(60)..edge + 60);
    }
    budgets.extend([n - 1, n, n + 1]);
    for budget in budgets {
        let (out, _) = both_in(
            &interp,
            &jit,
            &mem,
            arena.buf(),
            Some(budget),
            &format!("budget {budget}"),
        );
        assert_eq!(out.result.is_ok(), budget >= n, "budget {budget}");
    }
    // A short input faults at the `ldxdw` of the first trip.
    let mut short = Arena::new(4);
    let (faulted, _) = both_in(&interp, &jit, &[0; 4], short.buf(), None, "short input");
    assert!(faulted.result.is_err(), "{faulted:?}");
}

#[test]
fn every_engine_agrees_on_a_split_function() {
    let p = prog(&crossing_program());
    let mut buf = [0u8; 8];
    let agreed = cranebpf_testkit::engines::run_in(&p, &helpers(), &mut buf, None);
    assert!(agreed.outcome.result.is_ok(), "{:?}", agreed.outcome);
    let agreed = cranebpf_testkit::engines::run_in(&p, &helpers(), &mut buf, Some(5000));
    assert!(agreed.outcome.result.is_err(), "{:?}", agreed.outcome);
}
