//! `cranebpf verify PROGRAM|OBJECT.o [--section S] [--strict] [--log]`:
//! runs the static verifier (`cranebpf_runtime::analysis::verifier`) and
//! prints, per program, accept or reject, how many memory accesses and
//! loops the proof covers, and each uncovered one's pc and reason.
//!
//! A raw program (assembly or bytecode) is verified as a raw-memory
//! program (r1 = input, r2 = its length); each program of an ELF object
//! with its object's maps, global data and program type.

use crate::input::{load_program, read_program_file, Format, ELF_MAGIC};
use crate::output::OutputArg;
use crate::CliError;
use cranebpf_runtime::analysis::proof::{AccessFact, LoopFact};
use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::elf::Object;
use cranebpf_runtime::Program;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `cranebpf verify`.
#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The program: assembly, raw bytecode, or an eBPF ELF object.
    program: PathBuf,
    /// For an object: the program to verify, by function or section name
    /// (default: every program of the object).
    #[arg(long)]
    section: Option<String>,
    /// Refuse what is not proven, like the kernel (exit status 1).
    #[arg(long)]
    strict: bool,
    /// Print the per-instruction state log.
    #[arg(long)]
    log: bool,
    /// How to read a non-ELF program file.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    #[command(flatten)]
    pub out: OutputArg,
}

/// Runs `cranebpf verify`.
pub fn run(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let bytes = read_program_file(&args.program)?;
    let mut refused = false;
    let mut json = Vec::new();
    let mut emit = |name: &str, prog: &Program, conf: VerifyConfig, args: &VerifyArgs| {
        if args.out.json() {
            let p = program_json(name, prog, conf, args);
            let ok = p.accepted;
            json.push(p);
            ok
        } else {
            report(name, prog, conf, args)
        }
    };
    if bytes.starts_with(ELF_MAGIC) {
        let obj = Object::parse(&bytes).map_err(|e| format!("{}: {e}", args.program.display()))?;
        let names: Vec<String> = match &args.section {
            Some(s) => vec![s.clone()],
            None => obj.programs().iter().map(|p| p.name.clone()).collect(),
        };
        for name in names {
            let loaded = obj.load(&name).map_err(|e| format!("{name}: {e}"))?;
            let conf = VerifyConfig::for_loaded(&loaded);
            refused |= !emit(&name, loaded.program(), conf, &args);
        }
    } else {
        let prog = load_program(&args.program, args.format)?;
        let name = args.program.display().to_string();
        refused |= !emit(&name, &prog, VerifyConfig::mem(), &args);
    }
    if args.out.json() {
        crate::output::print_json(
            "verify",
            &VerifyJson {
                accepted: !refused,
                programs: json,
            },
        );
    }
    Ok(if refused {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Verifies one program and prints its report; `false` if refused.
fn report(name: &str, prog: &Program, conf: VerifyConfig, args: &VerifyArgs) -> bool {
    let conf = conf.strict(args.strict).with_log(args.log);
    let start = Instant::now();
    let result = verify(prog, &conf);
    let took = start.elapsed();
    let n = prog.insns().len();
    let per_insn = took.as_secs_f64() * 1e6 / n.max(1) as f64;
    let v = match result {
        Err(e) => {
            println!("{name}: REFUSED\n{e}");
            return false;
        }
        Ok(v) => v,
    };
    for line in &v.log {
        println!("{line}");
    }
    let mode = if args.strict { "strict" } else { "elide" };
    println!("{name}: accepted ({mode})");
    let (proven, total) = v.proof.coverage();
    let bounded = v
        .proof
        .loops()
        .iter()
        .filter(|l| matches!(l, LoopFact::Bounded { .. }))
        .count();
    println!("  memory accesses proven: {proven}/{total}");
    println!(
        "  loops proven bounded:   {bounded}/{}",
        v.proof.loops().len()
    );
    if let Some(why) = &v.incomplete {
        // Every access and loop carries this same reason.
        println!("  nothing proven: {why}");
    }
    let pc = |i: usize| prog.insns().get(i).map_or(i, |p| p.0);
    let listed = if v.incomplete.is_some() {
        &[][..]
    } else {
        v.proof.accesses()
    };
    for (i, f) in listed.iter().enumerate() {
        if let AccessFact::Unproven { reason } = f {
            println!("  pc {}: unproven: {reason}", pc(i));
        }
    }
    let loops = if v.incomplete.is_some() {
        &[][..]
    } else {
        v.proof.loops()
    };
    for l in loops {
        if let LoopFact::Unproven { from, to, reason } = l {
            println!(
                "  loop pc {} -> pc {}: unproven: {reason}",
                pc(*from),
                pc(*to)
            );
        }
    }
    println!(
        "  verified in {:.1} µs ({per_insn:.2} µs per instruction, {} instructions; {} processed, {} checkpoints, {} pruned)",
        took.as_secs_f64() * 1e6,
        n,
        v.stats.processed,
        v.stats.checkpoints,
        v.stats.pruned
    );
    true
}

/// `cranebpf verify --output json` (docs/json.md).
#[derive(serde::Serialize)]
struct VerifyJson {
    /// Every program was accepted.
    accepted: bool,
    programs: Vec<ProgramJson>,
}

/// One program's verification, in JSON.
#[derive(serde::Serialize)]
struct ProgramJson {
    name: String,
    accepted: bool,
    /// `strict` or `elide`.
    mode: &'static str,
    /// Why it was refused (then the counts below are zero).
    error: Option<String>,
    instructions: usize,
    accesses_proven: usize,
    accesses_total: usize,
    loops_bounded: usize,
    loops_total: usize,
    /// Why nothing could be proven (elide mode).
    incomplete: Option<String>,
    unproven_accesses: Vec<UnprovenAccess>,
    unproven_loops: Vec<UnprovenLoop>,
    processed: u64,
    checkpoints: usize,
    pruned: u64,
    micros: f64,
    /// The per-instruction state log (with --log).
    log: Vec<String>,
}

#[derive(serde::Serialize)]
struct UnprovenAccess {
    pc: usize,
    reason: String,
}

#[derive(serde::Serialize)]
struct UnprovenLoop {
    from_pc: usize,
    to_pc: usize,
    reason: String,
}

/// Verifies one program for the JSON report.
fn program_json(name: &str, prog: &Program, conf: VerifyConfig, args: &VerifyArgs) -> ProgramJson {
    let conf = conf.strict(args.strict).with_log(args.log);
    let start = Instant::now();
    let result = verify(prog, &conf);
    let micros = start.elapsed().as_secs_f64() * 1e6;
    let pc = |i: usize| prog.insns().get(i).map_or(i, |p| p.0);
    let mut p = ProgramJson {
        name: name.to_string(),
        accepted: result.is_ok(),
        mode: if args.strict { "strict" } else { "elide" },
        error: result.as_ref().err().map(|e| e.to_string()),
        instructions: prog.insns().len(),
        accesses_proven: 0,
        accesses_total: 0,
        loops_bounded: 0,
        loops_total: 0,
        incomplete: None,
        unproven_accesses: Vec::new(),
        unproven_loops: Vec::new(),
        processed: 0,
        checkpoints: 0,
        pruned: 0,
        micros,
        log: Vec::new(),
    };
    let Ok(v) = result else { return p };
    (p.accesses_proven, p.accesses_total) = v.proof.coverage();
    p.loops_total = v.proof.loops().len();
    p.loops_bounded = v
        .proof
        .loops()
        .iter()
        .filter(|l| matches!(l, LoopFact::Bounded { .. }))
        .count();
    if v.incomplete.is_none() {
        for (i, f) in v.proof.accesses().iter().enumerate() {
            if let AccessFact::Unproven { reason } = f {
                p.unproven_accesses.push(UnprovenAccess {
                    pc: pc(i),
                    reason: reason.to_string(),
                });
            }
        }
        for l in v.proof.loops() {
            if let LoopFact::Unproven { from, to, reason } = l {
                p.unproven_loops.push(UnprovenLoop {
                    from_pc: pc(*from),
                    to_pc: pc(*to),
                    reason: reason.to_string(),
                });
            }
        }
    }
    p.incomplete = v.incomplete;
    (p.processed, p.checkpoints, p.pruned) =
        (v.stats.processed, v.stats.checkpoints, v.stats.pruned);
    p.log = v.log;
    p
}
