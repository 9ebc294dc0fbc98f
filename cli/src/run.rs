//! `cranebpf run`: one program (assembly or raw bytecode) on one engine or
//! both, printing r0 or the fault and the instruction count; with `--pcap`,
//! an ELF object's XDP program over a capture ([`crate::pcap`]).

use crate::input::{load_program, parse_hex, read_capped, to_hex, Format, MAX_MEM_BYTES};
use crate::output::{print_json, FaultJson, OutputArg};
use crate::pcap;
use crate::CliError;
use clap::{Args, ValueEnum};
use cranebpf::{EngineKind, Fault, FaultKind, Helpers, RunOptions, RunOutcome, Vm};
use std::path::PathBuf;
use std::process::ExitCode;

/// The instruction budget when `--budget` is not given: 100 million.
pub const DEFAULT_BUDGET: u64 = 100_000_000;

/// Options of `cranebpf run`.
#[derive(Args)]
pub struct RunArgs {
    /// Program file: assembly (`.s`, `.asm`, or any UTF-8 text) or raw
    /// little-endian bytecode (`.bin`, `.bpf`, or anything else), at most
    /// 16 MiB. With --pcap: an eBPF ELF object.
    program: PathBuf,
    /// Input memory as hex bytes (whitespace allowed), e.g. "01 02 ff".
    #[arg(long, conflicts_with = "mem_file")]
    mem: Option<String>,
    /// Input memory read from a file (at most 64 MiB).
    #[arg(long)]
    mem_file: Option<PathBuf>,
    /// Stop with a budget fault after this many instructions (per packet
    /// with --pcap), or `unlimited`.
    #[arg(long, value_parser = parse_budget, default_value = "100000000")]
    budget: Budget,
    /// Which engine runs the program; `both` runs each and reports any difference.
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    engine: EngineArg,
    /// How to read the program file.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Register the conformance suite's test helper (id 5 returns its first argument).
    #[arg(long)]
    conformance_helpers: bool,
    /// Print the input memory after the run, as hex.
    #[arg(long)]
    dump_mem: bool,
    /// Run PROGRAM as an eBPF ELF object (clang -target bpf) over every
    /// packet of this pcap file (at most 256 MiB), as an XDP program; see
    /// --section.
    #[arg(long)]
    pcap: Option<PathBuf>,
    /// With --pcap: the program to run, by function or section name
    /// (default: the object's first XDP, socket or tc program).
    #[arg(long, requires = "pcap")]
    section: Option<String>,
    /// With --pcap: the program type, overriding the one the section name
    /// gives: xdp, socket (socket filter), tc (sched_cls).
    #[arg(long = "type", requires = "pcap", value_parser = parse_type)]
    prog_type: Option<cranebpf_runtime::ctx::ProgramType>,
    /// With --pcap: write the packets the program lets through, as it left
    /// them, to this pcap file.
    #[arg(short = 'w', long = "write", requires = "pcap")]
    write: Option<PathBuf>,
    /// Also print the time to prepare the program (compile or predecode),
    /// the time to its first result, and the time per call (further runs
    /// on the same input; with --pcap, per packet).
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    pub out: OutputArg,
}

fn parse_type(s: &str) -> Result<cranebpf_runtime::ctx::ProgramType, String> {
    cranebpf_runtime::ctx::ProgramType::from_name(s).ok_or_else(|| {
        let known: Vec<&str> = cranebpf_runtime::ctx::TYPE_NAMES
            .iter()
            .map(|(n, _)| *n)
            .collect();
        format!("unknown program type `{s}` (known: {})", known.join(", "))
    })
}

/// An instruction budget, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget(pub Option<u64>);

fn parse_budget(s: &str) -> Result<Budget, String> {
    match s {
        "unlimited" | "none" => Ok(Budget(None)),
        _ => s
            .parse()
            .map(|n| Budget(Some(n)))
            .map_err(|_| format!("`{s}` is not a number of instructions or `unlimited`")),
    }
}

/// Which engines run the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// The Cranelift JIT.
    Jit,
    /// Both, compared.
    Both,
}

/// Runs `cranebpf run`.
pub fn run(args: RunArgs) -> Result<ExitCode, CliError> {
    if let Some(capture) = &args.pcap {
        return run_pcap(&args, capture);
    }
    let prog = load_program(&args.program, args.format)?;
    let input = read_input(&args)?;
    let helpers = helpers(args.conformance_helpers);
    let opts = RunOptions {
        budget: args.budget.0,
    };
    let code = match args.engine {
        EngineArg::Interp => run_one(&prog, helpers, EngineKind::Interpreter, input, &opts, &args)?,
        EngineArg::Jit => run_one(&prog, helpers, EngineKind::Jit, input, &opts, &args)?,
        EngineArg::Both => run_both(&prog, helpers, input, &opts, &args)?,
    };
    Ok(code)
}

fn run_pcap(args: &RunArgs, capture: &std::path::Path) -> Result<ExitCode, CliError> {
    let choice = match args.engine {
        EngineArg::Interp => pcap::EngineChoice::Interp,
        EngineArg::Jit => pcap::EngineChoice::Jit,
        EngineArg::Both => pcap::EngineChoice::Both,
    };
    let (report, agree) = pcap::run(&pcap::PcapRun {
        out: args.out,
        object: &args.program,
        section: args.section.as_deref(),
        pcap: capture,
        engine: choice,
        budget: args.budget.0,
        prog_type: args.prog_type.clone(),
        write: args.write.as_deref(),
        stats: args.stats,
    })?;
    print!("{report}");
    Ok(if agree {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// The input memory: `--mem`, `--mem-file` or none.
fn read_input(args: &RunArgs) -> Result<Vec<u8>, CliError> {
    match (&args.mem, &args.mem_file) {
        (Some(hex), _) => parse_hex(hex),
        (None, Some(path)) => read_capped(path, MAX_MEM_BYTES, "input memory (--mem-file)"),
        (None, None) => Ok(Vec::new()),
    }
}

fn helpers(conformance: bool) -> Helpers {
    let mut helpers = Helpers::new();
    if conformance {
        helpers.register(5, "conformance_identity", |_, args| Ok(args[0]));
    }
    helpers
}

fn run_one(
    prog: &cranebpf::Program,
    helpers: Helpers,
    engine: EngineKind,
    mut mem: Vec<u8>,
    opts: &RunOptions,
    args: &RunArgs,
) -> Result<ExitCode, CliError> {
    let (out, stats) = if args.stats {
        let (out, stats) = crate::stats::measure(prog, helpers, engine, &mut mem, opts)?;
        (out, Some(stats))
    } else {
        let vm = Vm::new(prog, helpers, engine)?;
        (vm.run_input(&mut mem, opts), None)
    };
    if args.out.json() {
        let name = if engine == EngineKind::Jit {
            "jit"
        } else {
            "interpreter"
        };
        let run = engine_json(name, &out, &mem, stats, args);
        print_json("run", &RunJson::program(vec![run], Vec::new()));
        note_budget(&out, args.budget);
        return Ok(exit_for(&out));
    }
    print_outcome(&out, args.budget);
    if args.dump_mem {
        println!("mem = {}", to_hex(&mem));
    }
    if let Some(s) = stats {
        println!("{s}");
    }
    Ok(exit_for(&out))
}

fn run_both(
    prog: &cranebpf::Program,
    helpers: Helpers,
    input: Vec<u8>,
    opts: &RunOptions,
    args: &RunArgs,
) -> Result<ExitCode, CliError> {
    let interp = Vm::new(prog, helpers.clone(), EngineKind::Interpreter)?;
    let jit = Vm::new(prog, helpers, EngineKind::Jit)?;
    let (mut m1, mut m2) = (input.clone(), input);
    let a = interp.run_input(&mut m1, opts);
    let b = jit.run_input(&mut m2, opts);
    if args.out.json() {
        let diffs = compare(&a, &b, &m1, &m2);
        let agree = diffs.is_empty();
        let runs = vec![
            engine_json("interpreter", &a, &m1, None, args),
            engine_json("jit", &b, &m2, None, args),
        ];
        print_json("run", &RunJson::program(runs, diffs));
        note_budget(&a, args.budget);
        return Ok(if agree {
            exit_for(&a)
        } else {
            ExitCode::from(3)
        });
    }
    print_outcome(&a, args.budget);
    if args.dump_mem {
        println!("mem = {}", to_hex(&m1));
    }
    let diffs = compare(&a, &b, &m1, &m2);
    if diffs.is_empty() {
        println!("engines agree: interpreter and JIT");
        return Ok(exit_for(&a));
    }
    println!("ENGINES DIFFER:");
    for d in diffs {
        println!("  {d}");
    }
    Ok(ExitCode::from(3))
}

/// r0 or the fault, the instruction count, and, if the budget stopped the
/// run, how to change it.
fn print_outcome(out: &RunOutcome, budget: Budget) {
    match &out.result {
        Ok(r0) => println!("r0 = {r0:#x} ({r0})"),
        Err(f) => println!("{f}"),
    }
    println!("instructions = {}", out.insn_count);
    note_budget(out, budget);
}

/// If the budget stopped the run, a note on stderr on how to change it.
fn note_budget(out: &RunOutcome, budget: Budget) {
    if let Err(Fault {
        kind: FaultKind::Budget { budget: n },
        ..
    }) = &out.result
    {
        let which = if budget.0 == Some(DEFAULT_BUDGET) {
            "the default budget"
        } else {
            "the budget"
        };
        eprintln!(
            "note: stopped by {which} of {n} instructions; raise it with --budget N, \
             or --budget unlimited for none"
        );
    }
}

fn exit_for(out: &RunOutcome) -> ExitCode {
    if out.result.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Differences between two runs that should be identical.
fn compare(a: &RunOutcome, b: &RunOutcome, ma: &[u8], mb: &[u8]) -> Vec<String> {
    let mut d = Vec::new();
    let show = |r: &Result<u64, Fault>| match r {
        Ok(v) => format!("r0 = {v:#x}"),
        Err(f) => f.to_string(),
    };
    if !same_result(&a.result, &b.result) {
        d.push(format!(
            "result: interpreter {} / JIT {}",
            show(&a.result),
            show(&b.result)
        ));
    }
    if a.insn_count != b.insn_count {
        d.push(format!(
            "instructions: interpreter {} / JIT {}",
            a.insn_count, b.insn_count
        ));
    }
    if ma != mb {
        let first = ma.iter().zip(mb).position(|(x, y)| x != y).unwrap_or(0);
        d.push(format!("memory differs from byte {first}"));
    }
    d
}

/// Results match if r0 matches, or the faults match in kind and pc. Fault
/// addresses may differ when they point into each engine's own stack, so
/// out-of-bounds faults are compared by size and access only.
fn same_result(a: &Result<u64, Fault>, b: &Result<u64, Fault>) -> bool {
    use FaultKind::OutOfBounds;
    match (a, b) {
        (Ok(x), Ok(y)) => x == y,
        (Err(x), Err(y)) => match (&x.kind, &y.kind) {
            (
                OutOfBounds {
                    size: s1,
                    access: a1,
                    ..
                },
                OutOfBounds {
                    size: s2,
                    access: a2,
                    ..
                },
            ) => x.pc == y.pc && s1 == s2 && a1 == a2,
            _ => x == y,
        },
        _ => false,
    }
}

/// `cranebpf run --output json` of a single program (docs/json.md).
#[derive(serde::Serialize)]
struct RunJson {
    /// `program` (here) or `pcap` (`crate::pcap`).
    mode: &'static str,
    /// One entry per engine that ran, the interpreter first.
    engines: Vec<EngineRunJson>,
    /// Whether the engines agree (true for one engine).
    agree: bool,
    /// What differed, if they did not.
    differences: Vec<String>,
}

impl RunJson {
    fn program(engines: Vec<EngineRunJson>, differences: Vec<String>) -> RunJson {
        RunJson {
            mode: "program",
            engines,
            agree: differences.is_empty(),
            differences,
        }
    }
}

/// One engine's run, in JSON.
#[derive(serde::Serialize)]
struct EngineRunJson {
    /// `interpreter` or `jit`.
    engine: &'static str,
    /// r0 at exit (null on a fault).
    r0: Option<u64>,
    /// The fault (null on exit).
    fault: Option<FaultJson>,
    instructions: u64,
    /// The input memory after the run, as hex (with --dump-mem).
    mem: Option<String>,
    /// With --stats.
    stats: Option<StatsJson>,
}

/// `--stats` figures in nanoseconds.
#[derive(serde::Serialize)]
struct StatsJson {
    prepare_ns: u128,
    first_result_ns: u128,
    per_call_ns: u128,
    calls: u64,
}

fn engine_json(
    engine: &'static str,
    out: &RunOutcome,
    mem: &[u8],
    stats: Option<crate::stats::Stats>,
    args: &RunArgs,
) -> EngineRunJson {
    EngineRunJson {
        engine,
        r0: out.result.as_ref().ok().copied(),
        fault: out.result.as_ref().err().map(FaultJson::from),
        instructions: out.insn_count,
        mem: args.dump_mem.then(|| to_hex(mem)),
        stats: stats.map(|s| StatsJson {
            prepare_ns: s.prepare.as_nanos(),
            first_result_ns: s.first_result.as_nanos(),
            per_call_ns: s.per_call.as_nanos(),
            calls: s.calls,
        }),
    }
}
