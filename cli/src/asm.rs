//! `cranebpf asm`: assembly text to raw bytecode.

use crate::input::{read_text, to_hex};
use crate::CliError;
use clap::Args;
use cranebpf::Program;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `cranebpf asm`.
#[derive(Args)]
pub struct AsmArgs {
    /// Assembly source file (at most 16 MiB).
    input: PathBuf,
    /// Output file; without it the bytecode is printed as hex, one slot per line.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Runs `cranebpf asm`.
pub fn run(args: AsmArgs) -> Result<ExitCode, CliError> {
    let bytes = assemble(&args.input)?;
    match &args.output {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|e| format!("{}: {e}", path.display()))?
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

/// The bytecode of an assembly file, validated as a program.
fn assemble(input: &std::path::Path) -> Result<Vec<u8>, CliError> {
    let text = read_text(input)?;
    let insns = cranebpf::asm::assemble(&text).map_err(|e| format!("{}: {e}", input.display()))?;
    let prog = Program::from_insns(&insns).map_err(|e| format!("{}: {e}", input.display()))?;
    Ok(prog.to_bytes())
}
