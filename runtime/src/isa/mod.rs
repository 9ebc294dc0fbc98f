//! The instruction set: what a program *is*, before anything runs it.
//!
//! Bytes become [`Insn`](insn::Insn)s through the strict decoder
//! ([`decode`]), text through the assembler ([`asm`]); [`encode`] is the exact
//! inverse of decoding. The structural validator ([`validate`]) checks how the
//! instructions fit together, and a [`Program`](program::Program) is the only
//! value the engines accept: decoded, validated, with its control-flow graph
//! ([`cfg::Cfg`]: functions, blocks, successors, computed once).
//!
//! Nothing here knows about memory, helpers or engines.

pub mod asm;
pub mod cbpf;
pub mod cfg;
pub mod decode;
mod effects;
pub mod encode;
pub mod insn;
pub mod program;
pub mod validate;
