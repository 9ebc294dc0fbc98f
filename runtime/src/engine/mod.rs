//! The contract every engine meets: how a run is asked for
//! ([`RunOptions`](run::RunOptions)), what it returns
//! ([`RunOutcome`](run::RunOutcome), or a [`Fault`](fault::Fault)), why an
//! engine may refuse a program at load ([`EngineError`](error::EngineError),
//! by the one set of rules in [`rules::check_program`]),
//! and the one engine abstraction: [`Engine`] prepares a program, and the
//! [`Prepared`] program runs.
//!
//! The interpreter, the JIT, the differential harness's engines (the kernel,
//! mutants with planted bugs) and the benchmark suite's peers all implement
//! these two traits, and so can a third-party engine: implementing them is
//! all it takes to join the differential runs and the benchmarks.
//!
//! A run is always described the same way: a [`Stack`] (zeroed by the engine
//! at entry and registered as a region; it holds the final stack afterwards),
//! a [`MemoryMap`] with every other region the program may touch, r1–r5, the
//! options, and the embedder's user state for helpers. The input region (the
//! one LD_ABS/LD_IND read) is the region of the map that starts at r1
//! ([`MemoryMap::input_region`]).

pub mod error;
pub mod fault;
pub mod profile;
pub mod rules;
pub mod run;
pub mod scratch;

use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Stack};
use crate::isa::program::Program;
pub use profile::Profile;
use run::{RunOptions, RunOutcome};
use std::any::Any;

/// Why an engine could not prepare a program: the engine's own error type,
/// boxed so that any engine (including one outside this workspace) can
/// return its own. Its `Display` says what and where.
pub type PrepareError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What an engine promises about its runs, so that a comparison compares
/// only what both sides define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// It counts instructions by the budget rule
    /// ([`crate::analysis::budget`]) and honours
    /// [`RunOptions::budget`](run::RunOptions::budget).
    pub counts_instructions: bool,
    /// How many low bits of r0 it reports (the kernel's XDP return value has
    /// 32); r0 is compared on those bits only.
    pub result_bits: u32,
    /// It may refuse programs the reference accepts (a verifier, a peer with
    /// a smaller instruction set); such refusals are counted, not reported
    /// as divergences.
    pub may_reject: bool,
    /// It runs on the [`Stack`] it is given, so the final stack contents
    /// are comparable.
    pub uses_given_stack: bool,
    /// It checks every memory access against the [`MemoryMap`] (an
    /// unchecked engine's faults are not comparable).
    pub checks_bounds: bool,
    /// Its faults say which instruction faulted and why, as
    /// [`Fault`](fault::Fault) defines (an engine that only says "it
    /// failed" has its faults compared as faults, without pc or kind).
    pub fault_detail: bool,
    /// The run's memory afterwards is what the engine left (false for an
    /// out-of-process engine, which reports r0 only: a comparison then
    /// compares r0).
    pub reports_memory: bool,
    /// What programs it runs ([`Profile::FULL`] for cranebpf's engines);
    /// the differential harness generates only programs inside it.
    pub profile: Profile,
}

impl Capabilities {
    /// Everything cranebpf's own engines promise: exact counts, 64-bit r0,
    /// no refusals beyond the load-time engine rules, the given stack,
    /// checked memory, exact faults, every instruction.
    pub const EXACT: Capabilities = Capabilities {
        counts_instructions: true,
        result_bits: 64,
        may_reject: false,
        uses_given_stack: true,
        checks_bounds: true,
        fault_detail: true,
        reports_memory: true,
        profile: Profile::FULL,
    };
}

impl Default for Capabilities {
    fn default() -> Capabilities {
        Capabilities::EXACT
    }
}

/// A fault for an engine that says only that a run failed, and why in its
/// own words (another project's engine, a plugin process), not at which
/// instruction: [`FaultKind::Helper`](fault::FaultKind::Helper) with the
/// reserved id `u32::MAX` and the message, at pc 0. Such an engine's
/// [`Capabilities::fault_detail`] is false, and comparisons then compare
/// only that both runs faulted.
pub fn opaque_fault(message: impl Into<String>) -> fault::Fault {
    fault::Fault {
        kind: fault::FaultKind::Helper {
            id: u32::MAX,
            error: fault::HelperError::new(message),
        },
        pc: 0,
    }
}

/// Something that runs eBPF programs: it prepares a validated [`Program`]
/// with a helper set once, and the [`Prepared`] result runs many times.
pub trait Engine: Send + Sync {
    /// A short name for reports and tables (`interp`, `jit`, ...).
    fn name(&self) -> &str;

    /// What this engine's runs promise; [`Capabilities::EXACT`] unless the
    /// engine says otherwise.
    fn capabilities(&self) -> Capabilities {
        Capabilities::EXACT
    }

    /// Prepares `program` with `helpers` (predecodes it, compiles it, loads
    /// it into a kernel...). The error says why the engine refuses it.
    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError>;
}

/// A program prepared by an [`Engine`]; runs do not interfere with each
/// other, so one value can run on several threads at once.
pub trait Prepared: Send + Sync {
    /// Runs once on `stack` with the regions of `mem`, r1–r5 = `args`, and
    /// `user` passed to helpers as [`HelperCtx::user`](crate::HelperCtx::user).
    /// The engine zeroes `stack` at entry; it holds the final stack after.
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome;

    /// [`run`](Prepared::run) on a stack the caller reuses across runs and
    /// does not read afterwards (a per-thread scratch stack, or the stack
    /// of a prebuilt run context): the engine may zero only the bytes the
    /// program can observe ([`crate::analysis::stack_use`]). The default
    /// zeroes the whole stack.
    fn run_reused(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.run(stack, mem, args, opts, user)
    }

    /// [`run_reused`](Prepared::run_reused) on this thread's scratch stack
    /// ([`scratch`]).
    fn run_scratch(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        scratch::with_stack(|stack| self.run_reused(stack, mem, args, opts, user))
    }

    /// [`run`](Prepared::run), for an engine that may fail to run at all
    /// (not a fault of the program: the engine's own refusal, such as a
    /// kernel whose verifier rejects the program once it knows the input's
    /// length). The differential harness calls this; the default never
    /// fails.
    fn try_run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> Result<RunOutcome, PrepareError> {
        Ok(self.run(stack, mem, args, opts, user))
    }

    /// Bytes of machine code, for an engine that compiles and says.
    fn code_size(&self) -> Option<usize> {
        None
    }
}
