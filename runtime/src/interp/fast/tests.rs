//! The fast tier against the reference on hand-picked programs, at every
//! budget from 0 past the full count: results, faults (kind and pc), counts
//! and the final input and stack must be identical. The differential
//! harness (`difftest`) does the same over generated programs.

use super::FastInterpreter;
use crate::asm::assemble;
use crate::engine::fault::HelperError;
use crate::engine::run::{RunOptions, RunOutcome};
use crate::engine::Prepared;
use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Stack};
use crate::interp::Interpreter;
use crate::isa::program::Program;

/// Helpers the programs call: 1 doubles r1, 2 fails when r1 is 7, 3
/// removes the region that starts at r1 (the input, or the stack).
fn helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register(1, "double", |_, a| Ok(a[0].wrapping_mul(2)));
    h.register(2, "fail7", |_, a| {
        if a[0] == 7 {
            Err(HelperError::new("seven"))
        } else {
            Ok(a[0])
        }
    });
    h.register(3, "unmap", |ctx, a| {
        ctx.mem.remove_at(a[0]);
        Ok(0)
    });
    h
}

const PROGRAMS: &[&str] = &[
    // A counted loop with a conditional jump at each width.
    "mov %r0, 0\nmov %r1, 10\nadd %r0, %r1\nsub %r1, 1\njne %r1, 0, -3\nmov32 %r2, -1\njgt32 %r2, 5, +1\nexit\nadd %r0, 100\nexit",
    // Bytes of the input summed through a pointer, then a fault past its end.
    "mov %r0, 0\nmov %r3, %r1\nldxb %r4, [%r3]\nadd %r0, %r4\nadd %r3, 1\njne %r4, 0, -4\nexit",
    // Stack stores and loads, a store to the input, an out-of-frame access.
    "stdw [%r10-8], 5\nldxdw %r0, [%r10-8]\nstxw [%r1+0], %r0\nldxw %r2, [%r1+0]\nadd %r0, %r2\nldxb %r3, [%r10+0]\nexit",
    // Local calls, recursing until the depth limit.
    "mov %r0, 0\ncall local 1\nexit\nadd %r0, 1\ncall local -2\nexit",
    // Local calls that return, and r6..r9 restored.
    "mov %r6, 3\nmov %r1, 4\ncall local 3\nadd %r0, %r6\nexit\nexit\nmov %r6, 9\nmov %r0, %r1\nexit",
    // Helpers: a result, then a failing helper.
    "mov %r1, 5\ncall 1\nmov %r1, %r0\nsub %r1, 3\ncall 2\nmov %r1, 7\ncall 2\nexit",
    // A helper removes the input; the next input access faults.
    "mov %r6, %r1\nldxb %r0, [%r6]\ncall 3\nldxb %r0, [%r6]\nexit",
    // A helper removes the stack; the next stack access faults.
    "stdw [%r10-8], 1\nmov %r1, %r10\nsub %r1, 4096\ncall 3\nldxdw %r0, [%r10-8]\nexit",
    // Legacy packet loads, inside and past the packet.
    "ldabsb 1\nmov %r6, %r0\nldabsh 2\nadd %r0, %r6\nmov %r7, 2\nldindb %r7, 200\nadd %r0, 1\nexit",
    // Division by zero, 64-bit immediates, byte swaps, sign extension.
    "lddw %r0, 0x123456789abcdef0\nmov %r1, 0\ndiv %r0, %r1\nlddw %r2, 0x8000000000000001\nbe16 %r2\nmovsx864 %r3, %r2\nor %r0, %r3\nexit",
    // An atomic on the stack with fetch.
    "stdw [%r10-8], 40\nmov %r2, 2\nlock fetch add [%r10-8], %r2\nldxdw %r0, [%r10-8]\nadd %r0, %r2\nexit",
];

fn program(src: &str) -> Program {
    let insns = assemble(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    Program::from_insns(&insns).unwrap_or_else(|e| panic!("{src}: {e}"))
}

/// One run on `buf` (reset to `input` first; r1 = its address, r2 = its
/// length) and a zeroed stack: the outcome, the input and the stack
/// afterwards. One buffer serves every run, so fault addresses compare.
fn run(
    engine: &dyn Prepared,
    input: &[u8],
    buf: &mut [u8],
    budget: Option<u64>,
    stack: &mut Stack,
) -> (RunOutcome, Vec<u8>, Vec<u8>) {
    buf.copy_from_slice(input);
    let mut mem = MemoryMap::new();
    let r = mem.add_mut(buf);
    let out = engine.run(
        stack,
        &mut mem,
        [r.start, r.len, 0, 0, 0],
        &RunOptions { budget },
        None,
    );
    drop(mem);
    (out, buf.to_vec(), stack.bytes().to_vec())
}

#[test]
fn every_budget_agrees_with_the_reference() {
    let input: Vec<u8> = (1..=16).collect();
    let mut stack = Stack::boxed();
    let mut buf = input.clone();
    for src in PROGRAMS {
        let prog = program(src);
        let reference = Interpreter::new(&prog, helpers()).expect("reference");
        let fast = FastInterpreter::new(&prog, helpers()).expect("fast");
        let (full, ..) = run(&reference, &input, &mut buf, None, &mut stack);
        for budget in (0..=full.insn_count + 1).map(Some).chain([None]) {
            let want = run(&reference, &input, &mut buf, budget, &mut stack);
            let got = run(&fast, &input, &mut buf, budget, &mut stack);
            assert_eq!(got.0, want.0, "{src}\nbudget {budget:?}");
            assert!(
                got.1 == want.1 && got.2 == want.2,
                "{src}: memory differs, budget {budget:?}"
            );
        }
    }
}

#[test]
fn the_programs_end_in_different_ways() {
    // The list covers exits, faults of several kinds and budget faults.
    let input: Vec<u8> = (1..=16).collect();
    let mut stack = Stack::boxed();
    let mut buf = input.clone();
    let mut kinds = std::collections::BTreeSet::new();
    for src in PROGRAMS {
        let fast = FastInterpreter::new(&program(src), helpers()).expect("fast");
        let (out, ..) = run(&fast, &input, &mut buf, None, &mut stack);
        println!("{src:?}: {out:?}");
        kinds.insert(match out.result {
            Ok(_) => "exit".to_string(),
            Err(f) => format!("{:?}", f.kind)
                .split([' ', '{'])
                .next()
                .unwrap_or("")
                .to_string(),
        });
    }
    for k in ["exit", "OutOfBounds", "CallDepth", "Helper"] {
        assert!(kinds.contains(k), "no program ends with {k}: {kinds:?}");
    }
}
