//! The `difftest` command line: generated-program batches with a progress
//! bar and a summary, printing generated cases, and reproducing reports.
//!
//! The `cranebpf-difftest` binary is [`main_with`], and `cranebpf difftest`
//! embeds [`Cmd`] and calls the same function in-process; [`DifftestArgs`]
//! and [`run_difftest`] are the batch subcommand alone.

use crate::batch::{run_batch, BatchConfig, Shard, Summary};
use crate::case::{parse_hex, Case};
use crate::engine::{compare, Engine};
use crate::gen::{generate, GenConfig};
use clap::{Args, Parser, Subcommand, ValueEnum};
use cranebpf::{
    EngineKind, FastInterpreterEngine, InterpreterEngine, JitEngine, JitOptions, PlantedBug,
    VerifyMode,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// An engine the command line can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineChoice {
    /// The reference interpreter.
    Interp,
    /// The interpreter's fast tier (a run against `interp` with no
    /// `--engine` checks it besides `--target`).
    InterpFast,
    /// The Cranelift JIT.
    Jit,
    /// The JIT dropping the checks the static proof covers
    /// (`VerifyMode::Elide`).
    JitElide,
    /// The JIT in `elide` mode with every dropped check audited: a wrong
    /// proof shows as a proof-violation fault.
    JitElideAudit,
    /// The JIT with every function lowered with its registers in a stack
    /// slot (`JitOptions::registers_in_memory_above` 0), the lowering of
    /// functions past `FAST_TIER_MAX_BLOCKS`.
    JitRegistersInMemory,
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

/// How to reach the engines named with `--engine`.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// Arguments for a plugin, after the memory argument.
    pub plugin_args: Vec<String>,
    /// How long a plugin process may run on one case.
    pub plugin_timeout: std::time::Duration,
}

/// The names `--engine` takes besides `plugin:PATH` and the choices of
/// [`EngineChoice`]: the in-process peers (with the `peers` feature), and
/// `peers` for all of them.
pub fn peer_names() -> Vec<&'static str> {
    #[cfg(feature = "peers-light")]
    {
        cranebpf_peers::NAMES
            .iter()
            .copied()
            .filter(|n| cranebpf_peers::engine(n).is_some())
            .collect()
    }
    #[cfg(not(feature = "peers-light"))]
    {
        Vec::new()
    }
}

/// The engines `spec` names: `interp`, `jit`, `mutant-mov32`,
/// `mutant-jmp32`, a peer (`rbpf-interp`, ... with the `peers` feature),
/// `peers` (every peer built in), or `plugin:PATH` (a bpf_conformance
/// plugin, run with `opts`).
pub fn engines_named(spec: &str, opts: &EngineOptions) -> Result<Vec<Box<dyn Engine>>, String> {
    if let Some(path) = spec.strip_prefix("plugin:") {
        return Ok(vec![Box::new(crate::plugin::PluginEngine::new(
            path,
            opts.plugin_args.clone(),
            opts.plugin_timeout,
        ))]);
    }
    if let Ok(choice) = EngineChoice::from_str(spec, true) {
        return Ok(vec![engine(choice)?]);
    }
    #[cfg(feature = "peers-light")]
    {
        if spec == "peers" {
            return Ok(cranebpf_peers::engines());
        }
        if let Some(e) = cranebpf_peers::engine(spec) {
            return Ok(vec![e]);
        }
    }
    let peers = if cfg!(feature = "peers-light") {
        format!("{}, peers", peer_names().join(", "))
    } else {
        "rbpf-interp, ... (with the `peers` cargo feature)".to_string()
    };
    Err(format!(
        "--engine {spec}: unknown engine; expected interp, interp-fast, jit, mutant-mov32, mutant-jmp32, \
         {peers}, or plugin:PATH"
    ))
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
        EngineChoice::InterpFast => Box::new(FastInterpreterEngine),
        EngineChoice::Jit => Box::new(EngineKind::Jit),
        EngineChoice::JitElide => Box::new(elide_engine(false)),
        EngineChoice::JitElideAudit => Box::new(elide_engine(true)),
        EngineChoice::JitRegistersInMemory => Box::new(registers_in_memory_engine()),
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

/// The JIT with every function in the fast tier and its registers in a
/// stack slot (named `jit-registers-in-memory`).
pub fn registers_in_memory_engine() -> JitEngine {
    let mut options = JitOptions::default();
    options.fast_tier_above = 0;
    options.registers_in_memory_above = 0;
    JitEngine {
        options,
        name: Some("jit-registers-in-memory"),
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
    /// The engine under test (with the reference `interp` and the target
    /// `jit`, the fast tier `interp-fast` is checked as well).
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    pub target: EngineChoice,
    /// Engines under test instead of --target (repeatable): interp, jit,
    /// mutant-*, a peer (rbpf-interp, rbpf-jit, rbpf-cranelift, sbpf-interp,
    /// sbpf-jit; `peers` for all; cargo feature `peers`), or plugin:PATH
    /// for a bpf_conformance plugin. Each runs the batch against the
    /// reference, inside its profile; a table of distinct bug classes ends
    /// the run.
    #[arg(long = "engine", value_name = "NAME")]
    pub engines: Vec<String>,
    /// An argument for a plugin engine, after the memory (repeatable; e.g. `--jit`).
    #[arg(long = "plugin-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub plugin_args: Vec<String>,
    /// Milliseconds a plugin may run on one case before it is killed.
    #[arg(long, default_value_t = 5000)]
    pub plugin_timeout_ms: u64,
    /// Run part I of N of the batch (cases whose index is I modulo N);
    /// the parts' summaries add up to the batch's.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
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

/// What a batch command line asks for: the reference, the engines under
/// test and the batch (built once, for the text run and for callers that
/// print the summaries their own way, such as `cranebpf difftest run
/// --output json`).
pub struct Plan {
    /// The reference engine.
    pub reference: Box<dyn Engine>,
    /// The engines under test, each run against the reference.
    pub targets: Vec<Box<dyn Engine>>,
    /// The batch.
    pub cfg: BatchConfig,
}

fn try_run(args: &DifftestArgs) -> Result<Summary, String> {
    let Plan {
        reference,
        targets,
        cfg,
    } = plan(args)?;
    let mut rows = Vec::new();
    let mut total = Summary::default();
    for target in &targets {
        let summary = run_one(&*reference, &**target, &cfg, args)?;
        rows.push((target.name().to_string(), summary.clone()));
        total.merge(summary);
    }
    if targets.len() > 1 || !args.engines.is_empty() {
        print!("{}", class_table(reference.name(), &rows));
    }
    Ok(total)
}

/// The engines and the batch `args` name.
pub fn plan(args: &DifftestArgs) -> Result<Plan, String> {
    let reference = engine(args.reference)?;
    let opts = EngineOptions {
        plugin_args: args.plugin_args.clone(),
        plugin_timeout: std::time::Duration::from_millis(args.plugin_timeout_ms),
    };
    let (targets, gen): (Vec<Box<dyn Engine>>, GenConfig) = match args.oracle {
        Some(Oracle::Kernel) => {
            crate::kernel::available()
                .map_err(|e| format!("--oracle kernel: bpf() is not usable: {e}"))?;
            (vec![Box::new(crate::kernel::Kernel)], GenConfig::kernel())
        }
        None => {
            let gen = if args.kernel_subset {
                GenConfig::kernel()
            } else {
                GenConfig::default()
            };
            let targets = if args.engines.is_empty() {
                let mut v = vec![engine(args.target)?];
                // The fast tier is checked against the reference on every
                // default run (interp against jit; not beside a mutant,
                // whose run is about that mutant alone).
                if args.reference == EngineChoice::Interp && args.target == EngineChoice::Jit {
                    v.push(engine(EngineChoice::InterpFast)?);
                }
                v
            } else {
                let mut v = Vec::new();
                for spec in &args.engines {
                    v.extend(engines_named(spec, &opts)?);
                }
                v
            };
            (targets, gen)
        }
    };
    let shard = match &args.shard {
        Some(s) => Shard::parse(s)?,
        None => Shard::default(),
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
        shard,
    };
    Ok(Plan {
        reference,
        targets,
        cfg,
    })
}

/// One engine's batch: progress, the reports (one per bug class), the
/// summary and the throughput.
fn run_one(
    reference: &dyn Engine,
    target: &dyn Engine,
    cfg: &BatchConfig,
    args: &DifftestArgs,
) -> Result<Summary, String> {
    let n = cfg.shard.len(cfg.count);
    let bar = progress_bar(n, args.no_progress);
    eprintln!(
        "difftest: {} programs (shard {}/{}), seed {}, {} vs {}, {} jobs",
        n,
        cfg.shard.index,
        cfg.shard.count,
        cfg.seed,
        reference.name(),
        target.name(),
        cfg.jobs
    );
    let summary = run_batch(reference, target, cfg, &|k| bar.inc(k));
    bar.finish_and_clear();
    let mut dir_index = 0;
    for (class, (count, r)) in summary.classes() {
        println!("{r}");
        if count > 1 {
            println!("  ({count} reports of this class; the first is shown)\n");
        }
        let _ = class;
        if let Some(dir) = &args.report_dir {
            let path = dir.join(format!("divergence-{dir_index}.s"));
            dir_index += 1;
            std::fs::create_dir_all(dir)
                .and_then(|()| std::fs::write(&path, r.case.asm()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    println!("engine:        {}", target.name());
    println!("{summary}");
    println!(
        "time:          {:.1} s ({:.0} programs/s)",
        summary.seconds,
        summary.programs as f64 / summary.seconds.max(1e-9)
    );
    Ok(summary)
}

/// The closing table: per engine, programs, throughput, divergences and
/// the distinct bug classes (with the minimised size of the first report).
pub fn class_table(reference: &str, rows: &[(String, Summary)]) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let _ = writeln!(
        t,
        "\n## Distinct bug classes per engine (reference: {reference})\n"
    );
    let _ = writeln!(
        t,
        "| engine | programs | programs/s | divergences | classes | class (RFC 9669 rule) | minimised to |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|---|---|");
    for (name, s) in rows {
        let classes = s.classes();
        let rate = s.programs as f64 / s.seconds.max(1e-9);
        let head = format!(
            "| {name} | {} | {rate:.0} | {} | {} |",
            s.programs,
            s.divergences,
            classes.len()
        );
        if classes.is_empty() {
            let _ = writeln!(t, "{head} — | — |");
        }
        for (i, (class, (_, r))) in classes.iter().enumerate() {
            let lead = if i == 0 {
                head.clone()
            } else {
                "| | | | | |".to_string()
            };
            let _ = writeln!(t, "{lead} {class} | {} insns |", r.case.insns.len());
        }
    }
    t
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
        /// The engine under test by name, instead of --target (see `run
        /// --engine`).
        #[arg(long = "engine", value_name = "NAME")]
        engine: Option<String>,
        /// An argument for a plugin engine (repeatable).
        #[arg(long = "plugin-arg", value_name = "ARG", allow_hyphen_values = true)]
        plugin_args: Vec<String>,
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
    /// Generated socket filters and tc classifiers, run as those program
    /// types (`__sk_buff` context, packet helpers) on the interpreter and
    /// the engine under test, and with --kernel in the Linux kernel too;
    /// compared per frame (return value, packet, written fields).
    Skb(SkbArgs),
    /// Generated tracing programs (kprobe `pt_regs`, and a context an
    /// embedder declares), fired on random events with probe reads of host
    /// memory, on the interpreter and the engine under test; compared per
    /// event (return value, context written back).
    Trace(TraceArgs),
}

/// The arguments of `trace`.
#[derive(Args, Clone, Debug)]
pub struct TraceArgs {
    /// Generated programs per context (each fires on several events).
    #[arg(long, default_value_t = 1000)]
    pub count: u64,
    /// Case `i` uses seed `seed + i`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The engine compared with the interpreter.
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    pub target: EngineChoice,
    /// Divergences printed in full (all are counted).
    #[arg(long, default_value_t = 5)]
    pub max_reports: usize,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Runs `trace`: exit 0 if the engines agree, 1 on a divergence, 2 on a
/// usage error.
pub fn run_trace(args: &TraceArgs) -> ExitCode {
    use crate::gen::trace::TraceKind;
    use crate::trace::run_trace_batch;
    let (reference, target) =
        match engine(EngineChoice::Interp).and_then(|r| Ok((r, engine(args.target)?))) {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    let mut diverged = false;
    for kind in [TraceKind::Kprobe, TraceKind::Event] {
        let bar = progress_bar(args.count, args.no_progress);
        let t0 = std::time::Instant::now();
        let s = run_trace_batch(kind, args.seed, args.count, &*reference, &*target, &|| {
            bar.inc(1)
        });
        bar.finish_and_clear();
        for d in s.divergences.iter().take(args.max_reports) {
            println!("{d}\n");
        }
        println!(
            "{kind:?}: {} programs, {} events {} vs {}, {} divergences ({:.1} s)",
            s.cases,
            s.compared,
            reference.name(),
            target.name(),
            s.divergences.len(),
            t0.elapsed().as_secs_f64()
        );
        diverged |= !s.divergences.is_empty();
    }
    if diverged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The program types `skb` generates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SkbChoice {
    /// Socket filters (`BPF_PROG_TYPE_SOCKET_FILTER`).
    Socket,
    /// tc classifiers (`BPF_PROG_TYPE_SCHED_CLS`).
    Tc,
    /// Both.
    All,
}

/// The arguments of `skb`.
#[derive(Args, Clone, Debug)]
pub struct SkbArgs {
    /// The program type.
    #[arg(long = "type", value_enum, default_value_t = SkbChoice::All)]
    pub prog_type: SkbChoice,
    /// Generated programs per type (each runs on several frames).
    #[arg(long, default_value_t = 500)]
    pub count: u64,
    /// Case `i` uses seed `seed + i`.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The engine compared with the interpreter.
    #[arg(long, value_enum, default_value_t = EngineChoice::Jit)]
    pub target: EngineChoice,
    /// Also compare the interpreter with the Linux kernel
    /// (`BPF_PROG_TEST_RUN`; needs root and `bpf()`).
    #[arg(long)]
    pub kernel: bool,
    /// Divergences printed in full (all are counted).
    #[arg(long, default_value_t = 5)]
    pub max_reports: usize,
    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Runs `skb`: exit 0 if everything agrees, 1 on a divergence, 2 on a
/// usage error (or --kernel where `bpf()` is unusable).
pub fn run_skb(args: &SkbArgs) -> ExitCode {
    use crate::skb::{kernel_available, run_skb_batch, SkbBatch};
    use cranebpf_runtime::ctx::SkbKind;
    if args.kernel {
        if let Err(why) = kernel_available() {
            eprintln!("error: --kernel: bpf() is not usable here: {why}");
            return ExitCode::from(2);
        }
    }
    let (reference, target) =
        match engine(EngineChoice::Interp).and_then(|r| Ok((r, engine(args.target)?))) {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    let kinds: &[SkbKind] = match args.prog_type {
        SkbChoice::Socket => &[SkbKind::SocketFilter],
        SkbChoice::Tc => &[SkbKind::SchedCls],
        SkbChoice::All => &[SkbKind::SocketFilter, SkbKind::SchedCls],
    };
    let mut diverged = false;
    for &kind in kinds {
        let bar = progress_bar(args.count, args.no_progress);
        let batch = SkbBatch {
            kind,
            seed: args.seed,
            count: args.count,
            reference: &*reference,
            target: &*target,
            kernel: args.kernel,
        };
        let t0 = std::time::Instant::now();
        let s = run_skb_batch(&batch, &|| bar.inc(1));
        bar.finish_and_clear();
        for d in s.divergences.iter().take(args.max_reports) {
            println!("{d}\n");
        }
        println!(
            "{kind:?}: {} programs, {} frame runs {} vs {}, {} kernel comparisons, {} refused by the kernel, {} divergences ({:.1} s)",
            s.cases,
            s.compared,
            reference.name(),
            target.name(),
            s.kernel_compared,
            s.kernel_refused,
            s.divergences.len(),
            t0.elapsed().as_secs_f64()
        );
        diverged |= !s.divergences.is_empty();
    }
    if diverged {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A progress bar over `n` items on stderr (hidden if `hidden`).
fn progress_bar(n: u64, hidden: bool) -> ProgressBar {
    let bar = ProgressBar::new(n);
    if hidden {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} ({rate}, eta {eta})",
    ) {
        bar.set_style(
            style.with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_fmt(format_args!("{:.0}/s", s.per_sec()));
            }),
        );
    }
    bar
}

/// Runs the `cranebpf-difftest` command line.
pub fn main_with(cli: Cli) -> ExitCode {
    match cli.cmd {
        Cmd::Run(args) => run_difftest(&args),
        Cmd::Skb(args) => run_skb(&args),
        Cmd::Trace(args) => run_trace(&args),
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
            engine: name,
            plugin_args,
            program,
            mem,
            budget,
            reference,
            target,
        } => match repro_engine(name.as_deref(), plugin_args, target)
            .and_then(|t| repro(&program, &mem, budget, reference, &*t))
        {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        },
    }
}

/// The engine `repro` tests: `--engine NAME`, else `--target`.
fn repro_engine(
    name: Option<&str>,
    plugin_args: Vec<String>,
    target: EngineChoice,
) -> Result<Box<dyn Engine>, String> {
    let Some(name) = name else {
        return engine(target);
    };
    let opts = EngineOptions {
        plugin_args,
        plugin_timeout: std::time::Duration::from_secs(5),
    };
    let mut v = engines_named(name, &opts)?;
    match v.len() {
        1 => Ok(v.remove(0)),
        _ => Err(format!("--engine {name}: repro takes one engine")),
    }
}

/// Runs one assembly program on two engines; `Ok(true)` if they agree.
fn repro(
    path: &std::path::Path,
    mem: &str,
    budget: u64,
    reference: EngineChoice,
    b: &dyn Engine,
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
    let a = engine(reference)?;
    let cmp = compare(&*a, b, &case);
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
