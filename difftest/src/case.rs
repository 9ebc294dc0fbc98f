//! [`Case`]: one differential test: a program, its input and its budget.

use cranebpf_runtime::{asm, Insn, LoadError, Program};
use std::fmt::Write;

/// One test case: a program run with r1 = a pointer to (a copy of) `input`,
/// r2 = its length, under an instruction budget, with the difftest helpers
/// ([`crate::helpers::difftest_helpers`]) and a scratch region.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// The program's instructions.
    pub insns: Vec<Insn>,
    /// The initial input bytes.
    pub input: Vec<u8>,
    /// The instruction budget.
    pub budget: u64,
    /// The seed the case was generated from (kept through shrinking).
    pub seed: u64,
}

impl Case {
    /// The loaded program (generated cases always load).
    pub fn program(&self) -> Result<Program, LoadError> {
        Program::from_insns(&self.insns)
    }

    /// Program length in slots.
    pub fn slots(&self) -> usize {
        self.insns.iter().map(|i| i.slots()).sum()
    }

    /// The program as assembly in the bpf_conformance syntax, one
    /// instruction per line; it re-assembles to the same program.
    pub fn asm(&self) -> String {
        let mut pc = 0;
        let pairs: Vec<(usize, Insn)> = self
            .insns
            .iter()
            .map(|&i| {
                let p = pc;
                pc += i.slots();
                (p, i)
            })
            .collect();
        asm::disassemble(&pairs)
    }

    /// The input as hex bytes (`cranebpf run --mem` syntax).
    pub fn input_hex(&self) -> String {
        hex(&self.input)
    }
}

/// The inverse of [`hex`], and the `--mem` syntax of `cranebpf run` and
/// `cranebpf-difftest repro`: pairs of hex digits, whitespace anywhere, an
/// optional leading `0x`. Anything else (signs, non-ASCII) is refused with
/// the offending character and its position among the digits.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let trimmed = s.trim_start();
    let body = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    let mut digits = Vec::with_capacity(body.len());
    for (i, c) in body.chars().filter(|c| !c.is_whitespace()).enumerate() {
        let d = c.to_digit(16).ok_or_else(|| {
            format!(
                "--mem: `{c}` (digit {i}) is not a hex digit; give bytes as hex pairs, e.g. \"01 02 ff\""
            )
        })?;
        digits.push(d as u8);
    }
    if !digits.len().is_multiple_of(2) {
        return Err(format!(
            "--mem: odd number of hex digits ({})",
            digits.len()
        ));
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Bytes as space-separated hex.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parses_and_rejects() {
        assert_eq!(parse_hex("01 ff\n7f"), Ok(vec![1, 0xff, 0x7f]));
        assert!(parse_hex("0").is_err());
        assert!(parse_hex("zz").is_err());
        // `u8::from_str_radix` takes a sign; the --mem syntax does not.
        assert!(parse_hex("+1+2").is_err());
    }

    #[test]
    fn hex_and_parse_hex_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(parse_hex(&hex(&bytes)), Ok(bytes));
    }
}
