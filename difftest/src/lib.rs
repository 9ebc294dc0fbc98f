//! Differential testing of cranebpf engines.
//!
//! This crate gathers what the tests of every engine share:
//!
//! - [`conformance`]: the reader for bpf_conformance `.data` files
//!   ([`conformance::TestFile`], [`conformance::parse`],
//!   [`conformance::load_dir`], [`conformance::program_bytes`]) and the
//!   location of the suite ([`conformance::suite_or_skip`]: tests that
//!   need it skip loudly when it is missing).
//! - [`strategies`]: proptest strategies over the instruction model, chiefly
//!   [`strategies::any_insn`], which yields every instruction the strict
//!   decoder accepts.
//!
//! The differential harness:
//!
//! - [`gen`]: seeded, shrinkable generators of valid, mostly terminating
//!   programs ([`gen::generate`], [`gen::arb_case`]), with a
//!   kernel-acceptable subset ([`gen::GenConfig::kernel`]).
//! - [`case`], [`state`]: a [`case::Case`] (program, input, budget) and the
//!   normalised final [`state::State`] engines must agree on.
//! - [`helpers`]: the helpers generated programs call, and their call log.
//! - [`engine`]: running a case on any runtime [`engine::Engine`] (the
//!   interpreter, the JIT, a JIT with a planted bug, a third party's);
//!   [`engine::execute`] and [`engine::compare`].
//! - [`kernel`]: the Linux kernel as a third oracle (`BPF_PROG_TEST_RUN`).
//! - [`plugin`]: an engine in another process, through the bpf_conformance
//!   plugin protocol (a crash, hang or garbage is that engine's result).
//! - [`profile`]: generating inside an engine's profile (what it runs).
//! - [`shrink`], [`classify`], [`batch`]: minimising divergences, naming
//!   the RFC rule involved, running (sharded) batches with statistics and
//!   distinct bug classes. [`cli`] is the `cranebpf-difftest` command line;
//!   with the `peers` feature it also runs rbpf's and solana-sbpf's engines
//!   (`cranebpf-peers`).
//!
//! ```
//! use cranebpf_difftest::conformance::{parse, program_bytes};
//!
//! let test = parse("ret1.data", "-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n")?;
//! assert_eq!(test.result, Some(1));
//! let bytes = program_bytes(&test)?;
//! assert_eq!(bytes.len(), 16);
//! let program = cranebpf_runtime::Program::from_bytes(&bytes)?;
//! assert_eq!(program.insns().len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

pub mod batch;
pub mod case;
pub mod classify;
pub mod cli;
pub mod conformance;
pub mod engine;
pub mod gen;
pub mod helpers;
pub mod kernel;
pub mod plugin;
pub mod profile;
pub mod shrink;
pub mod state;
pub mod strategies;

use cranebpf_runtime::Helpers;

/// The helpers the bpf_conformance suite expects of its test harness (not of
/// the library): helper 5 returns its first argument (`call_unwind_fail.data`,
/// `callx.data`).
pub fn conformance_helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register(5, "conformance_identity", |_ctx, args| Ok(args[0]));
    h
}
