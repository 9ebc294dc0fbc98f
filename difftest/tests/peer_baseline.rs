//! A fixed-seed batch against every in-process peer built in (rbpf's
//! interpreter and x86-64 JIT with the cargo feature `peers-light`, which CI
//! runs; rbpf's Cranelift JIT and solana-sbpf's two with `peers`), checked
//! against the known
//! divergence classes of `baselines/peers.txt`: a class not listed fails
//! the test (a new bug in a peer, or a harness regression), a listed class
//! no longer found is reported (a peer fixed, or the batch no longer
//! reaches it: update the file).
//!
//! Run: `cargo test -p cranebpf-difftest --features peers-light --test peer_baseline -- --nocapture`.
#![cfg(feature = "peers-light")]

use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_runtime::InterpreterEngine;
use std::collections::BTreeSet;

const BASELINE: &str = include_str!("../baselines/peers.txt");

/// The batch: small enough for CI, one job so that which divergences are
/// shrunk does not depend on thread timing.
fn config() -> BatchConfig {
    BatchConfig {
        seed: 1,
        count: 400,
        max_reports: 40,
        jobs: 1,
        ..BatchConfig::default()
    }
}

/// `engine | class` lines; `#` comments and blank lines skipped.
fn known() -> BTreeSet<(String, String)> {
    BASELINE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" | "))
        .map(|(e, c)| (e.trim().to_string(), c.trim().to_string()))
        .collect()
}

#[test]
fn the_peers_diverge_only_in_known_classes() {
    let engines = cranebpf_peers::engines();
    let built: BTreeSet<String> = engines.iter().map(|e| e.name().to_string()).collect();
    // Only the classes of the engines built in are expected.
    let known: BTreeSet<_> = known()
        .into_iter()
        .filter(|(e, _)| built.contains(e))
        .collect();
    let mut found = BTreeSet::new();
    for engine in engines {
        let s = run_batch(&InterpreterEngine, &*engine, &config(), &|_| {});
        println!(
            "{}: {} programs, {} divergences",
            engine.name(),
            s.programs,
            s.divergences
        );
        assert!(s.programs > 300, "{}: {s}", engine.name());
        for (class, (_, r)) in s.classes() {
            found.insert((engine.name().to_string(), class.to_string()));
            if !known.contains(&(engine.name().to_string(), class.to_string())) {
                println!("NEW CLASS {} | {class}\n{r}", engine.name());
            }
        }
    }
    let new: Vec<_> = found.difference(&known).collect();
    for (e, c) in known.difference(&found) {
        println!("note: known class no longer found: {e} | {c}");
    }
    assert!(
        new.is_empty(),
        "divergence classes not in baselines/peers.txt:\n{}",
        new.iter()
            .map(|(e, c)| format!("{e} | {c}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
