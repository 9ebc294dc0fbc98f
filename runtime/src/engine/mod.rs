//! The contract every engine meets: how a run is asked for
//! ([`RunOptions`](run::RunOptions)), what it returns
//! ([`RunOutcome`](run::RunOutcome), or a [`Fault`](fault::Fault)), and why
//! an engine may refuse a program at load ([`EngineError`](error::EngineError)).

pub mod error;
pub mod fault;
pub mod run;
