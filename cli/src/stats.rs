//! `cranebpf run --stats`: what a program costs around its own work: the
//! time to prepare it (predecode or compile), the time from the start to
//! its first result, and the time of one call once it is prepared.

use cranebpf::{EngineKind, Helpers, Program, RunOptions, RunOutcome, Vm, VmError};
use std::time::{Duration, Instant};

/// Stop timing repeated calls after this long.
const PER_CALL_TIME: Duration = Duration::from_millis(100);

/// The figures `--stats` prints.
#[derive(Clone, Copy, Debug)]
pub struct Stats {
    /// `Vm::new`: predecoding or compiling.
    pub prepare: Duration,
    /// From before `Vm::new` to the end of the first run.
    pub first_result: Duration,
    /// Mean time of one further run.
    pub per_call: Duration,
    /// How many runs the mean is over.
    pub calls: u64,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "stats: prepare {}", human(self.prepare))?;
        writeln!(f, "stats: first result {}", human(self.first_result))?;
        write!(
            f,
            "stats: per call {} (mean of {} calls)",
            human(self.per_call),
            self.calls
        )
    }
}

/// A duration in ns, µs or ms, whichever reads best.
pub fn human(d: Duration) -> String {
    let ns = d.as_secs_f64() * 1e9;
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.1} us", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// Prepares `prog` and runs it once on `mem` (that outcome is the one to
/// report), then times further runs on a copy of the original input.
pub fn measure(
    prog: &Program,
    helpers: Helpers,
    engine: EngineKind,
    mem: &mut [u8],
    opts: &RunOptions,
) -> Result<(RunOutcome, Stats), VmError> {
    let original = mem.to_vec();
    let start = Instant::now();
    let vm = Vm::new(prog, helpers, engine)?;
    let prepare = start.elapsed();
    let out = vm.run_input(mem, opts);
    let first_result = start.elapsed();
    let (per_call, calls) = time_calls(&vm, original, opts);
    let stats = Stats {
        prepare,
        first_result,
        per_call,
        calls,
    };
    Ok((out, stats))
}

/// Runs `vm` in batches of doubling size until [`PER_CALL_TIME`] has
/// passed; returns the mean time per run and the number of runs.
fn time_calls(vm: &Vm, mut input: Vec<u8>, opts: &RunOptions) -> (Duration, u64) {
    let mut calls = 0u64;
    let mut spent = Duration::ZERO;
    let mut batch = 1u64;
    while spent < PER_CALL_TIME {
        let t = Instant::now();
        for _ in 0..batch {
            std::hint::black_box(vm.run_input(&mut input, opts).result.ok());
        }
        spent += t.elapsed();
        calls += batch;
        batch = batch.saturating_mul(2);
    }
    let per = spent.checked_div(u32::try_from(calls).unwrap_or(u32::MAX));
    (per.unwrap_or_default(), calls)
}
