//! Kernel helpers with the kernel's ids and semantics, and the per-run state
//! they need.
//!
//! [`kernel_helpers`] builds the helper set of one loaded program over its
//! maps. Programs name maps by **handle**: the loader rewrites every map
//! reference into `lddw rX, map_handle(index)`, a number that is not a
//! mapped address (dereferencing it faults) and that the map helpers decode
//! back to the program's map.
//!
//! Helpers keep per-run state in a [`KernelRun`], which the run drivers
//! ([`LoadedProgram::run_mem`](crate::host::elf::LoadedProgram::run_mem),
//! [`LoadedProgram::run_xdp`](crate::host::elf::LoadedProgram::run_xdp),
//! [`LoadedProgram::run_with_ctx`](crate::host::elf::LoadedProgram::run_with_ctx)) create,
//! hand to the engine as its `user` state, and drop after the run. Pointers
//! helpers return become regions of the run's [`MemoryMap`]:
//! - a map value from `bpf_map_lookup_elem`: read-write until the run ends
//!   (the [`KernelRun`] holds the value's memory, so a concurrent delete
//!   cannot free it under the program);
//! - a ring buffer record from `bpf_ringbuf_reserve`: read-write until
//!   `bpf_ringbuf_submit`/`discard` removes it (records still reserved when
//!   the run ends are discarded).
//!
//! `bpf_tail_call` and the chain driver of
//! [`ProgramSet`](crate::host::elf::ProgramSet) runs are defined in [`tail`].
//!
//! # Differences from the kernel by design
//! Each is a clean failure or a documented value, never a silent difference:
//! - LD_ABS/LD_IND see the packet as it was at entry, so in a program that
//!   uses them the resizing helpers fail with a helper fault;
//! - `bpf_skb_change_*` grow with zeros up to the loopback MTU;
//! - there is no `skb->csum`;
//! - a store to `queue_mapping` keeps the low 16 bits (the kernel ignores
//!   values from 0xffff);
//! - `sk` and the socket fields are refused at load;
//! - `bpf_probe_read_*` read only memory the embedder allows, `_user` and
//!   `_kernel` alike, and fail with `-EFAULT` elsewhere.

pub mod csum;
mod run;
pub mod skb;
pub mod tail;
pub mod trace;

pub use run::{XdpAction, XDP_FRAME_SIZE, XDP_HEADROOM};
pub use skb::{
    Redirect, HELPER_SKB_LOAD_BYTES, SKB_MAX_LEN, SKB_RESIZE_HELPERS, SKB_WRITE_HELPERS,
};
pub use trace::ProbeMemory;

use crate::engine::fault::HelperError;
use crate::host::helpers::{HelperCtx, Helpers};
use crate::host::maps::{Map, MapType, UpdateFlags, ValueRef};
use crate::host::mem::{MemoryMap, Region};
use crate::isa::insn::Size;
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// `bpf_map_lookup_elem`.
pub const HELPER_MAP_LOOKUP_ELEM: u32 = 1;
/// `bpf_map_update_elem`.
pub const HELPER_MAP_UPDATE_ELEM: u32 = 2;
/// `bpf_map_delete_elem`.
pub const HELPER_MAP_DELETE_ELEM: u32 = 3;
/// `bpf_ktime_get_ns`.
pub const HELPER_KTIME_GET_NS: u32 = 5;
/// `bpf_trace_printk`.
pub const HELPER_TRACE_PRINTK: u32 = 6;
/// `bpf_get_prandom_u32`.
pub const HELPER_GET_PRANDOM_U32: u32 = 7;
/// `bpf_get_smp_processor_id`.
pub const HELPER_GET_SMP_PROCESSOR_ID: u32 = 8;
/// `bpf_tail_call`: see [`tail`].
pub const HELPER_TAIL_CALL: u32 = 12;
/// `bpf_ringbuf_output`.
pub const HELPER_RINGBUF_OUTPUT: u32 = 130;
/// `bpf_ringbuf_reserve`.
pub const HELPER_RINGBUF_RESERVE: u32 = 131;
/// `bpf_ringbuf_submit`.
pub const HELPER_RINGBUF_SUBMIT: u32 = 132;
/// `bpf_ringbuf_discard`.
pub const HELPER_RINGBUF_DISCARD: u32 = 133;

/// `bpf_perf_event_output`.
pub const HELPER_PERF_EVENT_OUTPUT: u32 = 25;
/// `bpf_probe_read` (the old, user-or-kernel form).
pub const HELPER_PROBE_READ: u32 = 4;
/// `bpf_get_current_pid_tgid`.
pub const HELPER_GET_CURRENT_PID_TGID: u32 = 14;
/// `bpf_probe_read_str`.
pub const HELPER_PROBE_READ_STR: u32 = 45;
/// `bpf_probe_read_user`.
pub const HELPER_PROBE_READ_USER: u32 = 112;
/// `bpf_probe_read_kernel`.
pub const HELPER_PROBE_READ_KERNEL: u32 = 113;
/// `bpf_probe_read_user_str`.
pub const HELPER_PROBE_READ_USER_STR: u32 = 114;
/// `bpf_probe_read_kernel_str`.
pub const HELPER_PROBE_READ_KERNEL_STR: u32 = 115;

/// The helpers tracing programs get beyond the common ones.
pub const TRACE_HELPERS: [u32; 7] = [
    HELPER_PROBE_READ,
    HELPER_GET_CURRENT_PID_TGID,
    HELPER_PROBE_READ_STR,
    HELPER_PROBE_READ_USER,
    HELPER_PROBE_READ_KERNEL,
    HELPER_PROBE_READ_USER_STR,
    HELPER_PROBE_READ_KERNEL_STR,
];

/// The signature of a helper body written as a plain function.
type Body = fn(&mut HelperCtx<'_, '_>, [u64; 5]) -> Result<u64, HelperError>;

/// The kernel's name for a helper id cranebpf knows.
pub fn helper_name(id: u32) -> Option<&'static str> {
    Some(match id {
        1 => "bpf_map_lookup_elem",
        2 => "bpf_map_update_elem",
        3 => "bpf_map_delete_elem",
        5 => "bpf_ktime_get_ns",
        6 => "bpf_trace_printk",
        7 => "bpf_get_prandom_u32",
        8 => "bpf_get_smp_processor_id",
        4 => "bpf_probe_read",
        9 => "bpf_skb_store_bytes",
        10 => "bpf_l3_csum_replace",
        11 => "bpf_l4_csum_replace",
        12 => "bpf_tail_call",
        14 => "bpf_get_current_pid_tgid",
        18 => "bpf_skb_vlan_push",
        19 => "bpf_skb_vlan_pop",
        23 => "bpf_redirect",
        25 => "bpf_perf_event_output",
        26 => "bpf_skb_load_bytes",
        28 => "bpf_csum_diff",
        38 => "bpf_skb_change_tail",
        39 => "bpf_skb_pull_data",
        43 => "bpf_skb_change_head",
        45 => "bpf_probe_read_str",
        112 => "bpf_probe_read_user",
        113 => "bpf_probe_read_kernel",
        114 => "bpf_probe_read_user_str",
        115 => "bpf_probe_read_kernel_str",
        44 => "bpf_xdp_adjust_head",
        65 => "bpf_xdp_adjust_tail",
        130 => "bpf_ringbuf_output",
        131 => "bpf_ringbuf_reserve",
        132 => "bpf_ringbuf_submit",
        133 => "bpf_ringbuf_discard",
        _ => return None,
    })
}

/// The first map handle; map `i` of an object is `MAP_HANDLE_BASE + i`. The
/// value lies in the non-canonical half of x86-64 and AArch64 address
/// spaces, so it never collides with a region.
pub const MAP_HANDLE_BASE: u64 = 0xcbf0_0000_0000_0000;

/// The handle of an object's map number `index`.
pub fn map_handle(index: usize) -> u64 {
    MAP_HANDLE_BASE + index as u64
}

/// Where `bpf_trace_printk` output goes.
pub type PrintkSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Behaviour of the kernel helpers that the embedder chooses.
#[derive(Clone)]
pub struct KernelOptions {
    /// Receives each formatted `bpf_trace_printk` line; `None` writes it to
    /// standard error.
    pub printk: Option<PrintkSink>,
    /// Seed of `bpf_get_prandom_u32`'s generator (splitmix64; one stream per
    /// loaded program, shared by its concurrent runs).
    pub prandom_seed: u64,
}

impl Default for KernelOptions {
    fn default() -> KernelOptions {
        KernelOptions {
            printk: None,
            prandom_seed: 0x5eed,
        }
    }
}

impl fmt::Debug for KernelOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelOptions")
            .field("printk", &self.printk.as_ref().map(|_| "sink"))
            .field("prandom_seed", &self.prandom_seed)
            .finish()
    }
}

/// State of the packet of an XDP run, for the XDP helpers.
#[derive(Debug)]
pub(crate) struct XdpState {
    /// Address of the shadow `xdp_md` (see [`crate::host::progtype::xdp_shadow`]).
    pub(crate) ctx: ValueRef,
    /// The frame: `[frame_start, frame_end)`, owned by the run driver.
    pub(crate) frame_start: u64,
    pub(crate) frame_end: u64,
    pub(crate) data: u64,
    pub(crate) data_end: u64,
    /// Whether `bpf_xdp_adjust_*` moved the packet within the frame during
    /// the run (the driver then zeroes the whole frame before reusing it).
    pub(crate) moved: bool,
}

impl XdpState {
    pub(crate) fn sync_ctx(&self) {
        use crate::host::progtype::xdp_shadow::*;
        self.ctx
            .buf
            .write(self.ctx.off + DATA, &self.data.to_le_bytes());
        self.ctx
            .buf
            .write(self.ctx.off + DATA_END, &self.data_end.to_le_bytes());
        self.ctx
            .buf
            .write(self.ctx.off + DATA_META, &self.data.to_le_bytes());
    }
}

/// Per-run state of the kernel helpers: the map values and ring buffer
/// records the run may touch, and the XDP packet. Created by the run drivers;
/// engines pass it through as the run's `user` state.
pub struct KernelRun {
    /// Values handed to the program: kept alive until the run ends.
    pub(crate) held: Vec<ValueRef>,
    /// Region starts already registered for `held` values.
    pub(crate) registered: HashSet<u64, foldhash::fast::RandomState>,
    /// Outstanding ring buffer reservations by address.
    pub(crate) reservations: HashMap<u64, (Map, ValueRef)>,
    pub(crate) xdp: Option<XdpState>,
    /// The packet of a socket filter or tc run.
    pub(crate) skb: Option<skb::SkbState>,
    /// The probe memory and identity of a tracing run.
    pub(crate) trace: Option<trace::TraceState>,
    /// The tail-call state of a run driven by a [`ProgramSet`](crate::host::elf::ProgramSet).
    pub(crate) chain: Option<tail::Chain>,
    /// The embedder's own state, for its helpers (reach it with
    /// `ctx.user.downcast_mut::<KernelRun>()` then `.user`).
    pub user: Option<Box<dyn Any + Send>>,
}

impl KernelRun {
    pub(crate) fn new() -> KernelRun {
        KernelRun {
            held: Vec::new(),
            registered: HashSet::default(),
            reservations: HashMap::new(),
            xdp: None,
            skb: None,
            trace: None,
            chain: None,
            user: None,
        }
    }

    /// Ends a run and readies this state for the next one, keeping its
    /// storage: records still reserved are discarded (as on drop), held
    /// values released, and the per-type state cleared.
    pub(crate) fn reset(&mut self) {
        if !self.reservations.is_empty() {
            for (_, (map, rec)) in self.reservations.drain() {
                let _ = map.ringbuf_discard(&rec);
            }
        }
        self.held.clear();
        if !self.registered.is_empty() {
            self.registered.clear();
        }
        self.xdp = None;
        self.skb = None;
        self.trace = None;
        self.chain = None;
        self.user = None;
    }

    /// Makes `v` accessible to the program for the rest of the run.
    fn expose(&mut self, mem: &mut MemoryMap<'_>, v: ValueRef) -> u64 {
        let addr = v.addr();
        if self.registered.insert(addr) {
            // SAFETY: `v` keeps the value's buffer alive and is stored in
            // `self.held` until this `KernelRun` is dropped, which the run
            // drivers do only after the run (and its memory map) ended. The
            // buffer is only accessed through raw pointers.
            unsafe {
                mem.add_raw(Region {
                    start: addr,
                    len: v.len() as u64,
                    writable: true,
                })
            };
            self.held.push(v);
        }
        addr
    }
}

impl Drop for KernelRun {
    fn drop(&mut self) {
        // Reserved but never submitted records give their room back.
        for (_, (map, rec)) in self.reservations.drain() {
            let _ = map.ringbuf_discard(&rec);
        }
    }
}

impl fmt::Debug for KernelRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KernelRun")
            .field("held", &self.held.len())
            .field("reservations", &self.reservations.len())
            .field("xdp", &self.xdp)
            .finish_non_exhaustive()
    }
}

/// The run state and memory of a helper call.
pub(crate) fn split<'c, 'r, 'a>(
    ctx: &'c mut HelperCtx<'r, 'a>,
) -> Result<(&'c mut MemoryMap<'a>, &'c mut KernelRun), HelperError> {
    let run = ctx
        .user
        .as_deref_mut()
        .and_then(|u| u.downcast_mut::<KernelRun>())
        .ok_or_else(|| {
            HelperError::new("kernel helper called outside a cranebpf run driver (no KernelRun)")
        })?;
    Ok((&mut *ctx.mem, run))
}

fn map_of(maps: &[Map], handle: u64) -> Result<&Map, HelperError> {
    handle
        .checked_sub(MAP_HANDLE_BASE)
        .and_then(|i| maps.get(usize::try_from(i).ok()?))
        .ok_or_else(|| HelperError::new(format!("{handle:#x} is not a map handle")))
}

fn read(mem: &MemoryMap<'_>, addr: u64, len: u64, what: &str) -> Result<Vec<u8>, HelperError> {
    mem.read_bytes(addr, len)
        .map_err(|e| HelperError::new(format!("cannot read {len}-byte {what} at {addr:#x}: {e:?}")))
}

fn errno(e: i64) -> u64 {
    e as u64
}

/// Process-wide clock origin of `bpf_ktime_get_ns`.
fn ktime_ns() -> u64 {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// Builds the kernel helpers in `allowed` for a program whose map handles
/// index `maps`.
pub fn kernel_helpers(maps: &[Map], allowed: &[u32], opts: &KernelOptions) -> Helpers {
    let maps: Arc<[Map]> = maps.into();
    let mut h = Helpers::new();
    let want = |id| allowed.contains(&id);
    register_map_helpers(&mut h, &maps, want);
    register_time_and_random(&mut h, opts, want);
    register_printk(&mut h, opts, want);
    register_tail_call(&mut h, &maps, want);
    register_ringbuf_helpers(&mut h, &maps, want);
    register_perf_event_output(&mut h, &maps, want);
    register_xdp_helpers(&mut h, want);
    skb::register(&mut h, want);
    trace::register(&mut h, want);
    h.set_map_shapes(
        maps.iter()
            .enumerate()
            .map(|(i, m)| (map_handle(i), m.def()))
            .collect(),
    );
    h
}

/// `bpf_map_lookup_elem`, `bpf_map_update_elem`, `bpf_map_delete_elem`.
fn register_map_helpers(h: &mut Helpers, maps: &Arc<[Map]>, want: impl Fn(u32) -> bool) {
    if want(HELPER_MAP_LOOKUP_ELEM) {
        let maps = maps.clone();
        h.register(1, "bpf_map_lookup_elem", move |ctx, a| {
            let (mem, run) = split(ctx)?;
            let map = map_of(&maps, a[0])?;
            let key = read(mem, a[1], u64::from(map.def().key_size), "key")?;
            Ok(match map.lookup_ref(&key) {
                Some(v) => run.expose(mem, v),
                None => 0,
            })
        });
    }
    if want(HELPER_MAP_UPDATE_ELEM) {
        let maps = maps.clone();
        h.register(2, "bpf_map_update_elem", move |ctx, a| {
            let (mem, _) = split(ctx)?;
            let map = map_of(&maps, a[0])?;
            if map.def().map_type == MapType::ProgArray {
                return Ok(errno(-22)); // the kernel's verifier refuses this
            }
            let d = map.def();
            let key = read(mem, a[1], u64::from(d.key_size), "key")?;
            let value = read(mem, a[2], u64::from(d.value_size), "value")?;
            let Some(flags) = UpdateFlags::from_raw(a[3]) else {
                return Ok(errno(-22));
            };
            Ok(match map.update(&key, &value, flags) {
                Ok(()) => 0,
                Err(e) => errno(e.errno()),
            })
        });
    }
    if want(HELPER_MAP_DELETE_ELEM) {
        let maps = maps.clone();
        h.register(3, "bpf_map_delete_elem", move |ctx, a| {
            let (mem, _) = split(ctx)?;
            let map = map_of(&maps, a[0])?;
            if map.def().map_type == MapType::ProgArray {
                return Ok(errno(-22)); // the kernel's verifier refuses this
            }
            let key = read(mem, a[1], u64::from(map.def().key_size), "key")?;
            Ok(match map.delete(&key) {
                Ok(()) => 0,
                Err(e) => errno(e.errno()),
            })
        });
    }
}

/// `bpf_ktime_get_ns`, `bpf_get_prandom_u32` (seeded from `opts`) and
/// `bpf_get_smp_processor_id`.
fn register_time_and_random(h: &mut Helpers, opts: &KernelOptions, want: impl Fn(u32) -> bool) {
    if want(HELPER_KTIME_GET_NS) {
        h.register(5, "bpf_ktime_get_ns", |_, _| Ok(ktime_ns()));
    }
    if want(HELPER_GET_PRANDOM_U32) {
        let state = Arc::new(AtomicU64::new(opts.prandom_seed));
        h.register(7, "bpf_get_prandom_u32", move |_, _| {
            // splitmix64 over an atomic counter: concurrent runs draw
            // distinct values.
            let mut z = state
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Ok(u64::from((z ^ (z >> 31)) as u32))
        });
    }
    if want(HELPER_GET_SMP_PROCESSOR_ID) {
        // One virtual CPU: see `crate::host::maps`.
        h.register(8, "bpf_get_smp_processor_id", |_, _| Ok(0));
    }
}

/// `bpf_trace_printk`, to `opts.printk` or else standard error.
fn register_printk(h: &mut Helpers, opts: &KernelOptions, want: impl Fn(u32) -> bool) {
    if want(HELPER_TRACE_PRINTK) {
        let sink = opts.printk.clone();
        h.register(6, "bpf_trace_printk", move |ctx, a| {
            let fmt = read(ctx.mem, a[0], a[1], "format string")?;
            let line = format_printk(ctx.mem, &fmt, [a[2], a[3], a[4]]);
            match &sink {
                Some(s) => s(&line),
                None => eprintln!("bpf_trace_printk: {line}"),
            }
            Ok(line.len() as u64)
        });
    }
}

/// `bpf_tail_call` through a program-array map.
fn register_tail_call(h: &mut Helpers, maps: &Arc<[Map]>, want: impl Fn(u32) -> bool) {
    if want(HELPER_TAIL_CALL) {
        let maps = maps.clone();
        h.register(HELPER_TAIL_CALL, "bpf_tail_call", move |ctx, a| {
            let (_, run) = split(ctx)?;
            tail::tail_call(run, map_of(&maps, a[1])?, a[2] as u32)
        });
    }
}

/// `bpf_ringbuf_output`, `bpf_ringbuf_reserve`, `bpf_ringbuf_submit`, `bpf_ringbuf_discard`.
fn register_ringbuf_helpers(h: &mut Helpers, maps: &Arc<[Map]>, want: impl Fn(u32) -> bool) {
    if want(HELPER_RINGBUF_OUTPUT) {
        let maps = maps.clone();
        h.register(130, "bpf_ringbuf_output", move |ctx, a| {
            let (mem, _) = split(ctx)?;
            let map = map_of(&maps, a[0])?;
            let data = read(mem, a[1], a[2], "record")?;
            Ok(match map.ringbuf_output(&data) {
                Ok(()) => 0,
                Err(e) => errno(e.errno()),
            })
        });
    }
    if want(HELPER_RINGBUF_RESERVE) {
        let maps = maps.clone();
        h.register(131, "bpf_ringbuf_reserve", move |ctx, a| {
            let (mem, run) = split(ctx)?;
            let map = map_of(&maps, a[0])?;
            let Ok(size) = usize::try_from(a[1]) else {
                return Ok(0);
            };
            let Ok(rec) = map.ringbuf_reserve(size) else {
                return Ok(0);
            };
            let addr = rec.addr();
            // SAFETY: `rec` owns the record's buffer and stays in
            // `run.reservations` until submit/discard removes this region, or
            // until the run ends and the `KernelRun` is dropped after it.
            unsafe {
                mem.add_raw(Region {
                    start: addr,
                    len: size as u64,
                    writable: true,
                })
            };
            run.reservations.insert(addr, (map.clone(), rec));
            Ok(addr)
        });
    }
    for (id, name, submit) in [
        (HELPER_RINGBUF_SUBMIT, "bpf_ringbuf_submit", true),
        (HELPER_RINGBUF_DISCARD, "bpf_ringbuf_discard", false),
    ] {
        if want(id) {
            h.register(id, name, move |ctx, a| {
                let (mem, run) = split(ctx)?;
                let (map, rec) = run.reservations.remove(&a[0]).ok_or_else(|| {
                    HelperError::new(format!("{:#x} is not a reserved ring buffer record", a[0]))
                })?;
                mem.remove_at(a[0]);
                let r = if submit {
                    map.ringbuf_submit(&rec)
                } else {
                    map.ringbuf_discard(&rec)
                };
                r.map_err(|e| HelperError::new(e.to_string()))?;
                Ok(0)
            });
        }
    }
}

/// `bpf_perf_event_output(ctx, map, flags, data, size)`: queues `size`
/// bytes at `data` in the perf event array's slot `flags & 0xffffffff`
/// (`BPF_F_CURRENT_CPU`: the one virtual CPU, 0), returning 0 or the
/// kernel's errno ([`crate::maps::PerfError`]). The skb form's
/// `BPF_F_CTXLEN_MASK` (appending packet bytes) is refused with -EINVAL.
/// Needs no run driver: it reads only the run's memory.
fn register_perf_event_output(h: &mut Helpers, maps: &Arc<[Map]>, want: impl Fn(u32) -> bool) {
    if !want(HELPER_PERF_EVENT_OUTPUT) {
        return;
    }
    let maps = maps.clone();
    h.register(
        HELPER_PERF_EVENT_OUTPUT,
        "bpf_perf_event_output",
        move |ctx, a| {
            let map = map_of(&maps, a[1])?;
            if map.def().map_type != MapType::PerfEventArray {
                return Err(HelperError::new(format!(
                    "bpf_perf_event_output on map {}, which is not a perf event array",
                    map.name()
                )));
            }
            let data = read(ctx.mem, a[3], a[4], "perf event record")?;
            Ok(match map.perf_output(0, a[2], &data) {
                Ok(()) => 0,
                Err(e) => errno(e.errno()),
            })
        },
    );
}

/// `bpf_xdp_adjust_head` and `bpf_xdp_adjust_tail`.
fn register_xdp_helpers(h: &mut Helpers, want: impl Fn(u32) -> bool) {
    if want(crate::host::progtype::HELPER_XDP_ADJUST_HEAD) {
        h.register(44, "bpf_xdp_adjust_head", |ctx, a| {
            let (mem, run) = split(ctx)?;
            Ok(run::adjust(mem, run, a, true))
        });
    }
    if want(crate::host::progtype::HELPER_XDP_ADJUST_TAIL) {
        h.register(65, "bpf_xdp_adjust_tail", |ctx, a| {
            let (mem, run) = split(ctx)?;
            Ok(run::adjust(mem, run, a, false))
        });
    }
}

/// Formats a `bpf_trace_printk` line: `%d %i %u %x %X %c %s %p %%` with
/// optional `l`/`ll` length modifiers; at most three arguments, as in the
/// kernel. `%s` reads a NUL-terminated string (up to 256 bytes) through the
/// bounds rule.
pub(crate) fn format_printk(mem: &MemoryMap<'_>, fmt: &[u8], args: [u64; 3]) -> String {
    let end = fmt.iter().position(|&b| b == 0).unwrap_or(fmt.len());
    let fmt = &fmt[..end];
    let mut out = String::new();
    let mut next = args.iter();
    let mut i = 0;
    while i < fmt.len() {
        let c = fmt[i];
        i += 1;
        if c != b'%' {
            out.push(c as char);
            continue;
        }
        let mut long = 0;
        while i < fmt.len() && fmt[i] == b'l' {
            long += 1;
            i += 1;
        }
        let Some(&conv) = fmt.get(i) else {
            out.push('%');
            break;
        };
        i += 1;
        if conv == b'%' {
            out.push('%');
            continue;
        }
        let v = next.next().copied().unwrap_or(0);
        let narrow = long == 0;
        match conv {
            b'd' | b'i' => {
                let s = if narrow {
                    i64::from(v as u32 as i32)
                } else {
                    v as i64
                };
                out.push_str(&s.to_string());
            }
            b'u' => out.push_str(&(if narrow { u64::from(v as u32) } else { v }).to_string()),
            b'x' => out.push_str(&format!(
                "{:x}",
                if narrow { u64::from(v as u32) } else { v }
            )),
            b'X' => out.push_str(&format!(
                "{:X}",
                if narrow { u64::from(v as u32) } else { v }
            )),
            b'c' => out.push(v as u8 as char),
            b'p' => out.push_str(&format!("{v:#x}")),
            b's' => {
                for k in 0..256 {
                    match mem.load(v.wrapping_add(k), Size::B) {
                        Ok(0) => break,
                        Ok(b) => out.push(b as u8 as char),
                        Err(_) => {
                            out.push_str("(fault)");
                            break;
                        }
                    }
                }
            }
            other => {
                out.push('%');
                out.push(other as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
