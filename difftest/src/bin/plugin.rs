//! `cranebpf-conformance-plugin`: the bpf_conformance plugin contract.
//!
//! Reads the program as hex bytes on standard input, takes the input memory as
//! hex in the first non-option argument, runs the program, and prints r0 in
//! hex on standard output. Any load error or fault goes to standard error with
//! a non-zero exit status. Options: `--jit` (the Cranelift JIT) or
//! `--interpreter` (the default); `--budget N`.

use cranebpf::{EngineKind, Program, RunOptions, Vm};
use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run() {
        Ok(r0) => {
            println!("{r0:x}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<u64, String> {
    let mut engine = EngineKind::Interpreter;
    let mut budget = None;
    let mut mem_hex = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--jit" => engine = EngineKind::Jit,
            "--interpreter" | "--interp" => engine = EngineKind::Interpreter,
            "--budget" => {
                let n = args.next().ok_or("--budget needs a number")?;
                budget = Some(n.parse::<u64>().map_err(|e| format!("--budget {n}: {e}"))?);
            }
            "--help" | "-h" => {
                return Err("usage: cranebpf-conformance-plugin [--jit|--interpreter] [--budget N] [MEMORY_HEX] < PROGRAM_HEX".into())
            }
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            other => mem_hex.push_str(other),
        }
    }
    let mut program_hex = String::new();
    std::io::stdin()
        .read_to_string(&mut program_hex)
        .map_err(|e| format!("cannot read the program from stdin: {e}"))?;
    let code = decode_hex(&program_hex).map_err(|e| format!("program: {e}"))?;
    let mut mem = decode_hex(&mem_hex).map_err(|e| format!("memory: {e}"))?;
    let prog = Program::from_bytes(&code).map_err(|e| e.to_string())?;
    let vm = Vm::new(&prog, cranebpf_difftest::conformance_helpers(), engine)
        .map_err(|e| e.to_string())?;
    vm.run_input(&mut mem, &RunOptions { budget })
        .result
        .map_err(|f| f.to_string())
}

fn decode_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() % 2 != 0 {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .enumerate()
        .map(|(i, pair)| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| format!("byte {i} is not hex"))
        })
        .collect()
}
