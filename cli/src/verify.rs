//! `cranebpf verify PROGRAM|OBJECT.o [--section S] [--strict] [--log]`:
//! runs the static verifier (`cranebpf_runtime::analysis::verifier`) and
//! prints, per program, accept or reject, how many memory accesses and
//! loops the proof covers, and each uncovered one's pc and reason.
//!
//! A raw program (assembly or bytecode) is verified as a raw-memory
//! program (r1 = input, r2 = its length); each program of an ELF object
//! with its object's maps, global data and program type.

use crate::input::{load_program, read_program_file, Format, ELF_MAGIC};
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
}

/// Runs `cranebpf verify`.
pub fn run(args: VerifyArgs) -> Result<ExitCode, CliError> {
    let bytes = read_program_file(&args.program)?;
    let mut refused = false;
    if bytes.starts_with(ELF_MAGIC) {
        let obj = Object::parse(&bytes).map_err(|e| format!("{}: {e}", args.program.display()))?;
        let names: Vec<String> = match &args.section {
            Some(s) => vec![s.clone()],
            None => obj.programs().iter().map(|p| p.name.clone()).collect(),
        };
        for name in names {
            let loaded = obj.load(&name).map_err(|e| format!("{name}: {e}"))?;
            let conf = VerifyConfig::for_loaded(&loaded);
            refused |= !report(&name, loaded.program(), conf, &args);
        }
    } else {
        let prog = load_program(&args.program, args.format)?;
        let name = args.program.display().to_string();
        refused |= !report(&name, &prog, VerifyConfig::mem(), &args);
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
