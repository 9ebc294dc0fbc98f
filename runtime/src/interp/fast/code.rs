//! The fast tier's code: the reference's predecoded slots rewritten, once,
//! into [`Op`]s specialised by operation, width and operand kind, with
//! budget charges moved onto the edges that enter a block.
//!
//! **Budget blocks.** Every op that ends a block (jumps, calls, `exit`,
//! legacy packet loads) charges the block it transfers control to: the
//! taken target's length and, for a conditional jump, the fall-through's
//! ([`Target`]). A leader that is reached by falling off a block that ends
//! in a plain instruction (and the program's first instruction) gets an
//! explicit [`Op::Charge`] in front of it; jumps go past that op. So the
//! charge happens exactly where the reference charges (on entering the
//! block), and no other op tests the budget.
//!
//! **Fault bookkeeping.** [`Meta`] gives, per op, the pc to report and the
//! op's place in its block, so the exact count at a fault
//! ([`crate::analysis::budget`] rule 3) is computed after the run from the
//! charge alone.
//!
//! **Memory operands.** An access through r10 whose constant offset breaks
//! the frame rule ([`sem::frame_access_ok`]) becomes [`Op::OutsideFrame`],
//! which faults as the reference does; the others are specialised by size.

use super::super::predecode::{Op as Slow, Operand, Slot};
use crate::engine::error::EngineError;
use crate::engine::fault::Access;
use crate::host::helpers::HelperFn;
use crate::isa::insn::JmpCond::*;
use crate::isa::insn::Width::{W32, W64};
use crate::isa::insn::{AluOp, AtomicOp, Endian, Reg, Size, Width};
use crate::sem;
use std::sync::Arc;

/// Where a block-ending op sends control, with the charges of the blocks it
/// may enter.
#[derive(Clone, Copy, Debug)]
pub(super) struct Target {
    /// Op index of the taken target (a block leader).
    pub at: u32,
    /// Length of the block `at` leads.
    pub len: u32,
    /// Length of the block the next op leads (the fall-through of a
    /// conditional jump, the return point of a call); 0 if there is none.
    pub next_len: u32,
}

/// One specialised operation. `d` and `s` are register numbers (0..=10),
/// `k` an operand already turned into a value by [`sem::imm_operand`] (or
/// an LDDW or ST value), `off` a memory offset.
#[derive(Clone, Copy, Debug)]
pub(super) enum Op {
    /**** ALU, ALU64 (§4.1): `{op}{width}{R: register, I: immediate}`. ****/
    Add64R {
        d: u8,
        s: u8,
    },
    Add64I {
        d: u8,
        k: u64,
    },
    Add32R {
        d: u8,
        s: u8,
    },
    Add32I {
        d: u8,
        k: u64,
    },
    Sub64R {
        d: u8,
        s: u8,
    },
    Sub64I {
        d: u8,
        k: u64,
    },
    Sub32R {
        d: u8,
        s: u8,
    },
    Sub32I {
        d: u8,
        k: u64,
    },
    Mul64R {
        d: u8,
        s: u8,
    },
    Mul64I {
        d: u8,
        k: u64,
    },
    Mul32R {
        d: u8,
        s: u8,
    },
    Mul32I {
        d: u8,
        k: u64,
    },
    Div64R {
        d: u8,
        s: u8,
    },
    Div64I {
        d: u8,
        k: u64,
    },
    Div32R {
        d: u8,
        s: u8,
    },
    Div32I {
        d: u8,
        k: u64,
    },
    Sdiv64R {
        d: u8,
        s: u8,
    },
    Sdiv64I {
        d: u8,
        k: u64,
    },
    Sdiv32R {
        d: u8,
        s: u8,
    },
    Sdiv32I {
        d: u8,
        k: u64,
    },
    Mod64R {
        d: u8,
        s: u8,
    },
    Mod64I {
        d: u8,
        k: u64,
    },
    Mod32R {
        d: u8,
        s: u8,
    },
    Mod32I {
        d: u8,
        k: u64,
    },
    Smod64R {
        d: u8,
        s: u8,
    },
    Smod64I {
        d: u8,
        k: u64,
    },
    Smod32R {
        d: u8,
        s: u8,
    },
    Smod32I {
        d: u8,
        k: u64,
    },
    Or64R {
        d: u8,
        s: u8,
    },
    Or64I {
        d: u8,
        k: u64,
    },
    Or32R {
        d: u8,
        s: u8,
    },
    Or32I {
        d: u8,
        k: u64,
    },
    And64R {
        d: u8,
        s: u8,
    },
    And64I {
        d: u8,
        k: u64,
    },
    And32R {
        d: u8,
        s: u8,
    },
    And32I {
        d: u8,
        k: u64,
    },
    Xor64R {
        d: u8,
        s: u8,
    },
    Xor64I {
        d: u8,
        k: u64,
    },
    Xor32R {
        d: u8,
        s: u8,
    },
    Xor32I {
        d: u8,
        k: u64,
    },
    Lsh64R {
        d: u8,
        s: u8,
    },
    Lsh64I {
        d: u8,
        k: u64,
    },
    Lsh32R {
        d: u8,
        s: u8,
    },
    Lsh32I {
        d: u8,
        k: u64,
    },
    Rsh64R {
        d: u8,
        s: u8,
    },
    Rsh64I {
        d: u8,
        k: u64,
    },
    Rsh32R {
        d: u8,
        s: u8,
    },
    Rsh32I {
        d: u8,
        k: u64,
    },
    Arsh64R {
        d: u8,
        s: u8,
    },
    Arsh64I {
        d: u8,
        k: u64,
    },
    Arsh32R {
        d: u8,
        s: u8,
    },
    Arsh32I {
        d: u8,
        k: u64,
    },
    Mov64R {
        d: u8,
        s: u8,
    },
    Mov64I {
        d: u8,
        k: u64,
    },
    Mov32R {
        d: u8,
        s: u8,
    },
    Mov32I {
        d: u8,
        k: u64,
    },
    Neg64 {
        d: u8,
    },
    Neg32 {
        d: u8,
    },
    MovSx {
        w: Width,
        d: u8,
        s: u8,
        bits: u8,
    },
    End {
        kind: Endian,
        d: u8,
        bits: u8,
    },
    Lddw {
        d: u8,
        k: u64,
    },

    /**** Loads and stores (§5.1, §5.2), by size. ****/
    LdxB {
        d: u8,
        s: u8,
        off: i16,
    },
    LdxH {
        d: u8,
        s: u8,
        off: i16,
    },
    LdxW {
        d: u8,
        s: u8,
        off: i16,
    },
    LdxDw {
        d: u8,
        s: u8,
        off: i16,
    },
    LdxSx {
        size: Size,
        d: u8,
        s: u8,
        off: i16,
    },
    StB {
        d: u8,
        off: i16,
        k: u64,
    },
    StH {
        d: u8,
        off: i16,
        k: u64,
    },
    StW {
        d: u8,
        off: i16,
        k: u64,
    },
    StDw {
        d: u8,
        off: i16,
        k: u64,
    },
    StxB {
        d: u8,
        s: u8,
        off: i16,
    },
    StxH {
        d: u8,
        s: u8,
        off: i16,
    },
    StxW {
        d: u8,
        s: u8,
        off: i16,
    },
    StxDw {
        d: u8,
        s: u8,
        off: i16,
    },
    Atomic {
        size: Size,
        op: AtomicOp,
        fetch: bool,
        d: u8,
        src: Reg,
        off: i16,
    },
    /// An access through r10 outside the current frame: always faults.
    OutsideFrame {
        off: i16,
        size: Size,
        access: Access,
    },
    /// LD_ABS (`index: None`) and LD_IND; the next op leads a block of
    /// `next_len`.
    LdPacket {
        size: Size,
        index: Option<u8>,
        imm: i32,
        next_len: u32,
    },

    /**** Jumps (§4.3): `{cond}{width}{R, I}`. ****/
    Jeq64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jeq64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jeq32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jeq32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jgt64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jgt64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jgt32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jgt32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jge64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jge64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jge32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jge32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jset64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jset64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jset32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jset32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jne64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jne64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jne32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jne32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsgt64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsgt64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsgt32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsgt32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsge64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsge64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsge32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsge32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jlt64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jlt64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jlt32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jlt32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jle64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jle64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jle32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jle32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jslt64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jslt64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jslt32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jslt32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsle64R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsle64I {
        d: u8,
        k: u64,
        to: Target,
    },
    Jsle32R {
        d: u8,
        s: u8,
        to: Target,
    },
    Jsle32I {
        d: u8,
        k: u64,
        to: Target,
    },
    Ja {
        to: Target,
    },

    /**** Calls, exit, and block charges. ****/
    /// A static helper call: `calls[h]`.
    Call {
        h: u32,
        next_len: u32,
    },
    Callx {
        s: u8,
        next_len: u32,
    },
    /// A local call; `to.next_len` is charged when the callee returns.
    CallLocal {
        to: Target,
    },
    Exit,
    /// Entering a block of `n` instructions by falling into it.
    Charge {
        n: u32,
    },
}

/// What a fault at an op reports.
#[derive(Clone, Copy, Debug)]
pub(super) struct Meta {
    /// The pc (slot index) of the op's instruction; for a [`Op::Charge`],
    /// of the leader it charges.
    pub pc: u32,
    /// The block the op is in: its length, and the op's place in it (the
    /// `k` of the budget rule, 1-based).
    pub block_len: u32,
    pub k: u32,
}

/// The fast tier's program.
pub(super) struct Code {
    pub ops: Vec<Op>,
    /// Per op.
    pub meta: Vec<Meta>,
    /// Static helpers, by [`Op::Call`]'s `h`.
    pub calls: Vec<(u32, Arc<HelperFn>)>,
}

/// Whether control never falls from `op` into the next slot without
/// charging it (the ops that end a budget block).
fn ends_block(op: &Slow) -> bool {
    matches!(
        op,
        Slow::Ja { .. }
            | Slow::Jmp { .. }
            | Slow::CallHelper { .. }
            | Slow::CallLocal { .. }
            | Slow::Callx { .. }
            | Slow::Exit
            | Slow::LdPacket { .. }
    )
}

/// A broken predecode invariant (never for a program `check_program`
/// accepted): reported as a bad target rather than a panic.
#[cold]
fn broken(pc: usize, target: usize) -> EngineError {
    EngineError::BadTarget {
        pc,
        target: target as i64,
    }
}

/// Rewrites the reference's predecoded `slots` into the fast tier's code.
pub(super) fn translate(slots: &[Slot]) -> Result<Code, EngineError> {
    let index = op_indices(slots);
    let mut code = Code {
        ops: Vec::with_capacity(index.last().map_or(0, |&i| i as usize + 1)),
        meta: Vec::with_capacity(slots.len() + 1),
        calls: Vec::new(),
    };
    let (mut block_len, mut k) = (0, 0);
    for (j, slot) in slots.iter().enumerate() {
        if slot.block_len != 0 {
            (block_len, k) = (slot.block_len, 0);
            if j == 0 || !ends_block(&slots[j - 1].op) {
                code.ops.push(Op::Charge { n: block_len });
                code.meta.push(Meta {
                    pc: slot.pc as u32,
                    block_len,
                    k: 0,
                });
            }
        }
        k += 1;
        let edges = Edges {
            slots,
            index: &index,
            j,
        };
        let op = specialise(&slot.op, &edges, &mut code.calls)?;
        code.ops.push(op);
        code.meta.push(Meta {
            pc: slot.pc as u32,
            block_len,
            k,
        });
    }
    Ok(code)
}

/// The op index of each slot (after the [`Op::Charge`] ops in front of it).
fn op_indices(slots: &[Slot]) -> Vec<u32> {
    let mut next = 0u32;
    let mut index = Vec::with_capacity(slots.len());
    for (j, slot) in slots.iter().enumerate() {
        if slot.block_len != 0 && (j == 0 || !ends_block(&slots[j - 1].op)) {
            next += 1;
        }
        index.push(next);
        next += 1;
    }
    index
}

/// The control-flow facts of slot `j` the specialisation needs.
struct Edges<'a> {
    slots: &'a [Slot],
    index: &'a [u32],
    j: usize,
}

impl Edges<'_> {
    /// The block length of leader slot `t`.
    fn len(&self, t: usize) -> Result<u32, EngineError> {
        match self.slots.get(t) {
            Some(s) if s.block_len != 0 => Ok(s.block_len),
            _ => Err(broken(self.slots[self.j].pc, t)),
        }
    }

    /// The length of the block the next slot leads (0 past the end).
    fn next_len(&self) -> Result<u32, EngineError> {
        if self.j + 1 == self.slots.len() {
            Ok(0)
        } else {
            self.len(self.j + 1)
        }
    }

    /// The edge to slot `t`, with the fall-through's charge.
    fn to(&self, t: usize) -> Result<Target, EngineError> {
        Ok(Target {
            at: self.index[t],
            len: self.len(t)?,
            next_len: self.next_len()?,
        })
    }
}

/// A register's number as ops store it.
fn reg(r: Reg) -> u8 {
    r.index() as u8
}

/// The specialised op of one predecoded slot.
fn specialise(
    op: &Slow,
    e: &Edges<'_>,
    calls: &mut Vec<(u32, Arc<HelperFn>)>,
) -> Result<Op, EngineError> {
    Ok(match *op {
        Slow::Alu { w, op, dst, src } => alu(op, w, reg(dst), src),
        Slow::Neg { w: W64, dst } => Op::Neg64 { d: reg(dst) },
        Slow::Neg { w: W32, dst } => Op::Neg32 { d: reg(dst) },
        Slow::MovSx { w, dst, src, bits } => Op::MovSx {
            w,
            d: reg(dst),
            s: reg(src),
            bits,
        },
        Slow::End { kind, dst, bits } => Op::End {
            kind,
            d: reg(dst),
            bits,
        },
        Slow::Lddw { dst, value } => Op::Lddw {
            d: reg(dst),
            k: value,
        },
        Slow::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => frame_rule(src, off, size, Access::Read)
            .unwrap_or_else(|| ldx(size, sx, reg(dst), reg(src), off)),
        Slow::St {
            size,
            dst,
            off,
            value,
        } => frame_rule(dst, off, size, Access::Write)
            .unwrap_or_else(|| st(size, reg(dst), off, value)),
        Slow::Stx {
            size,
            dst,
            src,
            off,
        } => frame_rule(dst, off, size, Access::Write)
            .unwrap_or_else(|| stx(size, reg(dst), reg(src), off)),
        Slow::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => frame_rule(dst, off, size, Access::ReadWrite).unwrap_or(Op::Atomic {
            size,
            op,
            fetch,
            d: reg(dst),
            src,
            off,
        }),
        Slow::LdPacket { size, index, imm } => Op::LdPacket {
            size,
            index: index.map(reg),
            imm,
            next_len: e.next_len()?,
        },
        Slow::Ja { target } => Op::Ja { to: e.to(target)? },
        Slow::Jmp {
            w,
            cond,
            dst,
            src,
            target,
        } => jmp(cond, w, reg(dst), src, e.to(target)?),
        Slow::CallHelper { id, ref func } => {
            calls.push((id, Arc::clone(func)));
            Op::Call {
                h: (calls.len() - 1) as u32,
                next_len: e.next_len()?,
            }
        }
        Slow::Callx { reg: r } => Op::Callx {
            s: reg(r),
            next_len: e.next_len()?,
        },
        Slow::CallLocal { target } => Op::CallLocal { to: e.to(target)? },
        Slow::Exit => Op::Exit,
    })
}

/// [`Op::OutsideFrame`] if an access through `base` at `off` breaks the
/// frame rule (only r10 has a frame to break).
fn frame_rule(base: Reg, off: i16, size: Size, access: Access) -> Option<Op> {
    (base == Reg::R10 && !sem::frame_access_ok(off, size.bytes())).then_some(Op::OutsideFrame {
        off,
        size,
        access,
    })
}

fn ldx(size: Size, sx: bool, d: u8, s: u8, off: i16) -> Op {
    match (size, sx) {
        (_, true) => Op::LdxSx { size, d, s, off },
        (Size::B, false) => Op::LdxB { d, s, off },
        (Size::H, false) => Op::LdxH { d, s, off },
        (Size::W, false) => Op::LdxW { d, s, off },
        (Size::DW, false) => Op::LdxDw { d, s, off },
    }
}

fn st(size: Size, d: u8, off: i16, k: u64) -> Op {
    match size {
        Size::B => Op::StB { d, off, k },
        Size::H => Op::StH { d, off, k },
        Size::W => Op::StW { d, off, k },
        Size::DW => Op::StDw { d, off, k },
    }
}

fn stx(size: Size, d: u8, s: u8, off: i16) -> Op {
    match size {
        Size::B => Op::StxB { d, s, off },
        Size::H => Op::StxH { d, s, off },
        Size::W => Op::StxW { d, s, off },
        Size::DW => Op::StxDw { d, s, off },
    }
}

/// The ALU op of `op` at width `w` on `d` with operand `src`.
fn alu(op: AluOp, w: Width, d: u8, src: Operand) -> Op {
    match (op, w, src) {
        (AluOp::Add, W64, Operand::Reg(s)) => Op::Add64R { d, s: reg(s) },
        (AluOp::Add, W64, Operand::Imm(k)) => Op::Add64I { d, k },
        (AluOp::Add, W32, Operand::Reg(s)) => Op::Add32R { d, s: reg(s) },
        (AluOp::Add, W32, Operand::Imm(k)) => Op::Add32I { d, k },
        (AluOp::Sub, W64, Operand::Reg(s)) => Op::Sub64R { d, s: reg(s) },
        (AluOp::Sub, W64, Operand::Imm(k)) => Op::Sub64I { d, k },
        (AluOp::Sub, W32, Operand::Reg(s)) => Op::Sub32R { d, s: reg(s) },
        (AluOp::Sub, W32, Operand::Imm(k)) => Op::Sub32I { d, k },
        (AluOp::Mul, W64, Operand::Reg(s)) => Op::Mul64R { d, s: reg(s) },
        (AluOp::Mul, W64, Operand::Imm(k)) => Op::Mul64I { d, k },
        (AluOp::Mul, W32, Operand::Reg(s)) => Op::Mul32R { d, s: reg(s) },
        (AluOp::Mul, W32, Operand::Imm(k)) => Op::Mul32I { d, k },
        (AluOp::Div, W64, Operand::Reg(s)) => Op::Div64R { d, s: reg(s) },
        (AluOp::Div, W64, Operand::Imm(k)) => Op::Div64I { d, k },
        (AluOp::Div, W32, Operand::Reg(s)) => Op::Div32R { d, s: reg(s) },
        (AluOp::Div, W32, Operand::Imm(k)) => Op::Div32I { d, k },
        (AluOp::Sdiv, W64, Operand::Reg(s)) => Op::Sdiv64R { d, s: reg(s) },
        (AluOp::Sdiv, W64, Operand::Imm(k)) => Op::Sdiv64I { d, k },
        (AluOp::Sdiv, W32, Operand::Reg(s)) => Op::Sdiv32R { d, s: reg(s) },
        (AluOp::Sdiv, W32, Operand::Imm(k)) => Op::Sdiv32I { d, k },
        (AluOp::Mod, W64, Operand::Reg(s)) => Op::Mod64R { d, s: reg(s) },
        (AluOp::Mod, W64, Operand::Imm(k)) => Op::Mod64I { d, k },
        (AluOp::Mod, W32, Operand::Reg(s)) => Op::Mod32R { d, s: reg(s) },
        (AluOp::Mod, W32, Operand::Imm(k)) => Op::Mod32I { d, k },
        (AluOp::Smod, W64, Operand::Reg(s)) => Op::Smod64R { d, s: reg(s) },
        (AluOp::Smod, W64, Operand::Imm(k)) => Op::Smod64I { d, k },
        (AluOp::Smod, W32, Operand::Reg(s)) => Op::Smod32R { d, s: reg(s) },
        (AluOp::Smod, W32, Operand::Imm(k)) => Op::Smod32I { d, k },
        (AluOp::Or, W64, Operand::Reg(s)) => Op::Or64R { d, s: reg(s) },
        (AluOp::Or, W64, Operand::Imm(k)) => Op::Or64I { d, k },
        (AluOp::Or, W32, Operand::Reg(s)) => Op::Or32R { d, s: reg(s) },
        (AluOp::Or, W32, Operand::Imm(k)) => Op::Or32I { d, k },
        (AluOp::And, W64, Operand::Reg(s)) => Op::And64R { d, s: reg(s) },
        (AluOp::And, W64, Operand::Imm(k)) => Op::And64I { d, k },
        (AluOp::And, W32, Operand::Reg(s)) => Op::And32R { d, s: reg(s) },
        (AluOp::And, W32, Operand::Imm(k)) => Op::And32I { d, k },
        (AluOp::Xor, W64, Operand::Reg(s)) => Op::Xor64R { d, s: reg(s) },
        (AluOp::Xor, W64, Operand::Imm(k)) => Op::Xor64I { d, k },
        (AluOp::Xor, W32, Operand::Reg(s)) => Op::Xor32R { d, s: reg(s) },
        (AluOp::Xor, W32, Operand::Imm(k)) => Op::Xor32I { d, k },
        (AluOp::Lsh, W64, Operand::Reg(s)) => Op::Lsh64R { d, s: reg(s) },
        (AluOp::Lsh, W64, Operand::Imm(k)) => Op::Lsh64I { d, k },
        (AluOp::Lsh, W32, Operand::Reg(s)) => Op::Lsh32R { d, s: reg(s) },
        (AluOp::Lsh, W32, Operand::Imm(k)) => Op::Lsh32I { d, k },
        (AluOp::Rsh, W64, Operand::Reg(s)) => Op::Rsh64R { d, s: reg(s) },
        (AluOp::Rsh, W64, Operand::Imm(k)) => Op::Rsh64I { d, k },
        (AluOp::Rsh, W32, Operand::Reg(s)) => Op::Rsh32R { d, s: reg(s) },
        (AluOp::Rsh, W32, Operand::Imm(k)) => Op::Rsh32I { d, k },
        (AluOp::Arsh, W64, Operand::Reg(s)) => Op::Arsh64R { d, s: reg(s) },
        (AluOp::Arsh, W64, Operand::Imm(k)) => Op::Arsh64I { d, k },
        (AluOp::Arsh, W32, Operand::Reg(s)) => Op::Arsh32R { d, s: reg(s) },
        (AluOp::Arsh, W32, Operand::Imm(k)) => Op::Arsh32I { d, k },
        (AluOp::Mov, W64, Operand::Reg(s)) => Op::Mov64R { d, s: reg(s) },
        (AluOp::Mov, W64, Operand::Imm(k)) => Op::Mov64I { d, k },
        (AluOp::Mov, W32, Operand::Reg(s)) => Op::Mov32R { d, s: reg(s) },
        (AluOp::Mov, W32, Operand::Imm(k)) => Op::Mov32I { d, k },
    }
}

/// The jump op of `cond` at width `w` on `d` with operand `src`.
fn jmp(cond: crate::isa::insn::JmpCond, w: Width, d: u8, src: Operand, to: Target) -> Op {
    match (cond, w, src) {
        (Eq, W64, Operand::Reg(s)) => Op::Jeq64R { d, s: reg(s), to },
        (Eq, W64, Operand::Imm(k)) => Op::Jeq64I { d, k, to },
        (Eq, W32, Operand::Reg(s)) => Op::Jeq32R { d, s: reg(s), to },
        (Eq, W32, Operand::Imm(k)) => Op::Jeq32I { d, k, to },
        (Gt, W64, Operand::Reg(s)) => Op::Jgt64R { d, s: reg(s), to },
        (Gt, W64, Operand::Imm(k)) => Op::Jgt64I { d, k, to },
        (Gt, W32, Operand::Reg(s)) => Op::Jgt32R { d, s: reg(s), to },
        (Gt, W32, Operand::Imm(k)) => Op::Jgt32I { d, k, to },
        (Ge, W64, Operand::Reg(s)) => Op::Jge64R { d, s: reg(s), to },
        (Ge, W64, Operand::Imm(k)) => Op::Jge64I { d, k, to },
        (Ge, W32, Operand::Reg(s)) => Op::Jge32R { d, s: reg(s), to },
        (Ge, W32, Operand::Imm(k)) => Op::Jge32I { d, k, to },
        (Set, W64, Operand::Reg(s)) => Op::Jset64R { d, s: reg(s), to },
        (Set, W64, Operand::Imm(k)) => Op::Jset64I { d, k, to },
        (Set, W32, Operand::Reg(s)) => Op::Jset32R { d, s: reg(s), to },
        (Set, W32, Operand::Imm(k)) => Op::Jset32I { d, k, to },
        (Ne, W64, Operand::Reg(s)) => Op::Jne64R { d, s: reg(s), to },
        (Ne, W64, Operand::Imm(k)) => Op::Jne64I { d, k, to },
        (Ne, W32, Operand::Reg(s)) => Op::Jne32R { d, s: reg(s), to },
        (Ne, W32, Operand::Imm(k)) => Op::Jne32I { d, k, to },
        (Sgt, W64, Operand::Reg(s)) => Op::Jsgt64R { d, s: reg(s), to },
        (Sgt, W64, Operand::Imm(k)) => Op::Jsgt64I { d, k, to },
        (Sgt, W32, Operand::Reg(s)) => Op::Jsgt32R { d, s: reg(s), to },
        (Sgt, W32, Operand::Imm(k)) => Op::Jsgt32I { d, k, to },
        (Sge, W64, Operand::Reg(s)) => Op::Jsge64R { d, s: reg(s), to },
        (Sge, W64, Operand::Imm(k)) => Op::Jsge64I { d, k, to },
        (Sge, W32, Operand::Reg(s)) => Op::Jsge32R { d, s: reg(s), to },
        (Sge, W32, Operand::Imm(k)) => Op::Jsge32I { d, k, to },
        (Lt, W64, Operand::Reg(s)) => Op::Jlt64R { d, s: reg(s), to },
        (Lt, W64, Operand::Imm(k)) => Op::Jlt64I { d, k, to },
        (Lt, W32, Operand::Reg(s)) => Op::Jlt32R { d, s: reg(s), to },
        (Lt, W32, Operand::Imm(k)) => Op::Jlt32I { d, k, to },
        (Le, W64, Operand::Reg(s)) => Op::Jle64R { d, s: reg(s), to },
        (Le, W64, Operand::Imm(k)) => Op::Jle64I { d, k, to },
        (Le, W32, Operand::Reg(s)) => Op::Jle32R { d, s: reg(s), to },
        (Le, W32, Operand::Imm(k)) => Op::Jle32I { d, k, to },
        (Slt, W64, Operand::Reg(s)) => Op::Jslt64R { d, s: reg(s), to },
        (Slt, W64, Operand::Imm(k)) => Op::Jslt64I { d, k, to },
        (Slt, W32, Operand::Reg(s)) => Op::Jslt32R { d, s: reg(s), to },
        (Slt, W32, Operand::Imm(k)) => Op::Jslt32I { d, k, to },
        (Sle, W64, Operand::Reg(s)) => Op::Jsle64R { d, s: reg(s), to },
        (Sle, W64, Operand::Imm(k)) => Op::Jsle64I { d, k, to },
        (Sle, W32, Operand::Reg(s)) => Op::Jsle32R { d, s: reg(s), to },
        (Sle, W32, Operand::Imm(k)) => Op::Jsle32I { d, k, to },
    }
}
