//! The JIT's benchmark-only mode without bounds checks
//! (`JitOptions::without_bounds_checks`) runs every C workload to the same
//! r0 as the interpreter and as the normal JIT, and with the same
//! instruction count (only the checks go; the budget rule stays).

use cranebpf::{EngineKind, Helpers, JitOptions, Program, RunOptions, Vm};
use cranebpf_benches::c_workloads::{Cpu, Needs, C_WORKLOADS};

#[test]
fn unchecked_jit_matches_the_interpreter() {
    // SAFETY: the C workloads access only their input and their own stack
    // frame; `every_engine_agrees_with_native` (c_workloads.rs) and the
    // interpreter run below check that they stay in bounds on these inputs.
    let unchecked = unsafe { JitOptions::default().without_bounds_checks() };
    assert!(!unchecked.bounds_checks());
    assert!(JitOptions::default().bounds_checks());
    // The workloads with helpers and maps run unchecked through the engine
    // list (`cranebpf-jit-unchecked` in `every_engine_agrees_with_native`).
    for w in C_WORKLOADS.iter().filter(|w| w.needs == Needs::Nothing) {
        for cpu in Cpu::ALL {
            let code = w.bytecode(cpu).expect("workload bytecode");
            let prog = Program::from_bytes(&code).expect("workload loads");
            let interp = Vm::new(&prog, Helpers::new(), EngineKind::Interpreter).expect("interp");
            let mut input = (w.input)();
            let want = interp.run_input(&mut input, &RunOptions::default());
            assert!(want.result.is_ok(), "{} {}: {:?}", w.name, cpu.name(), want);
            for opts in [JitOptions::default(), unchecked.clone()] {
                let vm = Vm::jit_with(&prog, Helpers::new(), &opts).expect("compiles");
                let mut input = (w.input)();
                let got = vm.run_input(&mut input, &RunOptions::default());
                assert_eq!(got.result, want.result, "{} {}", w.name, cpu.name());
                assert_eq!(got.insn_count, want.insn_count, "{} {}", w.name, cpu.name());
            }
        }
    }
}
