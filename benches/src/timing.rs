//! Fixed-iteration timing of every C workload on every engine, and the
//! tables the `cranebpf-bench` binary prints (a complement to the criterion
//! benches: same workloads and engines, one process, one table).

use crate::c_workloads::{Cpu, C_WORKLOADS};
use crate::engines::{engines, EngineSpec, Exec, Kind, Prepared};
use std::time::{Duration, Instant};

/// How long to measure.
#[derive(Clone, Copy, Debug)]
pub struct TimingConfig {
    /// Samples per cell; the median is reported.
    pub samples: usize,
    /// Target wall time of one sample (calls per sample are chosen from a
    /// first, warm-up call).
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
    pub engine: &'static EngineSpec,
    /// The timing, or why the engine did not run it.
    pub result: Result<Measured, String>,
    /// eBPF instructions per call (cranebpf interpreter's count; 0 if
    /// unknown).
    pub insns: u64,
}

/// Timing of one cell.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Median over samples of ns per call.
    pub median_ns: f64,
    /// Fastest sample's ns per call.
    pub min_ns: f64,
    /// Slowest sample's ns per call.
    pub max_ns: f64,
}

/// One engine's prepared program in a cell, while the cell is measured.
struct Running {
    exec: Box<dyn Exec>,
    input: Vec<u8>,
    calls: u64,
    per_call: Vec<f64>,
}

impl Running {
    /// Runs once (warm-up) and picks the calls per sample from its time.
    fn new(exec: Box<dyn Exec>, mut input: Vec<u8>, cfg: &TimingConfig) -> Result<Running, String> {
        let mut exec = exec;
        let t = Instant::now();
        exec.run(&mut input)?;
        let one = t.elapsed().max(Duration::from_nanos(1));
        let calls = (cfg.sample_time.as_nanos() / one.as_nanos()).clamp(1, 1_000_000) as u64;
        Ok(Running {
            exec,
            input,
            calls,
            per_call: Vec::with_capacity(cfg.samples),
        })
    }

    fn sample(&mut self) -> Result<(), String> {
        let t = Instant::now();
        for _ in 0..self.calls {
            std::hint::black_box(self.exec.run(std::hint::black_box(&mut self.input))?);
        }
        self.per_call
            .push(t.elapsed().as_nanos() as f64 / self.calls as f64);
        Ok(())
    }

    fn measured(mut self) -> Measured {
        self.per_call.sort_by(f64::total_cmp);
        let n = self.per_call.len();
        Measured {
            median_ns: self.per_call[n / 2],
            min_ns: self.per_call[0],
            max_ns: self.per_call[n - 1],
        }
    }
}

/// Whether `workload-cpu` (e.g. `crc32-v3`) is selected by `filter`: every
/// comma-separated part must occur in it (all when `None`).
pub fn selected(id: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|f| f.split(',').all(|part| id.contains(part.trim())))
}

/// Times every workload selected by `filter` (see [`selected`]) on every
/// engine, calling `progress` after each cell. Every engine's r0 is checked
/// against native's first: a mismatch is reported in the cell instead of a
/// time. The engines of one workload are sampled in turn (sample 1 of every
/// engine, then sample 2, ...), so a change of machine load during the cell
/// hits them all alike and the ratios stay comparable. Each engine has its
/// own copy of the input, rebuilt before it starts.
pub fn run_all(
    filter: Option<&str>,
    cfg: &TimingConfig,
    progress: &mut dyn FnMut(&Cell),
) -> Vec<Cell> {
    let mut cells = Vec::new();
    for w in &C_WORKLOADS {
        for cpu in Cpu::ALL {
            let id = format!("{}-{}", w.name, cpu.name());
            if !selected(&id, filter) {
                continue;
            }
            let prepared = Prepared::new(w, cpu);
            let insns = prepared
                .as_ref()
                .ok()
                .and_then(|p| p.insn_count(&mut (w.input)()).ok())
                .map_or(0, |(n, _)| n);
            let expect = w.run_native(&mut (w.input)());
            let mut running: Vec<(&'static EngineSpec, Result<Running, String>)> = engines()
                .map(|engine| {
                    let r = prepared.as_ref().map_err(|e| e.clone()).and_then(|p| {
                        let input = (w.input)();
                        let mut exec = engine.prepare(&p.subject(input.len()))?;
                        let got = exec.run(&mut (w.input)())?;
                        if got != expect {
                            return Err(format!("wrong r0 {got:#x} (native {expect:#x})"));
                        }
                        Running::new(exec, input, cfg)
                    });
                    (engine, r)
                })
                .collect();
            for _ in 0..cfg.samples.max(1) {
                for (_, r) in running.iter_mut() {
                    if let Ok(run) = r {
                        if let Err(e) = run.sample() {
                            *r = Err(e);
                        }
                    }
                }
            }
            for (engine, r) in running {
                let cell = Cell {
                    workload: w.name,
                    cpu,
                    engine,
                    result: r.map(Running::measured),
                    insns,
                };
                progress(&cell);
                cells.push(cell);
            }
        }
    }
    cells
}

fn median_of(
    cells: &[Cell],
    workload: &str,
    cpu: Cpu,
    pick: impl Fn(&EngineSpec) -> bool,
) -> Option<f64> {
    cells
        .iter()
        .filter(|e| e.workload == workload && e.cpu == cpu && pick(e.engine))
        .filter_map(|e| e.result.as_ref().ok().map(|m| m.median_ns))
        .min_by(f64::total_cmp)
}

/// Native's median for the cell's workload and ISA level.
pub fn native_ns(cells: &[Cell], c: &Cell) -> Option<f64> {
    median_of(cells, c.workload, c.cpu, |e| e.kind == Kind::Native)
}

/// The fastest peer of the same kind (interpreter or JIT) and the same
/// safety (memory-checked or not) as `c`'s engine: a checked JIT is compared
/// with checked JITs, an unchecked one with unchecked ones.
pub fn best_peer_ns(cells: &[Cell], c: &Cell) -> Option<f64> {
    median_of(cells, c.workload, c.cpu, |e| {
        e.peer && e.kind == c.engine.kind && e.unchecked == c.engine.unchecked
    })
}

/// An engine's name as the tables show it: unchecked engines (no memory
/// safety) carry a dagger.
pub fn shown_name(e: &EngineSpec) -> String {
    if e.unchecked && e.kind != Kind::Native {
        format!("{}†", e.name)
    } else {
        e.name.to_string()
    }
}

/// The long table as Markdown: per workload, ISA level and engine, median
/// µs per call (min–max over samples), ns per eBPF instruction, ratio to
/// native and to the best peer of the same kind and safety (see
/// [`best_peer_ns`]; < 1 = faster than every such peer).
pub fn table(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| workload | cpu | insns/call | engine | µs/call (median) | spread (min–max) | ns/insn | × native | × best peer |\n|---|---|---:|---|---:|---:|---:|---:|---:|\n",
    );
    for c in cells {
        let head = format!(
            "| {} | {} | {} | {} ",
            c.workload,
            c.cpu.name(),
            c.insns,
            shown_name(c.engine)
        );
        match &c.result {
            Ok(m) => {
                let ratio = |base: Option<f64>| {
                    base.map_or("–".to_string(), |b| format!("{:.2}", m.median_ns / b))
                };
                let peer_ratio = if c.engine.kind == Kind::Native || c.engine.peer {
                    "–".to_string()
                } else {
                    ratio(best_peer_ns(cells, c))
                };
                let per_insn = if c.insns > 0 {
                    format!("{:.2}", m.median_ns / c.insns as f64)
                } else {
                    "–".into()
                };
                s.push_str(&format!(
                    "{head}| {} | {}–{} | {per_insn} | {} | {peer_ratio} |\n",
                    us(m.median_ns),
                    us(m.min_ns),
                    us(m.max_ns),
                    ratio(native_ns(cells, c)),
                ));
            }
            Err(e) => {
                let e: String = e.chars().take(70).collect::<String>().replace('|', "/");
                s.push_str(&format!("{head}| not run: {e} | | | | |\n"));
            }
        }
    }
    s
}

/// µs with 3 significant digits.
fn us(ns: f64) -> String {
    let u = ns / 1e3;
    if u >= 100.0 {
        format!("{u:.0}")
    } else if u >= 10.0 {
        format!("{u:.1}")
    } else {
        format!("{u:.2}")
    }
}

/// The summary matrix: one row per workload and ISA level, one column per
/// engine, each cell the ratio to native ("–" when the engine did not run
/// it).
pub fn summary(cells: &[Cell]) -> String {
    let engines: Vec<&EngineSpec> = engines().filter(|e| e.kind != Kind::Native).collect();
    let mut s = String::from("| workload | native µs |");
    for e in &engines {
        s.push_str(&format!(" {} |", shown_name(e)));
    }
    s.push_str("\n|---|---:|");
    s.push_str(&"---:|".repeat(engines.len()));
    s.push('\n');
    let mut rows: Vec<(&str, Cpu)> = Vec::new();
    for c in cells {
        if !rows.contains(&(c.workload, c.cpu)) {
            rows.push((c.workload, c.cpu));
        }
    }
    for (w, cpu) in rows {
        let native = median_of(cells, w, cpu, |e| e.kind == Kind::Native);
        s.push_str(&format!(
            "| {w}-{} | {} |",
            cpu.name(),
            native.map_or("–".to_string(), us)
        ));
        for e in &engines {
            let v = median_of(cells, w, cpu, |x| std::ptr::eq(x, *e));
            match (v, native) {
                (Some(v), Some(n)) => s.push_str(&format!(" {:.2} |", v / n)),
                _ => s.push_str(" – |"),
            }
        }
        s.push('\n');
    }
    s
}

/// Cells as JSON lines (one object per cell), for scripts.
pub fn json(cells: &[Cell]) -> String {
    let mut s = String::new();
    for c in cells {
        let (median, min, max, err) = match &c.result {
            Ok(m) => (
                format!("{:.1}", m.median_ns),
                format!("{:.1}", m.min_ns),
                format!("{:.1}", m.max_ns),
                "null".to_string(),
            ),
            Err(e) => (
                "null".into(),
                "null".into(),
                "null".into(),
                format!(
                    "\"{}\"",
                    e.replace('\\', "\\\\")
                        .replace('"', "\\\"")
                        .replace(|c: char| c.is_control(), " ")
                ),
            ),
        };
        s.push_str(&format!(
            "{{\"workload\":\"{}\",\"cpu\":\"{}\",\"engine\":\"{}\",\"insns\":{},\"median_ns\":{median},\"min_ns\":{min},\"max_ns\":{max},\"error\":{err}}}\n",
            c.workload,
            c.cpu.name(),
            c.engine.name,
            c.insns
        ));
    }
    s
}
