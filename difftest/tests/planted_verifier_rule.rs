//! Proof that the audit finds an unsound *verifier* rule: with the planted
//! signed/unsigned rule on (`analysis::verifier::planted`, through the
//! dev-dependency's `planted-bugs` feature), the JIT in elide mode with
//! audit proves accesses that are not in bounds, and the differential run
//! against the interpreter reports a proof violation, minimised to a few
//! instructions around the signed compare. (Its own test binary: the switch
//! is process-wide.)

use cranebpf::InterpreterEngine;
use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_runtime::analysis::verifier::planted::plant_signed_as_unsigned;
use cranebpf_runtime::{Insn, JmpCond};

fn is_signed_compare(i: &Insn) -> bool {
    matches!(
        i,
        Insn::Jmp {
            cond: JmpCond::Sgt | JmpCond::Sge | JmpCond::Slt | JmpCond::Sle,
            ..
        }
    )
}

#[test]
fn audit_finds_a_planted_signed_unsigned_rule() {
    let audited = cranebpf_difftest::cli::elide_engine(true);
    let cfg = BatchConfig {
        seed: 42,
        count: 5000,
        stop_at_first: true,
        max_reports: 1,
        ..BatchConfig::default()
    };
    // Without the rule the same programs agree (the violation below is the
    // rule's).
    plant_signed_as_unsigned(true);
    let s = run_batch(&InterpreterEngine, &audited, &cfg, &|_| ());
    plant_signed_as_unsigned(false);
    assert!(s.proof_violations >= 1, "not found:\n{s}");
    let r = s.reports.into_iter().next().expect("a report");
    println!("{r}");
    assert!(
        r.diffs.iter().any(|d| d.contains("PROOF VIOLATION")),
        "the divergence is not the audit's:\n{r}"
    );
    assert!(r.case.insns.len() <= 12, "not minimised:\n{r}");
    assert!(
        r.case.insns.iter().any(is_signed_compare),
        "the minimised program lost the signed compare:\n{r}"
    );
    let clean = BatchConfig {
        count: s.programs,
        stop_at_first: false,
        ..cfg
    };
    let s = run_batch(&InterpreterEngine, &audited, &clean, &|_| ());
    assert_eq!((s.divergences, s.proof_violations), (0, 0), "{s}");
}
