//! `cranebpf bench`: the benchmark suite of `cranebpf-benches`
//! ([`cranebpf_benches::suite`]), in-process. Built only with the `bench`
//! feature (`peers` adds rbpf's Cranelift JIT and solana-sbpf); without it
//! the command says how to enable it.

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
    cranebpf_benches::suite::run(&opts)?;
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
