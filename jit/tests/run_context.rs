//! A prebuilt [`RunContext`] gives exactly what [`Vm::run_input`] gives
//! (results, faults, instruction counts) on every engine, and each of its
//! runs sees a zeroed stack whatever the previous run left in it.

use cranebpf::asm::assemble;
use cranebpf::{EngineKind, FaultKind, Helpers, JitOptions, Program, RunOptions, Vm};

fn program(src: &str) -> Program {
    Program::from_insns(&assemble(src).expect("assembles")).expect("loads")
}

/// The interpreter, the JIT and a tiered VM that switches after 2 runs.
fn vms(src: &str) -> Vec<(&'static str, Vm)> {
    let p = program(src);
    vec![
        (
            "interp",
            Vm::new(&p, Helpers::new(), EngineKind::Interpreter).expect("prepares"),
        ),
        (
            "jit",
            Vm::new(&p, Helpers::new(), EngineKind::Jit).expect("prepares"),
        ),
        (
            "tiered",
            Vm::tiered_after(&p, Helpers::new(), &JitOptions::default(), 2).expect("prepares"),
        ),
    ]
}

#[test]
fn each_run_sees_a_zeroed_stack() {
    // Reads the slot, then dirties it: a second run must read 0 again.
    let src = "ldxdw %r0, [%r10-8]\nstdw [%r10-8], -1\nstdw [%r10-512], -1\nexit";
    for (name, vm) in vms(src) {
        let mut ctx = vm.context();
        for _ in 0..4 {
            assert_eq!(ctx.run(&mut []), Ok(0), "{name}");
        }
    }
}

#[test]
fn outcomes_match_vm_run_input() {
    let cases: [(&str, &[u8], Option<u64>); 5] = [
        // r0 = input[1] + length
        ("ldxb %r0, [%r1+1]\nadd %r0, %r2\nexit", &[7, 9, 11], None),
        // An empty input: r1 = r2 = 0.
        ("mov %r0, %r1\nadd %r0, %r2\nexit", &[], None),
        // Out of bounds: a fault at pc 0.
        ("ldxb %r0, [%r1+5]\nexit", &[1, 2], None),
        // A loop cut by the budget.
        ("mov %r0, 0\nadd %r0, 1\nja -2\nexit", &[], Some(25)),
        // A store into the input, read back.
        ("stb [%r1], 42\nldxb %r0, [%r1]\nexit", &[0, 0], None),
    ];
    for (src, input, budget) in cases {
        for (name, vm) in vms(src) {
            let opts = RunOptions { budget };
            let mut ctx = vm.context();
            for _ in 0..3 {
                let want = vm.run_input(&mut input.to_vec(), &opts);
                let got = ctx.run_input(&mut input.to_vec(), &opts);
                assert_eq!(got, want, "{name}: {src}");
            }
        }
    }
}

#[test]
fn a_fault_names_the_access() {
    for (name, vm) in vms("ldxw %r0, [%r1+2]\nexit") {
        let mut ctx = vm.context();
        let f = ctx.run(&mut [0u8; 4]).expect_err("out of bounds");
        assert_eq!(f.pc, 0, "{name}");
        assert!(
            matches!(f.kind, FaultKind::OutOfBounds { size: 4, .. }),
            "{name}: {f:?}"
        );
        // The next run is unaffected.
        assert_eq!(ctx.run(&mut [0, 0, 1, 0, 0, 0]), Ok(1), "{name}");
    }
}
