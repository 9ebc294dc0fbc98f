//! The JIT builds functions with loops twice (a fast copy that compares
//! the budget only at checkpoints, a checked copy that compares at every
//! block; `lower/src/budget.rs`). Every budget from 0 to past the total
//! count must give the interpreter's fault, pc and count, including the
//! budgets where the fast copy hands over to the checked one.

use crate::harness::{both_in, helpers, prog, Arena};
use cranebpf::asm::assemble;
use cranebpf::Vm;

#[test]
fn every_budget_agrees_on_loops_calls_and_branches() {
    // An outer loop with a branchy body, a helper call and a local call
    // whose callee has its own loop.
    let src = "
        mov %r6, 0
        mov %r7, 0
    outer:
        mov %r1, %r6
        and %r1, 1
        jeq %r1, 0, even
        add %r7, 3
        ja join
    even:
        add %r7, 5
    join:
        mov %r1, %r7
        call 5
        mov %r1, %r6
        call local inner
        add %r7, %r0
        add %r6, 1
        jlt %r6, 6, outer
        mov %r0, %r7
        exit
    inner:
        mov %r0, 0
    again:
        add %r0, %r1
        add %r1, -1
        jsgt %r1, 0, again
        exit
    ";
    let insns = assemble(src).expect("assembles");
    let p = prog(&insns);
    let interp = Vm::interpreter(&p, helpers()).expect("interp");
    let jit = Vm::jit(&p, helpers()).expect("jit");
    let mut arena = Arena::new(8);
    let (full, _) = both_in(&interp, &jit, &[0; 8], arena.buf(), None, "no budget");
    assert!(full.result.is_ok(), "{full:?}");
    let total = full.insn_count;
    assert!(total > 100, "{total}");
    for budget in 0..=total + 2 {
        let (out, _) = both_in(
            &interp,
            &jit,
            &[0; 8],
            arena.buf(),
            Some(budget),
            &format!("budget {budget}"),
        );
        assert_eq!(out.result.is_ok(), budget >= total, "budget {budget}");
    }
}
