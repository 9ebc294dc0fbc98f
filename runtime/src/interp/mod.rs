//! The reference interpreter: the oracle every other engine is compared with.
//!
//! [`Interpreter::new`] predecodes a [`Program`] once (see `predecode.rs`):
//! LDDW merged, jump targets absolute, helpers resolved, budget blocks
//! attached. [`Interpreter::run_with`] then executes it with a `loop { match
//! … }` over the predecoded code whose arms call [`crate::sem`]. The
//! interpreter holds no `unsafe` code except registering the run's stack in
//! the [`MemoryMap`]; every load, store and atomic goes through the map's one
//! bounds rule. It never panics on a validated program.
//!
//! # Engine contract
//!
//! These are the run-time rules the RFC leaves to the platform. The JIT
//! implements the same ones; a difference is a bug in one of the engines.
//!
//! - **Entry.** r1..r5 = the five `args`, r10 = the top of the stack, every
//!   other register 0. [`Interpreter::run`] uses the conformance convention:
//!   r1 = pointer to the input (0 if the input is empty), r2 = its length.
//! - **Stack.** Each run gets [`STACK_SIZE`] zeroed bytes, 16-byte aligned
//!   (the caller's with [`Prepared::run`](crate::engine::Prepared::run), zeroed
//!   whole; otherwise the thread's reused scratch stack, zeroed as far as
//!   the program can observe it, see [`crate::analysis::stack_use`]),
//!   registered as region 0 of the map for the duration of the run (and
//!   removed afterwards, even if a helper panics). The frame of call depth
//!   `d` is `[top - (d + 1) * 512, top - d * 512)`; r10 = `top - d * 512`.
//! - **Helper calls** (`call IMM`, `callx REG`): the helper receives r1..r5
//!   and a [`HelperCtx`] with the run's memory and the user state; r0 gets
//!   its result. **r1..r5 are unchanged** after a helper call (the kernel ABI
//!   calls them clobbered; we define them preserved so engines agree). A
//!   helper error stops the run with [`FaultKind::Helper`] at the call. For
//!   `callx` the register's value is the helper id; an unregistered value
//!   faults with [`FaultKind::UnknownHelper`]. An unregistered static id is
//!   rejected at load ([`EngineError::UnknownHelper`]).
//! - **Local calls** (`call` with src 1): a new frame one level deeper (r10
//!   moves down 512 bytes); r6..r9 and r10 are saved and restored on return;
//!   **r1..r5 are whatever the callee left in them**; r0 is the callee's r0.
//!   At most [`MAX_CALL_DEPTH`] frames exist (the entry function is depth 0),
//!   so 7 nested calls succeed and the 8th faults with
//!   [`FaultKind::CallDepth`] `{ limit: 8 }` at the call.
//! - **Legacy packet loads** (LD_ABS, LD_IND): the packet is the region whose
//!   start equals r1 at entry (in [`Interpreter::run`], the input). The load
//!   reads `size` bytes at `packet + imm` (LD_IND: `packet + src + imm`,
//!   wrapping) and converts them from network order into r0. If the bytes
//!   are not all inside the packet (or there is no packet), the program
//!   **ends normally with r0 = 0**, like the Linux kernel; it is not a fault.
//!   Only r0 is written (the kernel also clobbers r1..r5; we do not).
//! - **Atomics** use real atomic operations through
//!   [`MemoryMap::with_atomic32`]/[`MemoryMap::with_atomic64`]: in bounds,
//!   writable and naturally aligned, else a fault.
//! - **Instruction count and budget**: exactly the rule in [`crate::analysis::budget`],
//!   with or without a budget.
//! - **Faults** report the slot index (pc) of the faulting instruction.

mod exec;
mod fast;
mod predecode;
#[cfg(test)]
mod tests;

use crate::engine::error::EngineError;
use crate::engine::fault::Fault;
use crate::engine::rules::check_program;
use crate::engine::run::{RunOptions, RunOutcome};
use crate::engine::scratch::{with_regions, with_stack};
use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Stack, STACK_SIZE};
use crate::isa::program::Program;
use predecode::{predecode, Slot};
use std::any::Any;

pub use fast::{FastInterpreter, FastInterpreterEngine};

#[cfg(doc)]
use crate::{engine::fault::FaultKind, host::helpers::HelperCtx, host::mem::MAX_CALL_DEPTH};

/// A program ready to run under the reference interpreter.
///
/// Immutable after [`Interpreter::new`]: one interpreter can run any number
/// of times, from any number of threads at once (it is `Send + Sync`).
///
/// ```
/// use cranebpf_runtime::{AluOp, Helpers, Insn, Interpreter, Program, Reg, Src, Width};
///
/// // r0 = r2 (the input length) * 3; exit
/// let prog = Program::from_insns(&[
///     Insn::Alu { w: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Src::Reg(Reg::R2) },
///     Insn::Alu { w: Width::W64, op: AluOp::Mul, dst: Reg::R0, src: Src::Imm(3) },
///     Insn::Exit,
/// ])?;
/// let interp = Interpreter::new(&prog, Helpers::new())?;
/// assert_eq!(interp.run(&mut [0u8; 5])?, 15);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Interpreter {
    /// The predecoded code. Invariant (established by `predecode`): every
    /// jump and call target is a valid index and the last op is `exit` or
    /// `ja`.
    code: Vec<Slot>,
    /// All helpers, for `callx` (static calls are resolved in `code`).
    helpers: Helpers,
    /// Stack bytes a run on the reused scratch stack zeroes
    /// ([`crate::analysis::stack_use`]).
    stack_zero: usize,
}

impl Interpreter {
    /// Predecodes `prog` for running with `helpers`.
    ///
    /// Fails with an [`EngineError`] if the program breaks a load-time
    /// engine rule ([`check_program`]): it calls an unregistered static
    /// helper id, calls by BTF id, or has an LDDW pseudo-load.
    pub fn new(prog: &Program, helpers: Helpers) -> Result<Interpreter, EngineError> {
        check_program(prog, &helpers)?;
        let code = predecode(prog, &helpers)?;
        Ok(Interpreter {
            code,
            helpers,
            stack_zero: crate::analysis::stack_use::zero_bytes(prog),
        })
    }

    /// Runs with the conformance convention: r1 = pointer to `input` (0 if
    /// it is empty), r2 = its length; `input` is the only region besides the
    /// stack, read-write; no budget, no user state.
    pub fn run(&self, input: &mut [u8]) -> Result<u64, Fault> {
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

    /// Runs with the regions in `mem`, r1..r5 = `args`, the options and the
    /// embedder's state (passed to helpers). See the module docs for the
    /// engine contract.
    ///
    /// The stack is added to `mem` as its first region for the run and
    /// removed afterwards; regions helpers add or remove stay as they left
    /// them. The stack is this thread's scratch stack
    /// ([`crate::engine::scratch`]), zeroed where the program can see it.
    pub fn run_with(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        with_stack(|stack| self.run_on(stack, self.stack_zero, mem, args, opts, user))
    }

    /// Runs with `input` as the only region besides the stack (read-write;
    /// r1 = its address or 0 if empty, r2 = its length), on a stack the
    /// caller reuses and does not read (zeroed as far as the program can
    /// observe it), with the region list built in `storage`: the stack is
    /// region 0 and the input region 1, so nothing is searched, inserted or
    /// removed. The cheapest entry (a prebuilt run context's).
    pub fn run_input_on(
        &self,
        stack: &mut Stack,
        storage: &mut Vec<crate::host::mem::Region>,
        input: &mut [u8],
        opts: &RunOptions,
    ) -> RunOutcome {
        let region = stack.prepare_top(self.stack_zero);
        let mut mem = MemoryMap::with_storage(std::mem::take(storage));
        // SAFETY: `stack` is a live, 16-byte aligned block of STACK_SIZE
        // bytes, valid for reads and writes, borrowed mutably for this whole
        // call; `mem` is emptied (`into_storage`) before this function
        // returns, and all accesses meanwhile go through the map.
        unsafe { mem.add_raw(region) };
        let (packet, args) = if input.is_empty() {
            (None, [0; 5])
        } else {
            let r = mem.add_mut(input);
            (Some(r), [r.start, r.len, 0, 0, 0])
        };
        let entry = exec::Entry {
            args,
            stack_top: region.start + STACK_SIZE as u64,
            packet,
            budget: opts.budget,
        };
        let outcome = exec::run(&self.code, &self.helpers, entry, &mut mem, None);
        *storage = mem.into_storage();
        outcome
    }

    /// Runs on `stack`, zeroing its top `zero` bytes first (see
    /// [`crate::analysis::stack_use`]): registered as region 0 for the run
    /// and removed afterwards, keeping the program's final stack contents
    /// for the caller to read.
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
        // region after the borrow ends. No Rust reference to the stack's
        // contents is used while the region is registered; all accesses go
        // through the map.
        unsafe { mem.add_raw_first(region) };
        let guard = StackGuard {
            mem,
            start: region.start,
        };
        let entry = exec::Entry {
            args,
            stack_top: region.start + STACK_SIZE as u64,
            packet,
            budget: opts.budget,
        };
        let outcome = exec::run(&self.code, &self.helpers, entry, &mut *guard.mem, user);
        drop(guard);
        outcome
    }
}

/// The interpreter on the caller's stack, zeroed whole.
impl crate::engine::Prepared for Interpreter {
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

/// The reference interpreter as an [`Engine`](crate::engine::Engine).
#[derive(Clone, Copy, Debug, Default)]
pub struct InterpreterEngine;

impl crate::engine::Engine for InterpreterEngine {
    fn name(&self) -> &str {
        "interp"
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn crate::engine::Prepared>, crate::engine::PrepareError> {
        Ok(Box::new(Interpreter::new(program, helpers)?))
    }
}

impl std::fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("insns", &self.code.len())
            .field("helpers", &self.helpers)
            .finish_non_exhaustive()
    }
}

/// Removes the stack region from the map when dropped.
struct StackGuard<'m, 'a> {
    mem: &'m mut MemoryMap<'a>,
    start: u64,
}

impl Drop for StackGuard<'_, '_> {
    fn drop(&mut self) {
        self.mem.remove_at(self.start);
    }
}
