//! `cranebpf difftest`: the differential tester of `cranebpf-difftest`
//! (`run`, `case`, `repro`), called in-process. With `--output json`,
//! `difftest run` prints its summaries as one document (docs/json.md).

use crate::output::{print_json, OutputArg};
use crate::CliError;
use clap::Args;
use cranebpf_difftest::batch::{run_batch, Report, Summary};
use cranebpf_difftest::cli::{main_with, plan, Cli, Cmd, DifftestArgs as RunArgs, Plan};
use serde::Serialize;
use std::process::ExitCode;

/// Options of `cranebpf difftest`: a `cranebpf-difftest` subcommand.
#[derive(Args)]
pub struct DifftestArgs {
    #[command(subcommand)]
    cmd: Cmd,
    #[command(flatten)]
    pub out: OutputArg,
}

/// Runs `cranebpf difftest`. In text mode it prints its own errors (once)
/// and returns the exit code of `cranebpf-difftest`: 0 if the engines
/// agree, 1 on a divergence, 2 on a usage error. In JSON mode the same
/// codes, and errors come back to be printed as JSON.
pub fn run(args: DifftestArgs) -> Result<ExitCode, CliError> {
    if !args.out.json() {
        return Ok(main_with(Cli { cmd: args.cmd }));
    }
    match &args.cmd {
        Cmd::Run(run) => run_json(run),
        _ => Err(CliError(
            "--output json is supported by `difftest run` only".into(),
        )),
    }
}

/// `difftest run --output json`: the batch against each engine, no
/// progress bar, one document.
fn run_json(args: &RunArgs) -> Result<ExitCode, CliError> {
    let Plan {
        reference,
        targets,
        cfg,
    } = plan(args)?;
    let mut engines = Vec::new();
    for target in &targets {
        let summary = run_batch(&*reference, &**target, &cfg, &|_| {});
        write_reports(&summary, args)?;
        engines.push(engine_json(target.name(), &summary));
    }
    let divergences = engines.iter().map(|e| e.divergences).sum();
    print_json(
        "difftest",
        &DifftestJson {
            subcommand: "run",
            seed: cfg.seed,
            count: cfg.count,
            shard: format!("{}/{}", cfg.shard.index, cfg.shard.count),
            reference: reference.name().to_string(),
            agree: divergences == 0,
            divergences,
            engines,
        },
    );
    Ok(if divergences == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `--report-dir`: each class's first report's program, as the text run
/// writes it.
fn write_reports(summary: &Summary, args: &RunArgs) -> Result<(), CliError> {
    let Some(dir) = &args.report_dir else {
        return Ok(());
    };
    for (i, (_, (_, r))) in summary.classes().into_iter().enumerate() {
        let path = dir.join(format!("divergence-{i}.s"));
        std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&path, r.case.asm()))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// `cranebpf difftest run --output json` (docs/json.md).
#[derive(Serialize)]
struct DifftestJson {
    subcommand: &'static str,
    seed: u64,
    count: u64,
    /// `I/N`.
    shard: String,
    reference: String,
    agree: bool,
    /// Summed over the engines.
    divergences: u64,
    engines: Vec<EngineJson>,
}

/// One engine's batch against the reference.
#[derive(Serialize)]
struct EngineJson {
    engine: String,
    programs: u64,
    instructions: u64,
    exits: u64,
    faults: u64,
    budget: u64,
    load_errors: u64,
    rejected: u64,
    first_rejection: Option<String>,
    divergences: u64,
    artefacts: u64,
    proof_violations: u64,
    outside_profile: u64,
    seconds: f64,
    programs_per_second: f64,
    /// One entry per distinct bug class, with its first (minimised) report.
    classes: Vec<ClassJson>,
}

#[derive(Serialize)]
struct ClassJson {
    /// The RFC 9669 rule involved (`crate::classify`).
    class: String,
    /// Reports of this class.
    count: u64,
    first: ReportJson,
}

/// A minimised divergence.
#[derive(Serialize)]
struct ReportJson {
    /// Batch seed and case index (null outside a batch).
    origin: Option<OriginJson>,
    original_instructions: usize,
    instructions: usize,
    /// Index of the first instruction after which the states differ.
    culprit: usize,
    diffs: Vec<String>,
    original_diffs: Vec<String>,
    /// The minimised program, as assembly.
    program: String,
    /// Its input memory, as hex.
    input: String,
    budget: u64,
}

#[derive(Serialize)]
struct OriginJson {
    seed: u64,
    index: u64,
}

fn engine_json(name: &str, s: &Summary) -> EngineJson {
    EngineJson {
        engine: name.to_string(),
        programs: s.programs,
        instructions: s.instructions,
        exits: s.exits,
        faults: s.faults,
        budget: s.budget,
        load_errors: s.load_errors,
        rejected: s.rejected,
        first_rejection: s.first_rejection.clone(),
        divergences: s.divergences,
        artefacts: s.artefacts,
        proof_violations: s.proof_violations,
        outside_profile: s.outside_profile,
        seconds: s.seconds,
        programs_per_second: s.programs as f64 / s.seconds.max(1e-9),
        classes: s
            .classes()
            .into_iter()
            .map(|(class, (count, r))| ClassJson {
                class: class.to_string(),
                count,
                first: report_json(r),
            })
            .collect(),
    }
}

fn report_json(r: &Report) -> ReportJson {
    ReportJson {
        origin: r.origin.map(|(seed, index)| OriginJson { seed, index }),
        original_instructions: r.original_len,
        instructions: r.case.insns.len(),
        culprit: r.culprit,
        diffs: r.diffs.clone(),
        original_diffs: r.original_diffs.clone(),
        program: r.case.asm(),
        input: r.case.input_hex(),
        budget: r.case.budget,
    }
}
