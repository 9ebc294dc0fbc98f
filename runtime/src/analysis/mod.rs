//! Static analyses over a validated [`Program`](crate::Program).
//!
//! - [`budget`]: the block partition and the counting rule every engine
//!   charges the instruction budget by.
//! - [`frame`]: frame-pointer provenance, the facts that let the lowering drop
//!   the check of an access proven to stay inside the current frame.
//! - [`stack_use`]: how much of the stack a run can observe, so that runs
//!   on a reused stack zero only that much (the one fact the interpreter
//!   uses, and only on its scratch stack; see the module docs).
//! - [`proof`]: what the verifier hands the lowering (per-instruction access
//!   facts, per-loop bounds): the seam between the two.
//! - [`verifier`]: the static verifier, which produces that proof (and, in
//!   strict mode, refuses what it cannot prove).
//!
//! Analyses read the program and return facts; they never change it, and
//! the interpreter (the oracle) does not depend on any fact they prove.

pub mod budget;
pub mod frame;
pub mod proof;
pub mod stack_use;
pub mod verifier;
