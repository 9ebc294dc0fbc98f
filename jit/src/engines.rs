//! cranebpf's engines as [`Engine`]s and their prepared programs as
//! [`Prepared`]s: the one abstraction the differential harness, the
//! benchmarks and third-party engines share (see
//! [`cranebpf_runtime::engine`]).

use crate::{EngineKind, JitOptions, JitProgram, PlantedBug, Vm};
use cranebpf_runtime::engine::{Engine, PrepareError, Prepared};
use cranebpf_runtime::{Helpers, MemoryMap, Program, RunOptions, RunOutcome, Stack};
use std::any::Any;

/// The JIT with explicit code generation options, as an [`Engine`].
/// ([`EngineKind::Jit`] is the JIT with default options.)
#[derive(Clone, Debug, Default)]
pub struct JitEngine {
    /// The options every program is compiled with.
    pub options: JitOptions,
    /// The name reports use (`jit` unless set).
    pub name: Option<&'static str>,
}

impl Engine for JitEngine {
    fn name(&self) -> &str {
        self.name.unwrap_or("jit")
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(JitProgram::with_options(
            program,
            helpers,
            &self.options,
        )?))
    }
}

impl Engine for EngineKind {
    fn name(&self) -> &str {
        match self {
            EngineKind::Interpreter => "interp",
            EngineKind::Jit => "jit",
        }
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(Vm::new(program, helpers, *self)?))
    }
}

/// [`Vm`] on a stack the caller provides: it is zeroed and registered as
/// region 0 for the run, and holds the program's final stack contents
/// afterwards. Reusing one [`Stack`] across runs saves an allocation per run;
/// placing it lets a caller fix its distance to other regions.
impl Prepared for Vm {
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        match &self.inner {
            crate::Inner::Interp(i) => Prepared::run(i, stack, mem, args, opts, user),
            crate::Inner::Jit(p) => Prepared::run(&**p, stack, mem, args, opts, user),
            crate::Inner::Tiered(t) => t.run(stack, mem, args, opts, user),
        }
    }

    fn run_reused(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        match &self.inner {
            crate::Inner::Interp(i) => i.run_reused(stack, mem, args, opts, user),
            crate::Inner::Jit(p) => p.run_reused(stack, mem, args, opts, user),
            crate::Inner::Tiered(t) => t.run_reused(stack, mem, args, opts, user),
        }
    }

    fn code_size(&self) -> Option<usize> {
        self.code_size()
    }
}

/// The JIT compiling every program with a known semantic bug planted in its
/// lowering ([`PlantedBug`]), as an [`Engine`] named `mutant`: the one
/// planted-bug mechanism, for proving that a differential harness catches
/// a wrong JIT. `None` unless the crate is built with the `planted-bugs`
/// feature (only tests and `cranebpf-difftest/planted-bugs` turn it on), so
/// no production build can plant a bug.
pub fn planted_bug_engine(bug: PlantedBug) -> Option<Box<dyn Engine>> {
    #[cfg(feature = "planted-bugs")]
    {
        Some(Box::new(PlantedBugJit(bug)))
    }
    #[cfg(not(feature = "planted-bugs"))]
    {
        let _ = bug;
        None
    }
}

/// See [`planted_bug_engine`].
#[cfg(feature = "planted-bugs")]
struct PlantedBugJit(PlantedBug);

#[cfg(feature = "planted-bugs")]
impl Engine for PlantedBugJit {
    fn name(&self) -> &str {
        "mutant"
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(JitProgram::with_planted_bug(
            program, helpers, self.0,
        )?))
    }
}
