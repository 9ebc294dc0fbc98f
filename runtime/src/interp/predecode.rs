//! Predecoding: a [`Program`] becomes the interpreter's code, once, at load.
//!
//! The code is one [`Slot`] per instruction (LDDW merged into one), with
//! - jump and call targets as absolute indices into the code,
//! - immediates turned into operand values by [`sem::imm_operand`], LDDW
//!   values assembled and ST values sign-extended,
//! - static helper calls resolved to the helper body,
//! - each slot's block length from the program's [`crate::isa::cfg::Cfg`].
//!
//! **Invariant** (what makes the run loop's indexing infallible): every
//! target is `< code.len()`, and the last slot is `exit` or `ja`, so falling
//! through never runs past the end. A local call's return index `i + 1` is
//! therefore in range too, because a call is never the last slot.

use crate::engine::error::EngineError;
#[cfg(doc)]
use crate::engine::rules::check_program;
use crate::host::helpers::{HelperFn, Helpers};
use crate::isa::cfg::Cfg;
use crate::isa::insn::{
    AluOp, AtomicOp, CallKind, Endian, Insn, JmpCond, LddwKind, Reg, Size, Src, Width,
};
use crate::isa::program::Program;
use crate::sem;
use std::sync::Arc;

/// The second operand of ALU and conditional-jump ops.
#[derive(Clone, Copy, Debug)]
pub(super) enum Operand {
    /// A register's value.
    Reg(Reg),
    /// The immediate's operand value ([`sem::imm_operand`]).
    Imm(u64),
}

/// One predecoded instruction. Fields mirror [`Insn`]; targets are code
/// indices.
#[derive(Clone)]
pub(super) enum Op {
    Alu {
        w: Width,
        op: AluOp,
        dst: Reg,
        src: Operand,
    },
    Neg {
        w: Width,
        dst: Reg,
    },
    MovSx {
        w: Width,
        dst: Reg,
        src: Reg,
        bits: u8,
    },
    End {
        kind: Endian,
        dst: Reg,
        bits: u8,
    },
    Lddw {
        dst: Reg,
        value: u64,
    },
    /// LD_ABS (`index: None`) and LD_IND (`index: Some(src)`).
    LdPacket {
        size: Size,
        index: Option<Reg>,
        imm: i32,
    },
    Ldx {
        size: Size,
        sx: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    St {
        size: Size,
        dst: Reg,
        off: i16,
        value: u64,
    },
    Stx {
        size: Size,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    Atomic {
        size: Size,
        op: AtomicOp,
        fetch: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    },
    Ja {
        target: usize,
    },
    Jmp {
        w: Width,
        cond: JmpCond,
        dst: Reg,
        src: Operand,
        target: usize,
    },
    CallHelper {
        id: u32,
        func: Arc<HelperFn>,
    },
    CallLocal {
        target: usize,
    },
    Callx {
        reg: Reg,
    },
    Exit,
}

/// A predecoded instruction with its pc and budget block.
#[derive(Clone)]
pub(super) struct Slot {
    /// The operation.
    pub op: Op,
    /// The instruction's slot index in the program (what faults report).
    pub pc: usize,
    /// Length of the budget block this instruction leads, or 0.
    pub block_len: u32,
}

/// Predecodes `prog`, resolving static helper ids in `helpers`.
///
/// Precondition: [`check_program`]`(prog, helpers)` is `Ok`, so every
/// helper resolves, every target is an instruction and the last one is
/// `exit` or `ja`. The `Err` returns in [`translate`] and [`memory_op`]
/// are the resolutions that rule excludes; they stay so that a broken
/// precondition is an error, not a panic.
pub(super) fn predecode(prog: &Program, helpers: &Helpers) -> Result<Vec<Slot>, EngineError> {
    let insns = prog.insns();
    let cfg = prog.cfg();
    let mut code = Vec::with_capacity(insns.len());
    for (i, (&(pc, insn), &block_len)) in insns.iter().zip(cfg.block_lens()).enumerate() {
        let op = translate(insn, i, pc, cfg, helpers)?;
        code.push(Slot { op, pc, block_len });
    }
    debug_assert!(
        matches!(insns.last(), Some((_, Insn::Exit | Insn::Ja { .. }))),
        "predecode: the program can fall off its end (check_program was not called)"
    );
    Ok(code)
}

/// The [`Operand`] of `src` in an ALU or jump op of width `w`.
fn operand(w: Width, src: Src) -> Operand {
    match src {
        Src::Reg(r) => Operand::Reg(r),
        Src::Imm(imm) => Operand::Imm(sem::imm_operand(w, imm)),
    }
}

/// The [`Op`] of instruction `i` (at pc `pc`): ALU and control flow here,
/// resolving targets in `cfg` and helper ids in `helpers`; loads and stores
/// in [`memory_op`].
fn translate(
    insn: Insn,
    i: usize,
    pc: usize,
    cfg: &Cfg,
    helpers: &Helpers,
) -> Result<Op, EngineError> {
    // The graph's target of the instruction at index `i` (pc `pc`, offset `off`).
    let target = |i: usize, pc: usize, off: i64| -> Result<usize, EngineError> {
        cfg.target(i).ok_or(EngineError::BadTarget {
            pc,
            target: sem::jump_target_signed(pc, off),
        })
    };
    Ok(match insn {
        Insn::Alu { w, op, dst, src } => Op::Alu {
            w,
            op,
            dst,
            src: operand(w, src),
        },
        Insn::Neg { w, dst } => Op::Neg { w, dst },
        Insn::MovSx { w, dst, src, bits } => Op::MovSx { w, dst, src, bits },
        Insn::End { kind, dst, bits } => Op::End { kind, dst, bits },
        Insn::Ja { off, .. } => Op::Ja {
            target: target(i, pc, off as i64)?,
        },
        Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off,
        } => Op::Jmp {
            w,
            cond,
            dst,
            src: operand(w, src),
            target: target(i, pc, off as i64)?,
        },
        Insn::Call {
            kind: CallKind::Helper,
            imm,
        } => {
            let id = imm as u32;
            let helper = helpers
                .get(id)
                .ok_or(EngineError::UnknownHelper { pc, id })?;
            Op::CallHelper {
                id,
                func: Arc::clone(&helper.func),
            }
        }
        Insn::Call {
            kind: CallKind::Local,
            imm,
        } => Op::CallLocal {
            target: target(i, pc, imm as i64)?,
        },
        Insn::Call {
            kind: CallKind::Btf,
            imm,
        } => return Err(EngineError::BtfCall { pc, id: imm }),
        Insn::Callx { reg } => Op::Callx { reg },
        Insn::Exit => Op::Exit,
        _ => memory_op(insn, pc)?,
    })
}

/// The [`Op`] of a load or store at pc `pc`; a pseudo LDDW is an error.
fn memory_op(insn: Insn, pc: usize) -> Result<Op, EngineError> {
    Ok(match insn {
        Insn::Lddw {
            dst,
            kind: LddwKind::Imm64,
            imm,
            next_imm,
        } => Op::Lddw {
            dst,
            value: Insn::lddw_value(imm, next_imm),
        },
        Insn::Lddw { kind, .. } => return Err(EngineError::PseudoLddw { pc, kind }),
        Insn::LdAbs { size, imm } => Op::LdPacket {
            size,
            index: None,
            imm,
        },
        Insn::LdInd { size, src, imm } => Op::LdPacket {
            size,
            index: Some(src),
            imm,
        },
        Insn::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => Op::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        },
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => Op::St {
            size,
            dst,
            off,
            value: sem::st_imm_value(imm),
        },
        Insn::Stx {
            size,
            dst,
            src,
            off,
        } => Op::Stx {
            size,
            dst,
            src,
            off,
        },
        Insn::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => Op::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        },
        Insn::Alu { .. }
        | Insn::Neg { .. }
        | Insn::MovSx { .. }
        | Insn::End { .. }
        | Insn::Ja { .. }
        | Insn::Jmp { .. }
        | Insn::Call { .. }
        | Insn::Callx { .. }
        | Insn::Exit => unreachable!("predecode: translate handles ALU and control flow"),
    })
}
