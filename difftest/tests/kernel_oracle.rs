//! The Linux kernel as a third oracle: kernel-acceptable generated programs
//! run under `BPF_PROG_TEST_RUN` and under the interpreter must agree.
//!
//! Without a usable `bpf()` (not root, a seccomp filter, a kernel without
//! BPF) the test prints a loud notice and passes, unless
//! `CRANEBPF_REQUIRE_KERNEL=1`, which CI on our machines sets.

use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_difftest::gen::GenConfig;
use cranebpf_difftest::kernel::{available, Kernel};
use cranebpf_runtime::InterpreterEngine;

fn kernel_or_skip() -> bool {
    match available() {
        Ok(()) => true,
        Err(why) => {
            let required = std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "CRANEBPF_REQUIRE_KERNEL=1 but bpf() is unusable: {why}"
            );
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! KERNEL ORACLE SKIPPED: bpf() is not usable here: {why}");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            false
        }
    }
}

#[test]
fn interpreter_agrees_with_the_kernel() {
    if !kernel_or_skip() {
        return;
    }
    let cfg = BatchConfig {
        seed: 9,
        count: 3000,
        gen: GenConfig::kernel(),
        ..BatchConfig::default()
    };
    let s = run_batch(&InterpreterEngine, &Kernel, &cfg, &|_| ());
    println!("{s}");
    for r in &s.reports {
        println!("{r}");
    }
    assert_eq!(s.divergences, 0, "{s}");
    assert_eq!(
        s.rejected, 0,
        "the verifier refused generated programs:\n{s}"
    );
    assert_eq!(s.exits, s.programs);
}
