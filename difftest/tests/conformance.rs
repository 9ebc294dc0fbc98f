//! The bpf_conformance suite through every engine: each test prints
//! `N passed, N failed` and fails on any mismatch.

use cranebpf::{
    Engine, EngineKind, FastInterpreterEngine, MemoryMap, Program, RunOptions, RunOutcome, Vm,
};
use cranebpf_difftest::conformance::{load_dir, program_bytes, suite_or_skip, TestFile};

/// A generous budget turns an accidental infinite loop into a failure, not a hang.
const OPTS: RunOptions = RunOptions {
    budget: Some(10_000_000),
};

/// Runs one file; `Err` says why it did not pass.
fn run_file(t: &TestFile, engine: Tier) -> Result<(), String> {
    let code = program_bytes(t)?;
    let prog = Program::from_bytes(&code).map_err(|e| format!("load: {e}"))?;
    let helpers = cranebpf_difftest::conformance_helpers();
    let mut mem = t.mem.clone();
    let out = match engine {
        Tier::Vm(kind) => Vm::new(&prog, helpers, kind)
            .map_err(|e| format!("engine: {e}"))?
            .run_input(&mut mem, &OPTS),
        Tier::Fast => {
            // The conformance convention through the engine trait: r1 =
            // the memory (0 if empty), r2 = its length.
            let prepared = FastInterpreterEngine
                .prepare(&prog, helpers)
                .map_err(|e| format!("engine: {e}"))?;
            let mut map = MemoryMap::new();
            let args = if mem.is_empty() {
                [0; 5]
            } else {
                let r = map.add_mut(&mut mem);
                [r.start, r.len, 0, 0, 0]
            };
            prepared.run_scratch(&mut map, args, &OPTS, None)
        }
    };
    check(out, t)
}

/// The outcome against the file's expected result.
fn check(out: RunOutcome, t: &TestFile) -> Result<(), String> {
    match (out.result, t.result) {
        (Ok(r0), Some(want)) if r0 == want => Ok(()),
        (Ok(r0), Some(want)) => Err(format!("r0 = {r0:#x}, expected {want:#x}")),
        (Err(f), Some(want)) => Err(format!("{f}, expected r0 = {want:#x}")),
        (Ok(r0), None) => Err(format!("no expected result in file (r0 = {r0:#x})")),
        (Err(f), None) => Err(format!("no expected result in file ({f})")),
    }
}

/// The engine a suite runs on.
#[derive(Clone, Copy, Debug)]
enum Tier {
    /// A `Vm` of this kind.
    Vm(EngineKind),
    /// The interpreter's fast tier (`interp-fast`).
    Fast,
}

impl Tier {
    /// The engine's name in the summary line (`.ci/cross.sh` reads
    /// "<name>: P passed, F failed, S skipped").
    fn label(self) -> &'static str {
        match self {
            Tier::Vm(EngineKind::Interpreter) => "Interpreter",
            Tier::Vm(EngineKind::Jit) => "Jit",
            Tier::Fast => "FastInterpreter",
        }
    }
}

fn suite(engine: Tier) {
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
    println!(
        "\n{}: {passed} passed, {failed} failed, {skipped} skipped",
        engine.label()
    );
    assert_eq!(failed, 0, "{failed} conformance programs failed");
    assert_eq!(skipped, 0, "{skipped} conformance programs skipped");
    assert_eq!(passed, 313, "expected all 313 conformance programs to run");
}

#[test]
fn interpreter() {
    suite(Tier::Vm(EngineKind::Interpreter));
}

#[test]
fn jit() {
    suite(Tier::Vm(EngineKind::Jit));
}

#[test]
fn fast_interpreter() {
    suite(Tier::Fast);
}
