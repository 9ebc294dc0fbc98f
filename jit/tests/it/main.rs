//! Integration tests of the JIT: both engines on the same programs (see
//! `harness.rs`), the conformance suite, random programs, bounds edges,
//! calls, budgets and properties of the generated code.
//!
//! The same binary runs natively on the other supported architectures
//! under qemu-user (runners in `.cargo/config.toml`):
//! `cargo test -p cranebpf --test it --target aarch64-unknown-linux-gnu`
//! (or `riscv64gc-unknown-linux-gnu`).

mod alu;
mod budget_copies;
mod call;
mod cbpf;
mod clif;
mod conformance;
mod cross;
mod frame;
mod harness;
mod mem;
mod proof;
mod random;
