//! Run drivers: build the memory map, context and
//! [`KernelRun`](crate::host::kernel::KernelRun) of one run of a loaded
//! program, run the caller's [`Prepared`] program on it, and collect the
//! results. Engines stay ignorant of ELF, maps and program types: the
//! driver gives them a fresh stack, a memory map, the five argument
//! registers and the `user` state. (They live here, not in `kernel`, so that
//! `kernel` never imports `elf`.)
//!
//! Each driver is a setup (`with_*_run`, crate-private, also used by
//! [`ProgramSet`](super::ProgramSet)'s chain drivers) that hands the run to
//! a step: one [`Prepared::run`] for a single program.

use super::LoadedProgram;
use crate::engine::run::{RunOptions, RunOutcome};
use crate::engine::Prepared;
use crate::host::kernel::skb::SkbState;
use crate::host::kernel::trace::{ProbeMemory, TraceState};
use crate::host::kernel::{
    KernelRun, Redirect, XdpState, SKB_MAX_LEN, XDP_FRAME_SIZE, XDP_HEADROOM,
};
use crate::host::maps::{ValueBuf, ValueRef};
use crate::host::mem::{MemoryMap, Region};
use crate::host::progtype::{xdp_shadow, Driver, SkbKind, SkbMeta};
use std::cell::Cell;
use std::sync::Arc;

/// What a driver runs once its run is set up: given the memory map, r1–r5
/// and the run's [`KernelRun`], run the program (or a chain of them).
pub(super) trait RunStep<R>:
    FnOnce(&mut MemoryMap<'_>, [u64; 5], &mut KernelRun) -> R
{
}
impl<R, F: FnOnce(&mut MemoryMap<'_>, [u64; 5], &mut KernelRun) -> R> RunStep<R> for F {}

/// The step of a single-program driver: `prepared` runs once on a zeroed
/// stack (the thread's scratch stack, [`Prepared::run_scratch`]), with the
/// run's [`KernelRun`] as the helpers' user state.
fn run_once<'p>(prepared: &'p dyn Prepared, opts: &'p RunOptions) -> impl RunStep<RunOutcome> + 'p {
    move |mem, args, run| prepared.run_scratch(mem, args, opts, Some(run))
}

impl LoadedProgram {
    /// Registers the object's global data (`.data*`, `.bss*` read-write,
    /// `.rodata*` read-only) for a run.
    fn add_data_regions(&self, mem: &mut MemoryMap<'_>, run: &mut KernelRun) {
        for m in &self.maps {
            let name = m.name();
            if !name.starts_with('.') {
                continue;
            }
            let Some(v) = m.lookup_ref(&0u32.to_le_bytes()) else {
                continue;
            };
            let writable = !name.starts_with(".rodata");
            if run.registered.insert(v.addr()) {
                // SAFETY: `v` keeps the data map's buffer alive and is kept in
                // `run.held` until the run ends (the driver drops the run
                // after the memory map).
                unsafe {
                    mem.add_raw(Region {
                        start: v.addr(),
                        len: v.len() as u64,
                        writable,
                    })
                };
                run.held.push(v);
            }
        }
    }

    /// Runs a memory-buffer program ([`crate::host::progtype::ProgramType::mem`])
    /// once with `prepared` (this program, prepared by any engine): r1
    /// points to `buf` (read-write), r2 holds its length.
    pub fn run_mem(
        &self,
        buf: &mut [u8],
        opts: &RunOptions,
        prepared: &dyn Prepared,
    ) -> RunOutcome {
        self.with_mem_run(buf, run_once(prepared, opts))
    }

    /// Sets up the run of [`LoadedProgram::run_mem`] and hands it to `step`.
    pub(super) fn with_mem_run<R>(&self, buf: &mut [u8], step: impl RunStep<R>) -> R {
        let mut run = KernelRun::new();
        let (addr, len) = (buf.as_mut_ptr() as u64, buf.len() as u64);
        let mut mem = MemoryMap::new();
        mem.add_mut(buf);
        self.add_data_regions(&mut mem, &mut run);
        let r = step(&mut mem, [addr, len, 0, 0, 0], &mut run);
        drop(mem);
        drop(run);
        r
    }

    /// Runs a program of an embedder-defined [`ProgramType`](crate::host::progtype::ProgramType):
    /// r1 points to a read-only copy of `shadow_ctx` (the context in the
    /// shadow layout the type's [`CtxLayout`](crate::host::progtype::CtxLayout) maps
    /// onto, pointer fields holding host addresses), `mem` holds the
    /// embedder's regions (the buffers those pointers reach). Regions the
    /// driver and the helpers add to `mem` are removed again after the run.
    /// `prepared` is this program, prepared by any engine.
    pub fn run_with_ctx(
        &self,
        shadow_ctx: &[u8],
        mem: &mut MemoryMap<'_>,
        opts: &RunOptions,
        prepared: &dyn Prepared,
    ) -> RunOutcome {
        self.with_ctx_run(shadow_ctx, mem, run_once(prepared, opts))
    }

    /// Sets up the run of [`LoadedProgram::run_with_ctx`] and hands it to
    /// `step`.
    pub(super) fn with_ctx_run<R>(
        &self,
        shadow_ctx: &[u8],
        mem: &mut MemoryMap<'_>,
        step: impl RunStep<R>,
    ) -> R {
        let ctx = crate::host::maps::value_buf(shadow_ctx.len());
        ctx.write(0, shadow_ctx);
        let mut run = KernelRun::new();
        // SAFETY: `ctx` lives until after the run, and its region is
        // removed from `mem` before this function returns.
        unsafe {
            mem.add_raw(Region {
                start: ctx.addr(),
                len: shadow_ctx.len() as u64,
                writable: false,
            })
        };
        self.add_data_regions(mem, &mut run);
        let r = step(mem, [ctx.addr(), 0, 0, 0, 0], &mut run);
        mem.remove_at(ctx.addr());
        for addr in run.registered.iter().chain(run.reservations.keys()) {
            mem.remove_at(*addr);
        }
        drop(run);
        r
    }

    /// Runs an XDP program on one packet. The packet sits in a frame with
    /// [`XDP_HEADROOM`] bytes before it (at least [`XDP_FRAME_SIZE`] bytes in
    /// all); r1 points to the shadow `xdp_md`. On return `packet` holds the
    /// packet as the program left it (rewritten, or moved and resized by
    /// `bpf_xdp_adjust_head`/`tail`). `ingress_ifindex` is 1 and
    /// `rx_queue_index` 0. `prepared` is this program, prepared by any
    /// engine.
    pub fn run_xdp(
        &self,
        packet: &mut Vec<u8>,
        opts: &RunOptions,
        prepared: &dyn Prepared,
    ) -> RunOutcome {
        self.with_xdp_run(packet, run_once(prepared, opts))
    }

    /// Sets up the run of [`LoadedProgram::run_xdp`] and hands it to `step`.
    /// The frame, the shadow `xdp_md` and the region list are this
    /// thread's [`XdpScratch`], so a packet allocates nothing once warm.
    pub(super) fn with_xdp_run<R>(&self, packet: &mut Vec<u8>, step: impl RunStep<R>) -> R {
        let mut scratch = XdpScratch::take();
        let frame_len = XDP_FRAME_SIZE.max(XDP_HEADROOM + packet.len() + 256);
        if scratch.frame.len() < frame_len {
            // Growing keeps the frame all zero.
            scratch.frame.resize(frame_len, 0);
        }
        let frame = &mut scratch.frame[..frame_len];
        frame[XDP_HEADROOM..XDP_HEADROOM + packet.len()].copy_from_slice(packet);
        let base = frame.as_mut_ptr() as u64;
        let ctx = ValueRef {
            buf: scratch.ctx.clone(),
            off: 0,
            len: xdp_shadow::SIZE,
        };
        let data = base + XDP_HEADROOM as u64;
        let state = XdpState {
            ctx: ctx.clone(),
            frame_start: base,
            frame_end: base + frame_len as u64,
            data,
            data_end: data + packet.len() as u64,
            moved: false,
        };
        state.sync_ctx();
        let run = &mut scratch.run;
        let mut mem = MemoryMap::with_storage(std::mem::take(&mut scratch.regions));
        // SAFETY: `ctx` is held by `run.xdp` and `frame` lives until after
        // the run; both are only accessed through raw pointers meanwhile
        // (`frame` is not touched by this function until the run ended, and
        // `mem` is emptied before it is).
        unsafe {
            mem.add_raw(Region {
                start: ctx.addr(),
                len: xdp_shadow::SIZE as u64,
                writable: false,
            });
            mem.add_raw(Region {
                start: state.data,
                len: state.data_end - state.data,
                writable: true,
            });
        }
        run.xdp = Some(state);
        self.add_data_regions(&mut mem, run);
        let r = step(&mut mem, [ctx.addr(), 0, 0, 0, 0], run);
        scratch.regions = mem.into_storage();
        if let Some(st) = scratch.run.xdp.take() {
            let (a, b) = ((st.data - base) as usize, (st.data_end - base) as usize);
            let frame = &mut scratch.frame[..frame_len];
            packet.clear();
            packet.extend_from_slice(&frame[a..b]);
            // The next packet finds the frame all zero again: only the
            // packet's bytes can have been written, unless an adjust moved
            // the packet within the frame.
            if st.moved {
                frame.fill(0);
            } else {
                frame[a..b].fill(0);
            }
        }
        // Released only now that the map holding its regions is gone.
        scratch.run.reset();
        scratch.give_back();
        r
    }

    /// Runs a socket filter or tc program on one packet. r1 points to the
    /// packet's first byte, with the `__sk_buff` shadow just before it (see
    /// [`crate::host::progtype::skb`]); `len`, `data` and `data_end` come
    /// from `packet`, every other field from `meta`. On return `packet`
    /// holds the packet as the program left it and `meta` the fields it
    /// wrote (and those helpers changed: VLAN tag, protocol, hash); the
    /// outcome's `redirect` is the target `bpf_redirect` recorded.
    /// `prepared` is this program, prepared by any engine.
    ///
    /// For a socket filter the packet is what the socket receives (from
    /// the network header for most sockets, as `BPF_PROG_TEST_RUN` passes
    /// it); for tc it starts at the Ethernet header.
    pub fn run_skb(
        &self,
        packet: &mut Vec<u8>,
        meta: &mut SkbMeta,
        opts: &RunOptions,
        prepared: &dyn Prepared,
    ) -> SkbOutcome {
        let flags = (self.resizes_packet, self.legacy_loads);
        let (outcome, redirect) = self.with_skb_run(packet, meta, flags, run_once(prepared, opts));
        SkbOutcome { outcome, redirect }
    }

    /// The `__sk_buff` kind this program runs with (tc for types that are
    /// not socket filters).
    pub(super) fn skb_kind(&self) -> SkbKind {
        match self.prog_type.driver {
            Driver::Skb(k) => k,
            _ => SkbKind::SchedCls,
        }
    }

    /// Sets up the run of [`LoadedProgram::run_skb`] and hands it to
    /// `step`; `(resizes, legacy_loads)` say whether any program of the run
    /// resizes the packet or uses LD_ABS/LD_IND.
    pub(super) fn with_skb_run<R>(
        &self,
        packet: &mut Vec<u8>,
        meta: &mut SkbMeta,
        (resizes, legacy_loads): (bool, bool),
        step: impl RunStep<R>,
    ) -> (R, Option<Redirect>) {
        let growth = if resizes {
            SKB_MAX_LEN.saturating_sub(packet.len())
        } else {
            0
        };
        // A program that may resize the packet gets a buffer of the largest
        // packet. The buffer, the region list and the helpers' state are
        // this thread's, reused from packet to packet (the buffer while it
        // has room).
        let mut scratch = SkbScratch::take();
        let reuse = scratch.buf.take();
        let st = SkbState::with_buf(reuse, packet, meta, self.skb_kind(), growth, legacy_loads);
        let ctx = st.ctx();
        let mut mem = MemoryMap::with_storage(std::mem::take(&mut scratch.regions));
        // SAFETY: the regions lie inside `st.buf`, which `run.skb` holds
        // until after the run (the memory map is emptied first); it is only
        // accessed through raw pointers meanwhile.
        unsafe {
            mem.add_raw(st.packet_region());
            for r in st.shadow_regions() {
                mem.add_raw(r);
            }
        }
        let run = &mut scratch.run;
        run.skb = Some(st);
        self.add_data_regions(&mut mem, run);
        let r = step(&mut mem, [ctx, 0, 0, 0, 0], run);
        scratch.regions = mem.into_storage();
        let st = scratch.run.skb.take();
        // The helpers' state is released first: what it holds may share
        // the buffer, which is kept for the next run only if nothing else
        // does.
        scratch.run.reset();
        let mut redirect = None;
        if let Some(st) = st {
            st.packet_into(packet);
            st.meta(meta);
            redirect = st.redirect;
            if Arc::strong_count(&st.buf) == 1 {
                scratch.buf = Some((st.buf_cap, st.buf));
            }
        }
        scratch.give_back();
        (r, redirect)
    }
}

impl LoadedProgram {
    /// Runs a tracing program (kprobe/uprobe with a
    /// [`PtRegs`](crate::host::progtype::PtRegs), raw_tp/fentry arguments, or
    /// an embedder's [`TraceCtx`](crate::host::progtype::TraceCtx)) once:
    /// r1 points to a copy of `ctx`, writable if the layout has writable
    /// fields and copied back after the run; `bpf_probe_read_*` may copy
    /// from `probe` only; `bpf_get_current_pid_tgid` returns `pid_tgid`.
    /// `prepared` is this program, prepared by any engine.
    pub fn run_trace(
        &self,
        ctx: &mut [u8],
        probe: &ProbeMemory<'_>,
        pid_tgid: u64,
        opts: &RunOptions,
        prepared: &dyn Prepared,
    ) -> RunOutcome {
        let buf = crate::host::maps::value_buf(ctx.len());
        buf.write(0, ctx);
        let writable = self
            .prog_type
            .ctx
            .as_ref()
            .is_some_and(|l| l.fields.iter().any(|f| f.writable));
        let mut run = KernelRun::new();
        // The ranges stay borrowed by `probe` until this function returns,
        // after `run` (and its copy of them) is dropped.
        run.trace = Some(TraceState::new(probe, pid_tgid));
        let mut mem = MemoryMap::new();
        // SAFETY: `buf` lives until the end of this function, after the
        // memory map is dropped, and is only accessed through raw pointers
        // meanwhile.
        unsafe {
            mem.add_raw(Region {
                start: buf.addr(),
                len: ctx.len() as u64,
                writable,
            })
        };
        self.add_data_regions(&mut mem, &mut run);
        let args = [buf.addr(), 0, 0, 0, 0];
        let r = run_once(prepared, opts)(&mut mem, args, &mut run);
        drop(mem);
        drop(run);
        buf.read_into(0, ctx);
        r
    }
}

/// What [`LoadedProgram::run_skb`] returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkbOutcome {
    /// r0 (a verdict or a byte count) or the fault.
    pub outcome: RunOutcome,
    /// The target `bpf_redirect` recorded, if it was called.
    pub redirect: Option<Redirect>,
}

/// The buffers of XDP runs on one thread, reused from packet to packet.
/// A run that starts another XDP run on the same thread (a helper running a
/// program) finds them lent out and gets fresh ones.
struct XdpScratch {
    /// The frame; all zero between runs.
    frame: Vec<u8>,
    /// The shadow `xdp_md`: the driver rewrites its data fields for every
    /// packet, and the program cannot write it (its region is read-only).
    ctx: Arc<ValueBuf>,
    /// The storage of the run's region list.
    regions: Vec<Region>,
    /// The helpers' run state, reset after each run.
    run: KernelRun,
}

thread_local! {
    static XDP_SCRATCH: Cell<Option<Box<XdpScratch>>> = const { Cell::new(None) };
}

impl XdpScratch {
    /// This thread's buffers, or fresh ones.
    fn take() -> Box<XdpScratch> {
        XDP_SCRATCH
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                let ctx = crate::host::maps::value_buf(xdp_shadow::SIZE);
                ctx.write(xdp_shadow::INGRESS_IFINDEX, &1u32.to_le_bytes());
                Box::new(XdpScratch {
                    frame: vec![0; XDP_FRAME_SIZE],
                    ctx,
                    regions: Vec::with_capacity(8),
                    run: KernelRun::new(),
                })
            })
    }

    /// Keeps the buffers for the thread's next run (dropped if the thread
    /// is being torn down).
    fn give_back(self: Box<XdpScratch>) {
        let _ = XDP_SCRATCH.try_with(|c| c.set(Some(self)));
    }
}

/// A thread's reusable `__sk_buff` run state: the packet buffer (with its
/// packet capacity) of its last run, the storage of the region list and the
/// helpers' state, reset after each run.
struct SkbScratch {
    buf: Option<(usize, Arc<ValueBuf>)>,
    regions: Vec<Region>,
    run: KernelRun,
}

thread_local! {
    static SKB_SCRATCH: Cell<Option<Box<SkbScratch>>> = const { Cell::new(None) };
}

impl SkbScratch {
    /// This thread's state, or a fresh one.
    fn take() -> Box<SkbScratch> {
        SKB_SCRATCH
            .try_with(Cell::take)
            .ok()
            .flatten()
            .unwrap_or_else(|| {
                Box::new(SkbScratch {
                    buf: None,
                    regions: Vec::with_capacity(8),
                    run: KernelRun::new(),
                })
            })
    }

    /// Keeps the state for the thread's next run (dropped if the thread is
    /// being torn down).
    fn give_back(self: Box<SkbScratch>) {
        let _ = SKB_SCRATCH.try_with(|c| c.set(Some(self)));
    }
}
