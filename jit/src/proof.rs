//! Where the JIT obtains the proof it compiles with: the one place that
//! decides, from [`JitOptions::verify`], which
//! [`Proof`](cranebpf_runtime::analysis::proof::Proof) the lowering gets,
//! and under which entry condition its runs may use it.
//!
//! **Soundness.** A proof is only as good as the entry state it assumed
//! (`VerifyConfig`'s doc). A compiled program can be run through
//! [`Prepared::run`](cranebpf_runtime::engine::Prepared::run) with any r1-r5
//! and any memory map, so Elide proves under the raw-memory convention
//! ([`VerifyConfig::mem`]: r1 = the input, r2 = its length, which every
//! [`crate::Vm`] run, `LoadedProgram::run_mem` and the differential harness
//! use) and makes that convention a **guard**: [`Convention::holds`] checks
//! it in O(1) at each run's entry (a writable region holds
//! `[r1, r1 + r2)`, or r2 = 0). A run that breaks it runs a second copy
//! compiled, on first need, from the proof that assumes nothing about the
//! context ([`VerifyConfig::opaque`]), which proves stack accesses only.
//!
//! Helpers are trusted to have the kernel's signature only when the helper
//! registered under a kernel id carries that helper's kernel name; any other
//! helper is unknown to the verifier (a call to it forgets every spill).
//! Map shapes come from the helpers too ([`Helpers::map_shapes`]: the maps
//! the kernel lookup helper resolves handles against, while it is the one
//! registered), so the raw-memory proof covers map values.
//!
//! An embedder that runs a program only under another known convention can
//! verify with that convention's configuration (`VerifyConfig::xdp`,
//! `for_loaded`) and hand the proof in through the `unsafe`
//! [`JitOptions::with_proof`] (no guard then: the embedder promises).
//!
//! [`VerifyMode::Strict`] refuses, kernel-style, a program that the verifier
//! cannot prove under the raw-memory convention: out-of-frame stack
//! accesses, unbounded loops, unproven input accesses, unknown helpers.

use crate::error::JitError;
use crate::isa::{JitOptions, VerifyMode};
use cranebpf_runtime::analysis::proof::Proof;
use cranebpf_runtime::analysis::verifier::{
    verify, CtxPtr, CtxRegion, Entry, MapInfo, VerifyConfig,
};
use cranebpf_runtime::host::kernel::helper_name;
use cranebpf_runtime::{Access, Helpers, MemoryMap, Program};
use std::sync::Arc;

/// The entry condition a compiled proof assumed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Convention {
    /// Nothing (the opaque proof, a caller's proof, or no proof).
    Any,
    /// r1 = a writable input of r2 bytes (see the module docs).
    Mem,
    /// What `VerifyConfig::for_loaded` assumes for a program loaded from an
    /// object: its entry (raw memory, or a context whose packet pointers
    /// bound a writable packet) and its global data regions.
    Loaded(Arc<VerifyConfig>),
}

impl Convention {
    /// Whether a run with `mem` and `args` meets the convention.
    #[inline]
    pub(crate) fn holds(&self, mem: &MemoryMap<'_>, args: &[u64; 5]) -> bool {
        match self {
            Convention::Any => true,
            Convention::Mem => mem_holds(mem, args),
            Convention::Loaded(conf) => loaded_holds(conf, mem, args),
        }
    }
}

/// r1 = a writable input of r2 bytes (or r2 = 0).
fn mem_holds(mem: &MemoryMap<'_>, args: &[u64; 5]) -> bool {
    args[1] == 0 || mem.check(args[0], args[1], Access::ReadWrite).is_ok()
}

/// `conf`'s entry and global regions hold for this run.
fn loaded_holds(conf: &VerifyConfig, mem: &MemoryMap<'_>, args: &[u64; 5]) -> bool {
    let globals = conf.globals.iter().all(|g| {
        let access = if g.writable {
            Access::ReadWrite
        } else {
            Access::Read
        };
        g.len == 0 || mem.check(g.start, g.len, access).is_ok()
    });
    globals
        && match &conf.entry {
            Entry::Mem { writable } => {
                let access = if *writable {
                    Access::ReadWrite
                } else {
                    Access::Read
                };
                args[1] == 0 || mem.check(args[0], args[1], access).is_ok()
            }
            Entry::Ctx { regions, pointers } => ctx_holds(mem, args[0], regions, pointers),
            Entry::Opaque => true,
            _ => false,
        }
}

/// Each context region lies, as configured, in one region of the run's map
/// (relative to r1 = `ctx`; writable ones writable), and the packet fields
/// bound a writable packet.
fn ctx_holds(
    mem: &MemoryMap<'_>,
    ctx: u64,
    regions: &[CtxRegion],
    pointers: &[(i64, CtxPtr)],
) -> bool {
    let at = |off: i64| ctx.checked_add_signed(off);
    let present = regions.iter().all(|g| {
        let access = if g.writable {
            Access::ReadWrite
        } else {
            Access::Read
        };
        at(g.off).is_some_and(|a| g.len == 0 || mem.check(a, g.len, access).is_ok())
    });
    if !present {
        return false;
    }
    // The proof reads the packet's bounds from the context at any time: no
    // store of the program may change them, so the field must lie in a
    // read-only context region and no byte of it in a writable region of
    // the run.
    let frozen = |addr: u64| (0..8).all(|i| mem.check(addr + i, 1, Access::Write).is_err());
    let field = |want: CtxPtr| {
        let (off, _) = pointers.iter().find(|(_, p)| *p == want)?;
        let (lo, hi) = (i128::from(*off), i128::from(*off) + 8);
        let addr = at(*off)?;
        if !regions.iter().any(|g| !g.writable && g.holds(lo, hi))
            || addr.checked_add(8).is_none()
            || !frozen(addr)
        {
            return None;
        }
        // SAFETY: `mem.check` proved the read-only region holding
        // `[addr, addr + 8)` lies in a region of the run's memory map,
        // valid for reads while the map is used (`MemoryMap::add_*`'s
        // contract).
        Some(unsafe { (addr as usize as *const u64).read_unaligned() })
    };
    match (field(CtxPtr::PacketData), field(CtxPtr::PacketEnd)) {
        (Some(data), Some(end)) => {
            data <= end && (data == end || mem.check(data, end - data, Access::ReadWrite).is_ok())
        }
        // No packet pointers in the layout: nothing about a packet is
        // proven (a field that is writable or out of the context fails).
        (None, None) => !pointers
            .iter()
            .any(|(_, p)| matches!(p, CtxPtr::PacketData | CtxPtr::PacketEnd)),
        _ => false,
    }
}

/// The proof the lowering gets for `program` under `opts` and the
/// convention its runs must meet: `None` with [`VerifyMode::Off`],
/// otherwise the one the caller supplied ([`JitOptions::with_proof`]), or
/// the verifier's under `want` ([`Convention::Mem`]: the raw-memory
/// convention; [`Convention::Any`]: the opaque entry). Strict mode first
/// refuses what the verifier cannot prove.
pub(crate) fn obtain(
    program: &Program,
    helpers: &Helpers,
    opts: &JitOptions,
    want: &Convention,
) -> Result<(Option<Arc<Proof>>, Convention), JitError> {
    if opts.verify == VerifyMode::Off {
        return Ok((None, Convention::Any));
    }
    if opts.verify == VerifyMode::Strict {
        let strict = match want {
            Convention::Loaded(conf) => (**conf).clone(),
            _ => with_helpers(VerifyConfig::mem(), helpers),
        };
        verify(program, &strict.strict(true))?;
    }
    if let Some(p) = opts.supplied_proof() {
        return Ok((Some(p.clone()), Convention::Any));
    }
    // Elide mode never refuses: whatever it cannot prove stays checked.
    let conf = match want {
        Convention::Mem => with_helpers(VerifyConfig::mem(), helpers),
        Convention::Any => with_helpers(VerifyConfig::opaque(), helpers),
        Convention::Loaded(conf) => (**conf).clone(),
    };
    let verified = verify(program, &conf)?;
    // A proof that proves nothing beyond the stack needs no guard.
    let convention = if beyond_stack(&verified.proof) {
        want.clone()
    } else {
        Convention::Any
    };
    Ok((Some(Arc::new(verified.proof)), convention))
}

/// `conf` trusting exactly the helpers of `helpers` that carry their
/// kernel name (see the module docs).
fn with_helpers(mut conf: VerifyConfig, helpers: &Helpers) -> VerifyConfig {
    conf.helpers.retain(|&id| {
        helpers
            .get(id)
            .is_some_and(|h| Some(h.name.as_str()) == helper_name(id))
    });
    if conf.maps.is_empty() {
        conf.maps = helpers
            .map_shapes()
            .iter()
            .map(|&(handle, def)| MapInfo { handle, def })
            .collect();
    }
    conf
}

/// Whether `proof` proves some access outside the stack frames.
fn beyond_stack(proof: &Proof) -> bool {
    use cranebpf_runtime::analysis::proof::{AccessFact, RegionKind};
    proof.accesses().iter().any(|f| match f {
        AccessFact::Proven { region } => {
            !matches!(region, RegionKind::Frame | RegionKind::CallerFrame)
        }
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::ctx::{skb_shadow, SkbKind};

    /// A buffer laid out as the `__sk_buff` driver does: `[shadow][packet]`,
    /// the shadow's packet fields set; returns it and r1.
    fn skb_buffer(packet_len: usize) -> (Vec<u8>, u64) {
        let mut buf = vec![0u8; skb_shadow::SIZE + packet_len];
        let r1 = buf.as_ptr() as u64 + skb_shadow::SIZE as u64;
        let end = r1 + packet_len as u64;
        buf[skb_shadow::DATA..][..8].copy_from_slice(&r1.to_le_bytes());
        buf[skb_shadow::DATA_END..][..8].copy_from_slice(&end.to_le_bytes());
        buf[skb_shadow::DATA_META..][..8].copy_from_slice(&r1.to_le_bytes());
        (buf, r1)
    }

    /// The driver's three regions over `buf`, the read-only block made
    /// writable if `thaw`.
    fn skb_map(buf: &mut [u8], thaw: bool) -> MemoryMap<'_> {
        let (shadow, packet) = buf.split_at_mut(skb_shadow::SIZE);
        let (w, ro) = shadow.split_at_mut(skb_shadow::WRITABLE_END);
        let mut mem = MemoryMap::new();
        mem.add_mut(w);
        if thaw {
            mem.add_mut(ro);
        } else {
            mem.add_ref(ro);
        }
        mem.add_mut(packet);
        mem
    }

    #[test]
    fn tc_entry_check_accepts_the_skb_driver_layout_only() {
        let conf = VerifyConfig::skb(SkbKind::SchedCls);
        let Entry::Ctx { regions, pointers } = &conf.entry else {
            panic!("tc has a context entry");
        };
        let (mut buf, r1) = skb_buffer(60);
        assert!(ctx_holds(&skb_map(&mut buf, false), r1, regions, pointers));
        // A packet field in a writable region could be changed by a store.
        assert!(!ctx_holds(&skb_map(&mut buf, true), r1, regions, pointers));
        // r1 anywhere else (here: at the shadow's start).
        let start = r1 - skb_shadow::SIZE as u64;
        assert!(!ctx_holds(
            &skb_map(&mut buf, false),
            start,
            regions,
            pointers
        ));
        // `data_end` past the packet region.
        let bad_end = r1 + 61;
        buf[skb_shadow::DATA_END..][..8].copy_from_slice(&bad_end.to_le_bytes());
        assert!(!ctx_holds(&skb_map(&mut buf, false), r1, regions, pointers));
        // Without the writable block.
        let (mut buf, r1) = skb_buffer(60);
        let mut mem = MemoryMap::new();
        let (shadow, packet) = buf.split_at_mut(skb_shadow::SIZE);
        mem.add_ref(&shadow[skb_shadow::WRITABLE_END..]);
        mem.add_mut(packet);
        assert!(!ctx_holds(&mem, r1, regions, pointers));
    }
}
