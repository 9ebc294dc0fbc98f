//! The interpreter's atomics against the `sem` rules they mirror.
//!
//! `exec_atomic` performs each operation with a hardware atomic
//! (`fetch_add`, `swap`, `compare_exchange`, ...) rather than by calling
//! [`sem::atomic_new_value`]; this test proves the two agree: for every
//! operation, width and FETCH flag, over edge operand values, the memory and
//! registers a run leaves are what the `sem` functions compute.

use super::Interpreter;
use crate::engine::run::RunOptions;
use crate::engine::Prepared;
use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Stack, STACK_SIZE};
use crate::isa::insn::{AluOp, AtomicOp, Insn, Reg, Size, Src, Width};
use crate::isa::program::Program;
use crate::sem;

/// Operand values: zero, one, the sign bits and all-ones of both widths,
/// values whose halves differ (so W forms that look at the high half show
/// up), alternating bits and a mixed pattern.
const VALUES: [u64; 13] = [
    0,
    1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1_ffff_ffff,
    0xffff_ffff_0000_0001,
    0x8000_0000_0000_0000,
    u64::MAX,
    0x5555_5555_5555_5555,
    0xaaaa_aaaa_aaaa_aaaa,
    0x0123_4567_89ab_cdef,
];

const OPS: [AtomicOp; 6] = [
    AtomicOp::Add,
    AtomicOp::Or,
    AtomicOp::And,
    AtomicOp::Xor,
    AtomicOp::Xchg,
    AtomicOp::Cmpxchg,
];

/// The register state the test tracks: r0 and r2 (the operand is one of
/// them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct State {
    /// The 8 bytes at `r10 - 8`, which the atomic targets (W: the low 4).
    mem: u64,
    r0: u64,
    r2: u64,
}

impl State {
    fn get(&self, r: Reg) -> u64 {
        match r {
            Reg::R0 => self.r0,
            Reg::R2 => self.r2,
            _ => unreachable!("the test uses only r0 and r2"),
        }
    }

    fn set(&mut self, r: Reg, v: u64) {
        match r {
            Reg::R0 => self.r0 = v,
            Reg::R2 => self.r2 = v,
            _ => unreachable!("the test uses only r0 and r2"),
        }
    }
}

/// `mem` = r1, r2 = r2, r0 = r3; `*(u64 *)(r10 - 8) = mem`; the atomic on
/// `r10 - 8` with operand `src`; then r0 and r2 stored at `r10 - 16` and
/// `r10 - 24`.
fn program(size: Size, op: AtomicOp, fetch: bool, src: Reg) -> Vec<Insn> {
    let stx = |src, off| Insn::Stx {
        size: Size::DW,
        dst: Reg::R10,
        src,
        off,
    };
    vec![
        stx(Reg::R1, -8),
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Reg(Reg::R3),
        },
        Insn::Atomic {
            size,
            op,
            fetch,
            dst: Reg::R10,
            src,
            off: -8,
        },
        stx(Reg::R0, -16),
        stx(Reg::R2, -24),
        Insn::Exit,
    ]
}

/// What the `sem` rules say the atomic leaves, in their order: whether it
/// stores, what it stores, which register receives what.
fn by_sem(size: Size, op: AtomicOp, fetch: bool, src: Reg, before: State) -> State {
    let mut after = before;
    // The W form reads and writes the low 4 bytes (little-endian).
    let (old, keep) = match size {
        Size::W => (before.mem & 0xffff_ffff, before.mem & !0xffff_ffff),
        _ => (before.mem, 0),
    };
    if op != AtomicOp::Cmpxchg || sem::cmpxchg_matches(size, old, before.r0) {
        after.mem = keep | sem::atomic_new_value(size, op, old, before.get(src));
    }
    if let Some(r) = sem::atomic_fetch_reg(op, fetch, src) {
        after.set(r, sem::atomic_fetch_result(size, old));
    }
    after
}

/// Runs the interpreter from `before` and reads the state back off the stack.
fn by_interp(interp: &Interpreter, stack: &mut Stack, before: State) -> State {
    let args = [before.mem, before.r2, before.r0, 0, 0];
    let outcome = Prepared::run(
        interp,
        stack,
        &mut MemoryMap::new(),
        args,
        &RunOptions::default(),
        None,
    );
    let word = |off: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&stack.bytes()[STACK_SIZE - off..STACK_SIZE - off + 8]);
        u64::from_le_bytes(b)
    };
    let after = State {
        mem: word(8),
        r0: word(16),
        r2: word(24),
    };
    assert_eq!(outcome.result, Ok(after.r0), "exit returns r0");
    after
}

#[test]
fn exec_atomic_computes_the_sem_rules() {
    let mut stack = Stack::boxed();
    for size in [Size::W, Size::DW] {
        for op in OPS {
            for fetch in [false, true] {
                for src in [Reg::R2, Reg::R0] {
                    let prog = Program::from_insns(&program(size, op, fetch, src));
                    let Ok(prog) = prog else {
                        // XCHG and CMPXCHG exist only with FETCH.
                        assert!(
                            !fetch && matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg),
                            "{size:?} {op:?} fetch={fetch}: {prog:?}"
                        );
                        continue;
                    };
                    let interp = Interpreter::new(&prog, Helpers::new()).expect("no helpers");
                    for mem in VALUES {
                        for r2 in VALUES {
                            for r0 in VALUES {
                                let before = State { mem, r0, r2 };
                                assert_eq!(
                                    by_interp(&interp, &mut stack, before),
                                    by_sem(size, op, fetch, src, before),
                                    "{size:?} {op:?} fetch={fetch} src={src:?} from {before:x?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}
