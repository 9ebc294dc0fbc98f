//! The tracing helpers and what a tracing run shares with them: which host
//! memory `bpf_probe_read_*` may copy from ([`ProbeMemory`]) and the
//! identity `bpf_get_current_pid_tgid` reports.
//!
//! A tracing program runs in the host's own process, so "user" and
//! "kernel" memory are both the host's: the `_user` and `_kernel` variants
//! behave alike, and copy only from ranges the embedder allowed for the
//! run. Anything else fails as the kernel fails a faulting read: the
//! destination is zeroed and the helper returns `-EFAULT`.

use super::{split, KernelRun};
use crate::engine::fault::HelperError;
use crate::host::helpers::{HelperCtx, Helpers};
use std::marker::PhantomData;

const EFAULT: u64 = -14i64 as u64;

/// Host memory a tracing run's `bpf_probe_read_*` calls may copy from,
/// borrowed for `'a` (the run).
#[derive(Clone, Debug, Default)]
pub struct ProbeMemory<'a> {
    ranges: Vec<(u64, u64)>,
    _borrow: PhantomData<&'a [u8]>,
}

impl<'a> ProbeMemory<'a> {
    /// No memory: every probe read fails with `-EFAULT`.
    pub fn new() -> ProbeMemory<'a> {
        ProbeMemory::default()
    }

    /// Allows reads of `mem`.
    pub fn allow(mut self, mem: &'a [u8]) -> ProbeMemory<'a> {
        self.ranges.push((mem.as_ptr() as u64, mem.len() as u64));
        self
    }

    /// Whether `[addr, addr + len)` lies inside one allowed range.
    fn contains(&self, addr: u64, len: u64) -> bool {
        self.ranges.iter().any(|&(start, n)| {
            let off = addr.wrapping_sub(start);
            off <= n && n - off >= len
        })
    }

    /// Copies `len` bytes at `addr`, if allowed.
    fn read(&self, addr: u64, len: u64) -> Option<Vec<u8>> {
        if !self.contains(addr, len) {
            return None;
        }
        let mut out = vec![0u8; len as usize];
        // SAFETY: `[addr, addr + len)` lies inside a slice borrowed for
        // `'a`, which outlives the run this `ProbeMemory` serves; `out` is
        // a fresh buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(addr as usize as *const u8, out.as_mut_ptr(), out.len())
        };
        Some(out)
    }

    /// The ranges, as (start, length), to carry into a run.
    pub(crate) fn ranges(&self) -> Vec<(u64, u64)> {
        self.ranges.clone()
    }
}

/// The per-run state of a tracing run.
#[derive(Clone, Debug, Default)]
pub(crate) struct TraceState {
    /// What `ProbeMemory` allowed, still borrowed by the caller of the run.
    pub(crate) probe: ProbeMemory<'static>,
    /// `bpf_get_current_pid_tgid`'s value: tgid << 32 | pid.
    pub(crate) pid_tgid: u64,
}

impl TraceState {
    /// The state for a run allowed to read `probe`, as `pid_tgid`.
    ///
    /// The ranges are copied out of `probe`; the run driver keeps `probe`
    /// borrowed for the whole run, so they stay valid while this exists.
    pub(crate) fn new(probe: &ProbeMemory<'_>, pid_tgid: u64) -> TraceState {
        TraceState {
            probe: ProbeMemory {
                ranges: probe.ranges(),
                _borrow: PhantomData,
            },
            pid_tgid,
        }
    }
}

/// The run's trace state.
fn state(run: &KernelRun) -> Result<&TraceState, HelperError> {
    run.trace
        .as_ref()
        .ok_or_else(|| HelperError::new("not a tracing run (no probe memory)"))
}

/// Registers the tracing helpers in `want`.
pub(super) fn register(h: &mut Helpers, want: impl Fn(u32) -> bool) {
    let table: [(u32, &str, super::Body); 7] = [
        (super::HELPER_PROBE_READ, "bpf_probe_read", probe_read),
        (
            super::HELPER_PROBE_READ_USER,
            "bpf_probe_read_user",
            probe_read,
        ),
        (
            super::HELPER_PROBE_READ_KERNEL,
            "bpf_probe_read_kernel",
            probe_read,
        ),
        (
            super::HELPER_PROBE_READ_STR,
            "bpf_probe_read_str",
            probe_read_str,
        ),
        (
            super::HELPER_PROBE_READ_USER_STR,
            "bpf_probe_read_user_str",
            probe_read_str,
        ),
        (
            super::HELPER_PROBE_READ_KERNEL_STR,
            "bpf_probe_read_kernel_str",
            probe_read_str,
        ),
        (
            super::HELPER_GET_CURRENT_PID_TGID,
            "bpf_get_current_pid_tgid",
            pid_tgid,
        ),
    ];
    for (id, name, body) in table {
        if want(id) {
            h.register(id, name, body);
        }
    }
}

fn write_dst(ctx: &mut HelperCtx<'_, '_>, addr: u64, data: &[u8]) -> Result<(), HelperError> {
    ctx.mem.write_bytes(addr, data).map_err(|e| {
        HelperError::new(format!(
            "cannot write {}-byte destination at {addr:#x}: {e:?}",
            data.len()
        ))
    })
}

/// `bpf_probe_read_{user,kernel}(dst, size, src)`: 0, or `-EFAULT` with
/// `dst` zeroed.
fn probe_read(ctx: &mut HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let size = a[1] as u32 as u64;
    let got = {
        let (_, run) = split(ctx)?;
        state(run)?.probe.read(a[2], size)
    };
    let (data, r) = match got {
        Some(d) => (d, 0),
        None => (vec![0; size as usize], EFAULT),
    };
    write_dst(ctx, a[0], &data)?;
    Ok(r)
}

/// `bpf_probe_read_{user,kernel}_str(dst, size, src)`: copies up to the
/// first NUL (at most `size - 1` bytes, then a NUL) and returns the length
/// with the NUL; `-EFAULT` with `dst` zeroed if the string runs into memory
/// the embedder did not allow.
fn probe_read_str(ctx: &mut HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let size = a[1] as u32 as u64;
    if size == 0 {
        return Ok(0);
    }
    let copied = {
        let (_, run) = split(ctx)?;
        let probe = &state(run)?.probe;
        let mut s = Vec::new();
        let mut ok = true;
        while (s.len() as u64) < size - 1 {
            match probe.read(a[2] + s.len() as u64, 1) {
                Some(b) if b[0] == 0 => break,
                Some(b) => s.push(b[0]),
                None => {
                    ok = false;
                    break;
                }
            }
        }
        ok.then_some(s)
    };
    match copied {
        Some(mut s) => {
            s.push(0);
            write_dst(ctx, a[0], &s)?;
            Ok(s.len() as u64)
        }
        None => {
            write_dst(ctx, a[0], &vec![0; size as usize])?;
            Ok(EFAULT)
        }
    }
}

/// `bpf_get_current_pid_tgid()`.
fn pid_tgid(ctx: &mut HelperCtx<'_, '_>, _: [u64; 5]) -> Result<u64, HelperError> {
    let (_, run) = split(ctx)?;
    Ok(state(run)?.pid_tgid)
}
