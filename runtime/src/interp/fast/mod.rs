//! The fast interpreter tier (`interp-fast`): the same engine contract as
//! the reference interpreter (see [`super`]'s module docs), faster.
//!
//! [`FastInterpreter::new`] runs the reference's predecoder and rewrites its
//! slots once (`code.rs`) into ops specialised by operation, width and
//! operand kind (`add64` with an immediate is its own op; the immediate is
//! already a value), with LDDW folded, frame-rule violations found at load,
//! and the budget charged on the edges that enter a block rather than
//! tested per instruction. The run loop (`exec.rs`) keeps registers, the
//! charge and the call frames in locals and checks the stack and input
//! regions inline before the map's general search.
//!
//! Results, faults (kind and pc) and instruction counts are identical to
//! the reference's: the values come from the same [`crate::sem`] functions,
//! and helpers, atomics and legacy packet loads run through the reference's
//! own code. The differential harness compares the two on every CI run.

mod code;
mod exec;
#[cfg(test)]
mod tests;

use super::predecode::predecode;
use crate::engine::error::EngineError;
use crate::engine::rules::check_program;
use crate::engine::run::{RunOptions, RunOutcome};
use crate::engine::scratch::{with_regions, with_stack};
use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Stack, STACK_SIZE};
use crate::isa::program::Program;
use std::any::Any;

/// A program ready to run under the fast interpreter tier.
///
/// Like [`Interpreter`](super::Interpreter): immutable once built, and
/// `Send + Sync`.
///
/// ```
/// use cranebpf_runtime::{AluOp, FastInterpreter, Helpers, Insn, Program, Reg, Src, Width};
///
/// // r0 = r2 (the input length) * 3; exit
/// let prog = Program::from_insns(&[
///     Insn::Alu { w: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Src::Reg(Reg::R2) },
///     Insn::Alu { w: Width::W64, op: AluOp::Mul, dst: Reg::R0, src: Src::Imm(3) },
///     Insn::Exit,
/// ])?;
/// let fast = FastInterpreter::new(&prog, Helpers::new())?;
/// assert_eq!(fast.run(&mut [0u8; 5])?, 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FastInterpreter {
    code: code::Code,
    /// All helpers, for `callx`.
    helpers: Helpers,
    /// Stack bytes a run on a reused stack zeroes.
    stack_zero: usize,
}

impl FastInterpreter {
    /// Prepares `prog` for running with `helpers`; fails exactly when
    /// [`Interpreter::new`](super::Interpreter::new) does.
    pub fn new(prog: &Program, helpers: Helpers) -> Result<FastInterpreter, EngineError> {
        check_program(prog, &helpers)?;
        let code = code::translate(&predecode(prog, &helpers)?)?;
        Ok(FastInterpreter {
            code,
            helpers,
            stack_zero: crate::analysis::stack_use::zero_bytes(prog),
        })
    }

    /// Runs with the conformance convention, as
    /// [`Interpreter::run`](super::Interpreter::run).
    pub fn run(&self, input: &mut [u8]) -> Result<u64, crate::engine::fault::Fault> {
        let ptr = if input.is_empty() {
            0
        } else {
            input.as_mut_ptr() as u64
        };
        let args = [ptr, input.len() as u64, 0, 0, 0];
        with_regions(|mem| {
            if !input.is_empty() {
                mem.add_mut(input);
            }
            self.run_with(mem, args, &RunOptions::default(), None)
                .result
        })
    }

    /// Runs on this thread's scratch stack, as
    /// [`Interpreter::run_with`](super::Interpreter::run_with).
    pub fn run_with(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        with_stack(|stack| self.run_on(stack, self.stack_zero, mem, args, opts, user))
    }

    /// Runs on `stack`, zeroing its top `zero` bytes first, registered as
    /// region 0 for the run and removed afterwards.
    fn run_on(
        &self,
        stack: &mut Stack,
        zero: usize,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        // The packet of LD_ABS/LD_IND: chosen before the stack is added.
        let packet = mem.input_region(args[0]);
        let region = stack.prepare_top(zero);
        // SAFETY: `stack` is a live, 16-byte aligned block of STACK_SIZE
        // bytes, valid for reads and writes, borrowed mutably for this whole
        // call. `guard`'s `Drop` removes the region from the map before this
        // function returns (also on unwinding), so the map never holds the
        // region after the borrow ends; meanwhile all accesses go through
        // the map or the run loop's checked fast path.
        unsafe { mem.add_raw_first(region) };
        let guard = super::StackGuard {
            mem,
            start: region.start,
        };
        debug_assert_eq!(region.len, STACK_SIZE as u64);
        let entry = exec::Entry {
            args,
            stack: region,
            packet,
            budget: opts.budget,
        };
        let outcome = exec::run(&self.code, &self.helpers, &entry, &mut *guard.mem, user);
        drop(guard);
        outcome
    }
}

/// The fast tier on the caller's stack, zeroed whole.
impl crate::engine::Prepared for FastInterpreter {
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.run_on(stack, STACK_SIZE, mem, args, opts, user)
    }

    fn run_reused(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.run_on(stack, self.stack_zero, mem, args, opts, user)
    }
}

/// The fast interpreter tier as an [`Engine`](crate::engine::Engine),
/// named `interp-fast`.
#[derive(Clone, Copy, Debug, Default)]
pub struct FastInterpreterEngine;

impl crate::engine::Engine for FastInterpreterEngine {
    fn name(&self) -> &str {
        "interp-fast"
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn crate::engine::Prepared>, crate::engine::PrepareError> {
        Ok(Box::new(FastInterpreter::new(program, helpers)?))
    }
}

impl std::fmt::Debug for FastInterpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FastInterpreter")
            .field("ops", &self.code.ops.len())
            .field("helpers", &self.helpers)
            .finish_non_exhaustive()
    }
}
