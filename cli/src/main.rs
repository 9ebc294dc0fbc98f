//! The `cranebpf` command-line tool: run, assemble, disassemble and inspect
//! eBPF programs with the interpreter and the Cranelift JIT, run the
//! differential tester and (with the `bench` feature) the benchmark suite.
//!
//! One file per subcommand: [`run`] (with [`pcap`] for ELF objects over a
//! capture), [`asm`], [`disasm`] (also `clif`), [`difftest`], [`bench`],
//! [`filter`] (classic BPF packet filters, with [`libpcap`]) and [`seccomp`];
//! [`input`] reads files (with size caps) and hex. Everything runs
//! in-process and nothing is read from the source tree, so an installed
//! binary works from any folder.

mod asm;
mod bench;
mod difftest;
mod disasm;
mod filter;
mod input;
mod libpcap;
mod output;
mod pcap;
mod run;
mod seccomp;
mod stats;
mod verify;

use clap::{Parser, Subcommand};
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
    /// r2 holds its length, r10 the top of the stack. Without --budget a run
    /// stops after 100 million instructions.
    Run(run::RunArgs),
    /// Assemble a program into raw bytecode.
    Asm(asm::AsmArgs),
    /// Disassemble raw bytecode (or assembly) into assembly text, or with
    /// --native show the machine code the JIT generates.
    Disasm(disasm::DisasmArgs),
    /// Print the Cranelift IR the JIT builds for a program.
    Clif(disasm::ClifArgs),
    /// Differential testing: generated programs through the interpreter and
    /// the JIT (and optionally the Linux kernel), compared in full; e.g.
    /// `cranebpf difftest run --count 10000 --seed 1`.
    Difftest(difftest::DifftestArgs),
    /// Benchmark suite: the C workloads on cranebpf's engines, the peers
    /// (rbpf, solana-sbpf) and native code; prints the tables and writes an
    /// SVG chart. Needs a cranebpf built with `--features bench` or `peers`.
    Bench(bench::BenchArgs),
    /// Statically verify a program (or each program of an ELF object): which
    /// memory accesses and loops are proven; --strict refuses the rest.
    Verify(verify::VerifyArgs),
    /// Run a tcpdump filter (compiled by libpcap, or --cbpf FILE) over a
    /// capture, translated to eBPF: match count, packets/s, -w OUT.
    Filter(filter::FilterArgs),
    /// Evaluate a seccomp filter (libseccomp's exported bytes, or -dd text)
    /// for each system call record of a trace (`NR ARCH [ARG...]` lines).
    Seccomp(seccomp::SeccompArgs),
}

/// An error for the user: what went wrong, already phrased. `main` prints
/// it once, as `error: ...`, and exits with status 2.
struct CliError(String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> CliError {
        CliError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let json = cli.cmd.json_name();
    match real_main(cli) {
        Ok(code) => code,
        Err(CliError(msg)) => {
            match json {
                Some(command) => output::print_error(command, &msg),
                None => eprintln!("error: {msg}"),
            }
            ExitCode::from(2)
        }
    }
}

/// A command line clap refuses: as JSON on stdout if it asked for
/// `--output json` (help and version print as usual), else clap's text.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
    let args: Vec<String> = std::env::args().collect();
    let json = args
        .windows(2)
        .any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--output=json");
    if !json || matches!(e.kind(), DisplayHelp | DisplayVersion) {
        e.exit();
    }
    let command = args.get(1).map_or("cranebpf", String::as_str);
    let msg = e.kind().as_str().unwrap_or("invalid command line");
    let detail = e.to_string();
    let first = detail.lines().next().unwrap_or(msg);
    output::print_error(command, first.trim_start_matches("error: "));
    ExitCode::from(2)
}

impl Cmd {
    /// The command's name if it prints JSON (`--output json`).
    fn json_name(&self) -> Option<&'static str> {
        let (name, out) = match self {
            Cmd::Run(a) => ("run", a.out),
            Cmd::Verify(a) => ("verify", a.out),
            Cmd::Filter(a) => ("filter", a.out),
            Cmd::Bench(a) => ("bench", a.out),
            Cmd::Difftest(a) => ("difftest", a.out),
            _ => return None,
        };
        out.json().then_some(name)
    }
}

/// Dispatches to the subcommand.
fn real_main(cli: Cli) -> Result<ExitCode, CliError> {
    match cli.cmd {
        Cmd::Run(args) => run::run(args),
        Cmd::Asm(args) => asm::run(args),
        Cmd::Disasm(args) => disasm::disasm(args),
        Cmd::Clif(args) => disasm::clif(args),
        Cmd::Difftest(args) => difftest::run(args),
        Cmd::Bench(args) => bench::run(args),
        Cmd::Verify(args) => verify::run(args),
        Cmd::Filter(args) => filter::run(args),
        Cmd::Seccomp(args) => seccomp::run(args),
    }
}
