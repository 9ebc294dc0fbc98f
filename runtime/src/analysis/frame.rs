//! Frame-pointer provenance: which registers hold `r10 + constant`.
//!
//! A forward dataflow over one function's blocks (the blocks and successors
//! of the program's [`Cfg`]; every jump lands on a leader). For each
//! register it computes a [`RegFact`]:
//!
//! - [`RegFact::Frame`]`(c)`: on **every** execution that reaches this point
//!   the register equals the function's `r10 + c` (wrapping, 64-bit). This
//!   is the only fact a consumer may rely on for soundness; an access
//!   `[r + off, r + off + size)` with `-512 <= c + off` and
//!   `c + off + size <= 0` lies in the current frame.
//! - [`RegFact::Stack`]: probably a stack address (frame pointer plus or
//!   minus something unknown). A *hint* only: nothing may depend on it
//!   for soundness.
//! - [`RegFact::Other`]: nothing known.
//!
//! The facts are exact because only value-preserving forms propagate
//! `Frame`: 64-bit `mov reg`, `add`/`sub` of an immediate, and registers a
//! call leaves alone by the engine contract (r1-r5 and r6-r9 across a
//! helper call, r6-r9 across a local call, r10 always). Everything else a
//! register receives (loads, so spilled and reloaded pointers; 32-bit
//! forms; results of calls; register-register arithmetic) is `Other` or at
//! best the `Stack` hint. Registers at function entry are `Other` except
//! r10 (`Frame(0)`), whatever the caller passed.
//!
//! The lattice per register is `Frame(c) < Stack < Other` (two different
//! `Frame`s join to `Stack`); it has height 3, so the worklist terminates
//! after at most `3 × 11` changes per block.

use crate::isa::cfg::Cfg;
use crate::isa::insn::{AluOp, AtomicOp, CallKind, Insn, Reg, Src, Width};
use std::collections::HashMap;

/// What is known about one register at one point of a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegFact {
    /// Exactly the function's frame pointer plus this (wrapping) offset.
    Frame(i64),
    /// Probably somewhere in the stack (a hint, not a guarantee).
    Stack,
    /// Nothing known.
    Other,
}

impl RegFact {
    /// The least upper bound of two facts.
    fn join(self, other: RegFact) -> RegFact {
        match (self, other) {
            (a, b) if a == b => a,
            (RegFact::Other, _) | (_, RegFact::Other) => RegFact::Other,
            _ => RegFact::Stack,
        }
    }

    /// Whether the value is (or probably is) a stack address.
    pub fn is_stack_like(self) -> bool {
        matches!(self, RegFact::Frame(_) | RegFact::Stack)
    }

    /// Whether an access of `size` bytes at `base + off`, with this fact
    /// for `base`, lies inside the current frame `[r10 - 512, r10)`:
    /// `Frame(c)` with `o = c + off`, `-512 <= o` and `o + size <= 0`
    /// (computed in `i128`, so nothing wraps). This is the frame rule of
    /// [`crate::analysis::proof::Proof::from_frame`] and of the lowering.
    pub fn proves_in_frame(self, off: i16, size: u64) -> bool {
        let RegFact::Frame(c) = self else {
            return false;
        };
        let o = i128::from(c) + i128::from(off);
        let frame = crate::STACK_FRAME_SIZE as i128;
        o >= -frame && o + i128::from(size) <= 0
    }
}

/// The facts of r0..r10 at one point.
pub type RegFacts = [RegFact; 11];

/// The facts at a function's entry: r10 = `Frame(0)`, the rest `Other`.
pub fn entry_facts() -> RegFacts {
    let mut f = [RegFact::Other; 11];
    f[10] = RegFact::Frame(0);
    f
}

/// Applies one instruction to `facts` (the facts before it become the
/// facts after it, on the fall-through path).
pub fn transfer(facts: &mut RegFacts, insn: Insn) {
    match insn {
        Insn::Alu {
            w: Width::W64,
            op,
            dst,
            src,
        } => {
            let d = facts[dst.index()];
            let new = match (op, src) {
                (AluOp::Mov, Src::Reg(s)) => facts[s.index()],
                (AluOp::Add, Src::Imm(k)) => offset(d, i64::from(k)),
                (AluOp::Sub, Src::Imm(k)) => offset(d, i64::from(k).wrapping_neg()),
                (AluOp::Add, Src::Reg(s)) => {
                    let sv = facts[s.index()];
                    match (d.is_stack_like(), sv.is_stack_like()) {
                        (true, false) | (false, true) => RegFact::Stack,
                        _ => RegFact::Other,
                    }
                }
                (AluOp::Sub, Src::Reg(s)) => {
                    if d.is_stack_like() && !facts[s.index()].is_stack_like() {
                        RegFact::Stack
                    } else {
                        RegFact::Other
                    }
                }
                _ => RegFact::Other,
            };
            facts[dst.index()] = new;
        }
        Insn::Call {
            kind: CallKind::Local,
            ..
        } => {
            // The callee returns r0..r5; r6..r9 and r10 are the caller's.
            for f in &mut facts[0..6] {
                *f = RegFact::Other;
            }
        }
        Insn::Atomic { op, src, .. } => {
            // Fetching forms write src (xchg always does); cmpxchg writes r0.
            facts[src.index()] = RegFact::Other;
            if op == AtomicOp::Cmpxchg {
                facts[0] = RegFact::Other;
            }
        }
        Insn::LdAbs { .. } | Insn::LdInd { .. } => {
            // Only r0 is written, but the kernel clobbers r1-r5 here; being
            // more conservative than needed costs nothing measurable.
            for f in &mut facts[0..6] {
                *f = RegFact::Other;
            }
        }
        other => {
            // Helper calls write only r0 (r1-r5 are kept by the engine
            // contract); every other form writes at most its destination.
            if let Some(r) = other.written_reg() {
                facts[r.index()] = RegFact::Other;
            }
        }
    }
}

/// Joins `facts` into the facts at leader `s`; returns whether they changed.
fn join_into(at_leader: &mut HashMap<usize, RegFacts>, s: usize, facts: &RegFacts) -> bool {
    match at_leader.get_mut(&s) {
        None => {
            at_leader.insert(s, *facts);
            true
        }
        Some(old) => {
            let mut changed = false;
            for (o, n) in old.iter_mut().zip(facts.iter()) {
                let j = o.join(*n);
                if j != *o {
                    *o = j;
                    changed = true;
                }
            }
            changed
        }
    }
}

fn offset(f: RegFact, k: i64) -> RegFact {
    match f {
        RegFact::Frame(c) => RegFact::Frame(c.wrapping_add(k)),
        other => other,
    }
}

/// The facts at each block leader of one function, from which the facts at
/// any instruction follow by [`transfer`] in program order.
#[derive(Clone, Debug)]
pub struct FrameFacts {
    /// Facts before each reachable leader, by instruction index.
    at_leader: HashMap<usize, RegFacts>,
}

impl FrameFacts {
    /// Analyses the function whose instructions are `insns[first..end]`
    /// (`insns` is the whole program, pairs of pc and instruction as
    /// [`crate::Program::insns`] returns them, and `cfg` its graph). Only
    /// successors inside `[first, end)` are followed.
    pub fn analyze(cfg: &Cfg, insns: &[(usize, Insn)], first: usize, end: usize) -> FrameFacts {
        let end = end.min(insns.len());
        let mut at_leader: HashMap<usize, RegFacts> = HashMap::new();
        if first >= end {
            return FrameFacts { at_leader };
        }
        at_leader.insert(first, entry_facts());
        let mut work = vec![first];
        while let Some(l) = work.pop() {
            let Some(mut facts) = at_leader.get(&l).copied() else {
                continue;
            };
            let Some(block) = cfg.block_of(l) else {
                continue;
            };
            let last = (block.end - 1).min(end - 1);
            for &(_, insn) in &insns[l..=last] {
                transfer(&mut facts, insn);
            }
            // A block cut short by `end` falls through to nothing.
            let succs: &[usize] = if last + 1 == block.end {
                &block.succs
            } else {
                &[]
            };
            for &s in succs.iter().filter(|&&s| s >= first && s < end) {
                if join_into(&mut at_leader, s, &facts) {
                    work.push(s);
                }
            }
        }
        FrameFacts { at_leader }
    }

    /// The facts before the leader at instruction index `i`, or `None` if
    /// `i` is not a leader the analysis reached (unreachable code: assume
    /// nothing).
    pub fn at_leader(&self, i: usize) -> Option<&RegFacts> {
        self.at_leader.get(&i)
    }
}

/// The fact for register `r` in `facts`.
pub fn fact(facts: &RegFacts, r: Reg) -> RegFact {
    facts[r.index()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::{JmpCond, LddwKind, Size};
    use crate::Program;

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }
    fn mov(dst: u8, src: u8) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: r(dst),
            src: Src::Reg(r(src)),
        }
    }
    fn add_imm(dst: u8, k: i32) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Add,
            dst: r(dst),
            src: Src::Imm(k),
        }
    }

    /// Facts before each instruction of function 0 (by walking the
    /// leaders' facts forward, as a consumer does).
    fn facts_of(insns: &[Insn]) -> Vec<Option<RegFacts>> {
        let p = Program::from_insns(insns).expect("program loads");
        let all = p.insns();
        let f = &p.functions()[0];
        let end = all.partition_point(|&(pc, _)| pc < f.end);
        let ff = FrameFacts::analyze(p.cfg(), all, 0, end);
        let lens = p.cfg().block_lens();
        let mut cur: Option<RegFacts> = None;
        let mut out = Vec::new();
        for (i, &(_, insn)) in all[..end].iter().enumerate() {
            if lens[i] > 0 {
                cur = ff.at_leader(i).copied();
            }
            out.push(cur);
            if let Some(c) = cur.as_mut() {
                transfer(c, insn);
            }
        }
        out
    }

    #[test]
    fn offsets_follow_mov_add_sub() {
        let f = facts_of(&[
            mov(1, 10),
            add_imm(1, -16),
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Sub,
                dst: r(1),
                src: Src::Imm(8),
            },
            mov(2, 1),
            Insn::Exit,
        ]);
        let last = f[4].expect("reached");
        assert_eq!(last[1], RegFact::Frame(-24));
        assert_eq!(last[2], RegFact::Frame(-24));
        assert_eq!(last[10], RegFact::Frame(0));
        assert_eq!(last[0], RegFact::Other);
    }

    #[test]
    fn laundered_pointers_are_not_frame() {
        let base = [mov(1, 10), add_imm(1, -8)];
        // Through a spill and reload.
        let mut v = base.to_vec();
        v.push(Insn::Stx {
            size: Size::DW,
            dst: r(10),
            src: r(1),
            off: -8,
        });
        v.push(Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: r(2),
            src: r(10),
            off: -8,
        });
        v.push(Insn::Exit);
        assert_eq!(facts_of(&v)[4].expect("reached")[2], RegFact::Other);
        // Through 32-bit arithmetic (truncates).
        let mut v = base.to_vec();
        v.push(Insn::Alu {
            w: Width::W32,
            op: AluOp::Add,
            dst: r(1),
            src: Src::Imm(0),
        });
        v.push(Insn::Exit);
        assert_eq!(facts_of(&v)[3].expect("reached")[1], RegFact::Other);
        // Through register arithmetic: a hint only.
        let mut v = base.to_vec();
        v.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Add,
            dst: r(1),
            src: Src::Reg(r(3)),
        });
        v.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Xor,
            dst: r(4),
            src: Src::Reg(r(4)),
        });
        v.push(Insn::Exit);
        assert_eq!(facts_of(&v)[4].expect("reached")[1], RegFact::Stack);
        // fp - fp is a number, not a pointer.
        let mut v = base.to_vec();
        v.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Sub,
            dst: r(1),
            src: Src::Reg(r(10)),
        });
        v.push(Insn::Exit);
        assert_eq!(facts_of(&v)[3].expect("reached")[1], RegFact::Other);
        // LDDW, neg, byte swap, sign-extending move all forget.
        for insn in [
            Insn::Lddw {
                dst: r(1),
                kind: LddwKind::Imm64,
                imm: 0,
                next_imm: 0,
            },
            Insn::Neg {
                w: Width::W64,
                dst: r(1),
            },
            Insn::MovSx {
                w: Width::W64,
                dst: r(1),
                src: r(1),
                bits: 32,
            },
        ] {
            let mut v = base.to_vec();
            v.push(insn);
            v.push(Insn::Exit);
            let f = facts_of(&v);
            assert_eq!(f[f.len() - 1].expect("reached")[1], RegFact::Other);
        }
    }

    #[test]
    fn calls_keep_what_the_contract_keeps() {
        let f = facts_of(&[
            mov(1, 10),
            mov(6, 10),
            add_imm(6, -512),
            Insn::Call {
                kind: CallKind::Helper,
                imm: 1,
            },
            Insn::Call {
                kind: CallKind::Local,
                imm: 1,
            },
            Insn::Exit,
            // function 1
            mov(0, 10),
            Insn::Exit,
        ]);
        // After the helper call: r1 and r6 kept.
        let after_helper = f[4].expect("reached");
        assert_eq!(after_helper[1], RegFact::Frame(0));
        assert_eq!(after_helper[6], RegFact::Frame(-512));
        // After the local call: r1 forgotten, r6 kept.
        let after_local = f[5].expect("reached");
        assert_eq!(after_local[1], RegFact::Other);
        assert_eq!(after_local[6], RegFact::Frame(-512));
        assert_eq!(after_local[0], RegFact::Other);
    }

    #[test]
    fn callee_entry_knows_only_its_own_r10() {
        let insns = [
            mov(1, 10),
            Insn::Call {
                kind: CallKind::Local,
                imm: 1,
            },
            Insn::Exit,
            add_imm(1, 0),
            Insn::Exit,
        ];
        let p = Program::from_insns(&insns).expect("loads");
        let all = p.insns();
        let ff = FrameFacts::analyze(p.cfg(), all, 3, 5);
        let entry = ff.at_leader(3).expect("entry");
        assert_eq!(entry[1], RegFact::Other);
        assert_eq!(entry[10], RegFact::Frame(0));
    }

    #[test]
    fn joins_at_merges_and_loops() {
        // 0: r1 = r10 | 1: r1 += -8 | 2: if r2 == 0 goto 4 | 3: r1 += -8
        // 4: exit (r1 is -8 or -16: only a hint)
        let f = facts_of(&[
            mov(1, 10),
            add_imm(1, -8),
            Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Eq,
                dst: r(2),
                src: Src::Imm(0),
                off: 1,
            },
            add_imm(1, -8),
            Insn::Exit,
        ]);
        assert_eq!(f[3].expect("reached")[1], RegFact::Frame(-8));
        assert_eq!(f[4].expect("reached")[1], RegFact::Stack);

        // A loop that walks r1 down the frame: not a constant offset at the
        // loop head; a loop that keeps it is.
        let f = facts_of(&[
            mov(1, 10),
            mov(3, 10),
            add_imm(3, -4),
            add_imm(1, -8),
            Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Ne,
                dst: r(2),
                src: Src::Imm(0),
                off: -2,
            },
            Insn::Exit,
        ]);
        assert_eq!(f[3].expect("reached")[1], RegFact::Stack);
        assert_eq!(f[3].expect("reached")[3], RegFact::Frame(-4));
        assert_eq!(f[5].expect("reached")[3], RegFact::Frame(-4));
    }

    #[test]
    fn atomics_forget_what_they_write() {
        let f = facts_of(&[
            mov(0, 10),
            mov(2, 10),
            mov(3, 10),
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Cmpxchg,
                fetch: true,
                dst: r(10),
                src: r(2),
                off: -8,
            },
            Insn::Atomic {
                size: Size::DW,
                op: AtomicOp::Add,
                fetch: false,
                dst: r(10),
                src: r(3),
                off: -8,
            },
            Insn::Exit,
        ]);
        let end = f[5].expect("reached");
        assert_eq!(end[0], RegFact::Other);
        assert_eq!(end[2], RegFact::Other);
        // Conservative: even a non-fetching atomic forgets its source.
        assert_eq!(end[3], RegFact::Other);
    }

    #[test]
    fn wrapping_offsets_stay_exact() {
        let f = facts_of(&[
            mov(1, 10),
            add_imm(1, i32::MIN),
            add_imm(1, i32::MIN),
            add_imm(1, i32::MIN),
            Insn::Exit,
        ]);
        let c = 3 * i64::from(i32::MIN);
        assert_eq!(f[4].expect("reached")[1], RegFact::Frame(c));
    }
}
