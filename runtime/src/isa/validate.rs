//! The structural validator: the checks a loader makes before anything runs.
//!
//! [`validate`] takes the instructions [`crate::decode_all`] produced (so every
//! field is already well-formed) and checks how they fit together. It returns
//! either the program's [`Function`]s or the first broken rule, as a
//! [`ValidateError`] naming the pc and the [`Rule`]. The size and layout rules
//! come first; the others are checked in pc order, so the error is the one at
//! the lowest pc, and within one instruction the order is the order below.
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
//!   ([`crate::analysis::budget`]) bounds run time.
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

use crate::isa::cfg::Cfg;
pub use crate::isa::cfg::Function;
use crate::isa::insn::{CallKind, Insn, Reg};
use crate::sem;
use std::fmt;

/// The largest program, in slots, [`validate`] accepts.
pub const MAX_SLOTS: usize = 1_000_000;

/// A broken structural rule, at the instruction `pc`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValidateError {
    /// Slot index of the offending instruction (for [`Rule::Empty`] 0, for
    /// [`Rule::TooLong`] the first slot past the limit, for [`Rule::Layout`]
    /// the first slot where the instruction list and the slots disagree).
    pub pc: usize,
    /// The rule, with its details.
    pub rule: Rule,
}

/// The structural rules, one variant per rule; [`validate`] lists them all.
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
    /// [`crate::decode_all`]'s output). The error's pc is the first slot
    /// where list and slots disagree.
    Layout {
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
            Rule::Layout { len } => write!(
                f,
                "the instruction list does not tile the program's slots (0..{len}) here"
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
/// in pc order. Each function runs until the next one starts.
///
/// `insns` are `(pc, insn)` pairs in program order, as
/// [`crate::decode_all`] returns them. The error names the lowest pc that
/// breaks a rule; within one instruction, rules are checked in this order:
///
/// - size: [`Rule::Empty`], [`Rule::TooLong`] (over [`MAX_SLOTS`]),
///   [`Rule::Layout`] (the list must tile the slots);
/// - registers: [`Rule::WritesFramePointer`] (no instruction writes r10,
///   including atomics with FETCH into src r10; stores through r10 are fine);
/// - jumps (`pc + 1 + off`; `ja32` uses imm): [`Rule::JumpOutOfProgram`],
///   [`Rule::JumpIntoLddw`], [`Rule::JumpOutOfFunction`];
/// - local calls (`pc + 1 + imm`): [`Rule::CallOutOfProgram`],
///   [`Rule::CallIntoLddw`];
/// - control flow: [`Rule::FallsThrough`] (every function ends with `exit` or
///   an unconditional `ja`).
///
/// Accepted on purpose: unreachable code, loops, recursion (bounded at run
/// time by [`crate::MAX_CALL_DEPTH`]), `call` by BTF id, any helper id, and
/// LDDW pseudo-loads (map, variable and code addresses) that a loader
/// resolves later. Not checked (TODO): initialised registers and stack,
/// reachability of `exit`, memory bounds (a run-time matter), call-chain depth.
pub fn validate(insns: &[(usize, Insn)], nslots: usize) -> Result<Vec<Function>, ValidateError> {
    validate_cfg(insns, nslots).map(|cfg| cfg.functions().to_vec())
}

/// [`validate`], returning the program's control-flow graph: built once the
/// layout is known to be sound, then the rules are checked against it.
pub(crate) fn validate_cfg(insns: &[(usize, Insn)], nslots: usize) -> Result<Cfg, ValidateError> {
    check_size(nslots)?;
    let starts = instruction_starts(insns, nslots)?;
    let cfg = Cfg::new(insns);
    for (i, &(pc, insn)) in insns.iter().enumerate() {
        check_insn(&cfg, &starts, nslots, i, pc, insn)
            .map_err(|rule| ValidateError { pc, rule })?;
    }
    Ok(cfg)
}

/// Checks the register, jump, call and control-flow rules of the
/// instruction at index `i` (slot `pc`).
fn check_insn(
    cfg: &Cfg,
    starts: &[bool],
    nslots: usize,
    i: usize,
    pc: usize,
    insn: Insn,
) -> Result<(), Rule> {
    let here = cfg.function_of(pc);
    if insn.written_reg() == Some(Reg::R10) {
        return Err(Rule::WritesFramePointer);
    }
    if let Some(off) = insn.jump_offset() {
        match slot(pc, off, nslots) {
            None => {
                return Err(Rule::JumpOutOfProgram {
                    target: sem::jump_target_signed(pc, off),
                    len: nslots,
                })
            }
            Some(t) if !starts[t] => return Err(Rule::JumpIntoLddw { target: t }),
            Some(t) if !(here.start..here.end).contains(&t) => {
                return Err(Rule::JumpOutOfFunction {
                    target: t,
                    function: here,
                })
            }
            Some(_) => debug_assert!(cfg.target(i).is_some()),
        }
    }
    if let Insn::Call {
        kind: CallKind::Local,
        imm,
    } = insn
    {
        let off = i64::from(imm);
        match slot(pc, off, nslots) {
            None => {
                return Err(Rule::CallOutOfProgram {
                    target: sem::jump_target_signed(pc, off),
                    len: nslots,
                })
            }
            Some(t) if !starts[t] => return Err(Rule::CallIntoLddw { target: t }),
            Some(_) => {}
        }
    }
    if pc + insn.slots() == here.end && !insn.is_terminator() {
        return Err(Rule::FallsThrough {
            function: here,
            last: here.end == nslots,
        });
    }
    Ok(())
}

/// The target slot of a jump or call at `pc` with offset `off`
/// ([`sem::jump_target`]), if it is a slot of a program of `nslots` slots.
fn slot(pc: usize, off: i64, nslots: usize) -> Option<usize> {
    sem::jump_target(pc, off).filter(|&t| t < nslots)
}

/// Checks [`Rule::Layout`] and returns, for each slot, whether an instruction
/// starts there.
fn instruction_starts(insns: &[(usize, Insn)], nslots: usize) -> Result<Vec<bool>, ValidateError> {
    let layout = |pc| ValidateError {
        pc,
        rule: Rule::Layout { len: nslots },
    };
    let mut starts = vec![false; nslots];
    let mut expected = 0;
    for &(pc, insn) in insns {
        if pc != expected {
            // A gap, an overlap, or pcs out of order.
            return Err(layout(expected));
        }
        if pc + insn.slots() > nslots {
            // The instruction (an LDDW, or anything past the end) does not fit.
            return Err(layout(pc));
        }
        starts[pc] = true;
        expected = pc + insn.slots();
    }
    if expected != nslots {
        // The list ends early.
        return Err(layout(expected));
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::*;

    // Small constructors; pcs are worked out by hand in each test.

    fn mov(dst: Reg, imm: i32) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst,
            src: Src::Imm(imm),
        }
    }

    fn lddw(dst: Reg) -> Insn {
        Insn::Lddw {
            dst,
            kind: LddwKind::Imm64,
            imm: 1,
            next_imm: 2,
        }
    }

    fn ja(off: i32) -> Insn {
        Insn::Ja { off, wide: false }
    }

    fn ja32(off: i32) -> Insn {
        Insn::Ja { off, wide: true }
    }

    fn jeq(off: i16) -> Insn {
        Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Eq,
            dst: Reg::R0,
            src: Src::Imm(0),
            off,
        }
    }

    fn call_local(imm: i32) -> Insn {
        Insn::Call {
            kind: CallKind::Local,
            imm,
        }
    }

    const EXIT: Insn = Insn::Exit;

    /// Pairs each instruction with its pc and validates.
    fn check(prog: &[Insn]) -> Result<Vec<Function>, ValidateError> {
        let mut pc = 0;
        let mut insns = Vec::new();
        for &insn in prog {
            insns.push((pc, insn));
            pc += insn.slots();
        }
        validate(&insns, pc)
    }

    fn func(start: usize, end: usize) -> Function {
        Function { start, end }
    }

    fn fails(prog: &[Insn], pc: usize, rule: Rule) {
        assert_eq!(check(prog), Err(ValidateError { pc, rule }), "{prog:?}");
    }

    fn passes(prog: &[Insn], functions: &[Function]) {
        assert_eq!(check(prog).as_deref(), Ok(functions), "{prog:?}");
    }

    // ---- Size ----

    #[test]
    fn empty_program_is_rejected() {
        fails(&[], 0, Rule::Empty);
        passes(&[EXIT], &[func(0, 1)]);
    }

    #[test]
    fn program_longer_than_max_slots_is_rejected() {
        // The size check comes first, so no instructions are needed.
        assert_eq!(
            validate(&[], MAX_SLOTS + 1),
            Err(ValidateError {
                pc: MAX_SLOTS,
                rule: Rule::TooLong {
                    slots: MAX_SLOTS + 1,
                    max: MAX_SLOTS
                }
            })
        );
        // Exactly MAX_SLOTS slots: MAX_SLOTS - 1 movs and an exit.
        let mut prog = vec![mov(Reg::R0, 0); MAX_SLOTS - 1];
        prog.push(EXIT);
        passes(&prog, &[func(0, MAX_SLOTS)]);
    }

    #[test]
    fn instructions_must_tile_the_slots() {
        let layout = |pc, len| {
            Err(ValidateError {
                pc,
                rule: Rule::Layout { len },
            })
        };
        // A gap at slot 1.
        assert_eq!(
            validate(&[(0, mov(Reg::R0, 0)), (2, EXIT)], 3),
            layout(1, 3)
        );
        // Out of order.
        assert_eq!(validate(&[(1, EXIT), (0, EXIT)], 2), layout(0, 2));
        // The list ends at slot 1 of 2.
        assert_eq!(validate(&[(0, EXIT)], 2), layout(1, 2));
        // An instruction past the end.
        assert_eq!(validate(&[(0, EXIT), (1, EXIT)], 1), layout(1, 1));
        // An lddw at pc 1 needs slots 1 and 2, but there are only 2.
        assert_eq!(validate(&[(0, EXIT), (1, lddw(Reg::R0))], 2), layout(1, 2));
        assert_eq!(
            validate(&[(0, EXIT), (1, lddw(Reg::R0))], 2)
                .unwrap_err()
                .to_string(),
            "pc 1: the instruction list does not tile the program's slots (0..2) here"
        );
        assert_eq!(
            validate(&[(0, lddw(Reg::R0)), (2, EXIT)], 3),
            Ok(vec![func(0, 3)])
        );
    }

    // ---- Registers ----

    #[test]
    fn writes_to_r10_are_rejected() {
        let fp = Reg::R10;
        let writers = [
            mov(fp, 0),
            Insn::Alu {
                w: Width::W32,
                op: AluOp::Add,
                dst: fp,
                src: Src::Reg(Reg::R1),
            },
            Insn::Neg {
                w: Width::W64,
                dst: fp,
            },
            Insn::MovSx {
                w: Width::W64,
                dst: fp,
                src: Reg::R1,
                bits: 8,
            },
            Insn::End {
                kind: Endian::Be,
                dst: fp,
                bits: 16,
            },
            lddw(fp),
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: fp,
                src: Reg::R1,
                off: 0,
            },
            // lock fetch add [%r1+0], %r10
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Add,
                fetch: true,
                dst: Reg::R1,
                src: fp,
                off: 0,
            },
            // lock xchg32 [%r1+0], %r10
            Insn::Atomic {
                size: Size::W,
                op: AtomicOp::Xchg,
                fetch: true,
                dst: Reg::R1,
                src: fp,
                off: 0,
            },
        ];
        for insn in writers {
            // The writer at pc 1, after a harmless mov.
            fails(&[mov(Reg::R0, 0), insn, EXIT], 1, Rule::WritesFramePointer);
        }
    }

    #[test]
    fn reading_r10_and_storing_through_it_are_fine() {
        let fp = Reg::R10;
        let prog = [
            // stxdw [%r10-8], %r1
            Insn::Stx {
                size: Size::DW,
                dst: fp,
                src: Reg::R1,
                off: -8,
            },
            // stw [%r10-4], 1
            Insn::St {
                size: Size::W,
                dst: fp,
                off: -4,
                imm: 1,
            },
            // ldxdw %r0, [%r10-8]
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: Reg::R0,
                src: fp,
                off: -8,
            },
            // lock add [%r10-8], %r1 (no fetch: writes memory only)
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Add,
                fetch: false,
                dst: fp,
                src: Reg::R1,
                off: -8,
            },
            // lock or [%r1+0], %r10 (no fetch: r10 is only read)
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Or,
                fetch: false,
                dst: Reg::R1,
                src: fp,
                off: 0,
            },
            // lock cmpxchg [%r10-8], %r10 writes r0, not src
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Cmpxchg,
                fetch: true,
                dst: fp,
                src: fp,
                off: -8,
            },
            // mov %r1, %r10
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Mov,
                dst: Reg::R1,
                src: Src::Reg(fp),
            },
            Insn::Callx { reg: fp },
            EXIT,
        ];
        passes(&prog, &[func(0, 9)]);
    }

    // ---- Jumps ----

    #[test]
    fn jump_outside_the_program_is_rejected() {
        // 0: jeq +1 (target 2, past the end of 0..2)
        fails(
            &[jeq(1), EXIT],
            0,
            Rule::JumpOutOfProgram { target: 2, len: 2 },
        );
        // 1: ja -3 (target -1)
        fails(
            &[mov(Reg::R0, 0), ja(-3), EXIT],
            1,
            Rule::JumpOutOfProgram { target: -1, len: 3 },
        );
        // 0: ja32 with imm 100000 (target 100001)
        fails(
            &[ja32(100_000), EXIT],
            0,
            Rule::JumpOutOfProgram {
                target: 100_001,
                len: 2,
            },
        );
        // The first and last slots are fine: 0: jeq +1 -> 2; 1: ja -2 -> 0; 2: exit.
        passes(&[jeq(1), ja(-2), EXIT], &[func(0, 3)]);
        passes(&[ja32(0), EXIT], &[func(0, 2)]);
    }

    #[test]
    fn jump_out_of_program_message() {
        let mut prog = vec![mov(Reg::R0, 0); 7];
        prog.push(ja(34)); // pc 7 -> 7 + 1 + 34 = 42
        prog.extend([mov(Reg::R0, 0), mov(Reg::R0, 0), mov(Reg::R0, 0), EXIT]);
        let e = check(&prog).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pc 7: jump target 42 is outside the program (0..12)"
        );
    }

    #[test]
    fn jump_into_lddw_second_slot_is_rejected() {
        // 0: jeq +1 -> 2 | 1-2: lddw | 3: exit
        fails(
            &[jeq(1), lddw(Reg::R1), EXIT],
            0,
            Rule::JumpIntoLddw { target: 2 },
        );
        // 0: ja32 +2 -> 3 (the exit) is fine.
        passes(&[ja32(2), lddw(Reg::R1), EXIT], &[func(0, 4)]);
    }

    #[test]
    fn jump_into_another_function_is_rejected() {
        // 0: call local +2 -> 3 | 1: jeq +1 -> 3 | 2: exit | 3: exit
        fails(
            &[call_local(2), jeq(1), EXIT, EXIT],
            1,
            Rule::JumpOutOfFunction {
                target: 3,
                function: func(0, 3),
            },
        );
        // Backward, from the callee into the caller:
        // 0: call local +1 -> 2 | 1: exit | 2: ja -2 -> 1
        fails(
            &[call_local(1), EXIT, ja(-2)],
            2,
            Rule::JumpOutOfFunction {
                target: 1,
                function: func(2, 3),
            },
        );
        // Jumps inside the callee, to its own first instruction too:
        // 0: call local +1 -> 2 | 1: exit | 2: jeq +1 -> 4 | 3: ja -2 -> 2 | 4: exit
        passes(
            &[call_local(1), EXIT, jeq(1), ja(-2), EXIT],
            &[func(0, 2), func(2, 5)],
        );
    }

    // ---- Local calls ----

    #[test]
    fn local_call_outside_the_program_is_rejected() {
        // 0: call local +5 -> 6, program 0..2
        fails(
            &[call_local(5), EXIT],
            0,
            Rule::CallOutOfProgram { target: 6, len: 2 },
        );
        // 1: call local -3 -> -1
        fails(
            &[mov(Reg::R0, 0), call_local(-3), EXIT],
            1,
            Rule::CallOutOfProgram { target: -1, len: 3 },
        );
        // i32::MIN does not overflow: 0 + 1 - 2^31.
        fails(
            &[call_local(i32::MIN), EXIT],
            0,
            Rule::CallOutOfProgram {
                target: 1 - (1i64 << 31),
                len: 2,
            },
        );
        // The last slot is fine: 0: call local +1 -> 2 | 1: exit | 2: exit
        passes(&[call_local(1), EXIT, EXIT], &[func(0, 2), func(2, 3)]);
    }

    #[test]
    fn local_call_into_lddw_second_slot_is_rejected() {
        // 0: call local +2 -> 3 | 1: exit | 2-3: lddw | 4: exit
        fails(
            &[call_local(2), EXIT, lddw(Reg::R0), EXIT],
            0,
            Rule::CallIntoLddw { target: 3 },
        );
        // 0: call local +1 -> 2, the lddw's first slot, starts a function.
        passes(
            &[call_local(1), EXIT, lddw(Reg::R0), EXIT],
            &[func(0, 2), func(2, 5)],
        );
    }

    #[test]
    fn local_call_targets_define_functions_in_pc_order() {
        // 0: call local +4 -> 5 | 1: call local +1 -> 3 | 2: exit
        // 3: call local +1 -> 5 | 4: exit | 5: exit
        // Two calls to 5 make one function; the entry comes first.
        passes(
            &[
                call_local(4),
                call_local(1),
                EXIT,
                call_local(1),
                EXIT,
                EXIT,
            ],
            &[func(0, 3), func(3, 5), func(5, 6)],
        );
    }

    #[test]
    fn recursion_is_allowed() {
        // A call to pc 0 calls the entry function: 0: call local -1 -> 0 | 1: exit
        passes(&[call_local(-1), EXIT], &[func(0, 2)]);
        // Mutual recursion: f at 2 calls g at 4, g calls f.
        // 0: call local +1 -> 2 | 1: exit | 2: call local +1 -> 4 | 3: exit
        // 4: call local -3 -> 2 | 5: exit
        passes(
            &[
                call_local(1),
                EXIT,
                call_local(1),
                EXIT,
                call_local(-3),
                EXIT,
            ],
            &[func(0, 2), func(2, 4), func(4, 6)],
        );
    }

    // ---- Control flow ----

    #[test]
    fn falling_into_the_next_function_is_rejected() {
        // 0: call local +1 -> 2 | 1: mov | 2: exit: the entry function 0..2 ends with a mov.
        fails(
            &[call_local(1), mov(Reg::R0, 0), EXIT],
            1,
            Rule::FallsThrough {
                function: func(0, 2),
                last: false,
            },
        );
        // A conditional jump last: 0: call local +2 -> 3 | 1: mov | 2: jeq -2 -> 1 | 3: exit
        fails(
            &[call_local(2), mov(Reg::R0, 0), jeq(-2), EXIT],
            2,
            Rule::FallsThrough {
                function: func(0, 3),
                last: false,
            },
        );
    }

    #[test]
    fn falling_off_the_end_of_the_program_is_rejected() {
        fails(
            &[mov(Reg::R0, 0)],
            0,
            Rule::FallsThrough {
                function: func(0, 1),
                last: true,
            },
        );
        // 0: exit | 1: jeq -2 -> 0 (unreachable, still checked)
        fails(
            &[EXIT, jeq(-2)],
            1,
            Rule::FallsThrough {
                function: func(0, 2),
                last: true,
            },
        );
        // A call or an lddw last.
        fails(
            &[EXIT, call_local(-2)],
            1,
            Rule::FallsThrough {
                function: func(0, 2),
                last: true,
            },
        );
        fails(
            &[EXIT, lddw(Reg::R0)],
            1,
            Rule::FallsThrough {
                function: func(0, 3),
                last: true,
            },
        );
        let e = check(&[mov(Reg::R0, 0)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "pc 0: the last instruction of function 0..1 is not exit or ja; control would run off the end of the program"
        );
    }

    #[test]
    fn unconditional_jump_may_end_a_function() {
        // Like the conformance test exit-not-last:
        // 0: mov | 1: ja +2 -> 4 | 2: mov | 3: exit | 4: mov | 5: ja -4 -> 2
        passes(
            &[
                mov(Reg::R1, 0),
                ja(2),
                mov(Reg::R2, 0),
                EXIT,
                mov(Reg::R0, 0),
                ja(-4),
            ],
            &[func(0, 6)],
        );
        passes(
            &[
                mov(Reg::R1, 0),
                ja32(2),
                mov(Reg::R2, 0),
                EXIT,
                mov(Reg::R0, 0),
                ja32(-4),
            ],
            &[func(0, 6)],
        );
        // An infinite loop is structurally fine: 0: ja -1 -> 0.
        passes(&[ja(-1)], &[func(0, 1)]);
    }

    #[test]
    fn unreachable_code_is_allowed() {
        // 0: exit | 1: mov | 2: exit
        passes(&[EXIT, mov(Reg::R0, 1), EXIT], &[func(0, 3)]);
    }

    // ---- Allowed on purpose ----

    #[test]
    fn btf_calls_and_lddw_pseudo_loads_are_structurally_valid() {
        let prog = [
            Insn::Call {
                kind: CallKind::Btf,
                imm: 1234,
            },
            Insn::Call {
                kind: CallKind::Helper,
                imm: -1,
            },
            Insn::Lddw {
                dst: Reg::R1,
                kind: LddwKind::MapByFd,
                imm: 3,
                next_imm: 0,
            },
            Insn::Lddw {
                dst: Reg::R2,
                kind: LddwKind::CodeAddr,
                imm: 0,
                next_imm: 0,
            },
            EXIT,
        ];
        passes(&prog, &[func(0, 7)]);
    }

    // ---- Order of errors ----

    #[test]
    fn the_lowest_pc_is_reported() {
        // 0: mov | 1: call local +9 (bad) | 2: jeq +5 (bad) | 3: mov r10 (bad) | 4: exit
        let prog = [
            mov(Reg::R0, 0),
            call_local(9),
            jeq(5),
            mov(Reg::R10, 0),
            EXIT,
        ];
        fails(&prog, 1, Rule::CallOutOfProgram { target: 11, len: 5 });
        // Within one instruction, the r10 rule comes before the fall-through rule.
        fails(&[EXIT, lddw(Reg::R10)], 1, Rule::WritesFramePointer);
    }
}
