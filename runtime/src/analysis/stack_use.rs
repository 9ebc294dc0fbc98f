//! Stack use: how many bytes below the entry frame's top a run can observe,
//! so that a run on a reused stack need zero only those.
//!
//! Every run sees a stack that is zero at entry. A run on a fresh or
//! caller-given [`Stack`](crate::Stack) zeroes all of it; a run on the
//! per-thread scratch stack ([`crate::engine::scratch`]) zeroes only
//! [`zero_bytes`] bytes below the top. That is observably the same when
//! the program can reach no other stack byte, which this analysis proves
//! from the frame facts ([`super::frame`]) or else answers
//! [`STACK_SIZE`](crate::STACK_SIZE) (zero everything).
//!
//! The proof holds for a program of **one function** (no local calls, so
//! depth 0 only) in which every stack address stays visible to the frame
//! analysis:
//! - every load, store or atomic whose base register may hold a stack
//!   address has an exact `Frame(c)` base, and its bytes lie in
//!   `[top - n, top)`; `n` is the largest such depth;
//! - no stack address leaves the registers: none is stored to memory, used
//!   as an ALU operand other than by a 64-bit `mov` or `add`/`sub` of an
//!   immediate, passed to a helper (r1..r5 at a call), used by `callx` or as
//!   an LD_IND offset.
//!
//! Helpers then never receive a stack pointer, so (unless one digs the
//! stack region out of the [`MemoryMap`](crate::MemoryMap) itself, which
//! the engine contract does not support) only the program's own accesses
//! touch the stack, and they stay in the bytes that were zeroed.

use super::frame::{fact, transfer, FrameFacts, RegFact, RegFacts};
use crate::isa::insn::{AluOp, CallKind, Insn, Reg, Src, Width};
use crate::isa::program::Program;
use crate::STACK_SIZE;

/// The bytes below the stack top that a run of `prog` must find zeroed:
/// a multiple of 64 no larger than [`STACK_SIZE`], and [`STACK_SIZE`]
/// unless the module docs' conditions are proved.
pub fn zero_bytes(prog: &Program) -> usize {
    let all = STACK_SIZE;
    if prog.functions().len() != 1 {
        return all;
    }
    let insns = prog.insns();
    let facts = FrameFacts::analyze(prog.cfg(), insns, 0, insns.len());
    let mut deepest = 0u64;
    let lens = prog.cfg().block_lens();
    let mut cur: Option<RegFacts> = None;
    for (i, &(_, insn)) in insns.iter().enumerate() {
        // At a leader the facts restart from the analysis (`None`: an
        // unreachable block, where nothing runs).
        if lens.get(i).is_some_and(|&n| n > 0) {
            cur = facts.at_leader(i).copied();
        }
        let Some(f) = cur.as_mut() else {
            continue;
        };
        match depth_of(f, insn) {
            Some(d) => deepest = deepest.max(d),
            None => return all,
        }
        transfer(f, insn);
    }
    let rounded = deepest.div_ceil(64) * 64;
    usize::try_from(rounded).map_or(all, |n| n.min(all))
}

/// The stack depth below the top that `insn` touches (0 if none), or
/// `None` if it lets a stack address escape or accesses the stack at an
/// address the facts do not pin down.
fn depth_of(f: &RegFacts, insn: Insn) -> Option<u64> {
    let stacky = |r: Reg| fact(f, r).is_stack_like();
    match insn {
        Insn::Ldx { size, src, off, .. } => access(f, src, off, size.bytes()),
        Insn::St { size, dst, off, .. } => access(f, dst, off, size.bytes()),
        Insn::Stx {
            size,
            dst,
            src,
            off,
        }
        | Insn::Atomic {
            size,
            dst,
            src,
            off,
            ..
        } => {
            if stacky(src) {
                None
            } else {
                access(f, dst, off, size.bytes())
            }
        }
        Insn::Alu { w, op, dst, src } => alu_keeps_track(f, w, op, dst, src).then_some(0),
        Insn::Neg { dst, .. } | Insn::End { dst, .. } => (!stacky(dst)).then_some(0),
        Insn::LdInd { src, .. } | Insn::MovSx { src, .. } => (!stacky(src)).then_some(0),
        Insn::Call {
            kind: CallKind::Local,
            ..
        } => None,
        Insn::Call { .. } => helper_args_clean(f).then_some(0),
        Insn::Callx { reg } => (!stacky(reg) && helper_args_clean(f)).then_some(0),
        _ => Some(0),
    }
}

/// The depth an access `[base + off, base + off + size)` reaches: 0 if
/// `base` holds no stack address, the exact depth for a `Frame(c)` base
/// inside the entry frame, `None` otherwise.
fn access(f: &RegFacts, base: Reg, off: i16, size: u64) -> Option<u64> {
    match fact(f, base) {
        RegFact::Other => Some(0),
        RegFact::Stack => None,
        RegFact::Frame(c) => {
            let lo = c.checked_add(i64::from(off))?;
            let hi = lo.checked_add(i64::try_from(size).ok()?)?;
            (lo >= -(crate::STACK_FRAME_SIZE as i64) && hi <= 0).then_some(lo.unsigned_abs())
        }
    }
}

/// Whether an ALU instruction keeps every stack address in view: it neither
/// reads one as an operand (except a 64-bit `mov`, which the facts follow)
/// nor changes one other than by adding or subtracting an immediate.
fn alu_keeps_track(f: &RegFacts, w: Width, op: AluOp, dst: Reg, src: Src) -> bool {
    let src_stacky = matches!(src, Src::Reg(s) if fact(f, s).is_stack_like());
    let dst_stacky = fact(f, dst).is_stack_like();
    match (w, op, src) {
        (Width::W64, AluOp::Mov, _) => true,
        (_, AluOp::Mov, _) => !src_stacky,
        (Width::W64, AluOp::Add | AluOp::Sub, Src::Imm(_)) => true,
        _ => !src_stacky && !dst_stacky,
    }
}

/// Whether no helper argument register (r1..r5) may hold a stack address.
fn helper_args_clean(f: &RegFacts) -> bool {
    f[1..6].iter().all(|r| !r.is_stack_like())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::assemble;

    fn bytes_of(src: &str) -> usize {
        let prog = Program::from_insns(&assemble(src).expect("assembles")).expect("loads");
        zero_bytes(&prog)
    }

    #[test]
    fn a_program_without_stack_needs_nothing_zeroed() {
        assert_eq!(bytes_of("mov %r0, 1\nexit"), 0);
    }

    #[test]
    fn frame_accesses_need_their_depth_rounded_to_64() {
        assert_eq!(
            bytes_of("stxdw [%r10-8], %r1\nldxdw %r0, [%r10-8]\nexit"),
            64
        );
        assert_eq!(
            bytes_of("mov %r2, %r10\nadd %r2, -100\nldxb %r0, [%r2-1]\nexit"),
            128
        );
        assert_eq!(bytes_of("ldxdw %r0, [%r10-512]\nexit"), 512);
    }

    #[test]
    fn escaping_stack_addresses_need_everything_zeroed() {
        // Passed to a helper.
        assert_eq!(bytes_of("mov %r1, %r10\ncall 1\nexit"), STACK_SIZE);
        // Stored to memory.
        assert_eq!(bytes_of("stxdw [%r10-8], %r10\nexit"), STACK_SIZE);
        // Changed by register arithmetic.
        assert_eq!(
            bytes_of("mov %r2, %r10\nadd %r2, %r3\nldxb %r0, [%r2]\nexit"),
            STACK_SIZE
        );
        // Masked.
        assert_eq!(
            bytes_of("mov %r2, %r10\nand %r2, -4096\nldxb %r0, [%r2]\nexit"),
            STACK_SIZE
        );
        // An access outside the entry frame.
        assert_eq!(bytes_of("ldxb %r0, [%r10-513]\nexit"), STACK_SIZE);
        // A local call.
        assert_eq!(
            bytes_of("call local f\nexit\nf:\nmov %r0, 0\nexit"),
            STACK_SIZE
        );
    }

    #[test]
    fn stack_addresses_joined_on_two_paths_need_everything_zeroed() {
        let src = "mov %r2, %r10\njeq %r1, 0, +1\nadd %r2, -8\nldxb %r0, [%r2-1]\nexit";
        assert_eq!(bytes_of(src), STACK_SIZE);
    }
}
