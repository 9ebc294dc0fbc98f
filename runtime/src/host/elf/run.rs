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
use crate::host::ctx::xdp_shadow;
use crate::host::kernel::{KernelRun, XdpState, XDP_FRAME_SIZE, XDP_HEADROOM};
use crate::host::maps::ValueRef;
use crate::host::mem::{MemoryMap, Region};

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

    /// Runs a memory-buffer program ([`crate::host::ctx::ProgramType::mem`])
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

    /// Runs a program of an embedder-defined [`ProgramType`](crate::host::ctx::ProgramType):
    /// r1 points to a read-only copy of `shadow_ctx` (the context in the
    /// shadow layout the type's [`CtxLayout`](crate::host::ctx::CtxLayout) maps
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
    pub(super) fn with_xdp_run<R>(&self, packet: &mut Vec<u8>, step: impl RunStep<R>) -> R {
        let frame_len = XDP_FRAME_SIZE.max(XDP_HEADROOM + packet.len() + 256);
        let mut frame = vec![0u8; frame_len];
        frame[XDP_HEADROOM..XDP_HEADROOM + packet.len()].copy_from_slice(packet);
        let base = frame.as_mut_ptr() as u64;
        let ctx = ValueRef {
            buf: crate::host::maps::value_buf(xdp_shadow::SIZE),
            off: 0,
            len: xdp_shadow::SIZE,
        };
        ctx.buf
            .write(xdp_shadow::INGRESS_IFINDEX, &1u32.to_le_bytes());
        let data = base + XDP_HEADROOM as u64;
        let state = XdpState {
            ctx: ctx.clone(),
            frame_start: base,
            frame_end: base + frame_len as u64,
            data,
            data_end: data + packet.len() as u64,
        };
        state.sync_ctx();
        let mut run = KernelRun::new();
        let mut mem = MemoryMap::new();
        // SAFETY: `ctx` is held by `run.xdp` and `frame` lives until after
        // the run; both are only accessed through raw pointers meanwhile
        // (`frame` is not touched by this function until the run ended).
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
        self.add_data_regions(&mut mem, &mut run);
        let r = step(&mut mem, [ctx.addr(), 0, 0, 0, 0], &mut run);
        drop(mem);
        if let Some(st) = run.xdp.take() {
            let (a, b) = ((st.data - base) as usize, (st.data_end - base) as usize);
            packet.clear();
            packet.extend_from_slice(&frame[a..b]);
        }
        drop(run);
        r
    }
}
