//! The CI-sized differential batch: a fixed seed, tens of thousands of
//! generated programs, interpreter against JIT and against its fast tier,
//! full-state comparison.
//! `CRANEBPF_DIFFTEST_COUNT` overrides the number of programs.

use cranebpf::{EngineKind, FastInterpreterEngine, InterpreterEngine};
use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_difftest::gen::GenConfig;
use std::time::Instant;

fn count(default: u64) -> u64 {
    std::env::var("CRANEBPF_DIFFTEST_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn batch(seed: u64, count: u64, gen: GenConfig) {
    batch_on(&EngineKind::Jit, seed, count, gen);
}

fn batch_on(target: &dyn cranebpf::Engine, seed: u64, count: u64, gen: GenConfig) {
    let cfg = BatchConfig {
        seed,
        count,
        gen,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        shrink_tries: 1000,
        max_reports: 3,
        ..BatchConfig::default()
    };
    let start = Instant::now();
    let s = run_batch(&InterpreterEngine, target, &cfg, &|_| ());
    for r in &s.reports {
        println!("{r}");
    }
    println!("{s}");
    println!("time: {:.1} s", start.elapsed().as_secs_f64());
    assert_eq!(s.programs, count);
    assert_eq!(s.artefacts, 0, "address-dependent cases: a generator bug");
    assert_eq!(
        s.proof_violations, 0,
        "a proof was wrong; see the reports above"
    );
    assert_eq!(
        s.divergences, 0,
        "interpreter and JIT disagree; see the reports above"
    );
}

#[test]
fn interp_vs_jit_fixed_seed() {
    batch(0x00c1_ba7c, count(8_000), GenConfig::default());
}

#[test]
fn interp_vs_jit_kernel_subset() {
    batch(0x00c1_ba7d, count(8_000) / 4, GenConfig::kernel());
}

#[test]
fn interp_vs_jit_elide_audit() {
    let audited = cranebpf_difftest::cli::elide_engine(true);
    batch_on(
        &audited,
        0x00c1_ba7e,
        count(8_000) / 8,
        GenConfig::default(),
    );
}

/// The fast tier (`opt_level` none, single-pass allocator), which the size
/// rule gives large functions, on the programs the default rule keeps on
/// the optimizing tier.
#[test]
fn interp_vs_jit_fast_tier() {
    let mut options = cranebpf::JitOptions::default();
    options.fast_tier_above = 0;
    let fast = cranebpf::JitEngine {
        options,
        name: Some("jit-fast-tier"),
    };
    batch_on(&fast, 0x00c1_ba7f, count(8_000) / 4, GenConfig::default());
}

#[test]
fn interp_vs_interp_fast() {
    batch_on(
        &FastInterpreterEngine,
        0x00c1_ba80,
        count(8_000) / 2,
        GenConfig::default(),
    );
}
