//! Test support for cranebpf's own tests (never published):
//!
//! - [`build`]: instruction and program builders (`r(1)`, `mov(0, 1)`,
//!   `ldx(W, 0, 1, 0)`, ...), declared once for every test crate;
//! - [`engines`] (feature `engines`): runs one program on every engine (the
//!   interpreter, the JIT, and the JIT without bounds checks when the run
//!   cannot fault on memory) and asserts they agree; [`every_engine!`]
//!   turns one hand-worked expectation into such a test;
//! - [`models`] and [`packets`]: the example programs' independent Rust
//!   models and the packets they run on.
//!
//! The runtime's integration tests use this crate without the `engines`
//! feature (the JIT depends on the runtime).

pub mod build;
#[cfg(feature = "engines")]
pub mod engines;
pub mod models;
pub mod packets;
pub mod process;
