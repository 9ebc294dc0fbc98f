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
