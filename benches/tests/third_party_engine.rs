//! An engine defined outside the suite joins it through the one engine
//! trait: `EngineSpec::from_engine` + `register`, and the timing table then
//! has its row (a measured cell with the right r0 on a real workload).

use cranebpf_benches::engines::{engines, register, EngineSpec, Kind};
use cranebpf_benches::timing::{run_all, table, TimingConfig};
use cranebpf_runtime::engine::{Engine, PrepareError, Prepared};
use cranebpf_runtime::{Helpers, InterpreterEngine, Program};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Somebody's engine: the interpreter underneath, counting its prepares.
struct Theirs;

static PREPARED: AtomicU64 = AtomicU64::new(0);

impl Engine for Theirs {
    fn name(&self) -> &str {
        "their-engine"
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        PREPARED.fetch_add(1, Ordering::Relaxed);
        InterpreterEngine.prepare(program, helpers)
    }
}

#[test]
fn a_third_party_engine_joins_the_suite_and_gets_a_row() {
    let spec = register(
        EngineSpec::from_engine(Box::new(Theirs))
            .kind(Kind::Interpreter)
            .about("an engine from outside the suite"),
    );
    assert_eq!(spec.name, "their-engine");
    assert!(engines().any(|e| e.name == "their-engine"));
    let cfg = TimingConfig {
        samples: 1,
        sample_time: Duration::from_millis(1),
    };
    let cells = run_all(Some("crc32-v3"), &cfg, &mut |_| {});
    let ours = cells
        .iter()
        .find(|c| c.engine.name == "their-engine")
        .expect("a cell for the registered engine");
    let m = ours.result.as_ref().expect("it ran with native's r0");
    assert!(m.median_ns > 0.0);
    assert!(PREPARED.load(Ordering::Relaxed) >= 1);
    assert!(table(&cells).contains("their-engine"));
}
