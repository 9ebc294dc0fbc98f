//! Tiered start: a tiered VM gives the interpreter's outcome on every run,
//! whichever engine answers it, with the switch to compiled code at a
//! random run.

use cranebpf::asm::assemble;
use cranebpf::{EngineKind, Helpers, JitOptions, Program, RunOptions, Vm};
use proptest::prelude::*;

/// Programs with results, faults and budgets that differ per input.
const PROGRAMS: [&str; 3] = [
    // Sums the input bytes in a loop.
    "mov %r0, 0\nmov %r3, 0\nloop:\njge %r3, %r2, done\nmov %r4, %r1\nadd %r4, %r3\nldxb %r5, [%r4]\nadd %r0, %r5\nadd %r3, 1\nja loop\ndone:\nexit",
    // Faults out of bounds when the input is shorter than 9 bytes.
    "ldxdw %r0, [%r1+1]\nexit",
    // Uses the stack.
    "stxdw [%r10-8], %r2\nldxdw %r0, [%r10-8]\nmul %r0, 3\nexit",
];

fn program(src: &str) -> Program {
    Program::from_insns(&assemble(src).expect("assembles")).expect("loads")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn outcomes_match_the_interpreter_across_the_switch(
        which in 0..PROGRAMS.len(),
        switch_at in 0u64..12,
        inputs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 12),
        budget in prop::option::of(1u64..60),
    ) {
        let prog = program(PROGRAMS[which]);
        let reference = Vm::interpreter(&prog, Helpers::new()).expect("interpreter");
        let tiered = Vm::tiered_after(&prog, Helpers::new(), &JitOptions::default(), switch_at)
            .expect("tiered");
        prop_assert!(tiered.wait_for_jit(), "{:?}", tiered.jit_error());
        let opts = RunOptions { budget };
        for (i, input) in inputs.iter().enumerate() {
            // One buffer for both runs, so that fault addresses compare.
            let mut buf = input.clone();
            let want = reference.run_input(&mut buf, &opts);
            let after = buf.clone();
            buf.copy_from_slice(input);
            let got = tiered.run_input(&mut buf, &opts);
            prop_assert_eq!(&got, &want, "run {} (switch at {})", i, switch_at);
            prop_assert_eq!(&buf, &after);
        }
        prop_assert_eq!(tiered.engine(), EngineKind::Jit);
    }
}

#[test]
fn a_tiered_vm_answers_before_and_after_compiling() {
    let prog = program(PROGRAMS[2]);
    let vm = Vm::tiered(&prog, Helpers::new(), &JitOptions::default()).expect("tiered");
    // Whichever engine answers, the result is the same.
    assert_eq!(vm.run(&mut [0; 5]), Ok(15));
    assert!(vm.wait_for_jit());
    assert_eq!(vm.engine(), EngineKind::Jit);
    assert!(vm.code_size().is_some());
    assert_eq!(vm.run(&mut [0; 7]), Ok(21));
}

#[test]
fn load_errors_are_reported_at_once() {
    // Helper 99 is not registered: the same error as either engine gives.
    let prog = program("call 99\nexit");
    let err = Vm::tiered(&prog, Helpers::new(), &JitOptions::default()).expect_err("refused");
    let interp = Vm::interpreter(&prog, Helpers::new()).expect_err("refused");
    assert_eq!(err.to_string(), interp.to_string());
}
