//! Proof that the harness can fail: the JIT compiled with a planted
//! semantic bug (`cranebpf::planted_bug_engine`, the one planted-bug
//! mechanism, on through this crate's dev-dependency on `cranebpf` with the
//! `planted-bugs` feature) is caught within a fixed budget of programs, and
//! the report is minimised to a handful of instructions.

use cranebpf::{planted_bug_engine, EngineKind, InterpreterEngine, PlantedBug};
use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_difftest::engine::{compare, is_deterministic, Engine};
use cranebpf_difftest::gen::{arb_case, GenConfig};
use cranebpf_runtime::{AluOp, Insn, Width};
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

/// The JIT with `bug` planted.
fn mutant(bug: PlantedBug) -> Box<dyn Engine> {
    planted_bug_engine(bug).expect("the dev-dependency turns on `planted-bugs`")
}

/// Runs at most `budget` programs against a JIT with `bug` planted and
/// returns the first (minimised) report.
fn hunt_jit(bug: PlantedBug, budget: u64) -> cranebpf_difftest::batch::Report {
    hunt_engine(&*mutant(bug), &format!("{bug:?}"), budget)
}

/// A minimised report: at most 12 instructions, still containing one that
/// `culprit` recognises (the instruction the bug is in).
fn assert_minimised(r: &cranebpf_difftest::batch::Report, culprit: fn(&Insn) -> bool) {
    assert!(r.case.insns.len() <= 12, "not minimised:\n{r}");
    assert!(
        r.case.insns.iter().any(culprit),
        "the minimised program lost the culprit:\n{r}"
    );
    assert!(!r.diffs.is_empty());
}

fn is_mov32(i: &Insn) -> bool {
    matches!(
        i,
        Insn::Alu {
            w: Width::W32,
            op: AluOp::Mov,
            ..
        }
    )
}

fn is_mod32(i: &Insn) -> bool {
    matches!(
        i,
        Insn::Alu {
            w: Width::W32,
            op: AluOp::Mod,
            ..
        }
    )
}

fn is_jmp32(i: &Insn) -> bool {
    matches!(i, Insn::Jmp { w: Width::W32, .. })
}

#[test]
fn finds_jit_mov32_without_zero_extension() {
    let r = hunt_jit(PlantedBug::Mov32NoZeroExtend, 200);
    assert_minimised(&r, is_mov32);
}

#[test]
fn finds_jit_mod32_by_zero_keeping_the_upper_half() {
    // The conformance suite never observes this one.
    let r = hunt_jit(PlantedBug::Mod32ByZeroKeepsUpper, 2000);
    assert_minimised(&r, is_mod32);
}

#[test]
fn finds_jit_jmp32_comparing_64_bits() {
    let r = hunt_jit(PlantedBug::Jmp32AsJmp64, 200);
    assert_minimised(&r, is_jmp32);
}

fn is_memory_access(i: &Insn) -> bool {
    matches!(
        i,
        Insn::Ldx { .. } | Insn::St { .. } | Insn::Stx { .. } | Insn::Atomic { .. }
    )
}

/// A planted unsound proof rule (the frame rule forgets the access size)
/// is found by the audit: the mutant, always audited, stops with a proof
/// violation where the interpreter runs on or faults out of bounds, and the
/// shrinker keeps that violation while minimising.
#[test]
fn audit_finds_an_unsound_frame_proof_rule() {
    let r = hunt_jit(PlantedBug::FrameProofIgnoresSize, 3000);
    assert_minimised(&r, is_memory_access);
    assert!(
        r.diffs.iter().any(|d| d.contains("PROOF VIOLATION")),
        "the divergence is not the audit's:\n{r}"
    );
}

/// The JIT in `elide` mode with every elided check audited agrees with the
/// interpreter and reports no proof violation (so the one above is the
/// planted rule's).
#[test]
fn the_audited_elide_jit_agrees() {
    let cfg = BatchConfig {
        seed: 42,
        count: 300,
        ..BatchConfig::default()
    };
    let audited = cranebpf_difftest::cli::elide_engine(true);
    let s = run_batch(&InterpreterEngine, &audited, &cfg, &|_| ());
    assert_eq!((s.divergences, s.proof_violations), (0, 0), "{s}");
    assert_eq!(s.programs, 300);
}

/// The JIT without a planted bug agrees on the same programs (so the
/// divergences above are the bug's, not the harness's).
#[test]
fn the_unplanted_jit_agrees() {
    let cfg = BatchConfig {
        seed: 42,
        count: 300,
        ..BatchConfig::default()
    };
    let s = run_batch(&InterpreterEngine, &EngineKind::Jit, &cfg, &|_| ());
    assert_eq!(s.divergences, 0, "{s}");
    assert_eq!(s.programs, 300);
}

fn hunt_engine(engine: &dyn Engine, bug: &str, budget: u64) -> cranebpf_difftest::batch::Report {
    let cfg = BatchConfig {
        seed: 42,
        count: budget,
        stop_at_first: true,
        max_reports: 1,
        ..BatchConfig::default()
    };
    let s = run_batch(&InterpreterEngine, engine, &cfg, &|_| ());
    assert!(
        s.divergences >= 1,
        "{bug} not found in {budget} programs:\n{s}"
    );
    let r = s
        .reports
        .into_iter()
        .next()
        .expect("a report for the divergence");
    println!("{r}");
    r
}

/// The same through proptest: the property "interp equals the mutant"
/// fails, and proptest's shrinking (driven by the case tree) minimises it.
#[test]
fn proptest_strategy_shrinks_a_failure() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 256,
            max_shrink_iters: 20_000,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[7; 32]),
    );
    let mutant = mutant(PlantedBug::Mov32NoZeroExtend);
    let result = runner.run(&arb_case(GenConfig::default()), |case| {
        // As in `batch::report`: a shrunk case whose reference state depends
        // on addresses (a stored pointer) is not a failure.
        let diffs = compare(&InterpreterEngine, &*mutant, &case).diffs;
        let real = !diffs.is_empty() && is_deterministic(&InterpreterEngine, &case);
        proptest::prop_assert!(!real, "{diffs:?}");
        Ok(())
    });
    match result {
        Err(TestError::Fail(_, case)) => {
            println!("{}", case.asm());
            assert!(case.insns.len() <= 6, "{}", case.asm());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
