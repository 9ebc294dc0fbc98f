//! The bpf_conformance suite through every engine: each test prints
//! `N passed, N failed` and fails on any mismatch.

use cranebpf::{EngineKind, Program, RunOptions, Vm};
use cranebpf_difftest::conformance::{load_dir, program_bytes, suite_or_skip, TestFile};

/// Runs one file; `Err` says why it did not pass.
fn run_file(t: &TestFile, engine: EngineKind) -> Result<(), String> {
    let code = program_bytes(t)?;
    let prog = Program::from_bytes(&code).map_err(|e| format!("load: {e}"))?;
    let vm = Vm::new(&prog, cranebpf_difftest::conformance_helpers(), engine)
        .map_err(|e| format!("engine: {e}"))?;
    let mut mem = t.mem.clone();
    // A generous budget turns an accidental infinite loop into a failure, not a hang.
    let out = vm.run_input(
        &mut mem,
        &RunOptions {
            budget: Some(10_000_000),
        },
    );
    match (out.result, t.result) {
        (Ok(r0), Some(want)) if r0 == want => Ok(()),
        (Ok(r0), Some(want)) => Err(format!("r0 = {r0:#x}, expected {want:#x}")),
        (Err(f), Some(want)) => Err(format!("{f}, expected r0 = {want:#x}")),
        (Ok(r0), None) => Err(format!("no expected result in file (r0 = {r0:#x})")),
        (Err(f), None) => Err(format!("no expected result in file ({f})")),
    }
}

fn suite(engine: EngineKind) {
    let Some(dir) = suite_or_skip(&format!("conformance::{engine:?}")) else {
        return;
    };
    let files = load_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "cannot read the conformance suite at {}: {e}",
            dir.display()
        )
    });
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for t in &files {
        if let Some(why) = &t.skipped_reason {
            println!("SKIP {}: {why}", t.name);
            skipped += 1;
            continue;
        }
        match run_file(t, engine) {
            Ok(()) => passed += 1,
            Err(why) => {
                println!("FAIL {}: {why}", t.name);
                failed += 1;
            }
        }
    }
    println!("\n{engine:?}: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(failed, 0, "{failed} conformance programs failed");
    assert_eq!(skipped, 0, "{skipped} conformance programs skipped");
    assert_eq!(passed, 313, "expected all 313 conformance programs to run");
}

#[test]
fn interpreter() {
    suite(EngineKind::Interpreter);
}

#[test]
fn jit() {
    suite(EngineKind::Jit);
}
