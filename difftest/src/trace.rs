//! The differential harness over tracing contexts: generated kprobe
//! programs (`struct pt_regs`) and programs over an embedder-declared
//! context ([`crate::gen::trace`]), fired on random events by two engines
//! and compared per event: the return value (or the fault) and the context
//! as the program left it (the writable fields). The probe reads see the
//! same host memory in both engines, so their results, `-EFAULT`s
//! included, are compared too. The kernel cannot test-run these program
//! types, so the engines are compared with each other only.

use crate::gen::trace::{event_ctx, generate_trace, mem_offset, TraceCase, TraceKind};
use cranebpf_runtime::ctx::ProgramType;
use cranebpf_runtime::elf::{LoadOptions, LoadedProgram};
use cranebpf_runtime::kernel::ProbeMemory;
use cranebpf_runtime::{encode_all, Engine, Insn, RunOptions};
use std::fmt;

/// What `bpf_get_current_pid_tgid` reports in every run.
pub const PID_TGID: u64 = 0x0000_1234_0000_5678;

/// What one event's run gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRun {
    /// The 32-bit return value, or the fault's text.
    pub r0: Result<u32, String>,
    /// The context after the run.
    pub ctx: Vec<u8>,
}

impl fmt::Display for TraceRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.r0 {
            Ok(v) => write!(f, "r0 {v:#x}")?,
            Err(e) => write!(f, "fault {e}")?,
        }
        write!(f, ", context {:02x?}", self.ctx)
    }
}

/// The program type of `kind`.
pub fn program_type(kind: TraceKind) -> ProgramType {
    match kind {
        TraceKind::Kprobe => ProgramType::kprobe(),
        TraceKind::Event => ProgramType::tracing("event", Some(event_ctx())),
    }
}

/// Fires `insns` as `kind` on `engine` once per event; each event's memory
/// is the one its probe reads may copy (the same buffers for every engine,
/// so the addresses the program sees are the same).
pub fn run_on(
    engine: &dyn Engine,
    kind: TraceKind,
    insns: &[Insn],
    events: &[(Vec<u8>, Vec<u8>)],
) -> Result<Vec<TraceRun>, String> {
    let lp = LoadedProgram::from_slots(
        "gen",
        &encode_all(insns),
        program_type(kind),
        LoadOptions::default(),
    )
    .map_err(|e| e.to_string())?;
    let prepared = engine
        .prepare(lp.program(), lp.helpers().clone())
        .map_err(|e| format!("{}: {e}", engine.name()))?;
    let opts = RunOptions::default();
    let at = mem_offset(kind);
    Ok(events
        .iter()
        .map(|(ctx, mem)| {
            let mut ctx = ctx.clone();
            ctx[at..at + 8].copy_from_slice(&(mem.as_ptr() as u64).to_le_bytes());
            let probe = ProbeMemory::new().allow(mem);
            let out = lp.run_trace(&mut ctx, &probe, PID_TGID, &opts, &*prepared);
            TraceRun {
                r0: out.result.map(|r| r as u32).map_err(|f| f.to_string()),
                ctx,
            }
        })
        .collect())
}

/// The totals of a batch.
#[derive(Clone, Debug, Default)]
pub struct TraceSummary {
    /// Cases generated.
    pub cases: u64,
    /// Events compared.
    pub compared: u64,
    /// Each divergence: case seed, event and both runs.
    pub divergences: Vec<String>,
}

/// Runs `count` cases of `kind` (case `i` from seed `seed + i`) on
/// `reference` and `target`; `progress` is called once per case.
pub fn run_trace_batch(
    kind: TraceKind,
    seed: u64,
    count: u64,
    reference: &dyn Engine,
    target: &dyn Engine,
    progress: &dyn Fn(),
) -> TraceSummary {
    let mut s = TraceSummary::default();
    for i in 0..count {
        let case_seed = seed.wrapping_add(i);
        let case = generate_trace(case_seed, kind);
        s.cases += 1;
        compare_case(&case, case_seed, reference, target, &mut s);
        progress();
    }
    s
}

fn compare_case(
    case: &TraceCase,
    seed: u64,
    reference: &dyn Engine,
    target: &dyn Engine,
    s: &mut TraceSummary,
) {
    let runs = (
        run_on(reference, case.kind, &case.insns, &case.events),
        run_on(target, case.kind, &case.insns, &case.events),
    );
    let (a, b) = match runs {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            s.divergences.push(format!(
                "case seed {seed} ({:?}): {} {:?}, {} {:?}",
                case.kind,
                reference.name(),
                a.err(),
                target.name(),
                b.err()
            ));
            return;
        }
    };
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        s.compared += 1;
        if x != y {
            s.divergences.push(format!(
                "case seed {seed} ({:?}), event {i}: {} and {} differ\n  {}: {x}\n  {}: {y}",
                case.kind,
                reference.name(),
                target.name(),
                reference.name(),
                target.name()
            ));
        }
    }
}
