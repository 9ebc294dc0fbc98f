//! Run options and outcomes (temporary home until the interpreter's land).

use cranebpf_runtime::Fault;

/// Options of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Instruction budget (see `cranebpf_runtime::budget`), or none.
    pub budget: Option<u64>,
}

/// What one run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// r0 after a normal end, or the fault.
    pub result: Result<u64, Fault>,
    /// Instructions counted by the budget rule.
    pub insn_count: u64,
}
