//! The `cranebpf` command-line tool: run, assemble, disassemble and inspect
//! eBPF programs with the interpreter and the Cranelift JIT.

mod pcap;

use clap::{Parser, Subcommand, ValueEnum};
use cranebpf::{EngineKind, Fault, Helpers, Program, RunOptions, RunOutcome, Vm};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Run eBPF programs in userspace: a reference interpreter and a Cranelift JIT.
#[derive(Parser)]
#[command(name = "cranebpf", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a program (assembly text or raw bytecode) and print r0 or the fault.
    ///
    /// The program gets the conformance-suite convention: r1 points to a
    /// writable copy of the memory given with --mem/--mem-file (0 if none),
    /// r2 holds its length, r10 the top of the stack.
    Run {
        /// Program file: assembly (`.s`, `.asm`, or any UTF-8 text) or raw
        /// little-endian bytecode (`.bin`, `.bpf`, or anything else).
        program: PathBuf,
        /// Input memory as hex bytes (whitespace allowed), e.g. "01 02 ff".
        #[arg(long, conflicts_with = "mem_file")]
        mem: Option<String>,
        /// Input memory read from a file.
        #[arg(long)]
        mem_file: Option<PathBuf>,
        /// Stop with a budget fault after this many instructions.
        #[arg(long)]
        budget: Option<u64>,
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
        /// packet of this pcap file, as an XDP program; see --section.
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// With --pcap: the program to run, by function or section name
        /// (default: the object's first XDP program).
        #[arg(long, requires = "pcap")]
        section: Option<String>,
    },
    /// Assemble a program into raw bytecode.
    Asm {
        /// Assembly source file.
        input: PathBuf,
        /// Output file; without it the bytecode is printed as hex, one slot per line.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Disassemble raw bytecode (or assembly) into assembly text, or with
    /// --native show the machine code the JIT generates.
    Disasm {
        /// Program file.
        input: PathBuf,
        /// How to read the program file.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Show the JIT's machine code instead of eBPF assembly.
        #[arg(long)]
        native: bool,
        /// Target ISA for --native: x86_64, aarch64 or riscv64 (default: the host).
        #[arg(long)]
        target: Option<String>,
    },
    /// Print the Cranelift IR the JIT builds for a program.
    /// Differential testing: generated programs through the interpreter and
    /// the JIT (and optionally the Linux kernel), compared in full. Runs the
    /// `cranebpf-difftest` binary built beside this one; see its `--help`.
    Difftest {
        /// Arguments for `cranebpf-difftest run`, e.g. `--count 10000 --seed 1`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Benchmark suite: the C workloads on cranebpf's engines, the peers
    /// (rbpf, solana-sbpf) and native code; prints the tables and writes an
    /// SVG chart. Runs the `cranebpf-bench` binary of the `cranebpf-benches`
    /// crate: through `cargo run --release --features peers` in the source
    /// tree this tool was built from when it is there, else the binary
    /// beside this one (or $CRANEBPF_BENCH_BIN).
    Bench {
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
    },
    Clif {
        /// Program file.
        input: PathBuf,
        /// How to read the program file.
        #[arg(long, value_enum, default_value_t = Format::Auto)]
        format: Format,
        /// Target ISA: x86_64, aarch64 or riscv64 (default: the host).
        #[arg(long)]
        target: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// The Cranelift JIT.
    Jit,
    /// Both, compared.
    Both,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// By extension, then by content.
    Auto,
    /// Assembly text.
    Asm,
    /// Raw little-endian bytecode.
    Bin,
}

/// An error for the user: what went wrong, already phrased.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> CliError {
        CliError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match real_main(cli) {
        Ok(code) => code,
        Err(CliError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

fn real_main(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.cmd {
        Cmd::Run {
            program,
            mem,
            mem_file,
            budget,
            engine,
            format,
            conformance_helpers,
            dump_mem,
            pcap,
            section,
        } => {
            if let Some(pcap) = pcap {
                let choice = match engine {
                    EngineArg::Interp => pcap::EngineChoice::Interp,
                    EngineArg::Jit => pcap::EngineChoice::Jit,
                    EngineArg::Both => pcap::EngineChoice::Both,
                };
                let (report, agree) =
                    pcap::run(&program, section.as_deref(), &pcap, choice, budget)?;
                print!("{report}");
                return Ok(if agree {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(3)
                });
            }
            let prog = load_program(&program, format)?;
            let input = match (mem, mem_file) {
                (Some(hex), _) => parse_hex(&hex)?,
                (None, Some(path)) => read(&path)?,
                (None, None) => Vec::new(),
            };
            let mut helpers = Helpers::new();
            if conformance_helpers {
                helpers.register(5, "conformance_identity", |_, args| Ok(args[0]));
            }
            let opts = RunOptions { budget };
            match engine {
                EngineArg::Interp | EngineArg::Jit => {
                    let e = if engine == EngineArg::Jit {
                        EngineKind::Jit
                    } else {
                        EngineKind::Interpreter
                    };
                    let vm = Vm::new(&prog, helpers, e)?;
                    let mut mem = input;
                    let out = vm.run_input(&mut mem, &opts);
                    print_outcome(&out);
                    if dump_mem {
                        println!("mem = {}", to_hex(&mem));
                    }
                    Ok(exit_for(&out))
                }
                EngineArg::Both => {
                    let interp = Vm::new(&prog, helpers.clone(), EngineKind::Interpreter)?;
                    let jit = Vm::new(&prog, helpers, EngineKind::Jit)?;
                    let (mut m1, mut m2) = (input.clone(), input);
                    let a = interp.run_input(&mut m1, &opts);
                    let b = jit.run_input(&mut m2, &opts);
                    print_outcome(&a);
                    if dump_mem {
                        println!("mem = {}", to_hex(&m1));
                    }
                    let diffs = compare(&a, &b, &m1, &m2);
                    if diffs.is_empty() {
                        println!("engines agree: interpreter and JIT");
                        Ok(exit_for(&a))
                    } else {
                        println!("ENGINES DIFFER:");
                        for d in diffs {
                            println!("  {d}");
                        }
                        Ok(ExitCode::from(3))
                    }
                }
            }
        }
        Cmd::Asm { input, output } => {
            let text = read_text(&input)?;
            let insns =
                cranebpf::asm::assemble(&text).map_err(|e| format!("{}: {e}", input.display()))?;
            let prog =
                Program::from_insns(&insns).map_err(|e| format!("{}: {e}", input.display()))?;
            let bytes = prog.to_bytes();
            match output {
                Some(path) => {
                    fs::write(&path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    for slot in bytes.chunks(8) {
                        writeln!(out, "{}", to_hex(slot))?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Disasm {
            input,
            format,
            native,
            target,
        } => {
            let prog = load_program(&input, format)?;
            if native {
                print!("{}", cranebpf::native_disasm(&prog, target.as_deref())?);
            } else {
                print!("{}", cranebpf::asm::disassemble(prog.insns()));
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Difftest { args } => {
            let exe = std::env::current_exe()?.with_file_name("cranebpf-difftest");
            let status = std::process::Command::new(&exe)
                .arg("run")
                .args(args)
                .status()
                .map_err(|e| {
                    format!(
                        "cannot start {} (build it with `cargo build -p cranebpf-difftest`): {e}",
                        exe.display()
                    )
                })?;
            Ok(ExitCode::from(
                status.code().map_or(2, |c| c.clamp(0, 255) as u8),
            ))
        }
        Cmd::Bench {
            quick,
            filter,
            svg,
            json,
            no_compile,
        } => {
            let mut args: Vec<std::ffi::OsString> = vec!["--svg".into(), svg.into()];
            if quick {
                args.push("--quick".into());
            }
            if let Some(f) = filter {
                args.extend(["--filter".into(), f.into()]);
            }
            if let Some(j) = json {
                args.extend(["--json".into(), j.into()]);
            }
            if no_compile {
                args.push("--no-compile".into());
            }
            let status = bench_command(&args)?.status().map_err(|e| {
                format!("cannot start the benchmark suite: {e} (build it with `cargo build --release -p cranebpf-benches --features peers`)")
            })?;
            Ok(ExitCode::from(
                status.code().map_or(2, |c| c.clamp(0, 255) as u8),
            ))
        }
        Cmd::Clif {
            input,
            format,
            target,
        } => {
            let prog = load_program(&input, format)?;
            print!("{}", cranebpf::clif_text(&prog, target.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The command that runs `cranebpf-bench` with `args`: $CRANEBPF_BENCH_BIN
/// if set; else `cargo run` in the source tree this binary was built from
/// (always up to date, release, with the peers); else the binary beside
/// this one.
fn bench_command(args: &[std::ffi::OsString]) -> Result<std::process::Command, CliError> {
    if let Some(bin) = std::env::var_os("CRANEBPF_BENCH_BIN") {
        let mut c = std::process::Command::new(bin);
        c.args(args);
        return Ok(c);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/Cargo.toml");
    if manifest.is_file() {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut c = std::process::Command::new(cargo);
        c.arg("run")
            .arg("--release")
            .arg("--quiet")
            .arg("--features")
            .arg("peers")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--bin")
            .arg("cranebpf-bench")
            .arg("--")
            .args(args);
        return Ok(c);
    }
    let exe = std::env::current_exe()?.with_file_name("cranebpf-bench");
    if !exe.is_file() {
        return Err(CliError(format!(
            "no benchmark suite: {} does not exist and the source tree is gone (build it with `cargo build --release -p cranebpf-benches --features peers`)",
            exe.display()
        )));
    }
    let mut c = std::process::Command::new(exe);
    c.args(args);
    Ok(c)
}

fn read(path: &Path) -> Result<Vec<u8>, CliError> {
    fs::read(path).map_err(|e| CliError(format!("cannot read {}: {e}", path.display())))
}

fn read_text(path: &Path) -> Result<String, CliError> {
    String::from_utf8(read(path)?)
        .map_err(|_| CliError(format!("{} is not UTF-8 text", path.display())))
}

/// Reads a program: assembly or raw bytecode, decided by `format`, the file
/// extension, then the content (UTF-8 text that is not a whole number of
/// slots of mostly-binary bytes is taken as assembly).
fn load_program(path: &Path, format: Format) -> Result<Program, CliError> {
    let bytes = read(path)?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let is_asm = match format {
        Format::Asm => true,
        Format::Bin => false,
        Format::Auto => match ext {
            "s" | "asm" | "S" => true,
            "bin" | "bpf" | "raw" => false,
            _ => std::str::from_utf8(&bytes).is_ok_and(|t| !t.contains('\0')),
        },
    };
    let where_ = path.display();
    if is_asm {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError(format!("{where_} is not UTF-8 text")))?;
        let insns = cranebpf::asm::assemble(text).map_err(|e| format!("{where_}: {e}"))?;
        Ok(Program::from_insns(&insns).map_err(|e| format!("{where_}: {e}"))?)
    } else {
        Ok(Program::from_bytes(&bytes).map_err(|e| format!("{where_}: {e}"))?)
    }
}

fn parse_hex(s: &str) -> Result<Vec<u8>, CliError> {
    let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let digits = digits.strip_prefix("0x").unwrap_or(&digits);
    if digits.len() % 2 != 0 {
        return Err(CliError(format!(
            "--mem: odd number of hex digits ({})",
            digits.len()
        )));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| {
                CliError(format!(
                    "--mem: `{}` at digit {i} is not a hex byte",
                    &digits[i..i + 2]
                ))
            })
        })
        .collect()
}

fn to_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn print_outcome(out: &RunOutcome) {
    match &out.result {
        Ok(r0) => println!("r0 = {r0:#x} ({r0})"),
        Err(f) => println!("{f}"),
    }
    println!("instructions = {}", out.insn_count);
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
    use cranebpf::FaultKind::OutOfBounds;
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
