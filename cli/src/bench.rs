//! `cranebpf bench`: the benchmark suite of `cranebpf-benches`
//! ([`cranebpf_benches::suite`]), in-process. Built only with the `bench`
//! feature (`peers` adds rbpf's Cranelift JIT and solana-sbpf); without it
//! the command says how to enable it.

use crate::output::OutputArg;
use crate::CliError;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `cranebpf bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// 5 samples of ~20 ms per cell instead of 15 of ~100 ms.
    #[arg(long)]
    quick: bool,
    /// Only workloads whose `name-cpu` (e.g. `crc32-v3`) contains every
    /// comma-separated part.
    #[arg(long)]
    filter: Option<String>,
    /// Where to write the chart.
    #[arg(long, default_value = "bench.svg")]
    svg: PathBuf,
    /// Also write every measured cell as JSON lines.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Skip the compile-latency table.
    #[arg(long)]
    no_compile: bool,
    /// Skip the run-time table (and the chart).
    #[arg(long)]
    no_run: bool,
    #[command(flatten)]
    pub out: OutputArg,
}

/// Runs `cranebpf bench`.
#[cfg(feature = "bench")]
pub fn run(args: BenchArgs) -> Result<ExitCode, CliError> {
    let opts = cranebpf_benches::suite::SuiteOptions {
        quick: args.quick,
        filter: args.filter,
        svg: args.svg,
        json: args.json,
        compile: !args.no_compile,
        run: !args.no_run,
    };
    if args.out.json() {
        json::run(&opts);
    } else {
        cranebpf_benches::suite::run(&opts)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Without the `bench` feature: how to get a `cranebpf` that has it.
#[cfg(not(feature = "bench"))]
pub fn run(_args: BenchArgs) -> Result<ExitCode, CliError> {
    Err(CliError(
        "this cranebpf was built without the benchmark suite; rebuild it with \
         `--features peers` (all engines of BENCHMARKS.md) or `--features bench` \
         (without rbpf's Cranelift JIT and solana-sbpf), e.g. \
         `cargo install --path cli --features peers`"
            .into(),
    ))
}

/// `cranebpf bench --output json` (docs/json.md): the same measurements
/// as the tables, every cell with its figures or why it did not run.
#[cfg(feature = "bench")]
mod json {
    use cranebpf_benches::compile::{run_compile, CompileRow};
    use cranebpf_benches::engines::{engines, EngineSpec, Kind};
    use cranebpf_benches::suite::SuiteOptions;
    use cranebpf_benches::timing::{run_all, Cell, TimingConfig};
    use serde::Serialize;

    #[derive(Serialize)]
    struct BenchJson {
        quick: bool,
        filter: Option<String>,
        /// `debug` or `release`: debug timings mean nothing.
        build: &'static str,
        engines: Vec<EngineJson>,
        /// Run time per cell (null with --no-run).
        run: Option<Vec<CellJson>>,
        /// Compile latency per program and JIT (null with --no-compile).
        compile: Option<Vec<CompileJson>>,
    }

    #[derive(Serialize)]
    struct EngineJson {
        name: &'static str,
        /// `interpreter`, `jit` or `native`.
        kind: &'static str,
        peer: bool,
        unchecked: bool,
        about: &'static str,
    }

    #[derive(Serialize)]
    struct CellJson {
        workload: &'static str,
        cpu: &'static str,
        engine: &'static str,
        /// eBPF instructions per call (0 if unknown).
        instructions: u64,
        median_ns: Option<f64>,
        min_ns: Option<f64>,
        max_ns: Option<f64>,
        /// Why the engine did not run the cell.
        error: Option<String>,
    }

    #[derive(Serialize)]
    struct CompileJson {
        program: String,
        slots: usize,
        engine: &'static str,
        prepare_ns: Option<f64>,
        code_bytes: Option<usize>,
        error: Option<String>,
    }

    fn kind(e: &EngineSpec) -> &'static str {
        match e.kind {
            Kind::Interpreter => "interpreter",
            Kind::Jit => "jit",
            Kind::Native => "native",
        }
    }

    fn cell(c: &Cell) -> CellJson {
        let m = c.result.as_ref().ok();
        CellJson {
            workload: c.workload,
            cpu: c.cpu.name(),
            engine: c.engine.name,
            instructions: c.insns,
            median_ns: m.map(|m| m.median_ns),
            min_ns: m.map(|m| m.min_ns),
            max_ns: m.map(|m| m.max_ns),
            error: c.result.as_ref().err().cloned(),
        }
    }

    fn compile_row(r: &CompileRow) -> CompileJson {
        let ok = r.result.as_ref().ok();
        CompileJson {
            program: r.program.clone(),
            slots: r.slots,
            engine: r.engine.name,
            prepare_ns: ok.map(|(ns, _)| *ns),
            code_bytes: ok.and_then(|(_, size)| *size),
            error: r.result.as_ref().err().cloned(),
        }
    }

    /// Measures what `opts` asks for and prints the document.
    pub fn run(opts: &SuiteOptions) {
        let cfg = if opts.quick {
            TimingConfig::quick()
        } else {
            TimingConfig::full()
        };
        let filter = opts.filter.as_deref();
        let run = opts.run.then(|| {
            run_all(filter, &cfg, &mut |_| {})
                .iter()
                .map(cell)
                .collect()
        });
        let compile = opts.compile.then(|| {
            run_compile(filter, opts.quick, &mut |_| {})
                .iter()
                .map(compile_row)
                .collect()
        });
        let doc = BenchJson {
            quick: opts.quick,
            filter: opts.filter.clone(),
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
            engines: engines()
                .map(|e| EngineJson {
                    name: e.name,
                    kind: kind(e),
                    peer: e.peer,
                    unchecked: e.unchecked,
                    about: e.about,
                })
                .collect(),
            run,
            compile,
        };
        crate::output::print_json("bench", &doc);
    }
}
