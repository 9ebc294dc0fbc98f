//! [`EngineError`]: why an engine cannot load a (validated) program.

use crate::isa::insn::LddwKind;
use std::fmt;

/// A program feature an engine does not support, found when the engine is
/// built (never while a program runs). Every variant names the pc (slot
/// index) of the instruction at fault.
///
/// The interpreter and the JIT return the same error for the same program
/// and helper set.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EngineError {
    /// `call IMM` names a static helper id that is not registered.
    UnknownHelper {
        /// Slot index of the call.
        pc: usize,
        /// The helper id (the call's imm as an unsigned number).
        id: u32,
    },
    /// `call` by BTF id (src 2) needs a kernel's type information; we have none.
    BtfCall {
        /// Slot index of the call.
        pc: usize,
        /// The BTF id.
        id: i32,
    },
    /// An LDDW pseudo-load (map, map value, variable or code address: src
    /// 1..=6) that no platform resolved.
    PseudoLddw {
        /// Slot index of the LDDW.
        pc: usize,
        /// Its sub-type.
        kind: LddwKind,
    },
    /// A jump or local call whose target is not an instruction. The validator
    /// rejects such programs; engines check again so they cannot misbehave.
    BadTarget {
        /// Slot index of the jump or call.
        pc: usize,
        /// The target slot (`pc + 1 + offset`), possibly negative.
        target: i64,
    },
    /// The last instruction is neither `exit` nor `ja`, so control could run
    /// past the end of the program (also a validator rule, checked again).
    FallsOffEnd {
        /// Slot index of the last instruction (0 for an empty program).
        pc: usize,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::UnknownHelper { pc, id } => {
                write!(f, "pc {pc}: call to unregistered helper {id}")
            }
            EngineError::BtfCall { pc, id } => {
                write!(f, "pc {pc}: call by BTF id {id} is not supported")
            }
            EngineError::PseudoLddw { pc, kind } => {
                write!(f, "pc {pc}: unresolved lddw pseudo-load {kind:?}")
            }
            EngineError::BadTarget { pc, target } => {
                write!(
                    f,
                    "pc {pc}: jump or call target {target} is not an instruction"
                )
            }
            EngineError::FallsOffEnd { pc } => {
                write!(f, "pc {pc}: the program can run past its last instruction")
            }
        }
    }
}

impl std::error::Error for EngineError {}
