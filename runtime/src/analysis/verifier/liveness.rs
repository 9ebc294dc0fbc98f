//! Register liveness: which registers an instruction's future may read
//! before writing them. Stored states forget dead registers (they become
//! uninitialised, which subsumes anything), so more paths prune.
//!
//! A backward may-analysis per instruction over the program's [`Cfg`]
//! (jump targets from `Cfg::target`): `live_in(i) = use(i) ∪
//! (live_out(i) − def(i))`. A call reads its argument registers and
//! writes r0 and r1-r5; `exit` reads r0 (the caller's registers are saved
//! with its frame, so a function's liveness stops at its own exit).

use super::helpers::arg_count;
use crate::isa::cfg::Cfg;
use crate::isa::insn::{AtomicOp, CallKind, Insn, Src};

/// A set of registers r0-r10 (bit `n` = `rn`).
pub(super) type RegSet = u16;

const fn bit(r: usize) -> RegSet {
    1 << r
}

/// r1-r5.
const ARGS: RegSet = 0b11_1110;

/// The registers `insn` reads and writes.
fn use_def(insn: &Insn) -> (RegSet, RegSet) {
    let src = |s: &Src| match s {
        Src::Reg(r) => bit(r.index()),
        Src::Imm(_) => 0,
    };
    match insn {
        Insn::Alu {
            op, dst, src: s, ..
        } => {
            let d = bit(dst.index());
            let u = if *op == crate::isa::insn::AluOp::Mov {
                0
            } else {
                d
            };
            (u | src(s), d)
        }
        Insn::Neg { dst, .. } | Insn::End { dst, .. } => (bit(dst.index()), bit(dst.index())),
        Insn::MovSx { dst, src, .. } => (bit(src.index()), bit(dst.index())),
        Insn::Lddw { dst, .. } => (0, bit(dst.index())),
        Insn::LdAbs { .. } => (0, bit(0)),
        Insn::LdInd { src, .. } => (bit(src.index()), bit(0)),
        Insn::Ldx { dst, src, .. } => (bit(src.index()), bit(dst.index())),
        Insn::St { dst, .. } => (bit(dst.index()), 0),
        Insn::Stx { dst, src, .. } => (bit(dst.index()) | bit(src.index()), 0),
        Insn::Atomic {
            op,
            fetch,
            dst,
            src,
            ..
        } => {
            let mut u = bit(dst.index()) | bit(src.index());
            if *op == AtomicOp::Cmpxchg {
                u |= bit(0);
            }
            let d = crate::sem::atomic_fetch_reg(*op, *fetch, *src).map_or(0, |r| bit(r.index()));
            (u, d)
        }
        Insn::Ja { .. } => (0, 0),
        Insn::Jmp { dst, src: s, .. } => (bit(dst.index()) | src(s), 0),
        Insn::Call { kind, imm } => {
            let n = match kind {
                CallKind::Helper => arg_count(*imm as u32),
                _ => 5,
            };
            let used = (ARGS >> (5 - n)) & ARGS;
            (used, bit(0) | ARGS)
        }
        Insn::Callx { reg } => (ARGS | bit(reg.index()), bit(0) | ARGS),
        Insn::Exit => (bit(0), 0),
    }
}

/// `live_in` of every instruction (by index).
pub(super) fn live_in(insns: &[(usize, Insn)], cfg: &Cfg) -> Vec<RegSet> {
    let n = insns.len();
    let succs = |i: usize| -> [Option<usize>; 2] {
        let next = (i + 1 < n).then_some(i + 1);
        match insns[i].1 {
            Insn::Exit => [None, None],
            Insn::Ja { .. } => [cfg.target(i), None],
            Insn::Jmp { .. } => [cfg.target(i), next],
            _ => [next, None],
        }
    };
    let mut live = vec![0 as RegSet; n];
    let mut changed = true;
    while changed {
        changed = false;
        for i in (0..n).rev() {
            let out = succs(i).iter().flatten().fold(0, |acc, &s| acc | live[s]);
            let (u, d) = use_def(&insns[i].1);
            let inn = u | (out & !d);
            if inn != live[i] {
                live[i] = inn;
                changed = true;
            }
        }
    }
    live
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::asm::assemble;
    use crate::Program;

    #[test]
    fn liveness_hand_worked() {
        let p = Program::from_insns(
            &assemble(
                "mov %r2, 1
                 mov %r3, %r1
                 jeq %r2, 0, +1
                 mov %r0, %r3
                 exit",
            )
            .unwrap(),
        )
        .unwrap();
        let live = live_in(p.insns(), p.cfg());
        // Before `mov r2, 1`: r1 (read by the copy) and r0 (exit on the
        // taken way reads it).
        assert_eq!(live[0], bit(1) | bit(0));
        assert_eq!(live[2], bit(2) | bit(3) | bit(0));
        assert_eq!(live[3], bit(3));
    }
}
