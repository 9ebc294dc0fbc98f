//! The benchmark suite as one call ([`run`]): what the `cranebpf-bench`
//! binary and `cranebpf bench` print. Times every C workload (`name-cpu`,
//! e.g. `crc32-v3`) on every engine and prints one Markdown table, a summary
//! matrix and the compile-latency table; writes the SVG chart. Everything it
//! runs is compiled in (the workloads are embedded), so it works from any
//! folder.

use crate::compile::{compile_table, run_compile};
use crate::engines::engines;
use crate::percall::{percall_table, run_percall};
use crate::timing::{json, run_all, shown_name, summary, table, TimingConfig};
use std::io::IsTerminal;
use std::path::PathBuf;

/// What to measure and where to write it.
#[derive(Clone, Debug)]
pub struct SuiteOptions {
    /// 5 samples of ~20 ms per cell instead of 15 of ~100 ms.
    pub quick: bool,
    /// Only workloads whose `name-cpu` contains every comma-separated part.
    pub filter: Option<String>,
    /// Where to write the chart.
    pub svg: PathBuf,
    /// Also write every measured cell as JSON lines here.
    pub json: Option<PathBuf>,
    /// Measure compile latency and code size.
    pub compile: bool,
    /// Measure run time (and draw the chart).
    pub run: bool,
}

impl Default for SuiteOptions {
    fn default() -> SuiteOptions {
        SuiteOptions {
            quick: false,
            filter: None,
            svg: PathBuf::from("bench.svg"),
            json: None,
            compile: true,
            run: true,
        }
    }
}

/// Runs the suite: tables on stdout, progress on stderr. The error is a
/// file that could not be written.
pub fn run(opts: &SuiteOptions) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("cranebpf bench: debug build; timings are meaningless (use --release)");
    }
    print_engines();
    if opts.run {
        percall_times(opts);
        run_times(opts)?;
    }
    if opts.compile {
        compile_times(opts);
    }
    Ok(())
}

fn print_engines() {
    println!("Engines:\n");
    for e in engines() {
        println!("- `{}`: {}", shown_name(e), e.about);
    }
    println!("\n† no memory safety checks (unsafe for untrusted programs).\n");
}

/// The run-time tables, the chart and the JSON cells.
fn run_times(opts: &SuiteOptions) -> Result<(), String> {
    let cfg = if opts.quick {
        TimingConfig::quick()
    } else {
        TimingConfig::full()
    };
    let tty = std::io::stderr().is_terminal();
    let cells = run_all(opts.filter.as_deref(), &cfg, &mut |c| {
        if tty {
            eprint!("\r{}-{} {:<20}", c.workload, c.cpu.name(), c.engine.name);
        }
    });
    if tty {
        eprintln!();
    }
    println!("## Run time\n");
    print!("{}", table(&cells));
    println!("\n## Relative to native (run time ÷ native run time)\n");
    print!("{}", summary(&cells));
    let title = format!(
        "cranebpf bench{}: run time relative to native",
        if opts.quick { " --quick" } else { "" }
    );
    std::fs::write(&opts.svg, crate::chart::svg(&cells, &title))
        .map_err(|e| format!("cannot write {}: {e}", opts.svg.display()))?;
    eprintln!("cranebpf bench: chart written to {}", opts.svg.display());
    if let Some(p) = &opts.json {
        std::fs::write(p, json(&cells))
            .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
    }
    Ok(())
}

/// The per-call table (the fixed cost of one run, with rbpf's).
fn percall_times(opts: &SuiteOptions) {
    let rows = run_percall(opts.quick);
    println!("## Per call: `mov r0, 1; exit`, best batch\n");
    print!("{}", percall_table(&rows));
    println!();
}

/// The compile-latency and code-size table.
fn compile_times(opts: &SuiteOptions) {
    let tty = std::io::stderr().is_terminal();
    let rows = run_compile(opts.filter.as_deref(), opts.quick, &mut |r| {
        if tty {
            eprint!("\rcompile {} {:<20}", r.program, r.engine.name);
        }
    });
    if tty {
        eprintln!();
    }
    println!("\n## Compile latency and code size\n");
    print!("{}", compile_table(&rows));
}
