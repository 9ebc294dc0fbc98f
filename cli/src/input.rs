//! What the subcommands read: files (each kind with a size cap, read with a
//! limit so `/dev/zero` or a FIFO cannot exhaust memory), programs in
//! assembly or raw bytecode, and hex bytes given on the command line.

use crate::CliError;
use clap::ValueEnum;
use cranebpf::Program;
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest program file (assembly, raw bytecode or ELF object): 16 MiB,
/// two million instruction slots.
pub const MAX_PROGRAM_BYTES: u64 = 16 << 20;
/// The largest input memory file (`--mem-file`): 64 MiB.
pub const MAX_MEM_BYTES: u64 = 64 << 20;
/// The largest packet capture (`--pcap`): 256 MiB.
pub const MAX_PCAP_BYTES: u64 = 256 << 20;

/// The first bytes of an ELF file.
pub const ELF_MAGIC: &[u8] = b"\x7fELF";

/// How to read a program file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// By extension, then by content.
    Auto,
    /// Assembly text.
    Asm,
    /// Raw little-endian bytecode.
    Bin,
}

/// Reads at most `cap` bytes of `path`; a longer file is refused, naming
/// `what` it was read as and the limit.
pub fn read_capped(path: &Path, cap: u64, what: &str) -> Result<Vec<u8>, CliError> {
    let cannot = |e: std::io::Error| CliError(format!("cannot read {}: {e}", path.display()));
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| f.take(cap + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > cap {
        return Err(CliError(format!(
            "{} is larger than {} MiB, the limit for {what}",
            path.display(),
            cap >> 20
        )));
    }
    Ok(bytes)
}

/// Reads a program file (capped at [`MAX_PROGRAM_BYTES`]).
pub fn read_program_file(path: &Path) -> Result<Vec<u8>, CliError> {
    read_capped(path, MAX_PROGRAM_BYTES, "a program")
}

/// Reads a program file as UTF-8 text.
pub fn read_text(path: &Path) -> Result<String, CliError> {
    let bytes = read_program_file(path)?;
    refuse_elf(path, &bytes)?;
    String::from_utf8(bytes).map_err(|_| CliError(format!("{} is not UTF-8 text", path.display())))
}

/// An ELF object is not a raw program: say so, and what runs one.
fn refuse_elf(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    if bytes.starts_with(ELF_MAGIC) {
        return Err(CliError(format!(
            "{} is an ELF object, not assembly or raw bytecode: run its XDP program over \
             packets with `cranebpf run {} --pcap FILE [--section NAME]`",
            path.display(),
            path.display()
        )));
    }
    Ok(())
}

/// Reads a program: assembly or raw bytecode, decided by `format`, the file
/// extension, then the content (UTF-8 text without NUL bytes is taken as
/// assembly). ELF objects are refused with a pointer to `--pcap`.
pub fn load_program(path: &Path, format: Format) -> Result<Program, CliError> {
    let bytes = read_program_file(path)?;
    refuse_elf(path, &bytes)?;
    let where_ = path.display();
    if is_assembly(path, format, &bytes) {
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| CliError(format!("{where_} is not UTF-8 text")))?;
        let insns = cranebpf::asm::assemble(text).map_err(|e| format!("{where_}: {e}"))?;
        Ok(Program::from_insns(&insns).map_err(|e| format!("{where_}: {e}"))?)
    } else {
        Ok(Program::from_bytes(&bytes).map_err(|e| format!("{where_}: {e}"))?)
    }
}

fn is_assembly(path: &Path, format: Format, bytes: &[u8]) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match format {
        Format::Asm => true,
        Format::Bin => false,
        Format::Auto => match ext {
            "s" | "asm" | "S" => true,
            "bin" | "bpf" | "raw" => false,
            _ => std::str::from_utf8(bytes).is_ok_and(|t| !t.contains('\0')),
        },
    }
}

/// Hex bytes for `--mem` ([`cranebpf_difftest::case::parse_hex`], the one
/// hex rule; signs and non-ASCII are refused).
pub fn parse_hex(s: &str) -> Result<Vec<u8>, CliError> {
    cranebpf_difftest::case::parse_hex(s).map_err(CliError)
}

/// Bytes as space-separated hex pairs ([`cranebpf_difftest::case::hex`]).
pub fn to_hex(bytes: &[u8]) -> String {
    cranebpf_difftest::case::hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_accepts_pairs_with_whitespace_and_a_prefix() {
        assert_eq!(parse_hex("01 ff\n7F").ok(), Some(vec![1, 0xff, 0x7f]));
        assert_eq!(parse_hex("0x0102").ok(), Some(vec![1, 2]));
        assert_eq!(parse_hex("").ok(), Some(vec![]));
    }

    #[test]
    fn hex_refuses_signs_non_ascii_and_odd_lengths() {
        for bad in ["+1+2", "aé0", "€€", "0", "zz", "0x-1"] {
            assert!(parse_hex(bad).is_err(), "{bad}");
        }
    }
}
