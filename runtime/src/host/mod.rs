//! The host side of a run: everything a program touches that is not its own
//! instructions.
//!
//! - [`mem`]: the regions a run may touch and the one bounds rule.
//! - [`helpers`]: Rust functions a program calls, and the context they see.
//! - [`maps`]: the kernel's map types, shared with the embedder.
//! - [`progtype`]: program types as data: context layouts, the context
//!   rewrite, helper sets, return conventions.
//! - [`kernel`]: kernel helpers by id, tail calls, and the per-run drivers.
//! - [`elf`]: the loader for clang-built objects (programs, maps, BTF).
//! - [`seccomp`]: `struct seccomp_data`, the `SECCOMP_RET_*` actions, evaluation.

pub mod elf;
pub mod helpers;
pub mod kernel;
pub mod maps;
pub mod mem;
pub mod progtype;
pub mod seccomp;
