//! A third-party engine joins the differential runs by implementing the
//! runtime's `Engine` and `Prepared` traits and nothing else: here a
//! wrapper, defined outside every cranebpf crate, that delegates to the
//! interpreter and counts its runs.

use cranebpf_difftest::batch::{run_batch, BatchConfig};
use cranebpf_runtime::engine::{Engine, PrepareError, Prepared};
use cranebpf_runtime::{
    Helpers, InterpreterEngine, MemoryMap, Program, RunOptions, RunOutcome, Stack,
};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// An engine of our own: the interpreter underneath, plus a run counter.
struct Counting {
    runs: Arc<AtomicU64>,
}

struct CountingProgram {
    inner: Box<dyn Prepared>,
    runs: Arc<AtomicU64>,
}

impl Engine for Counting {
    fn name(&self) -> &str {
        "counting"
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(CountingProgram {
            inner: InterpreterEngine.prepare(program, helpers)?,
            runs: Arc::clone(&self.runs),
        }))
    }
}

impl Prepared for CountingProgram {
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.runs.fetch_add(1, Ordering::Relaxed);
        self.inner.run(stack, mem, args, opts, user)
    }
}

#[test]
fn a_wrapper_engine_joins_a_differential_batch() {
    let runs = Arc::new(AtomicU64::new(0));
    let engine = Counting {
        runs: Arc::clone(&runs),
    };
    let cfg = BatchConfig {
        seed: 11,
        count: 100,
        ..BatchConfig::default()
    };
    let s = run_batch(&cranebpf::EngineKind::Jit, &engine, &cfg, &|_| ());
    assert_eq!(s.divergences, 0, "{s}");
    assert_eq!(s.programs, 100);
    assert!(runs.load(Ordering::Relaxed) >= 100, "the wrapper ran");
}
