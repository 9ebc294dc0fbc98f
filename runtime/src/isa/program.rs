//! [`Program`]: bytecode that decoded and passed the validator.
//!
//! This is the only way into the engines: an engine never sees bytes that
//! were not decoded strictly and validated.

use crate::isa::cfg::Cfg;
use crate::isa::decode::{decode_all, DecodeError};
use crate::isa::encode::encode_all;
use crate::isa::insn::{slots_from_bytes, slots_to_bytes, Insn, RawInsn};
use crate::isa::validate::{check_size, validate_cfg, Function, ValidateError};
use std::fmt;

/// A decoded, validated eBPF program.
///
/// It owns its control-flow graph ([`Program::cfg`]), computed once at
/// construction: the validator builds it (O(program size)) and checks the
/// jump and call rules against it, so every engine and analysis reads the
/// same graph instead of deriving control flow again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    slots: Vec<RawInsn>,
    insns: Vec<(usize, Insn)>,
    cfg: Cfg,
}

/// Why bytecode could not become a [`Program`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// A slot did not decode.
    Decode(DecodeError),
    /// The instructions decoded but break a structural rule.
    Validate(ValidateError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Decode(e) => write!(f, "invalid instruction at {e}"),
            LoadError::Validate(e) => write!(f, "invalid program: {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<DecodeError> for LoadError {
    fn from(e: DecodeError) -> LoadError {
        LoadError::Decode(e)
    }
}

impl From<ValidateError> for LoadError {
    fn from(e: ValidateError) -> LoadError {
        LoadError::Validate(e)
    }
}

impl Program {
    /// Decodes and validates little-endian bytecode.
    pub fn from_bytes(bytes: &[u8]) -> Result<Program, LoadError> {
        Program::from_slots(slots_from_bytes(bytes)?)
    }

    /// Decodes and validates slots.
    ///
    /// An empty or oversized program (more than [`crate::MAX_SLOTS`] slots) is
    /// rejected before decoding, with a [`LoadError::Validate`].
    pub fn from_slots(slots: Vec<RawInsn>) -> Result<Program, LoadError> {
        check_size(slots.len())?;
        let insns = decode_all(&slots)?;
        let cfg = validate_cfg(&insns, slots.len())?;
        Ok(Program { slots, insns, cfg })
    }

    /// Encodes and validates instructions.
    pub fn from_insns(insns: &[Insn]) -> Result<Program, LoadError> {
        Program::from_slots(encode_all(insns))
    }

    /// The slots, as loaded.
    pub fn slots(&self) -> &[RawInsn] {
        &self.slots
    }

    /// The bytecode.
    pub fn to_bytes(&self) -> Vec<u8> {
        slots_to_bytes(&self.slots)
    }

    /// The decoded instructions with their pcs, in program order.
    pub fn insns(&self) -> &[(usize, Insn)] {
        &self.insns
    }

    /// The functions: the entry function first, then every local-call target,
    /// in pc order.
    pub fn functions(&self) -> &[Function] {
        self.cfg.functions()
    }

    /// The control-flow graph: functions, blocks, successors, call targets
    /// and back-edges.
    pub fn cfg(&self) -> &Cfg {
        &self.cfg
    }

    /// Index into [`Program::insns`] of the instruction at slot `pc`.
    pub fn index_of_pc(&self, pc: usize) -> Option<usize> {
        self.cfg.index_of_pc(pc)
    }
}
