//! What every benchmark engine is given and gives back: a [`Subject`] (the
//! program to prepare) and an [`Exec`] (the prepared program). The engine
//! list ([`crate::engines`]) turns any runtime engine into an [`Exec`].

use crate::c_workloads::{NativeFn, Needs};
use cranebpf_runtime::elf::LoadedProgram;

/// A program prepared for one engine: compile cost is paid in
/// [`EngineSpec::prepare`](crate::engines::EngineSpec::prepare), [`Exec::run`] is what benchmarks time.
pub trait Exec {
    /// Runs once on `input` (of the length the subject was prepared for)
    /// and returns r0.
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String>;
    /// Bytes of machine code, for a JIT that says.
    fn code_size(&self) -> Option<usize> {
        None
    }
}

/// A program to prepare: the bytecode every engine runs, what it needs,
/// and what only some engines use.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    /// The eBPF bytecode (for an ELF workload: as cranebpf's loader
    /// relocated it).
    pub bytecode: &'a [u8],
    /// Helpers and maps the program uses.
    pub needs: Needs,
    /// The loaded ELF object, when the program comes from one (cranebpf runs
    /// it with the object's maps and kernel helpers).
    pub loaded: Option<&'a LoadedProgram>,
    /// The native build of the same C, if any.
    pub native: Option<NativeFn>,
    /// Input length of the runs.
    pub input_len: usize,
}

impl std::fmt::Debug for Subject<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subject")
            .field("slots", &(self.bytecode.len() / 8))
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}
