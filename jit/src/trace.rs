//! Tracing: fire a clang-built tracing program at a probe point in the host
//! program, as a uprobe would.
//!
//! A [`Tracer`] holds one loaded tracing program (a `kprobe/`, `uprobe/`,
//! `raw_tp/` or `fentry/` section, or any program loaded with an
//! embedder-declared [`TraceCtx`](cranebpf_runtime::ctx::TraceCtx)) compiled
//! by one engine. The host calls [`Tracer::fire_args`] (or
//! [`Tracer::fire_regs`], [`Tracer::fire`]) where the probe sits, passing the
//! host memory the program may read with `bpf_probe_read_*`
//! ([`ProbeMemory`]); the program's maps are the host's to read, its ring
//! buffer records reach a host callback through [`Tracer::drain_ringbuf`]
//! (and `bpf_perf_event_output` records through [`Tracer::drain_perf`],
//! once the host has opened the perf event array's slot),
//! and [`log2_histogram`] prints a log2 histogram map as bpftrace does.
//!
//! ```
//! use cranebpf::trace::{log2_histogram, Tracer};
//! use cranebpf::EngineKind;
//! use cranebpf_runtime::ctx::{ProgramType, TraceCtx};
//! use cranebpf_runtime::elf::{LoadOptions, LoadedProgram};
//! use cranebpf_runtime::kernel::ProbeMemory;
//!
//! // struct req { u64 len; u32 verdict; }: the program doubles len into verdict.
//! let ctx = TraceCtx::new("req", 16).field("len", 0, 8, false).field("verdict", 8, 4, true);
//! let insns = cranebpf::asm::assemble("ldxdw %r2, [%r1]\nlsh %r2, 1\nstxw [%r1+8], %r2\nmov %r0, 0\nexit")?;
//! let code = cranebpf_runtime::encode_all(&insns);
//! let ty = ProgramType::tracing("req", Some(ctx.layout()));
//! let lp = LoadedProgram::from_slots("p", &code, ty, LoadOptions::default())?;
//! let tracer = Tracer::new(lp, EngineKind::Jit)?;
//! let mut req = [0u8; 16];
//! req[..8].copy_from_slice(&21u64.to_le_bytes());
//! tracer.fire(&mut req, &ProbeMemory::new()).result?;
//! assert_eq!(req[8], 42);
//! assert!(log2_histogram("@x", &[0, 3]).contains("[1]"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{EngineKind, RunOptions, RunOutcome, Vm, VmError};
use cranebpf_runtime::ctx::PtRegs;
use cranebpf_runtime::elf::LoadedProgram;
use cranebpf_runtime::kernel::ProbeMemory;
use cranebpf_runtime::maps::{Map, MapError};

/// One tracing program, ready to fire.
pub struct Tracer {
    program: LoadedProgram,
    vm: Vm,
    pid_tgid: u64,
    opts: RunOptions,
}

impl Tracer {
    /// Compiles `program` with `engine`. `bpf_get_current_pid_tgid`
    /// reports this process (tgid and pid both its id) unless
    /// [`Tracer::with_pid_tgid`] says otherwise.
    pub fn new(program: LoadedProgram, engine: EngineKind) -> Result<Tracer, VmError> {
        let vm = Vm::new(program.program(), program.helpers().clone(), engine)?;
        let pid = u64::from(std::process::id());
        Ok(Tracer {
            program,
            vm,
            pid_tgid: pid << 32 | pid,
            opts: RunOptions::default(),
        })
    }

    /// Sets what `bpf_get_current_pid_tgid` returns (tgid << 32 | pid).
    pub fn with_pid_tgid(mut self, pid_tgid: u64) -> Tracer {
        self.pid_tgid = pid_tgid;
        self
    }

    /// Fires the program on a context given as bytes (copied back after
    /// the run, with the fields it may write).
    pub fn fire(&self, ctx: &mut [u8], probe: &ProbeMemory<'_>) -> RunOutcome {
        self.program
            .run_trace(ctx, probe, self.pid_tgid, &self.opts, &self.vm)
    }

    /// Fires a kprobe/uprobe program on `regs`.
    pub fn fire_regs(&self, regs: &PtRegs, probe: &ProbeMemory<'_>) -> RunOutcome {
        self.fire(&mut regs.as_bytes(), probe)
    }

    /// Fires a kprobe/uprobe program at the entry of a call with `args`
    /// (`PT_REGS_PARM1(ctx)` is `args[0]`).
    pub fn fire_args(&self, args: &[u64], probe: &ProbeMemory<'_>) -> RunOutcome {
        self.fire_regs(&PtRegs::with_args(args), probe)
    }

    /// The program's map by name (`.bss` and friends included).
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.program.map(name)
    }

    /// Hands every record waiting in ring buffer `map` to `f`, oldest
    /// first; returns how many.
    pub fn drain_ringbuf(&self, map: &str, mut f: impl FnMut(&[u8])) -> Result<usize, MapError> {
        let Some(m) = self.map(map) else {
            return Ok(0);
        };
        let mut n = 0;
        while let Some(rec) = m.ringbuf_pop()? {
            f(&rec);
            n += 1;
        }
        Ok(n)
    }
}

impl Tracer {
    /// Opens every slot of perf event array `map` (as a perf buffer
    /// reader does for each CPU), so `bpf_perf_event_output` to it
    /// succeeds instead of returning -ENOENT.
    pub fn open_perf(&self, map: &str) -> Result<(), MapError> {
        let m = self.map(map).ok_or_else(|| MapError::Invalid {
            reason: format!("no map {map}"),
        })?;
        for cpu in 0..m.def().max_entries {
            m.perf_open(cpu)?;
        }
        Ok(())
    }

    /// Hands every record waiting in perf event array `map` to `f` with
    /// its slot (CPU), oldest first; returns how many.
    pub fn drain_perf(&self, map: &str, mut f: impl FnMut(u32, &[u8])) -> Result<usize, MapError> {
        let Some(m) = self.map(map) else {
            return Ok(0);
        };
        let mut n = 0;
        while let Some((cpu, rec)) = m.perf_pop()? {
            f(cpu, &rec);
            n += 1;
        }
        Ok(n)
    }
}

/// A log2 histogram as bpftrace prints it: bucket 0 counts zeros, bucket 1
/// ones, bucket `k >= 2` values in `[2^(k-1), 2^k)`; empty buckets before
/// the first and after the last non-empty one are left out.
pub fn log2_histogram(title: &str, buckets: &[u64]) -> String {
    let mut out = format!("{title}:\n");
    let Some(first) = buckets.iter().position(|&c| c != 0) else {
        return out;
    };
    let last = buckets.iter().rposition(|&c| c != 0).unwrap_or(first);
    let max = buckets.iter().copied().max().unwrap_or(1).max(1);
    for (k, &count) in buckets.iter().enumerate().take(last + 1).skip(first) {
        let label = match k {
            0 => "[0]".to_string(),
            1 => "[1]".to_string(),
            _ => format!(
                "[{}, {})",
                size_label(1u64 << (k - 1)),
                size_label(1u64 << k.min(63))
            ),
        };
        let bar = "@".repeat((count * 52 / max) as usize);
        out.push_str(&format!("{label:<16}{count:>8} |{bar:<52}|\n"));
    }
    out
}

/// `1K`, `2M`, ... for powers of two from 1024, as bpftrace labels them.
fn size_label(v: u64) -> String {
    const UNITS: [&str; 6] = ["", "K", "M", "G", "T", "P"];
    let mut v = v;
    let mut u = 0;
    while v >= 1024 && v % 1024 == 0 && u < UNITS.len() - 1 {
        v /= 1024;
        u += 1;
    }
    format!("{v}{}", UNITS[u])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_reads_like_bpftrace() {
        let h = log2_histogram("@bytes", &[0, 1, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        let lines: Vec<&str> = h.lines().collect();
        assert_eq!(lines[0], "@bytes:");
        assert!(lines[1].starts_with("[1] "), "{h}");
        assert!(lines[2].starts_with("[2, 4) "), "{h}");
        assert!(lines[3].starts_with("[4, 8) "), "{h}");
        assert!(lines.last().unwrap().starts_with("[2K, 4K) "), "{h}");
        assert!(lines[3].contains(&format!("|{}|", "@".repeat(52))), "{h}");
        assert_eq!(lines.len(), 13);
    }
}
