//! Run drivers: build the memory map, context and [`KernelRun`] of one run,
//! let the caller's engine run it, and collect the results. Engines stay
//! ignorant of ELF, maps and program types: the driver gives them a memory
//! map, the five argument registers and the `user` state.

use super::{KernelRun, XdpState};
use crate::host::ctx::xdp_shadow;
use crate::host::elf::LoadedProgram;
use crate::host::maps::ValueRef;
use crate::host::mem::{MemoryMap, Region};
use std::any::Any;
use std::fmt;

/// Bytes before the packet in its frame (`XDP_PACKET_HEADROOM`):
/// `bpf_xdp_adjust_head` may grow the packet by up to this much.
pub const XDP_HEADROOM: usize = 256;
/// The smallest frame (headroom + packet + tailroom), like a page in the
/// kernel's drivers: `bpf_xdp_adjust_tail` may grow the packet up to it.
pub const XDP_FRAME_SIZE: usize = 4096;
/// Smallest packet `bpf_xdp_adjust_*` leave (`ETH_HLEN`).
const ETH_HLEN: u64 = 14;

/// An XDP program's verdict (`enum xdp_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum XdpAction {
    /// 0: error; the packet is dropped (and the kernel raises a trace event).
    Aborted,
    /// 1: drop the packet.
    Drop,
    /// 2: pass it to the network stack.
    Pass,
    /// 3: transmit it back out of the same interface.
    Tx,
    /// 4: redirect it.
    Redirect,
}

impl XdpAction {
    /// Every action, in kernel order.
    pub const ALL: [XdpAction; 5] = [
        XdpAction::Aborted,
        XdpAction::Drop,
        XdpAction::Pass,
        XdpAction::Tx,
        XdpAction::Redirect,
    ];

    /// The action for a program's r0 (its low 32 bits, as the kernel reads
    /// it); an unknown value counts as `Aborted`, as the kernel treats it.
    pub fn from_r0(r0: u64) -> XdpAction {
        match r0 as u32 {
            1 => XdpAction::Drop,
            2 => XdpAction::Pass,
            3 => XdpAction::Tx,
            4 => XdpAction::Redirect,
            _ => XdpAction::Aborted,
        }
    }

    /// The kernel's name, e.g. `XDP_PASS`.
    pub fn name(self) -> &'static str {
        match self {
            XdpAction::Aborted => "XDP_ABORTED",
            XdpAction::Drop => "XDP_DROP",
            XdpAction::Pass => "XDP_PASS",
            XdpAction::Tx => "XDP_TX",
            XdpAction::Redirect => "XDP_REDIRECT",
        }
    }
}

impl fmt::Display for XdpAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The engine a driver runs: given the run's memory map, the argument
/// registers r1-r5 and the user state (a [`KernelRun`]), run the program.
/// Interpreter: `|mem, args, user| interp.run_with(mem, args, &opts, Some(user))`.
pub trait RunEngine<R>: FnOnce(&mut MemoryMap<'_>, [u64; 5], &mut (dyn Any + Send)) -> R {}
impl<R, F: FnOnce(&mut MemoryMap<'_>, [u64; 5], &mut (dyn Any + Send)) -> R> RunEngine<R> for F {}

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

    /// Runs a memory-buffer program ([`crate::host::ctx::ProgramType::mem`]): r1
    /// points to `buf` (read-write), r2 holds its length.
    pub fn run_mem<R>(&self, buf: &mut [u8], engine: impl RunEngine<R>) -> R {
        let mut run = KernelRun::new();
        let (addr, len) = (buf.as_mut_ptr() as u64, buf.len() as u64);
        let mut mem = MemoryMap::new();
        mem.add_mut(buf);
        self.add_data_regions(&mut mem, &mut run);
        let r = engine(&mut mem, [addr, len, 0, 0, 0], &mut run);
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
    pub fn run_with_ctx<R>(
        &self,
        shadow_ctx: &[u8],
        mem: &mut MemoryMap<'_>,
        engine: impl RunEngine<R>,
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
        let r = engine(mem, [ctx.addr(), 0, 0, 0, 0], &mut run);
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
    /// `rx_queue_index` 0.
    pub fn run_xdp<R>(&self, packet: &mut Vec<u8>, engine: impl RunEngine<R>) -> R {
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
        let r = engine(&mut mem, [ctx.addr(), 0, 0, 0, 0], &mut run);
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

/// `bpf_xdp_adjust_head(ctx, delta)` (`head`) and
/// `bpf_xdp_adjust_tail(ctx, delta)`: move the packet's start or end by
/// `delta` within the frame, keeping at least `ETH_HLEN` bytes. Returns 0 or
/// `-EINVAL`.
pub(super) fn adjust(mem: &mut MemoryMap<'_>, run: &mut KernelRun, a: [u64; 5], head: bool) -> u64 {
    const EINVAL: u64 = -22i64 as u64;
    let Some(x) = run.xdp.as_mut() else {
        return EINVAL;
    };
    if a[0] != x.ctx.addr() {
        return EINVAL;
    }
    let delta = i64::from(a[1] as u32 as i32);
    let (mut data, mut end) = (x.data as i64, x.data_end as i64);
    if head {
        data += delta;
        if data < x.frame_start as i64 || data > end - ETH_HLEN as i64 {
            return EINVAL;
        }
    } else {
        let new_end = end + delta;
        if new_end < data + ETH_HLEN as i64 || new_end > x.frame_end as i64 {
            return EINVAL;
        }
        if new_end > end {
            // SAFETY: `[end, new_end)` lies inside the frame
            // (`new_end <= frame_end`), which the driver keeps alive and
            // accesses only through raw pointers during the run.
            unsafe {
                std::ptr::write_bytes(end as u64 as usize as *mut u8, 0, (new_end - end) as usize)
            };
        }
        end = new_end;
    }
    mem.remove_at(x.data);
    x.data = data as u64;
    x.data_end = end as u64;
    // SAFETY: the new packet range lies inside the frame (checked above),
    // which outlives the run.
    unsafe {
        mem.add_raw(Region {
            start: x.data,
            len: x.data_end - x.data,
            writable: true,
        })
    };
    x.sync_ctx();
    0
}
