//! The non-Cranelift half of cranebpf: the eBPF instruction set, the
//! semantics, the analyses, the reference interpreter, and the host side of a
//! run (memory, helpers, maps, program types, ELF objects).
//!
//! The modules follow the data flow, one layer each:
//!
//! | layer | module | what it owns |
//! |---|---|---|
//! | instruction set | [`isa`] | `Insn`, strict decode and encode, assembler, validator, `Program` |
//! | semantics | [`sem`] | each RFC 9669 rule as one pure function |
//! | analyses | [`analysis`] | the budget partition, frame-pointer facts |
//! | engine contract | [`engine`] | `RunOptions`, `RunOutcome`, `Fault`, `EngineError` |
//! | reference engine | [`interp`] | the interpreter, the oracle |
//! | host | [`host`] | memory regions, helpers, maps, program types, kernel helpers, ELF |
//! | JIT ABI | [`abi`] | the `VmContext` layout that JIT code and its host share |
//!
//! Real programs: [`elf::Object`] loads relocatable eBPF objects as clang
//! builds them (programs, BTF and legacy maps, global data, bpf-to-bpf
//! calls), [`maps`] implements the maps, [`kernel`] the kernel helpers and
//! the per-run drivers (`run_xdp`, `run_mem`, `run_with_ctx`), and [`ctx`]
//! the program types and context rewriting (`struct xdp_md`).
#![deny(missing_docs)]

pub mod abi;
pub mod analysis;
pub mod engine;
pub mod host;
pub mod interp;
pub mod isa;
pub mod sem;

pub use host::progtype as ctx;
pub use host::{elf, kernel, maps, progtype, seccomp};
pub use isa::asm;

pub use engine::error::EngineError;
pub use engine::fault::{Access, Fault, FaultKind, HelperError};
pub use engine::run::{RunOptions, RunOutcome};
pub use engine::{Capabilities, Engine, PrepareError, Prepared};
pub use host::helpers::{DirectFn, Helper, HelperCtx, HelperFn, Helpers};
pub use host::mem::{MemoryMap, Region, Stack, MAX_CALL_DEPTH, STACK_FRAME_SIZE, STACK_SIZE};
pub use interp::{FastInterpreter, FastInterpreterEngine, Interpreter, InterpreterEngine};
pub use isa::cfg::{BasicBlock, Cfg};
pub use isa::decode::{decode_all, decode_at, DecodeError, DecodeReason, Field};
pub use isa::encode::{encode_all, encode_into};
pub use isa::insn::{
    slots_from_bytes, slots_to_bytes, AluOp, AtomicOp, CallKind, Endian, Insn, JmpCond, LddwKind,
    RawInsn, Reg, Size, Src, Width,
};
pub use isa::program::{LoadError, Program};
pub use isa::validate::{validate, Function, Rule, ValidateError, MAX_SLOTS};
