//! The structural validator (placeholder: being written).

use crate::insn::Insn;
use std::fmt;

/// A function of the program: `[start, end)` in slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// First slot.
    pub start: usize,
    /// One past the last slot.
    pub end: usize,
}

/// A broken structural rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidateError {
    /// Where.
    pub pc: usize,
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pc {}", self.pc)
    }
}

impl std::error::Error for ValidateError {}

/// Validates decoded instructions; returns the functions.
pub fn validate(_insns: &[(usize, Insn)], slots: usize) -> Result<Vec<Function>, ValidateError> {
    Ok(vec![Function {
        start: 0,
        end: slots,
    }])
}
