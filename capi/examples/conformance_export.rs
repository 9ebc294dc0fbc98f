//! Writes the bpf_conformance suite as plain lines a C program can read,
//! one test per line: `NAME CODE MEM RESULT`, where CODE and MEM are hex
//! bytes without spaces (`-` for no input memory) and RESULT is the expected
//! r0 in hex. The C host `tests/c/ubpf_conformance.c` runs them through
//! `ubpf.h`. Usage: `conformance_export [DIR] > suite.txt` (default: the
//! suite `cranebpf_difftest::conformance::conformance_dir` finds).

use cranebpf_difftest::conformance::{conformance_dir, load_dir, program_bytes};
use std::fmt::Write as _;
use std::process::ExitCode;

fn hex(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "-".into();
    }
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map_or_else(conformance_dir, Into::into);
    let files = match load_dir(&dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("conformance_export: {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let mut out = String::new();
    for t in &files {
        if let Some(why) = &t.skipped_reason {
            eprintln!("conformance_export: skipping {}: {why}", t.name);
            continue;
        }
        let (code, result) = match (program_bytes(t), t.result) {
            (Ok(c), Some(r)) => (c, r),
            (Err(e), _) => {
                eprintln!("conformance_export: {e}");
                return ExitCode::FAILURE;
            }
            (Ok(_), None) => {
                eprintln!("conformance_export: {} has no expected result", t.name);
                return ExitCode::FAILURE;
            }
        };
        let _ = writeln!(out, "{} {} {} {result:x}", t.name, hex(&code), hex(&t.mem));
    }
    print!("{out}");
    ExitCode::SUCCESS
}
