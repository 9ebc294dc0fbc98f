//! Lowering of validated eBPF programs to Cranelift IR.
//!
//! This crate turns a [`Program`](cranebpf_runtime::Program) into one
//! Cranelift [`ir::Function`](cranelift_codegen::ir::Function) per eBPF
//! function, plus a small host-callable entry wrapper. It owns no executable
//! memory and never decodes bytes: the JIT crate (`cranebpf`) compiles and
//! loads what this crate builds, and the same IR serves `cranebpf clif` and
//! cross-ISA disassembly.
//!
//! Principal items:
//! - [`lower_function`]: builds eBPF function `index` (the driver in
//!   `func.rs`, the one `match insn` in `translate.rs`);
//! - [`lower_entry`]: the wrapper the host calls, `extern "C" fn(vm, r1..r5) -> r0`;
//! - [`LowerEnv`]: what differs between embedders (how to name another
//!   compiled function, where the host thunks live);
//! - [`function_signature`], [`entry_signature`], [`function_ranges`].
//!
//! **Architecture Invariants** of the generated code:
//! - No Cranelift instruction that can trap is reachable: divisions are
//!   guarded, every load and store is `notrap` because it is either proven
//!   (r10-relative within the frame) or checked, and there is no `trap`,
//!   `trapz`, `trapnz` or `*_overflow_trap` anywhere.
//! - A failed check branches to a cold fault block that records the fault in
//!   the [`VmContext`](cranebpf_runtime::VmContext) and returns
//!   [`STATUS_FAULT`](cranebpf_runtime::abi::STATUS_FAULT).
//! - Budget accounting follows the rule of [`cranebpf_runtime::analysis::budget`]
//!   (`budget.rs`): per block leader, except in the fast copy of a function
//!   with loops, which compares only at checkpoints and hands over to the
//!   per-block copy when the budget runs low (same counts and faults).
//!
//! Calling convention of every eBPF function (Cranelift `tail`):
//! `(vm, fp, r0, r1, .., r9) -> (r0, r1, .., r5, status)`. The callee gets
//! the caller's whole register file (so reads of not-yet-written registers
//! see what the interpreter's shared register file would show) and its frame
//! pointer `fp`; it returns r0..r5 (r1-r5 after a local call are what the
//! callee left) and a status.
//!
//! ```
//! use cranebpf_runtime::{Insn, Program, Reg, Src, Width, AluOp};
//! use cranebpf_lower::{lower_function, function_signature, ModuleFreeEnv};
//! use cranelift_codegen::{ir, isa::CallConv};
//!
//! let prog = Program::from_insns(&[
//!     Insn::Alu { w: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Src::Imm(7) },
//!     Insn::Exit,
//! ])?;
//! let mut func = ir::Function::with_name_signature(
//!     ir::UserFuncName::user(0, 0),
//!     function_signature(),
//! );
//! let mut env = ModuleFreeEnv::default();
//! lower_function(&prog, 0, &mut env, CallConv::SystemV, &mut func)?;
//! assert!(func.display().to_string().contains("iconst.i64 7"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod alu;
mod bounds;
mod budget;
mod call;
mod env;
mod func;
mod mem;
mod plan;
mod sig;
mod translate;

pub use env::{LowerEnv, ModuleFreeEnv, PlantedBug};
pub use func::{
    function_ranges, lower_check_adapter, lower_entry, lower_function, lower_function_with,
    LowerError, LowerOptions,
};
pub use plan::FunctionRange;
pub use sig::{
    check_adapter_signature, entry_signature, function_signature, helper_signature,
    mem_check_signature,
};
