//! The non-Cranelift half of cranebpf: the eBPF instruction model, the
//! assembler and disassembler, the validator, the memory model, helpers, and
//! the reference interpreter.
//!
//! Real programs: [`elf::Object`] loads relocatable eBPF objects as clang
//! builds them (programs, BTF and legacy maps, global data, bpf-to-bpf
//! calls), [`maps`] implements the maps, [`kernel`] the kernel helpers and
//! the per-run drivers (`run_xdp`, `run_mem`, `run_with_ctx`), and [`ctx`]
//! the program types and context rewriting (`struct xdp_md`).
#![deny(missing_docs)]

pub mod asm;
pub mod budget;
pub mod ctx;
mod decode;
pub mod elf;
mod encode;
mod engine_error;
mod fault;
pub mod frame;
mod helpers;
mod insn;
pub mod interp;
pub mod kernel;
pub mod maps;
mod mem;
mod program;
mod run;
pub mod sem;
mod validate;
pub mod vm;

pub use decode::{decode_all, decode_at, DecodeError, DecodeReason, Field};
pub use encode::{encode_all, encode_into};
pub use engine_error::EngineError;
pub use fault::{Access, Fault, FaultKind, HelperError};
pub use helpers::{Helper, HelperCtx, HelperFn, Helpers};
pub use insn::{
    slots_from_bytes, slots_to_bytes, AluOp, AtomicOp, CallKind, Endian, Insn, JmpCond, LddwKind,
    RawInsn, Reg, Size, Src, Width,
};
pub use interp::Interpreter;
pub use mem::{MemoryMap, Region, Stack, MAX_CALL_DEPTH, STACK_FRAME_SIZE, STACK_SIZE};
pub use program::{LoadError, Program};
pub use run::{RunOptions, RunOutcome};
pub use validate::{validate, Function, Rule, ValidateError, MAX_SLOTS};
pub use vm::VmContext;
