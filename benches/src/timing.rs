//! Fixed-iteration timing of every C workload on every engine, and the
//! table the `cranebpf-bench` binary prints (a quick complement to the
//! criterion benches, same workloads and engines).

use crate::c_workloads::{Cpu, C_WORKLOADS};
use crate::engines::{insn_count, EngineKind, Runner};
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct TimingConfig {
    /// Samples per cell; the median is reported.
    pub samples: usize,
    /// Target wall time of one sample (calls per sample are chosen from a
    /// first timed call).
    pub sample_time: Duration,
}

impl TimingConfig {
    /// The default: 15 samples of 100 ms.
    pub fn full() -> TimingConfig {
        TimingConfig {
            samples: 15,
            sample_time: Duration::from_millis(100),
        }
    }

    /// `--quick`: 5 samples of 20 ms.
    pub fn quick() -> TimingConfig {
        TimingConfig {
            samples: 5,
            sample_time: Duration::from_millis(20),
        }
    }
}

/// One measured cell of the table.
#[derive(Clone, Debug)]
pub struct Cell {
    /// Workload name.
    pub workload: &'static str,
    /// ISA level.
    pub cpu: Cpu,
    /// Engine.
    pub engine: EngineKind,
    /// Median ns per call, or why the engine did not run it.
    pub result: Result<Measured, String>,
    /// eBPF instructions per call (cranebpf interpreter's count).
    pub insns: u64,
}

/// Timing of one cell.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Median ns per call.
    pub median_ns: f64,
    /// Smallest and largest per-sample ns per call.
    pub min_ns: f64,
    /// Largest per-sample ns per call.
    pub max_ns: f64,
}

fn measure(runner: &Runner, input: &mut [u8], cfg: &TimingConfig) -> Result<Measured, String> {
    let t = Instant::now();
    runner.run(input)?;
    let one = t.elapsed().max(Duration::from_nanos(1));
    let calls = (cfg.sample_time.as_nanos() / one.as_nanos()).clamp(1, 1_000_000) as u64;
    let mut per_call = Vec::with_capacity(cfg.samples);
    for _ in 0..cfg.samples.max(1) {
        let t = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(runner.run(std::hint::black_box(&mut *input))?);
        }
        per_call.push(t.elapsed().as_nanos() as f64 / calls as f64);
    }
    per_call.sort_by(f64::total_cmp);
    Ok(Measured {
        median_ns: per_call[per_call.len() / 2],
        min_ns: per_call[0],
        max_ns: per_call[per_call.len() - 1],
    })
}

/// Times every workload whose `name-cpu` contains `filter` (all when
/// `None`) on every engine. The input is rebuilt before each engine, so
/// workloads that write their input (memcpy) start from the same bytes.
pub fn run_all(filter: Option<&str>, cfg: &TimingConfig) -> Vec<Cell> {
    let mut cells = Vec::new();
    for w in &C_WORKLOADS {
        for cpu in Cpu::ALL {
            let id = format!("{}-{}", w.name, cpu.name());
            if filter.is_some_and(|f| !id.contains(f)) {
                continue;
            }
            let insns = insn_count(w, cpu, &mut (w.input)())
                .map(|(n, _)| n)
                .unwrap_or(0);
            for engine in EngineKind::ALL {
                let mut input = (w.input)();
                let result = Runner::new(w, cpu, engine, input.len())
                    .and_then(|r| measure(&r, &mut input, cfg));
                cells.push(Cell {
                    workload: w.name,
                    cpu,
                    engine,
                    result,
                    insns,
                });
            }
        }
    }
    cells
}

/// The table as Markdown: per workload and ISA level, per engine, median
/// µs per call (min-max), ns per eBPF instruction, ratio to native and to
/// the best peer of the same kind (interpreter vs interpreter, JIT vs JIT).
pub fn table(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| workload | cpu | insns/call | engine | µs/call (median) | spread (min–max) | ns/insn | × native | × best peer |\n|---|---|---:|---|---:|---:|---:|---:|---:|\n",
    );
    let ok = |c: &Cell| c.result.as_ref().ok().map(|m| m.median_ns);
    for c in cells {
        let same = |e: &Cell| e.workload == c.workload && e.cpu == c.cpu;
        let native = cells
            .iter()
            .filter(|e| same(e) && e.engine == EngineKind::Native)
            .find_map(ok);
        let peer = cells
            .iter()
            .filter(|e| {
                same(e)
                    && e.engine.is_peer()
                    && e.engine.is_interpreter() == c.engine.is_interpreter()
            })
            .filter_map(ok)
            .min_by(f64::total_cmp);
        let head = format!(
            "| {} | {} | {} | {} ",
            c.workload,
            c.cpu.name(),
            c.insns,
            c.engine.name()
        );
        match &c.result {
            Ok(m) => {
                let ratio = |base: Option<f64>| {
                    base.map_or("–".to_string(), |b| format!("{:.2}", m.median_ns / b))
                };
                let peer_ratio = if c.engine == EngineKind::Native {
                    "–".to_string()
                } else {
                    ratio(peer)
                };
                let per_insn = if c.insns > 0 {
                    format!("{:.2}", m.median_ns / c.insns as f64)
                } else {
                    "–".into()
                };
                s.push_str(&format!(
                    "{head}| {:.1} | {:.1}–{:.1} | {per_insn} | {} | {peer_ratio} |\n",
                    m.median_ns / 1e3,
                    m.min_ns / 1e3,
                    m.max_ns / 1e3,
                    ratio(native),
                ));
            }
            Err(e) => {
                let e: String = e.chars().take(60).collect::<String>().replace('|', "/");
                s.push_str(&format!("{head}| refused: {e} | | | | |\n"));
            }
        }
    }
    s
}
