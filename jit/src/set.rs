//! [`ObjectVm`]: the programs of a [`ProgramSet`] prepared for one engine,
//! running chains of tail calls.

use crate::{EngineKind, JitOptions, JitProgram, Vm, VmError};
use cranebpf_runtime::elf::ProgramSet;
use cranebpf_runtime::kernel::tail::ChainOutcome;
use cranebpf_runtime::{MemoryMap, RunOptions};
use std::fmt;

/// Every program of a [`ProgramSet`] prepared for one [`EngineKind`] (each
/// compiled separately by the JIT, with its own helpers over the object's
/// shared maps). Runs start at the set's entry and follow its tail calls
/// (semantics: [`cranebpf_runtime::kernel::tail`]); both engines give the
/// same [`ChainOutcome`].
///
/// ```
/// use cranebpf::{EngineKind, ObjectVm, RunOptions};
/// use cranebpf_runtime::elf::{LoadOptions, Object};
///
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bpf/dispatch.o");
/// let obj = Object::parse(&std::fs::read(path)?)?;
/// let vm = ObjectVm::new(obj.load_set("xdp_dispatch", LoadOptions::default())?, EngineKind::Jit)?;
/// // An IPv6 frame: the dispatcher tail-calls handle_ipv6, which drops it.
/// let mut packet = vec![0u8; 60];
/// packet[12..14].copy_from_slice(&[0x86, 0xdd]);
/// let out = vm.run_xdp(&mut packet, &RunOptions::default());
/// assert_eq!(out.outcome.result, Ok(1)); // XDP_DROP
/// assert_eq!(vm.set().program(out.program).map(|p| p.name()), Some("handle_ipv6"));
/// assert_eq!(out.tail_calls, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ObjectVm {
    set: ProgramSet,
    engine: EngineKind,
    vms: Vec<Option<Vm>>,
}

impl fmt::Debug for ObjectVm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectVm")
            .field("entry", &self.set.entry().name())
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl ObjectVm {
    /// Prepares every program of `set` for `engine`.
    pub fn new(set: ProgramSet, engine: EngineKind) -> Result<ObjectVm, VmError> {
        let vms = set
            .programs()
            .iter()
            .map(|p| {
                p.as_ref()
                    .map(|p| Vm::new(p.program(), p.helpers().clone(), engine))
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ObjectVm { set, engine, vms })
    }

    /// Prepares every program of `set` for the JIT with `opts`; with
    /// `opts.verify` = `Elide` (or `Strict`) each is verified by
    /// [`VerifyConfig::for_loaded`](cranebpf_runtime::analysis::verifier::VerifyConfig::for_loaded)
    /// and compiled without the checks that proof covers
    /// ([`JitProgram::for_loaded`]).
    pub fn with_options(set: ProgramSet, opts: &JitOptions) -> Result<ObjectVm, VmError> {
        let vms = set
            .programs()
            .iter()
            .map(|p| {
                p.as_ref()
                    .map(|p| {
                        Ok::<_, VmError>(Vm {
                            inner: crate::Inner::Jit(Box::new(JitProgram::for_loaded(p, opts)?)),
                        })
                    })
                    .transpose()
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ObjectVm {
            set,
            engine: EngineKind::Jit,
            vms,
        })
    }

    /// The programs and maps.
    pub fn set(&self) -> &ProgramSet {
        &self.set
    }

    /// The engine every program runs with.
    pub fn engine(&self) -> EngineKind {
        self.engine
    }

    /// Runs the chain on one XDP packet ([`ProgramSet::run_xdp`]).
    pub fn run_xdp(&self, packet: &mut Vec<u8>, opts: &RunOptions) -> ChainOutcome {
        self.set.run_xdp(packet, opts, &self.vms)
    }

    /// Runs the chain on one socket filter or tc packet
    /// ([`ProgramSet::run_skb`]); also returns the `bpf_redirect` target.
    pub fn run_skb(
        &self,
        packet: &mut Vec<u8>,
        meta: &mut cranebpf_runtime::ctx::SkbMeta,
        opts: &RunOptions,
    ) -> (ChainOutcome, Option<cranebpf_runtime::kernel::Redirect>) {
        self.set.run_skb(packet, meta, opts, &self.vms)
    }

    /// Runs the chain of a memory-buffer program ([`ProgramSet::run_mem`]).
    pub fn run_mem(&self, buf: &mut [u8], opts: &RunOptions) -> ChainOutcome {
        self.set.run_mem(buf, opts, &self.vms)
    }

    /// Runs the chain with an embedder's context and regions
    /// ([`ProgramSet::run_with_ctx`]).
    pub fn run_with_ctx(
        &self,
        shadow_ctx: &[u8],
        mem: &mut MemoryMap<'_>,
        opts: &RunOptions,
    ) -> ChainOutcome {
        self.set.run_with_ctx(shadow_ctx, mem, opts, &self.vms)
    }
}
