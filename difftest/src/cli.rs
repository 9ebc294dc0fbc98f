//! The `difftest` command line: generated-program batches with a progress
//! bar and a summary, printing generated cases, and reproducing reports.
//!
//! The `cranebpf-difftest` binary is [`main_with`], and `cranebpf difftest`
//! embeds [`Cmd`] and calls the same function in-process; [`DifftestArgs`]
//! and [`run_difftest`] are the batch subcommand alone.

use crate::batch::{run_batch, BatchConfig, Summary};
use crate::case::{parse_hex, Case};
use crate::engine::{compare, Engine};
use crate::gen::{generate, GenConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cranebpf::{EngineKind, InterpreterEngine, JitEngine, JitOptions, PlantedBug, VerifyMode};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// An engine the command line can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    /// The reference interpreter.
    Interp,
    /// The Cranelift JIT.
    Jit,
    /// The JIT dropping the checks the static proof covers
    /// (`VerifyMode::Elide`).
    JitElide,
    /// The JIT in `elide` mode with every dropped check audited: a wrong
    /// proof shows as a proof-violation fault.
    JitElideAudit,
    /// The JIT with a planted bug: `mov32` does not zero-extend (needs the
    /// `planted-bugs` feature).
    MutantMov32,
    /// The JIT with a planted bug: `jmp32` compares 64 bits (needs the
    /// `planted-bugs` feature).
    MutantJmp32,
    /// The JIT with a planted unsound proof rule (the frame rule forgets
    /// the access size), always audited (needs the `planted-bugs`
    /// feature).
    MutantFrameProof,
}

/// A third oracle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Oracle {
    /// The Linux kernel (`BPF_PROG_TEST_RUN`): the reference engine is
    /// compared with it on kernel-acceptable programs.
    Kernel,
}

/// The engine for a choice.
pub fn engine(choice: EngineChoice) -> Result<Box<dyn Engine>, String> {
    let planted = |bug: PlantedBug| {
        cranebpf::planted_bug_engine(bug).ok_or_else(|| {
            "the mutant engines need the `planted-bugs` feature \
             (cargo build -p cranebpf-difftest --features planted-bugs)"
                .to_string()
        })
    };
    Ok(match choice {
        EngineChoice::Interp => Box::new(InterpreterEngine),
        EngineChoice::Jit => Box::new(EngineKind::Jit),
        EngineChoice::JitElide => Box::new(elide_engine(false)),
        EngineChoice::JitElideAudit => Box::new(elide_engine(true)),
        EngineChoice::MutantMov32 => planted(PlantedBug::Mov32NoZeroExtend)?,
        EngineChoice::MutantJmp32 => planted(PlantedBug::Jmp32AsJmp64)?,
        EngineChoice::MutantFrameProof => planted(PlantedBug::FrameProofIgnoresSize)?,
    })
}

/// The JIT in `elide` mode, audited if `audit` (named `jit-elide` or
/// `jit-elide-audit`).
pub fn elide_engine(audit: bool) -> JitEngine {
    let mut options = JitOptions::default();
    options.verify = VerifyMode::Elide;
    options.audit = audit;
    JitEngine {
        options,
        name: Some(if audit {
            "jit-elide-audit"
        } else {
            "jit-elide"
        }),
    }
}

/// Options of a differential batch (`cranebpf-difftest run`).
#[derive(Args, Clone, Debug)]
pub struct DifftestArgs {
    /// Number of generated programs.
    #[arg(long, default_value_t = 10_000)]
    pub count: u64,
    /// Batch seed: the same seed generates the same programs.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The reference engine.
    #[arg(long, value_enum, default_value_t = EngineChoice::Interp)]
    pub reference: EngineChoice,
    /// The engine under test.
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    pub target: EngineChoice,
    /// Compare the reference with a third oracle instead of --target, on
    /// programs that oracle accepts.
    #[arg(long, value_enum)]
    pub oracle: Option<Oracle>,
    /// Generate only the kernel-acceptable subset.
    #[arg(long)]
    pub kernel_subset: bool,
    /// Worker threads (default: the number of CPUs).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Candidates tried when minimising a divergence.
    #[arg(long, default_value_t = 2000)]
    pub shrink_tries: usize,
    /// Divergences printed in full (all are counted).
    #[arg(long, default_value_t = 5)]
    pub max_reports: usize,
    /// Stop at the first divergence.
    #[arg(long)]
    pub stop_at_first: bool,
    /// Write each report's program to DIR/divergence-N.s.
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Runs a batch, prints the reports and the summary. Exit code 0 if the
/// engines agree on every program, 1 on any divergence, 2 on a usage error.
pub fn run_difftest(args: &DifftestArgs) -> ExitCode {
    match try_run(args) {
        Ok(s) if s.divergences == 0 => ExitCode::SUCCESS,
        Ok(_) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn try_run(args: &DifftestArgs) -> Result<Summary, String> {
    let reference = engine(args.reference)?;
    let (target, gen): (Box<dyn Engine>, GenConfig) = match args.oracle {
        Some(Oracle::Kernel) => {
            crate::kernel::available()
                .map_err(|e| format!("--oracle kernel: bpf() is not usable: {e}"))?;
            (Box::new(crate::kernel::Kernel), GenConfig::kernel())
        }
        None if args.kernel_subset => (engine(args.target)?, GenConfig::kernel()),
        None => (engine(args.target)?, GenConfig::default()),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cfg = BatchConfig {
        seed: args.seed,
        count: args.count,
        gen,
        shrink_tries: args.shrink_tries,
        max_reports: args.max_reports,
        stop_at_first: args.stop_at_first,
        jobs,
    };
    let bar = ProgressBar::new(args.count);
    if args.no_progress {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    eprintln!(
        "difftest: {} programs, seed {}, {} vs {}, {} jobs",
        args.count,
        args.seed,
        reference.name(),
        target.name(),
        jobs
    );
    let start = Instant::now();
    let summary = run_batch(&*reference, &*target, &cfg, &|n| bar.inc(n));
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    for (i, r) in summary.reports.iter().enumerate() {
        println!("{r}");
        if let Some(dir) = &args.report_dir {
            let path = dir.join(format!("divergence-{i}.s"));
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, r.case.asm()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    println!("{summary}");
    println!(
        "time:          {secs:.1} s ({:.0} programs/s)",
        summary.programs as f64 / secs.max(1e-9)
    );
    Ok(summary)
}

/// The `cranebpf-difftest` command line.
#[derive(Parser, Debug)]
#[command(
    name = "cranebpf-difftest",
    version,
    about = "Differential testing of cranebpf engines"
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The subcommands of `cranebpf-difftest` (and of `cranebpf difftest`).
#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run a batch of generated programs on two engines and compare.
    Run(DifftestArgs),
    /// Print the generated case of a seed: its program and input.
    Case {
        /// The case seed (a report's "case seed").
        #[arg(long)]
        seed: u64,
        /// The kernel-acceptable generator.
        #[arg(long)]
        kernel_subset: bool,
    },
    /// Run an assembly program with the difftest helpers on two engines and
    /// compare (what a report's "reproduce" line runs).
    Repro {
        /// Assembly file.
        program: PathBuf,
        /// Input bytes in hex.
        #[arg(long, default_value = "")]
        mem: String,
        /// Instruction budget.
        #[arg(long, default_value_t = 20_000)]
        budget: u64,
        /// The reference engine.
        #[arg(long, value_enum, default_value_t = EngineChoice::Interp)]
        reference: EngineChoice,
        /// The engine under test.
        #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
        target: EngineChoice,
    },
}

/// Runs the `cranebpf-difftest` command line.
pub fn main_with(cli: Cli) -> ExitCode {
    match cli.cmd {
        Cmd::Run(args) => run_difftest(&args),
        Cmd::Case {
            seed,
            kernel_subset,
        } => {
            let cfg = if kernel_subset {
                GenConfig::kernel()
            } else {
                GenConfig::default()
            };
            let case = generate(seed, &cfg);
            println!("# case seed {seed}, budget {}", case.budget);
            println!("# --mem \"{}\"", case.input_hex());
            print!("{}", case.asm());
            ExitCode::SUCCESS
        }
        Cmd::Repro {
            program,
            mem,
            budget,
            reference,
            target,
        } => match repro(&program, &mem, budget, reference, target) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// Runs one assembly program on two engines; `Ok(true)` if they agree.
fn repro(
    path: &std::path::Path,
    mem: &str,
    budget: u64,
    reference: EngineChoice,
    target: EngineChoice,
) -> Result<bool, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let insns =
        cranebpf_runtime::asm::assemble(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let input = parse_hex(mem)?;
    let case = Case {
        insns,
        input,
        budget,
        seed: 0,
    };
    let (a, b) = (engine(reference)?, engine(target)?);
    let cmp = compare(&*a, &*b, &case);
    match &cmp.a {
        Ok(s) => {
            match &s.result {
                Ok(v) => println!("{}: r0 = {v}", a.name()),
                Err(f) => println!("{}: {f}", a.name()),
            }
            println!("{}: instructions = {}", a.name(), s.insn_count);
        }
        Err(e) => println!("{}: {e}", a.name()),
    }
    if cmp.diffs.is_empty() {
        println!("engines agree: {} and {}", a.name(), b.name());
        Ok(true)
    } else {
        println!("ENGINES DIFFER:");
        for d in &cmp.diffs {
            println!("  {d}");
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_parses() {
        let cli = Cli::try_parse_from([
            "cranebpf-difftest",
            "run",
            "--count",
            "5",
            "--seed",
            "3",
            "--target",
            "mutant-mov32",
            "--no-progress",
        ])
        .unwrap();
        match cli.cmd {
            Cmd::Run(a) => {
                assert_eq!(
                    (a.count, a.seed, a.target),
                    (5, 3, EngineChoice::MutantMov32)
                );
                assert_eq!(try_run(&a).unwrap().programs, 5);
            }
            other => panic!("{other:?}"),
        }
    }
}
