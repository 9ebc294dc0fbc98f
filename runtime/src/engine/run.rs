//! Types shared by every engine's run entry point: [`RunOptions`] and
//! [`RunOutcome`].

use crate::engine::fault::Fault;

/// How to run a program.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// The instruction budget, counted by the rule in [`crate::analysis::budget`];
    /// `None` (the default) runs without a limit.
    pub budget: Option<u64>,
}

/// The result of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// r0 at the final `exit`, or the fault that stopped the program.
    pub result: Result<u64, Fault>,
    /// Instructions counted by the rule in [`crate::analysis::budget`], with or without
    /// a budget.
    pub insn_count: u64,
}
