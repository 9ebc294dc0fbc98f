//! `cranebpf-bench`: the benchmark suite (also `cranebpf bench`). Times every
//! C workload (`name-cpu`, e.g. `crc32-v3`) on every engine and prints one
//! Markdown table, a summary matrix and the compile-latency table; writes the
//! SVG chart. Build with `--release` (and `--features peers` for rbpf's
//! Cranelift JIT and solana-sbpf).

use cranebpf_benches::compile::{compile_table, run_compile};
use cranebpf_benches::engines::engines;
use cranebpf_benches::timing::{json, run_all, shown_name, summary, table, TimingConfig};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage: cranebpf-bench [--quick] [--filter A,B] [--svg PATH] [--json PATH] [--no-compile] [--no-run]

  --quick        5 samples of ~20 ms per cell (default: 15 of ~100 ms)
  --filter A,B   only workloads whose name-cpu (e.g. crc32-v3) contains every part
  --svg PATH     where to write the chart (default: bench.svg)
  --json PATH    also write every cell as JSON lines
  --no-compile   skip the compile-latency table
  --no-run       skip the run-time table (and the chart)";

fn main() -> ExitCode {
    let mut cfg = TimingConfig::full();
    let mut quick = false;
    let mut filter = None;
    let mut svg = PathBuf::from("bench.svg");
    let mut json_path = None;
    let (mut compile, mut run) = (true, true);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let r = match a.as_str() {
            "--quick" => {
                cfg = TimingConfig::quick();
                quick = true;
                Ok(())
            }
            "--filter" => value("--filter").map(|v| filter = Some(v)),
            "--svg" => value("--svg").map(|v| svg = v.into()),
            "--json" => value("--json").map(|v| json_path = Some(PathBuf::from(v))),
            "--no-compile" => {
                compile = false;
                Ok(())
            }
            "--no-run" => {
                run = false;
                Ok(())
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            other => Err(format!("unknown argument {other:?}")),
        };
        if let Err(e) = r {
            eprintln!("cranebpf-bench: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    }
    if cfg!(debug_assertions) {
        eprintln!("cranebpf-bench: debug build; timings are meaningless (use --release)");
    }
    println!("Engines:\n");
    for e in engines() {
        println!("- `{}`: {}", shown_name(e), e.about);
    }
    println!("\n† no memory safety checks (unsafe for untrusted programs).\n");
    if run {
        let cells = run_all(filter.as_deref(), &cfg, &mut |c| {
            eprint!("\r{}-{} {:<20}", c.workload, c.cpu.name(), c.engine.name);
        });
        eprintln!();
        println!("## Run time\n");
        print!("{}", table(&cells));
        println!("\n## Relative to native (run time ÷ native run time)\n");
        print!("{}", summary(&cells));
        let title = format!(
            "cranebpf bench{}: run time relative to native",
            if quick { " --quick" } else { "" }
        );
        if let Err(e) = std::fs::write(&svg, cranebpf_benches::chart::svg(&cells, &title)) {
            eprintln!("cranebpf-bench: cannot write {}: {e}", svg.display());
            return ExitCode::FAILURE;
        }
        eprintln!("cranebpf-bench: chart written to {}", svg.display());
        if let Some(p) = &json_path {
            if let Err(e) = std::fs::write(p, json(&cells)) {
                eprintln!("cranebpf-bench: cannot write {}: {e}", p.display());
                return ExitCode::FAILURE;
            }
        }
    }
    if compile {
        let rows = run_compile(filter.as_deref(), quick, &mut |r| {
            eprint!("\rcompile {} {:<20}", r.program, r.engine.name);
        });
        eprintln!();
        println!("\n## Compile latency and code size\n");
        print!("{}", compile_table(&rows));
    }
    ExitCode::SUCCESS
}
