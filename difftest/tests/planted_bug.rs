//! Proof that the harness can fail: engines with a planted semantic bug
//! (see [`PlantedBug`]) are caught within a fixed budget of programs, and
//! the report is minimised to a handful of instructions.

use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_difftest::engine::{compare, is_deterministic, Interp, Mutant, PlantedBug};
use cranebpf_difftest::gen::{arb_case, GenConfig};
use cranebpf_runtime::{AluOp, Insn, Width};
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

/// Runs at most `budget` programs against a mutant and returns the first
/// (minimised) report.
fn hunt(bug: PlantedBug, budget: u64) -> cranebpf_difftest::batch::Report {
    let mutant = Mutant { inner: Interp, bug };
    let cfg = BatchConfig {
        seed: 42,
        count: budget,
        stop_at_first: true,
        max_reports: 1,
        ..BatchConfig::default()
    };
    let s = run_batch(&Interp, &mutant, &cfg, &|_| ());
    assert!(
        s.divergences >= 1,
        "{bug:?} not found in {budget} programs:\n{s}"
    );
    let r = s
        .reports
        .into_iter()
        .next()
        .expect("a report for the divergence");
    println!("{r}");
    r
}

#[test]
fn finds_mov32_without_zero_extension() {
    let r = hunt(PlantedBug::Mov32NoZeroExtend, 200);
    // Usually 4-5 instructions; the bound leaves room because shrinking
    // occasionally stops early (a rare flaky comparison, under study).
    assert!(r.case.insns.len() <= 12, "not minimised:\n{r}");
    assert!(
        r.case.insns.iter().any(|i| matches!(
            i,
            Insn::Alu {
                w: Width::W32,
                op: AluOp::Mov,
                ..
            }
        )),
        "the minimised program lost the mov32:\n{r}"
    );
    assert!(!r.diffs.is_empty());
}

#[test]
fn finds_jmp32_comparing_64_bits() {
    let r = hunt(PlantedBug::Jmp32AsJmp64, 200);
    assert!(r.case.insns.len() <= 12, "not minimised:\n{r}");
    assert!(r
        .case
        .insns
        .iter()
        .any(|i| matches!(i, Insn::Jmp { w: Width::W32, .. })));
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
    let mutant = Mutant {
        inner: Interp,
        bug: PlantedBug::Mov32NoZeroExtend,
    };
    let result = runner.run(&arb_case(GenConfig::default()), |case| {
        // As in `batch::report`: a shrunk case whose reference state depends
        // on addresses (a stored pointer) is not a failure.
        let diffs = compare(&Interp, &mutant, &case).diffs;
        let real = !diffs.is_empty() && is_deterministic(&Interp, &case);
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
