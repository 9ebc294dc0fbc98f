//! [`VerifyError`]: why strict mode refused a program, kernel-style: the
//! pc, the instruction, the register state there and the reason.

use std::fmt;

/// What went wrong (the reason part of a [`VerifyError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A memory access that is not proven to stay in bounds.
    Access {
        /// Why, in a few words.
        reason: String,
    },
    /// A read of a register or stack bytes never written on some path.
    Uninit {
        /// What was read.
        what: String,
    },
    /// Arithmetic or use of a pointer the verifier cannot follow.
    Pointer {
        /// Which.
        reason: String,
    },
    /// A helper call whose arguments or id are not accepted.
    Helper {
        /// The helper id.
        id: u32,
        /// Why.
        reason: String,
    },
    /// A path came back to a loop header in a state no more precise than
    /// before: the loop may not terminate.
    Loop {
        /// Index of the loop header.
        header: usize,
    },
    /// The exploration processed more instructions than the limit.
    TooComplex {
        /// The limit.
        limit: u64,
    },
    /// Something the verifier does not model (`callx`, kfuncs).
    Unsupported {
        /// What.
        what: String,
    },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Access { reason } => write!(f, "invalid memory access: {reason}"),
            ErrorKind::Uninit { what } => write!(f, "{what} is read before it is written"),
            ErrorKind::Pointer { reason } => write!(f, "{reason}"),
            ErrorKind::Helper { id, reason } => write!(f, "helper {id}: {reason}"),
            ErrorKind::Loop { header } => write!(
                f,
                "infinite loop detected (back at instruction {header} with no progress)"
            ),
            ErrorKind::TooComplex { limit } => write!(
                f,
                "program too complex: more than {limit} instructions processed"
            ),
            ErrorKind::Unsupported { what } => write!(f, "unsupported: {what}"),
        }
    }
}

/// Strict mode's refusal (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyError {
    /// The pc (slot) of the instruction.
    pub pc: usize,
    /// The instruction, as the assembler prints it.
    pub insn: String,
    /// The register state before it.
    pub state: String,
    /// Why.
    pub kind: ErrorKind,
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pc {}: {}\n  state: {}\n  {}",
            self.pc, self.insn, self.state, self.kind
        )
    }
}

impl std::error::Error for VerifyError {}
