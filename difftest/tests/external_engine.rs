//! The harness finds what it claims to find in an engine from outside:
//! an adapter with a planted bug (`mov32` keeps the upper half: it runs as
//! `mov64`, the sign-extended-immediate and no-zero-extension family of
//! bugs peers have had) is found, minimised to a few instructions and
//! classified by the rule it breaks; and a bpf_conformance plugin (cranebpf's
//! own, in another process) agrees with the reference on a batch, while a
//! plugin that hangs, crashes or prints garbage is reported as such.

use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_difftest::plugin::PluginEngine;
use cranebpf_runtime::engine::profile::HelperSupport;
use cranebpf_runtime::engine::{Capabilities, Engine, PrepareError, Prepared};
use cranebpf_runtime::{AluOp, Helpers, Insn, InterpreterEngine, Program, Width};
use std::time::Duration;

/// An external engine: cranebpf's interpreter on a program whose `mov32`s
/// were turned into `mov64`s. It declares itself like a peer: no counts, no
/// fault detail, no helpers.
struct Mov32KeepsUpperHalf;

impl Engine for Mov32KeepsUpperHalf {
    fn name(&self) -> &str {
        "planted-mov32"
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::EXACT;
        c.counts_instructions = false;
        c.fault_detail = false;
        c.profile.helpers = HelperSupport::None;
        c
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        let insns: Vec<Insn> = program
            .insns()
            .iter()
            .map(|&(_, i)| match i {
                Insn::Alu {
                    w: Width::W32,
                    op: AluOp::Mov,
                    dst,
                    src,
                } => Insn::Alu {
                    w: Width::W64,
                    op: AluOp::Mov,
                    dst,
                    src,
                },
                other => other,
            })
            .collect();
        InterpreterEngine.prepare(&Program::from_insns(&insns)?, helpers)
    }
}

fn config(count: u64) -> BatchConfig {
    BatchConfig {
        seed: 11,
        count,
        max_reports: 3,
        jobs: 2,
        ..BatchConfig::default()
    }
}

#[test]
fn a_planted_bug_in_an_external_engine_is_found_minimised_and_classified() {
    let s = run_batch(
        &InterpreterEngine,
        &Mov32KeepsUpperHalf,
        &config(300),
        &|_| {},
    );
    assert!(s.divergences > 0, "{s}");
    assert!(!s.reports.is_empty());
    for r in &s.reports {
        assert!(r.case.insns.len() <= 8, "not minimised:\n{r}");
        // The minimised program keeps the planted instruction, and the
        // class blames it: pointer registers are left out of the cut's
        // digest, so the cut right after the mov32 is conclusive.
        let planted = r.case.insns.iter().any(|i| {
            matches!(
                i,
                Insn::Alu {
                    w: Width::W32,
                    op: AluOp::Mov,
                    ..
                }
            )
        });
        assert!(planted, "{r}");
        assert!(
            r.class.starts_with("sem::alu::mov [alu32 "),
            "the class blames another instruction than the mov32:\n{r}"
        );
    }
}

fn plugin(path: &str, timeout_ms: u64) -> PluginEngine {
    PluginEngine::new(path, Vec::new(), Duration::from_millis(timeout_ms))
}

#[test]
fn cranebpf_s_own_plugin_agrees_with_the_reference() {
    let p = plugin(env!("CARGO_BIN_EXE_cranebpf-conformance-plugin"), 20_000);
    let s = run_batch(&InterpreterEngine, &p, &config(300), &|_| {});
    assert_eq!(
        s.divergences,
        0,
        "{s}\n{:?}",
        s.reports.first().map(|r| r.to_string())
    );
    assert!(s.programs >= 290, "{s}");
    assert!(s.exits > 250, "{s}");
}

/// A plugin that is a shell script doing `body`.
fn script(name: &str, body: &str) -> String {
    let dir = std::env::temp_dir().join(format!("cranebpf-plugin-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn a_plugin_that_hangs_crashes_or_prints_garbage_is_that_engine_s_result() {
    for (name, body, expect) in [
        ("hang", "sleep 30", "timed out"),
        ("crash", "kill -SEGV $$", "crashed"),
        ("garbage", "cat >/dev/null; echo 'hello world'", "garbage"),
    ] {
        let p = plugin(&script(name, body), 300);
        let mut cfg = config(3);
        cfg.shrink_tries = 0;
        let s = run_batch(&InterpreterEngine, &p, &cfg, &|_| {});
        assert_eq!(s.programs, 3, "{name}: the run goes on\n{s}");
        assert_eq!(s.divergences, 3, "{name}\n{s}");
        let shown = s.reports[0].to_string();
        assert!(shown.contains(expect), "{name}: {shown}");
    }
}
