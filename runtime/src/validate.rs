//! The structural validator: the checks a loader makes before anything runs.
//!
//! [`validate`] takes the instructions [`crate::decode_all`] produced (so every
//! field is already well-formed, see [`crate::decode`](crate::decode_all)) and
//! checks how they fit together. It either returns the program's
//! [`Function`]s or the first broken rule, as a [`ValidateError`] naming the
//! pc and the [`Rule`]. Rules are checked in pc order, so the error is the one
//! at the lowest pc; within one instruction the order is the order below.
//!
//! # Terms
//!
//! - A **function** is a slot range `[start, end)`. The entry function starts
//!   at pc 0; every target of a local call (`call local`, `Call { kind: Local }`)
//!   starts another. Each function runs until the next one starts; the last
//!   runs to the end of the program. [`validate`] returns them in pc order, the
//!   entry function first.
//! - A pc **names an instruction** if an instruction starts there: any slot
//!   except the second slot of an LDDW.
//!
//! # Rules
//!
//! **Size**
//! - [`Rule::Empty`]: the program has at least one slot.
//! - [`Rule::TooLong`]: the program has at most [`MAX_SLOTS`] slots.
//! - [`Rule::Layout`]: the instruction list tiles the slots exactly: each
//!   instruction starts where the previous one ended, and the last one ends at
//!   the last slot. Always true of [`crate::decode_all`]'s output; checked so
//!   that [`validate`], a public function, never trusts its caller.
//!
//! **Registers**
//! - [`Rule::WritesFramePointer`]: no instruction writes r10, the read-only
//!   frame pointer: no ALU, NEG, MOVSX, byte-order, LDDW or LDX with dst r10,
//!   and no atomic with FETCH (which includes XCHG) whose src, which receives
//!   the old value, is r10. The register an instruction writes is
//!   [`Insn::written_reg`]. Using r10 as a base address (`stxdw [%r10-8], %r1`,
//!   `ldxdw %r0, [%r10-8]`, `lock add [%r10-8], %r1`) or as an operand is fine.
//!
//! **Jumps** (`ja`, `ja32`, conditional jumps; target `pc + 1 + offset`, where
//! `ja32` takes its offset from the 32-bit imm)
//! - [`Rule::JumpOutOfProgram`]: the target is a slot of the program.
//! - [`Rule::JumpIntoLddw`]: the target names an instruction, not the second
//!   slot of an LDDW.
//! - [`Rule::JumpOutOfFunction`]: the target lies in the jump's own function.
//!   Control moves between functions only by `call local` and `exit`.
//!
//! **Local calls** (`call local`; target `pc + 1 + imm`)
//! - [`Rule::CallOutOfProgram`]: the target is a slot of the program.
//! - [`Rule::CallIntoLddw`]: the target names an instruction.
//!
//! **Control flow**
//! - [`Rule::FallsThrough`]: the last instruction of every function is `exit`
//!   or an unconditional `ja`/`ja32`, so no path runs off the end of a function,
//!   neither into the next function nor off the end of the program. A
//!   conditional jump, a call or any other instruction in that place is an
//!   error, even if it is unreachable.
//!
//! # Allowed on purpose
//!
//! - **Unreachable code** is accepted (the conformance suite has code after an
//!   `exit`); it must still obey every rule above.
//! - **Recursion**: a cycle of local calls, including a function calling
//!   itself, is accepted. Engines bound it at run time with
//!   [`crate::MAX_CALL_DEPTH`] frames ([`crate::FaultKind::CallDepth`]).
//! - **Loops**: backward jumps are accepted; the instruction budget
//!   ([`crate::budget`]) bounds run time.
//! - **`call` by BTF id** (`Call { kind: Btf }`, src 2) is structurally valid;
//!   an engine that does not support it rejects or faults on it. Helper ids
//!   (`call` src 0 and `callx`) are not checked here either: which helpers
//!   exist is decided when the program runs ([`crate::FaultKind::UnknownHelper`]).
//! - **LDDW pseudo-loads** (`kind` other than [`crate::LddwKind::Imm64`]: map,
//!   map-value, variable and code-address loads) are structurally valid; a
//!   loader resolves them later, and an engine that cannot rejects them.
//! - A local call to pc 0 calls the entry function; it does not add a function.
//!
//! # TODO: rules not checked
//!
//! - Registers are read before they are written (definitely-initialised
//!   registers, including r1-r5 after a call and r0 at `exit`).
//! - Stack reads of bytes never written; stack offsets outside the frame.
//! - Every function reaching an `exit` on some path (a function may loop
//!   forever; the budget stops it).
//! - Statically known division by zero (defined behaviour, never a fault).
//! - Memory access bounds, alignment and types of pointers (done at run time
//!   by [`crate::MemoryMap`]).
//! - Call-graph depth: a non-recursive call chain deeper than
//!   [`crate::MAX_CALL_DEPTH`] is only caught at run time.

use crate::insn::{CallKind, Insn, Reg};
use std::fmt;

/// The largest program, in slots, [`validate`] accepts.
pub const MAX_SLOTS: usize = 1_000_000;

/// A function of the program: `[start, end)` in slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// First slot: 0 for the entry function, else a local-call target.
    pub start: usize,
    /// One past the last slot: the next function's start, or the program length.
    pub end: usize,
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A broken structural rule, at the instruction `pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateError {
    /// Slot index of the offending instruction (for [`Rule::Empty`] 0, for
    /// [`Rule::TooLong`] the first slot past the limit, for [`Rule::Layout`]
    /// where the next instruction should have started).
    pub pc: usize,
    /// The rule, with its details.
    pub rule: Rule,
}

/// The structural rules; see the [module docs](self) for the full list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The program has no slots.
    Empty,
    /// The program has more than [`MAX_SLOTS`] slots.
    TooLong {
        /// Its length in slots.
        slots: usize,
        /// [`MAX_SLOTS`].
        max: usize,
    },
    /// The instruction list does not tile the slots (never the case for
    /// [`crate::decode_all`]'s output).
    Layout {
        /// Where an instruction was expected to start.
        expected: usize,
        /// Where the next instruction starts instead, or `None` if the list
        /// ended early.
        found: Option<usize>,
        /// The program length in slots.
        len: usize,
    },
    /// The instruction writes r10.
    WritesFramePointer,
    /// A jump target is not a slot of the program.
    JumpOutOfProgram {
        /// `pc + 1 + offset`.
        target: i64,
        /// The program length in slots.
        len: usize,
    },
    /// A jump targets the second slot of an LDDW.
    JumpIntoLddw {
        /// The target slot.
        target: usize,
    },
    /// A jump targets a slot of another function.
    JumpOutOfFunction {
        /// The target slot.
        target: usize,
        /// The function the jump is in.
        function: Function,
    },
    /// A local call target is not a slot of the program.
    CallOutOfProgram {
        /// `pc + 1 + imm`.
        target: i64,
        /// The program length in slots.
        len: usize,
    },
    /// A local call targets the second slot of an LDDW.
    CallIntoLddw {
        /// The target slot.
        target: usize,
    },
    /// The last instruction of a function is neither `exit` nor `ja`, so
    /// control can run off the end of the function.
    FallsThrough {
        /// The function.
        function: Function,
        /// Whether it is the last function (control would leave the program).
        last: bool,
    },
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Rule::Empty => f.write_str("the program is empty"),
            Rule::TooLong { slots, max } => {
                write!(f, "the program has {slots} slots, more than the {max} allowed")
            }
            Rule::Layout {
                expected,
                found: Some(found),
                len,
            } => write!(
                f,
                "instructions do not tile the program (0..{len}): expected one at {expected}, found one at {found}"
            ),
            Rule::Layout {
                expected,
                found: None,
                len,
            } => write!(
                f,
                "instructions do not tile the program (0..{len}): expected one at {expected}, found none"
            ),
            Rule::WritesFramePointer => {
                f.write_str("the instruction writes r10, the read-only frame pointer")
            }
            Rule::JumpOutOfProgram { target, len } => {
                write!(f, "jump target {target} is outside the program (0..{len})")
            }
            Rule::JumpIntoLddw { target } => {
                write!(f, "jump target {target} is the second slot of an lddw")
            }
            Rule::JumpOutOfFunction { target, function } => write!(
                f,
                "jump target {target} is outside the jump's function ({function})"
            ),
            Rule::CallOutOfProgram { target, len } => {
                write!(f, "local call target {target} is outside the program (0..{len})")
            }
            Rule::CallIntoLddw { target } => {
                write!(f, "local call target {target} is the second slot of an lddw")
            }
            Rule::FallsThrough {
                function,
                last: false,
            } => write!(
                f,
                "the last instruction of function {function} is not exit or ja; control would fall into the next function"
            ),
            Rule::FallsThrough {
                function,
                last: true,
            } => write!(
                f,
                "the last instruction of function {function} is not exit or ja; control would run off the end of the program"
            ),
        }
    }
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pc {}: {}", self.pc, self.rule)
    }
}

impl std::error::Error for ValidateError {}

/// Checks the program size alone: [`Rule::Empty`] and [`Rule::TooLong`].
///
/// [`crate::Program`] calls this before decoding, so oversized input is
/// rejected without decoding it.
pub(crate) fn check_size(nslots: usize) -> Result<(), ValidateError> {
    if nslots == 0 {
        return Err(ValidateError {
            pc: 0,
            rule: Rule::Empty,
        });
    }
    if nslots > MAX_SLOTS {
        return Err(ValidateError {
            pc: MAX_SLOTS,
            rule: Rule::TooLong {
                slots: nslots,
                max: MAX_SLOTS,
            },
        });
    }
    Ok(())
}

/// Validates decoded instructions of a program of `nslots` slots and returns
/// its functions: the entry function first, then one per local-call target,
/// in pc order.
///
/// `insns` are `(pc, insn)` pairs in program order, as
/// [`crate::decode_all`] returns them. The rules are listed in the
/// [module docs](self); the error names the lowest pc that breaks one.
pub fn validate(insns: &[(usize, Insn)], nslots: usize) -> Result<Vec<Function>, ValidateError> {
    check_size(nslots)?;
    let starts = instruction_starts(insns, nslots)?;
    let functions = functions(insns, nslots, &starts);

    // `functions` is sorted, non-empty and starts at 0, so each pc lies in
    // the function with the last start <= pc.
    let function_of = |pc: usize| -> Function {
        let i = functions.partition_point(|f| f.start <= pc);
        functions
            .get(i.wrapping_sub(1))
            .copied()
            .unwrap_or(Function {
                start: 0,
                end: nslots,
            })
    };
    for &(pc, insn) in insns {
        let err = |rule| Err(ValidateError { pc, rule });
        let here = function_of(pc);

        if insn.written_reg() == Some(Reg::R10) {
            return err(Rule::WritesFramePointer);
        }

        if let Some(off) = insn.jump_offset() {
            let target = pc as i64 + 1 + off;
            match slot(target, nslots) {
                None => {
                    return err(Rule::JumpOutOfProgram {
                        target,
                        len: nslots,
                    })
                }
                Some(t) if !starts[t] => return err(Rule::JumpIntoLddw { target: t }),
                Some(t) if !(here.start..here.end).contains(&t) => {
                    return err(Rule::JumpOutOfFunction {
                        target: t,
                        function: here,
                    })
                }
                Some(_) => {}
            }
        }

        if let Insn::Call {
            kind: CallKind::Local,
            imm,
        } = insn
        {
            let target = pc as i64 + 1 + imm as i64;
            match slot(target, nslots) {
                None => {
                    return err(Rule::CallOutOfProgram {
                        target,
                        len: nslots,
                    })
                }
                Some(t) if !starts[t] => return err(Rule::CallIntoLddw { target: t }),
                Some(_) => {}
            }
        }

        if pc + insn.slots() == here.end && !insn.is_terminator() {
            return err(Rule::FallsThrough {
                function: here,
                last: here.end == nslots,
            });
        }
    }
    Ok(functions)
}

/// `target` as a slot index, if it is one of a program of `nslots` slots.
fn slot(target: i64, nslots: usize) -> Option<usize> {
    usize::try_from(target).ok().filter(|&t| t < nslots)
}

/// Checks [`Rule::Layout`] and returns, for each slot, whether an instruction
/// starts there.
fn instruction_starts(insns: &[(usize, Insn)], nslots: usize) -> Result<Vec<bool>, ValidateError> {
    let mut starts = vec![false; nslots];
    let mut expected = 0;
    for &(pc, insn) in insns {
        // The second condition catches an LDDW whose second slot would lie
        // past the end.
        if pc != expected || pc >= nslots {
            return Err(ValidateError {
                pc: expected,
                rule: Rule::Layout {
                    expected,
                    found: Some(pc),
                    len: nslots,
                },
            });
        }
        starts[pc] = true;
        expected = pc + insn.slots();
    }
    if expected != nslots {
        return Err(ValidateError {
            pc: expected,
            rule: Rule::Layout {
                expected,
                found: None,
                len: nslots,
            },
        });
    }
    Ok(starts)
}

/// The functions: pc 0 and every local-call target that names an
/// instruction, sorted and deduplicated, each running to the next start.
/// Bad call targets are left out here and reported in pc order by
/// [`validate`].
fn functions(insns: &[(usize, Insn)], nslots: usize, starts: &[bool]) -> Vec<Function> {
    let mut entries = vec![0];
    for &(pc, insn) in insns {
        if let Insn::Call {
            kind: CallKind::Local,
            imm,
        } = insn
        {
            if let Some(t) = slot(pc as i64 + 1 + imm as i64, nslots) {
                if starts[t] {
                    entries.push(t);
                }
            }
        }
    }
    entries.sort_unstable();
    entries.dedup();
    let ends = entries.iter().skip(1).copied().chain([nslots]);
    entries
        .iter()
        .zip(ends)
        .map(|(&start, end)| Function { start, end })
        .collect()
}
