//! [`RunContext`]: a prebuilt run context for one [`Vm`], the cheapest way
//! to call a program many times from one thread.
//!
//! A context owns what every run needs besides the program: a stack and the
//! storage of the run's region list. A run through it touches no
//! thread-local, allocates nothing, searches no region list, and zeroes only
//! the stack bytes the program can observe
//! ([`cranebpf_runtime::analysis::stack_use`]). Results, faults and
//! instruction counts are exactly those of [`Vm::run_input`].
//!
//! Known gap (shared with the per-thread scratch stack of
//! [`Vm::run_with`]): the stack bytes a program cannot observe through r10
//! keep an earlier run's contents. A helper that is handed a stack pointer
//! sees only bytes the program could reach, which are zeroed; a helper that
//! found the stack region in the [`MemoryMap`] without being given a pointer
//! could read below them. Helpers get the map to check the pointers they
//! are given; none of the built-in helpers scans it.

use crate::{Fault, Inner, RunOptions, RunOutcome, Stack, Vm};
use cranebpf_runtime::{MemoryMap, Prepared};
use std::any::Any;
use std::fmt;

/// A prebuilt run context for one [`Vm`] (see the module docs). Make one
/// per thread with [`Vm::context`]; runs take `&mut self`.
///
/// ```
/// use cranebpf::insn::{AluOp, Insn, Reg, Src, Width};
/// use cranebpf::{Helpers, Program, Vm};
///
/// // r0 = r2 (the input length); exit
/// let prog = Program::from_insns(&[
///     Insn::Alu { w: Width::W64, op: AluOp::Mov, dst: Reg::R0, src: Src::Reg(Reg::R2) },
///     Insn::Exit,
/// ])?;
/// let vm = Vm::jit(&prog, Helpers::new())?;
/// let mut ctx = vm.context();
/// for n in 0..4 {
///     assert_eq!(ctx.run(&mut vec![0u8; n])?, n as u64);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RunContext<'vm> {
    vm: &'vm Vm,
    stack: Box<Stack>,
    /// Empty between runs; a JIT run's regions enter it only if a thunk
    /// needs them (`JitProgram::run_regions_on`).
    map: MemoryMap<'static>,
}

impl fmt::Debug for RunContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("vm", self.vm)
            .finish_non_exhaustive()
    }
}

impl Vm {
    /// A prebuilt run context for this VM: its own stack and region
    /// storage, reused by every run made through it.
    pub fn context(&self) -> RunContext<'_> {
        RunContext {
            vm: self,
            stack: Stack::boxed(),
            map: MemoryMap::with_storage(Vec::with_capacity(4)),
        }
    }
}

impl<'vm> RunContext<'vm> {
    /// The VM this context runs.
    pub fn vm(&self) -> &'vm Vm {
        self.vm
    }

    /// [`Vm::run`] through this context.
    #[inline]
    pub fn run(&mut self, input: &mut [u8]) -> Result<u64, Fault> {
        self.run_input(input, &RunOptions::default()).result
    }

    /// [`Vm::run_input`] through this context.
    #[inline]
    pub fn run_input(&mut self, input: &mut [u8], opts: &RunOptions) -> RunOutcome {
        match &self.vm.inner {
            Inner::Jit(p) => p.run_input_on(&mut self.stack, &mut self.map, input, opts),
            _ => self.run_input_other(input, opts),
        }
    }

    /// [`RunContext::run_input`] on the interpreter or a tiered VM.
    fn run_input_other(&mut self, input: &mut [u8], opts: &RunOptions) -> RunOutcome {
        let mut storage = std::mem::take(&mut self.map).into_storage();
        let stack = &mut *self.stack;
        let out = match &self.vm.inner {
            Inner::Interp(i) => i.run_input_on(stack, &mut storage, input, opts),
            _ => {
                let mut mem = MemoryMap::with_storage(std::mem::take(&mut storage));
                let args = if input.is_empty() {
                    [0; 5]
                } else {
                    let r = mem.add_mut(input);
                    [r.start, r.len, 0, 0, 0]
                };
                let out = self.vm.run_reused(stack, &mut mem, args, opts, None);
                storage = mem.into_storage();
                out
            }
        };
        self.map = MemoryMap::with_storage(storage);
        out
    }

    /// [`Vm::run_with`] through this context: `mem` holds the run's regions
    /// and r1..r5 are `args`; the context's stack is added as region 0 for
    /// the run.
    pub fn run_with(
        &mut self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.vm.run_reused(&mut self.stack, mem, args, opts, user)
    }
}
