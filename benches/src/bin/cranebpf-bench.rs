//! `cranebpf-bench`: the benchmark suite ([`cranebpf_benches::suite`], also
//! `cranebpf bench`). Build with `--release` (and `--features peers` for
//! rbpf's Cranelift JIT and solana-sbpf).

use cranebpf_benches::suite::{run, SuiteOptions};
use std::process::ExitCode;

const USAGE: &str = "usage: cranebpf-bench [--quick] [--filter A,B] [--svg PATH] [--json PATH] [--no-compile] [--no-run]

  --quick        5 samples of ~20 ms per cell (default: 15 of ~100 ms)
  --filter A,B   only workloads whose name-cpu (e.g. crc32-v3) contains every part
  --svg PATH     where to write the chart (default: bench.svg)
  --json PATH    also write every cell as JSON lines
  --no-compile   skip the compile-latency table
  --no-run       skip the run-time table (and the chart)";

/// What the command line asks for: options, or the usage text.
enum Parsed {
    Run(SuiteOptions),
    Help,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Parsed, String> {
    let mut opts = SuiteOptions::default();
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--quick" => opts.quick = true,
            "--filter" => opts.filter = Some(value("--filter")?),
            "--svg" => opts.svg = value("--svg")?.into(),
            "--json" => opts.json = Some(value("--json")?.into()),
            "--no-compile" => opts.compile = false,
            "--no-run" => opts.run = false,
            "-h" | "--help" => return Ok(Parsed::Help),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Parsed::Run(opts))
}

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok(Parsed::Help) => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Ok(Parsed::Run(opts)) => match run(&opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("cranebpf-bench: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("cranebpf-bench: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
