//! `cranebpf disasm` and `cranebpf clif`: a program as eBPF assembly, as
//! the JIT's machine code, or as the Cranelift IR the JIT builds.

use crate::input::{load_program, Format};
use crate::CliError;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `cranebpf disasm`.
#[derive(Args)]
pub struct DisasmArgs {
    /// Program file (at most 16 MiB).
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
}

/// Options of `cranebpf clif`.
#[derive(Args)]
pub struct ClifArgs {
    /// Program file (at most 16 MiB).
    input: PathBuf,
    /// How to read the program file.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Target ISA: x86_64, aarch64 or riscv64 (default: the host).
    #[arg(long)]
    target: Option<String>,
}

/// Runs `cranebpf disasm`.
pub fn disasm(args: DisasmArgs) -> Result<ExitCode, CliError> {
    let prog = load_program(&args.input, args.format)?;
    if args.native {
        print!(
            "{}",
            cranebpf::native_disasm(&prog, args.target.as_deref())?
        );
    } else {
        print!("{}", cranebpf::asm::disassemble(prog.insns()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `cranebpf clif`.
pub fn clif(args: ClifArgs) -> Result<ExitCode, CliError> {
    let prog = load_program(&args.input, args.format)?;
    print!("{}", cranebpf::clif_text(&prog, args.target.as_deref())?);
    Ok(ExitCode::SUCCESS)
}
