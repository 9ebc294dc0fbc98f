//! [`ProgramSet`]: the programs of one object loaded together, so that one
//! can tail-call another through a program array.

use super::{ElfError, LoadOptions, LoadedProgram, Object};
use crate::engine::run::RunOptions;
use crate::host::kernel::tail::{self, ChainOutcome, ChainPrograms};
use crate::host::kernel::{KernelRun, Redirect};
use crate::host::maps::Map;
use crate::host::mem::MemoryMap;
use crate::host::progtype::ProgramType;
use crate::host::progtype::SkbMeta;
use std::sync::Arc;

/// An entry program and every program of its object it may tail-call, each
/// loaded like [`Object::load_with`] loads one. Program `i` of the set is
/// program `i` of [`Object::programs`], the number program array slots hold.
///
/// The run drivers ([`ProgramSet::run_xdp`], [`ProgramSet::run_mem`],
/// [`ProgramSet::run_with_ctx`]) set up the run as the single-program
/// drivers do, then run the chain of tail calls (semantics in
/// [`crate::host::kernel::tail`]) with the caller's prepared programs
/// ([`ChainPrograms`]: for example a `Vec<Option<Interpreter>>` by index).
///
/// ```
/// use cranebpf_runtime::elf::{LoadOptions, Object};
/// use cranebpf_runtime::{Interpreter, RunOptions};
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bpf/dispatch.o");
/// let obj = Object::parse(&std::fs::read(path)?)?;
/// let set = obj.load_set("xdp_dispatch", LoadOptions::default())?;
/// let interps = set.programs().iter().map(|p| {
///     p.as_ref().map(|p| Interpreter::new(p.program(), p.helpers().clone())).transpose()
/// }).collect::<Result<Vec<_>, _>>()?;
/// let mut packet = vec![0u8; 60]; // not IPv4 nor IPv6: the dispatcher passes it
/// let out = set.run_xdp(&mut packet, &RunOptions::default(), &interps);
/// assert_eq!(out.outcome.result, Ok(2)); // XDP_PASS
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct ProgramSet {
    entry: usize,
    /// The entry program (also `programs[entry]`).
    first: LoadedProgram,
    programs: Vec<Option<LoadedProgram>>,
    runnable: Arc<[bool]>,
}

impl Object {
    /// Loads program `entry` (by function or section name) and, if it may
    /// tail-call, every other program of the object whose section gives the
    /// same program type
    /// (libbpf's guess; programs of other types stay out of the set, and a
    /// tail call to them fails, as the kernel refuses to put a program of
    /// another type in a program array). All get `opts`, with the entry's
    /// program type. Any of them failing to load is an error.
    pub fn load_set(&self, entry: &str, opts: LoadOptions) -> Result<ProgramSet, ElfError> {
        let e = self
            .programs
            .iter()
            .position(|p| p.name == entry)
            .or_else(|| self.programs.iter().position(|p| p.section == entry))
            .ok_or_else(|| ElfError::NoProgram { name: entry.into() })?;
        let kind = |section: &str| ProgramType::for_section(section).map(|t| t.name);
        let entry_kind = kind(&self.programs[e].section);
        let first = self.load_at(e, opts.clone())?;
        let same = LoadOptions {
            prog_type: Some(first.prog_type().clone()),
            ..opts
        };
        // Without a tail call the entry runs alone: load nothing else
        // (issue 17: every program of the type was loaded and compiled).
        let chains = may_tail_call(&self.programs[e].slots);
        let mut programs = Vec::with_capacity(self.programs.len());
        for (i, p) in self.programs.iter().enumerate() {
            programs.push(if i == e {
                Some(first.clone())
            } else if chains && kind(&p.section) == entry_kind {
                Some(self.load_at(i, same.clone())?)
            } else {
                None
            });
        }
        let runnable = programs.iter().map(Option::is_some).collect();
        Ok(ProgramSet {
            entry: e,
            first,
            programs,
            runnable,
        })
    }
}

/// Whether relocated code may call `bpf_tail_call`: a `call 12`, or a
/// `callx` (whose helper id is only known at run time). Every slot is
/// looked at, so an LDDW's second slot can only make this `true`, which
/// loads more, never less.
fn may_tail_call(slots: &[crate::isa::insn::RawInsn]) -> bool {
    const CALL: u8 = 0x85;
    const CALLX: u8 = 0x8d;
    slots.iter().any(|s| {
        (s.opcode == CALL && s.src == 0 && s.imm as u32 == crate::host::kernel::HELPER_TAIL_CALL)
            || s.opcode == CALLX
    })
}

impl ProgramSet {
    /// The entry program.
    pub fn entry(&self) -> &LoadedProgram {
        &self.first
    }

    /// The entry program's index in [`Object::programs`].
    pub fn entry_index(&self) -> usize {
        self.entry
    }

    /// Every program of the object, by index: `None` for those not in the
    /// set.
    pub fn programs(&self) -> &[Option<LoadedProgram>] {
        &self.programs
    }

    /// Program `index`, if it is in the set.
    pub fn program(&self, index: usize) -> Option<&LoadedProgram> {
        self.programs.get(index)?.as_ref()
    }

    /// The index of the program with this function name.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.programs
            .iter()
            .position(|p| p.as_ref().is_some_and(|p| p.name() == name))
    }

    /// The object's maps (shared by every program of the set).
    pub fn maps(&self) -> &[Map] {
        self.entry().maps()
    }

    /// The map with this name.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.entry().map(name)
    }

    /// [`LoadedProgram::run_xdp`] for the chain that starts at the entry;
    /// `programs` are the set's programs prepared by one engine.
    pub fn run_xdp(
        &self,
        packet: &mut Vec<u8>,
        opts: &RunOptions,
        programs: &(impl ChainPrograms + ?Sized),
    ) -> ChainOutcome {
        self.entry().with_xdp_run(packet, |mem, args, run| {
            self.drive(mem, args, opts, run, programs)
        })
    }

    /// [`LoadedProgram::run_skb`] for the chain that starts at the entry;
    /// also returns the target `bpf_redirect` recorded.
    pub fn run_skb(
        &self,
        packet: &mut Vec<u8>,
        meta: &mut SkbMeta,
        opts: &RunOptions,
        programs: &(impl ChainPrograms + ?Sized),
    ) -> (ChainOutcome, Option<Redirect>) {
        let all = self.programs.iter().flatten();
        let resizes = all.clone().any(|p| p.resizes_packet);
        let legacy = all.clone().any(|p| p.legacy_loads);
        self.entry()
            .with_skb_run(packet, meta, (resizes, legacy), |mem, args, run| {
                self.drive(mem, args, opts, run, programs)
            })
    }

    /// [`LoadedProgram::run_mem`] for the chain that starts at the entry.
    pub fn run_mem(
        &self,
        buf: &mut [u8],
        opts: &RunOptions,
        programs: &(impl ChainPrograms + ?Sized),
    ) -> ChainOutcome {
        self.entry().with_mem_run(buf, |mem, args, run| {
            self.drive(mem, args, opts, run, programs)
        })
    }

    /// [`LoadedProgram::run_with_ctx`] for the chain that starts at the entry.
    pub fn run_with_ctx(
        &self,
        shadow_ctx: &[u8],
        mem: &mut MemoryMap<'_>,
        opts: &RunOptions,
        programs: &(impl ChainPrograms + ?Sized),
    ) -> ChainOutcome {
        self.entry()
            .with_ctx_run(shadow_ctx, mem, |mem, args, run| {
                self.drive(mem, args, opts, run, programs)
            })
    }

    /// The step of every chain driver: the chain from the entry.
    fn drive(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        run: &mut KernelRun,
        programs: &(impl ChainPrograms + ?Sized),
    ) -> ChainOutcome {
        let runnable = self.runnable.clone();
        tail::drive(self.entry, runnable, mem, args, opts, run, programs)
    }
}
