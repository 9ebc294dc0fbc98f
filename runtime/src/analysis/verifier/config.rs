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
use crate::host::progtype::{skb_shadow, CtxLayout, Driver, FieldKind, ProgramType, SkbKind};

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

/// One region of a context as its run driver registers it: `len` bytes at
/// `off` from r1 (negative when the context lies before r1, as the
/// `__sk_buff` shadow does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxRegion {
    /// Offset of the first byte from r1.
    pub off: i64,
    /// Bytes.
    pub len: u64,
    /// Whether the driver registers it writable.
    pub writable: bool,
}

impl CtxRegion {
    /// Whether `[lo, hi)` (offsets from r1) lies inside the region.
    pub fn holds(&self, lo: i128, hi: i128) -> bool {
        lo >= self.off as i128 && hi <= self.off as i128 + self.len as i128
    }
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
    /// r1 points into a shadow context made of `regions` (each access must
    /// lie inside one of them, as `MemoryMap::check` demands) whose 8-byte
    /// fields at `pointers` hold the given pointers (XDP: `xdp_md`; tc:
    /// `__sk_buff`, whose shadow lies before r1).
    Ctx {
        /// The regions the run driver registers, offsets from r1.
        regions: Vec<CtxRegion>,
        /// Pointer fields: (offset from r1, what it holds). Each lies inside
        /// a read-only region, so no store of the program changes it.
        pointers: Vec<(i64, CtxPtr)>,
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
    /// Whether the legacy packet loads (LD_ABS/LD_IND) are part of the
    /// program type (socket filters, tc, raw memory); strict mode refuses
    /// them elsewhere, as the kernel does.
    pub legacy_loads: bool,
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
            legacy_loads: true,
            complexity_limit: COMPLEXITY_LIMIT,
        }
    }

    /// A raw-memory program (r1 = writable input, r2 = its length) with the
    /// common kernel helpers and no maps.
    pub fn mem() -> VerifyConfig {
        VerifyConfig::with_entry(Entry::Mem { writable: true })
    }

    /// An XDP program run by `LoadedProgram::run_xdp` (r1 = the read-only
    /// shadow `xdp_md`), with the XDP helpers and no maps.
    pub fn xdp() -> VerifyConfig {
        VerifyConfig::for_type(&ProgramType::xdp())
    }

    /// A `__sk_buff` program of `kind` run by `LoadedProgram::run_skb`: r1
    /// points just past the shadow, whose writable block and read-only rest
    /// are the driver's two regions ([`skb_shadow`]); tc programs read the
    /// packet's bounds from it. With the type's helpers and no maps.
    pub fn skb(kind: SkbKind) -> VerifyConfig {
        VerifyConfig::for_type(&match kind {
            SkbKind::SocketFilter => ProgramType::socket_filter(),
            SkbKind::SchedCls => ProgramType::sched_cls(),
        })
    }

    /// The configuration of program type `ty` as its driver runs it (see
    /// [`Driver`]): the context's regions come from the driver, its pointer
    /// fields from the type's layout; the helpers are the type's. A type
    /// run with `run_with_ctx` gets r1 = a read-only copy of its layout's
    /// shadow (its pointer fields reach embedder memory of unknown size:
    /// their loads are unknown scalars); without a layout, nothing is known.
    pub fn for_type(ty: &ProgramType) -> VerifyConfig {
        let entry = match (ty.driver, &ty.ctx) {
            (Driver::Mem, _) => Entry::Mem { writable: true },
            (Driver::Skb(_), Some(layout)) => {
                let before = skb_shadow::SIZE as i64;
                let writable = skb_shadow::WRITABLE_END as u64;
                Entry::Ctx {
                    regions: vec![
                        CtxRegion {
                            off: -before,
                            len: writable,
                            writable: true,
                        },
                        CtxRegion {
                            off: writable as i64 - before,
                            len: before as u64 - writable,
                            writable: false,
                        },
                    ],
                    pointers: packet_pointers(layout),
                }
            }
            (Driver::Xdp, Some(layout)) => Entry::Ctx {
                regions: vec![CtxRegion {
                    off: 0,
                    len: layout.shadow_size as u64,
                    writable: false,
                }],
                pointers: packet_pointers(layout),
            },
            (Driver::Ctx, Some(layout)) => Entry::Ctx {
                regions: vec![CtxRegion {
                    off: 0,
                    len: layout.shadow_size as u64,
                    writable: false,
                }],
                pointers: Vec::new(),
            },
            _ => Entry::Opaque,
        };
        let mut c = VerifyConfig::with_entry(entry);
        c.helpers = ty.kernel_helpers.clone();
        c.legacy_loads = matches!(ty.driver, Driver::Skb(_) | Driver::Mem);
        c
    }

    /// A program with nothing known about its context.
    pub fn opaque() -> VerifyConfig {
        VerifyConfig::with_entry(Entry::Opaque)
    }

    /// The configuration of a program loaded from an object and run by its
    /// drivers (`run_mem`, `run_xdp`, `run_skb`, `run_with_ctx`; see
    /// [`VerifyConfig::for_type`]): its type's entry state, its maps'
    /// handles and shapes, its global data regions (registered by every
    /// driver), and the helpers it holds under their kernel names (an
    /// embedder's override of a kernel helper id is treated as unknown).
    pub fn for_loaded(prog: &LoadedProgram) -> VerifyConfig {
        let mut c = VerifyConfig::for_type(prog.prog_type());
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

/// The packet pointer fields of `layout` (`data`, `data_end`, `data_meta`),
/// at their shadow offsets from r1. The layout refuses them to types
/// without direct packet access, which then get none.
fn packet_pointers(layout: &CtxLayout) -> Vec<(i64, CtxPtr)> {
    layout
        .fields
        .iter()
        .filter(|f| f.kind == FieldKind::Pointer)
        .filter_map(|f| {
            let what = match f.name {
                "data" => CtxPtr::PacketData,
                "data_end" => CtxPtr::PacketEnd,
                "data_meta" => CtxPtr::PacketMeta,
                _ => return None,
            };
            Some((i64::from(f.shadow_offset), what))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::progtype::xdp_shadow;

    fn ctx(c: &VerifyConfig) -> (&[CtxRegion], &[(i64, CtxPtr)]) {
        match &c.entry {
            Entry::Ctx { regions, pointers } => (regions, pointers),
            e => panic!("not a context entry: {e:?}"),
        }
    }

    #[test]
    fn xdp_context_is_the_read_only_shadow_with_its_packet_fields() {
        let c = VerifyConfig::xdp();
        let (regions, pointers) = ctx(&c);
        assert_eq!(
            regions,
            [CtxRegion {
                off: 0,
                len: xdp_shadow::SIZE as u64,
                writable: false
            }]
        );
        assert!(pointers.contains(&(xdp_shadow::DATA as i64, CtxPtr::PacketData)));
        assert!(pointers.contains(&(xdp_shadow::DATA_END as i64, CtxPtr::PacketEnd)));
        assert!(c.knows_helper(crate::host::progtype::HELPER_XDP_ADJUST_HEAD));
    }

    #[test]
    fn tc_context_lies_before_r1_and_its_packet_fields_are_read_only() {
        let c = VerifyConfig::skb(SkbKind::SchedCls);
        let (regions, pointers) = ctx(&c);
        let end = -(skb_shadow::SIZE as i64);
        assert_eq!(regions[0].off, end);
        assert!(regions[0].writable && !regions[1].writable);
        assert_eq!(regions[1].off + regions[1].len as i64, 0);
        let data = skb_shadow::DATA as i64 + end;
        assert!(pointers.contains(&(data, CtxPtr::PacketData)));
        for (off, _) in pointers {
            let r = regions
                .iter()
                .find(|r| r.holds(*off as i128, *off as i128 + 8));
            assert!(r.is_some_and(|r| !r.writable), "{off}");
        }
    }

    #[test]
    fn socket_filters_get_no_packet_pointers_and_tracing_a_read_only_struct() {
        let c = VerifyConfig::skb(SkbKind::SocketFilter);
        assert!(ctx(&c).1.is_empty());
        let k = VerifyConfig::for_type(&ProgramType::kprobe());
        let (regions, pointers) = ctx(&k);
        assert_eq!(regions.len(), 1);
        assert!(!regions[0].writable && regions[0].off == 0);
        assert_eq!(regions[0].len, crate::host::progtype::PtRegs::SIZE as u64);
        assert!(pointers.is_empty());
        let t = VerifyConfig::for_type(&ProgramType::tracing("tracepoint", None));
        assert_eq!(t.entry, Entry::Opaque);
    }
}
