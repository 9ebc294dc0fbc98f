//! [`VerifyConfig`]: what the verifier assumes about a program's runs: its
//! entry state (program kind and context layout), its maps, the host regions
//! always registered (global data) and which helpers have the kernel's
//! signatures.
//!
//! Every assumption here must hold on every run for a proof to be sound;
//! each constructor says which run driver guarantees it.

use crate::host::elf::LoadedProgram;
use crate::host::kernel::{helper_name, map_handle};
use crate::host::maps::MapDef;
use crate::host::mem::Region;
use crate::host::progtype::xdp_shadow;

/// What a pointer field of the context holds once loaded (8 bytes, at a
/// shadow offset).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtxPtr {
    /// The packet's first byte (`data`).
    PacketData,
    /// One past the packet's last byte (`data_end`).
    PacketEnd,
    /// The packet metadata (`data_meta`); nothing is proven through it.
    PacketMeta,
}

/// The state a program starts in: what r1 (and r2) hold.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// A raw-memory run: r1 points to the input region, r2 holds its exact
    /// length (the conformance convention; `LoadedProgram::run_mem`).
    Mem {
        /// Whether the input region is writable.
        writable: bool,
    },
    /// r1 points to a read-only shadow context of `size` bytes whose 8-byte
    /// fields at `pointers` hold the given pointers (XDP: `xdp_md`).
    Ctx {
        /// Bytes of the shadow context.
        size: u64,
        /// Pointer fields: (shadow offset, what it holds).
        pointers: Vec<(u64, CtxPtr)>,
    },
    /// Nothing is known about r1-r5 (an embedder-defined context).
    Opaque,
}

/// One map a program may name by its handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapInfo {
    /// The constant the loader put in the program for this map.
    pub handle: u64,
    /// Its shape.
    pub def: MapDef,
}

/// What the verifier may assume (see the module docs), and how it reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyConfig {
    /// Refuse whatever is not proven (the kernel's behaviour) instead of
    /// leaving it checked at run time.
    pub strict: bool,
    /// Keep a per-instruction state log.
    pub log: bool,
    /// The entry state.
    pub entry: Entry,
    /// The maps, by handle.
    pub maps: Vec<MapInfo>,
    /// Host regions registered on every run (global data), which constant
    /// addresses may point into.
    pub globals: Vec<Region>,
    /// Helper ids implemented by cranebpf's kernel helpers (whose
    /// signatures the verifier knows); any other helper is unknown.
    pub helpers: Vec<u32>,
    /// Instructions the exploration may process before giving up (the
    /// kernel's is one million). In elide mode the path exploration gets
    /// 1/32 of it, then the widening fallback the whole.
    pub complexity_limit: u64,
}

/// The kernel's `BPF_COMPLEXITY_LIMIT_INSNS`.
pub const COMPLEXITY_LIMIT: u64 = 1_000_000;

impl VerifyConfig {
    fn with_entry(entry: Entry) -> VerifyConfig {
        VerifyConfig {
            strict: false,
            log: false,
            entry,
            maps: Vec::new(),
            globals: Vec::new(),
            helpers: crate::host::progtype::COMMON_HELPERS.to_vec(),
            complexity_limit: COMPLEXITY_LIMIT,
        }
    }

    /// A raw-memory program (r1 = writable input, r2 = its length) with the
    /// common kernel helpers and no maps.
    pub fn mem() -> VerifyConfig {
        VerifyConfig::with_entry(Entry::Mem { writable: true })
    }

    /// An XDP program run by `LoadedProgram::run_xdp` (r1 = the 40-byte
    /// shadow `xdp_md`), with the XDP helpers and no maps.
    pub fn xdp() -> VerifyConfig {
        let mut c = VerifyConfig::with_entry(Entry::Ctx {
            size: xdp_shadow::SIZE as u64,
            pointers: vec![
                (xdp_shadow::DATA as u64, CtxPtr::PacketData),
                (xdp_shadow::DATA_END as u64, CtxPtr::PacketEnd),
                (xdp_shadow::DATA_META as u64, CtxPtr::PacketMeta),
            ],
        });
        c.helpers.extend([
            crate::host::progtype::HELPER_XDP_ADJUST_HEAD,
            crate::host::progtype::HELPER_XDP_ADJUST_TAIL,
        ]);
        c
    }

    /// A program with nothing known about its context.
    pub fn opaque() -> VerifyConfig {
        VerifyConfig::with_entry(Entry::Opaque)
    }

    /// The configuration of a program loaded from an object and run by its
    /// drivers (`run_mem`, `run_xdp`): its type's entry state, its maps'
    /// handles and shapes, its global data regions (registered by every
    /// driver), and the helpers it holds under their kernel names (an
    /// embedder's override of a kernel helper id is treated as unknown).
    pub fn for_loaded(prog: &LoadedProgram) -> VerifyConfig {
        let mut c = match prog.prog_type().name.as_str() {
            "xdp" => VerifyConfig::xdp(),
            "mem" => VerifyConfig::mem(),
            _ => VerifyConfig::opaque(),
        };
        c.maps = prog
            .maps()
            .iter()
            .enumerate()
            .map(|(i, m)| MapInfo {
                handle: map_handle(i),
                def: m.def(),
            })
            .collect();
        c.globals = prog
            .maps()
            .iter()
            .filter(|m| m.name().starts_with('.'))
            .filter_map(|m| {
                let v = m.lookup_ref(&0u32.to_le_bytes())?;
                Some(Region {
                    start: v.addr(),
                    len: v.len() as u64,
                    writable: !m.name().starts_with(".rodata"),
                })
            })
            .collect();
        c.helpers = prog
            .helpers()
            .ids()
            .filter(|&id| {
                let h = prog.helpers().get(id);
                h.is_some_and(|h| Some(h.name.as_str()) == helper_name(id))
            })
            .collect();
        c
    }

    /// The same, strict.
    pub fn strict(mut self, strict: bool) -> VerifyConfig {
        self.strict = strict;
        self
    }

    /// The same, keeping a state log.
    pub fn with_log(mut self, log: bool) -> VerifyConfig {
        self.log = log;
        self
    }

    /// The map whose handle is `handle`.
    pub fn map(&self, handle: u64) -> Option<&MapDef> {
        self.maps
            .iter()
            .find(|m| m.handle == handle)
            .map(|m| &m.def)
    }

    /// Whether helper `id` has the kernel's signature.
    pub fn knows_helper(&self, id: u32) -> bool {
        self.helpers.contains(&id)
    }
}
