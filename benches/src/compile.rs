//! Compile latency against program size, and machine code per instruction,
//! for every JIT in the suite: generated programs of 10 to 100 000
//! instructions ([`crate::synthetic`]) and the real workloads.

use crate::c_workloads::{Cpu, Needs, C_WORKLOADS};
use crate::engines::{engines, EngineSpec, Kind, Prepared, Subject};
use crate::timing::{selected, shown_name};
use std::time::{Duration, Instant};

/// Sizes of the generated programs.
pub const SIZES: [usize; 5] = [10, 100, 1_000, 10_000, 100_000];

/// One measured compile.
#[derive(Clone, Debug)]
pub struct CompileRow {
    /// `gen-<n>` or `<workload>-v3`.
    pub program: String,
    /// eBPF instruction slots.
    pub slots: usize,
    /// The JIT.
    pub engine: &'static EngineSpec,
    /// Median ns to prepare (verify and compile) and machine code bytes (if
    /// the engine says), or why it refused.
    pub result: Result<(f64, Option<usize>), String>,
}

fn generated(n: usize) -> Result<Vec<u8>, String> {
    let insns = cranebpf::asm::assemble(&crate::synthetic(n)).map_err(|e| e.to_string())?;
    let prog = cranebpf::Program::from_insns(&insns).map_err(|e| e.to_string())?;
    Ok(prog.to_bytes())
}

/// Prepares `s` once for `e`, catching a peer's panic as a refusal, and
/// returns the code size (if the engine says).
pub fn prepare_once(e: &EngineSpec, s: &Subject<'_>) -> Result<Option<usize>, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        e.prepare(s).map(|x| x.code_size())
    }))
    .map_err(|p| format!("panicked: {}", crate::engines::panic_message(&*p)))?
}

fn time_compile(
    e: &EngineSpec,
    s: &Subject<'_>,
    budget: Duration,
) -> Result<(f64, Option<usize>), String> {
    let mut times = Vec::new();
    let start = Instant::now();
    // At least one compile; more while the budget lasts (at most 25).
    let size = loop {
        let t = Instant::now();
        let size = prepare_once(e, s)?;
        times.push(t.elapsed().as_nanos() as f64);
        if times.len() >= 25 || start.elapsed() >= budget {
            break size;
        }
    };
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], size))
}

/// Measures every JIT on the generated programs and on every workload
/// selected by `filter` (at v3). `quick` spends less time per point.
pub fn run_compile(
    filter: Option<&str>,
    quick: bool,
    progress: &mut dyn FnMut(&CompileRow),
) -> Vec<CompileRow> {
    let budget = Duration::from_millis(if quick { 50 } else { 300 });
    let jits: Vec<&EngineSpec> = engines().filter(|e| e.kind == Kind::Jit).collect();
    let mut rows = Vec::new();
    let mut push = |rows: &mut Vec<CompileRow>, row: CompileRow| {
        progress(&row);
        rows.push(row);
    };
    for n in SIZES {
        let program = format!("gen-{n}");
        let code = generated(n);
        for &engine in &jits {
            let result = code.as_ref().map_err(|e| e.clone()).and_then(|b| {
                let s = Subject {
                    bytecode: b,
                    needs: Needs::Nothing,
                    loaded: None,
                    native: None,
                    input_len: 0,
                };
                time_compile(engine, &s, budget)
            });
            let slots = code.as_ref().map_or(0, |b| b.len() / 8);
            push(
                &mut rows,
                CompileRow {
                    program: program.clone(),
                    slots,
                    engine,
                    result,
                },
            );
        }
    }
    for w in &C_WORKLOADS {
        let cpu = Cpu::V3;
        let id = format!("{}-{}", w.name, cpu.name());
        if !selected(&id, filter) || w.name == "strcmp_late" {
            continue;
        }
        let prepared = Prepared::new(w, cpu);
        let input_len = (w.input)().len();
        for &engine in &jits {
            let (slots, result) = match &prepared {
                Ok(p) => {
                    let s = p.subject(input_len);
                    (s.bytecode.len() / 8, time_compile(engine, &s, budget))
                }
                Err(e) => (0, Err(e.clone())),
            };
            push(
                &mut rows,
                CompileRow {
                    program: id.clone(),
                    slots,
                    engine,
                    result,
                },
            );
        }
    }
    rows
}

/// The compile table as Markdown.
pub fn compile_table(rows: &[CompileRow]) -> String {
    let mut s = String::from(
        "| program | insns | engine | compile (median) | µs per 1 000 insns | code bytes | bytes/insn |\n|---|---:|---|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let head = format!("| {} | {} | {} ", r.program, r.slots, shown_name(r.engine));
        match &r.result {
            Ok((ns, size)) => {
                let t = if *ns >= 1e6 {
                    format!("{:.1} ms", ns / 1e6)
                } else {
                    format!("{:.0} µs", ns / 1e3)
                };
                let per_k = ns / 1e3 / r.slots.max(1) as f64 * 1000.0;
                let (bytes, per) = match size {
                    Some(b) => (
                        b.to_string(),
                        format!("{:.1}", *b as f64 / r.slots.max(1) as f64),
                    ),
                    None => ("–".into(), "–".into()),
                };
                s.push_str(&format!("{head}| {t} | {per_k:.0} | {bytes} | {per} |\n"));
            }
            Err(e) => {
                let e: String = e.chars().take(70).collect::<String>().replace('|', "/");
                s.push_str(&format!("{head}| not compiled: {e} | | | |\n"));
            }
        }
    }
    s
}
