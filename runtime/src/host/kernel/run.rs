//! What a run of an XDP program shares with the run drivers
//! (`host::elf::run`): the frame sizes, the verdict ([`XdpAction`]), and
//! `bpf_xdp_adjust_*`.

use super::KernelRun;
use crate::host::mem::{MemoryMap, Region};
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
    x.moved = true;
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
