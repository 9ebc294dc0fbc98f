//! Run-time faults: the one error type every engine returns when a program
//! stops abnormally.
//!
//! **Architecture Invariant.** The interpreter and every JIT return the same
//! [`Fault`] (kind, pc, and the kind's fields) for the same program, input and
//! budget. A fault is a clean stop: the host process is never affected.

use std::fmt;

/// The kind of memory access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A load (LDX, LD_ABS, LD_IND).
    Read,
    /// A store (ST, STX).
    Write,
    /// An atomic read-modify-write: needs read and write permission.
    ReadWrite,
}

impl Access {
    /// Numeric code used in the JIT's VM context.
    pub const fn code(self) -> u64 {
        match self {
            Access::Read => 0,
            Access::Write => 1,
            Access::ReadWrite => 2,
        }
    }

    /// The inverse of [`Access::code`].
    pub const fn from_code(code: u64) -> Option<Access> {
        match code {
            0 => Some(Access::Read),
            1 => Some(Access::Write),
            2 => Some(Access::ReadWrite),
            _ => None,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::ReadWrite => "read-modify-write",
        })
    }
}

/// An error a helper function reports; it stops the program with
/// [`FaultKind::Helper`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HelperError {
    /// What went wrong, for people.
    pub message: String,
}

impl HelperError {
    /// Makes an error with a message.
    pub fn new(message: impl Into<String>) -> HelperError {
        HelperError {
            message: message.into(),
        }
    }
}

impl fmt::Display for HelperError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HelperError {}

/// Why a program stopped abnormally.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// A load, store or atomic touched bytes outside every region that grants
    /// the access (or wrapped around the address space).
    OutOfBounds {
        /// First byte of the access.
        addr: u64,
        /// Access size in bytes.
        size: u64,
        /// Read, write or read-modify-write.
        access: Access,
    },
    /// An atomic operation on an address that is not a multiple of its size.
    Misaligned {
        /// First byte of the access.
        addr: u64,
        /// Access size in bytes.
        size: u64,
    },
    /// The instruction budget would be exceeded by the next block (see
    /// [`crate::analysis::budget`] for the counting rule).
    Budget {
        /// The budget the run was given.
        budget: u64,
    },
    /// A local call would exceed [`crate::MAX_CALL_DEPTH`] frames.
    CallDepth {
        /// The frame limit.
        limit: u64,
    },
    /// `call` or `callx` named a helper id that is not registered.
    UnknownHelper {
        /// The id (for `callx`, the full register value).
        id: u64,
    },
    /// A helper returned an error.
    Helper {
        /// The helper id.
        id: u32,
        /// The helper's error.
        error: HelperError,
    },
    /// The JIT's audit mode evaluated the check of an access that a proof
    /// ([`crate::analysis::proof`]) said could not fail, and it failed: the
    /// proof was wrong. The fields are those [`FaultKind::OutOfBounds`]
    /// would have had. **Never produced by the interpreter** (it reads no
    /// proof) nor by a JIT without audit: it always means a verifier bug,
    /// never a behaviour of the program.
    ProofViolation {
        /// First byte of the access.
        addr: u64,
        /// Access size in bytes.
        size: u64,
        /// Read, write or read-modify-write.
        access: Access,
    },
}

/// A fault at a given instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Fault {
    /// What happened.
    pub kind: FaultKind,
    /// Slot index of the instruction that faulted.
    pub pc: usize,
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultKind::OutOfBounds { addr, size, access } => {
                write!(f, "out-of-bounds {access} of {size} bytes at {addr:#x}")
            }
            FaultKind::Misaligned { addr, size } => {
                write!(f, "misaligned {size}-byte atomic access at {addr:#x}")
            }
            FaultKind::Budget { budget } => {
                write!(f, "instruction budget of {budget} exhausted")
            }
            FaultKind::CallDepth { limit } => {
                write!(f, "call depth limit of {limit} frames exceeded")
            }
            FaultKind::UnknownHelper { id } => write!(f, "call to unknown helper {id}"),
            FaultKind::Helper { id, error } => write!(f, "helper {id} failed: {error}"),
            FaultKind::ProofViolation { addr, size, access } => write!(
                f,
                "proof violation: {access} of {size} bytes at {addr:#x} was proven in bounds \
                 but fails its check (a verifier bug)"
            ),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault at pc {}: {}", self.pc, self.kind)
    }
}

impl std::error::Error for Fault {}
