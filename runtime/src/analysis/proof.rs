//! The seam between the verifier and the JIT: what a proof hands the
//! lowering.
//!
//! A [`Proof`] is produced once per [`Program`](crate::Program) by the static
//! verifier and read by the lowering (through `LowerOptions`). It holds one
//! [`AccessFact`] per instruction (indexed like [`Program::insns`](crate::Program::insns),
//! not by slot) and one [`LoopFact`] per back-edge of the program's
//! [`Cfg`](crate::isa::cfg::Cfg).
//!
//! **Soundness contract.** [`AccessFact::Proven`] at instruction `i` means:
//! on every execution that reaches `i`, whatever the input, the whole access
//! lies inside a region that the engines' run-time check
//! ([`MemoryMap::check`](crate::host::mem::MemoryMap::check)) would accept
//! with the access's permission, and atomics are naturally aligned. The
//! lowering may then emit a bare load or store. [`LoopFact::Bounded`] means
//! the loop's back-edge is taken at most `max_trips` times on any execution,
//! so a run without a requested budget may skip the budget test there.
//! Anything not proven stays checked at run time, so a proof can only remove
//! checks that could not fail: the results, faults and instruction counts of
//! every engine stay those of the interpreter (the oracle, which reads no
//! proof).
//!
//! In audit mode the JIT keeps every elided check and reports a failed one
//! as a fault of its own kind naming the pc, which means the proof was
//! wrong.
//!
//! [`Proof::from_frame`] is the proof the frame analysis alone gives
//! ([`crate::analysis::frame`]: accesses through `r10 + c` that stay in the
//! current frame); it is sound by construction (the lowering applies the
//! same rule on its own), and tests use it as a known-good proof.

/// Which region a proven access lies in (for reports and statistics; the
/// lowering treats every `Proven` fact alike).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegionKind {
    /// The current function's frame, `[r10 - 512, r10)`.
    Frame,
    /// Another frame, through a pointer the caller passed in.
    CallerFrame,
    /// The program's context struct.
    Ctx,
    /// The packet, `[data, data_end)`, after a bounds test.
    Packet,
    /// The input region `[r1, r1 + r2)` of a raw-memory run.
    Input,
    /// A map value returned by a lookup (after its null test).
    MapValue,
    /// A region a helper registered (ring-buffer record, ...).
    HelperRegion,
}

use crate::analysis::frame::{self, FrameFacts, RegFact};
use crate::isa::insn::{Insn, Reg};
use crate::Program;

/// What the verifier proved about one instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessFact {
    /// The instruction does not access memory (or was not reached).
    NotMemory,
    /// The access always lies inside `region` (see the module's contract).
    Proven {
        /// The region it lies in.
        region: RegionKind,
    },
    /// The access is checked at run time; `reason` says why it was not
    /// proven, for `cranebpf verify`.
    Unproven {
        /// Why, in a few words (`"r3 may be null"`, `"offset unbounded"`).
        reason: String,
    },
}

/// What the verifier proved about one loop (one back-edge).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoopFact {
    /// The back-edge `from -> to` (instruction indexes) is taken at most
    /// `max_trips` times on any execution.
    Bounded {
        /// Index of the jump instruction.
        from: usize,
        /// Index of the loop header.
        to: usize,
        /// An upper bound on how often the edge is taken.
        max_trips: u64,
    },
    /// Termination of this loop is not proven: the budget stays.
    Unproven {
        /// Index of the jump instruction.
        from: usize,
        /// Index of the loop header.
        to: usize,
        /// Why, in a few words.
        reason: String,
    },
}

/// Facts proven about a program: one [`AccessFact`] per instruction, one
/// [`LoopFact`] per back-edge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    accesses: Vec<AccessFact>,
    loops: Vec<LoopFact>,
}

impl Proof {
    /// A proof of nothing for a program of `len` instructions: every access
    /// is checked and no loop is proven bounded.
    pub fn empty(len: usize) -> Proof {
        Proof {
            accesses: vec![AccessFact::NotMemory; len],
            loops: Vec::new(),
        }
    }

    /// Records what is known about instruction `index` (ignored when out of
    /// range).
    pub fn set_access(&mut self, index: usize, fact: AccessFact) {
        if let Some(slot) = self.accesses.get_mut(index) {
            *slot = fact;
        }
    }

    /// Records what is known about one loop.
    pub fn push_loop(&mut self, fact: LoopFact) {
        self.loops.push(fact);
    }

    /// The fact for instruction `index` (`NotMemory` when out of range).
    pub fn access(&self, index: usize) -> &AccessFact {
        const NONE: &AccessFact = &AccessFact::NotMemory;
        self.accesses.get(index).unwrap_or(NONE)
    }

    /// Whether the access at instruction `index` may go unchecked.
    pub fn is_proven(&self, index: usize) -> bool {
        matches!(self.access(index), AccessFact::Proven { .. })
    }

    /// Every instruction's fact, by instruction index.
    pub fn accesses(&self) -> &[AccessFact] {
        &self.accesses
    }

    /// Every loop's fact.
    pub fn loops(&self) -> &[LoopFact] {
        &self.loops
    }

    /// Whether every loop is proven bounded (a program without loops
    /// terminates trivially).
    pub fn terminates(&self) -> bool {
        self.loops
            .iter()
            .all(|l| matches!(l, LoopFact::Bounded { .. }))
    }

    /// The proof the frame analysis gives: an `LDX`, `ST`, `STX` or atomic
    /// whose base register holds exactly `r10 + c` on every path
    /// ([`RegFact::Frame`]) and whose whole access lies in the current frame
    /// ([`RegFact::proves_in_frame`]) is `Proven { region: Frame }`; every
    /// other access is `Unproven`; legacy packet loads (`LD_ABS`/`LD_IND`,
    /// whose out-of-packet case is semantics, not a fault) are
    /// `NotMemory` here and never elided; no loop is proven bounded.
    /// Instructions the analysis does not reach get the entry facts
    /// (only r10 known), as in the lowering: they never run.
    pub fn from_frame(program: &Program) -> Proof {
        let insns = program.insns();
        let cfg = program.cfg();
        let mut proof = Proof::empty(insns.len());
        for f in 0..program.functions().len() {
            let Some(range) = cfg.function_insns(f) else {
                continue;
            };
            let facts = FrameFacts::analyze(cfg, insns, range.start, range.end);
            let mut cur = frame::entry_facts();
            for i in range.clone() {
                let Some(&(_, insn)) = insns.get(i) else {
                    break;
                };
                if cfg.block_len(i) > 0 {
                    cur = facts
                        .at_leader(i)
                        .copied()
                        .unwrap_or_else(frame::entry_facts);
                }
                if let Some((base, off, size)) = access_operand(&insn) {
                    proof.set_access(i, frame_fact(cur[base.index()], off, size));
                }
                frame::transfer(&mut cur, insn);
            }
        }
        for &(from, to) in cfg.back_edges() {
            proof.push_loop(LoopFact::Unproven {
                from,
                to,
                reason: "the frame analysis bounds no loop".into(),
            });
        }
        proof
    }

    /// `(proven, total)` memory accesses, for reports.
    pub fn coverage(&self) -> (usize, usize) {
        let proven = self
            .accesses
            .iter()
            .filter(|a| matches!(a, AccessFact::Proven { .. }))
            .count();
        let total = self
            .accesses
            .iter()
            .filter(|a| !matches!(a, AccessFact::NotMemory))
            .count();
        (proven, total)
    }
}

/// The fact the frame rule gives an access of `size` bytes at `base + off`
/// whose base has fact `base`.
fn frame_fact(base: RegFact, off: i16, size: u64) -> AccessFact {
    if base.proves_in_frame(off, size) {
        AccessFact::Proven {
            region: RegionKind::Frame,
        }
    } else {
        let reason = match base {
            RegFact::Frame(_) => "outside the current frame",
            RegFact::Stack => "stack pointer with a variable offset",
            RegFact::Other => "base is not a frame pointer",
        };
        AccessFact::Unproven {
            reason: reason.into(),
        }
    }
}

/// The base register, offset and size of a load, store or atomic (the
/// accesses a proof may cover).
pub fn access_operand(insn: &Insn) -> Option<(Reg, i16, u64)> {
    match *insn {
        Insn::Ldx { size, src, off, .. } => Some((src, off, size.bytes())),
        Insn::St { size, dst, off, .. }
        | Insn::Stx { size, dst, off, .. }
        | Insn::Atomic { size, dst, off, .. } => Some((dst, off, size.bytes())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }

    #[test]
    fn frame_proof_covers_exactly_the_in_frame_accesses() {
        use crate::isa::insn::{AluOp, JmpCond, Size, Src, Width};
        let insns = [
            // 0: r1 = r10; 1: r1 += -16
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Mov,
                dst: r(1),
                src: Src::Reg(r(10)),
            },
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Add,
                dst: r(1),
                src: Src::Imm(-16),
            },
            // 2: *(u64 *)(r1 + 8) = 0: [r10-8, r10), proven.
            Insn::St {
                size: Size::DW,
                dst: r(1),
                off: 8,
                imm: 0,
            },
            // 3: *(u64 *)(r1 + 12): straddles r10, unproven.
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(0),
                src: r(1),
                off: 12,
            },
            // 4: the input, unproven.
            Insn::Ldx {
                size: Size::B,
                sx: false,
                dst: r(0),
                src: r(2),
                off: 0,
            },
            // 5: a loop back to 4 while r0 != 0.
            Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Ne,
                dst: r(0),
                src: Src::Imm(0),
                off: -2,
            },
            Insn::Exit,
        ];
        let p = Program::from_insns(&insns).expect("loads");
        let proof = Proof::from_frame(&p);
        assert!(proof.is_proven(2));
        assert!(!proof.is_proven(3));
        assert!(!proof.is_proven(4));
        assert_eq!(proof.access(0), &AccessFact::NotMemory);
        assert_eq!(proof.coverage(), (1, 3));
        assert_eq!(proof.loops().len(), 1);
        assert!(!proof.terminates());
    }

    /// The interpreter reads no proof, so it can never report one wrong:
    /// no file of it names the fault kind (difftest relies on this to
    /// count every `ProofViolation` as a bug of the engine under test).
    #[test]
    fn the_interpreter_never_builds_a_proof_violation() {
        for src in [
            include_str!("../interp/exec.rs"),
            include_str!("../interp/mod.rs"),
            include_str!("../interp/predecode.rs"),
            include_str!("../interp/tests.rs"),
        ] {
            assert!(!src.contains("ProofViolation"));
            assert!(!src.contains("FAULT_PROOF_VIOLATION"));
        }
    }

    #[test]
    fn empty_proof_proves_nothing() {
        let p = Proof::empty(3);
        assert!(!p.is_proven(0));
        assert!(!p.is_proven(7));
        assert_eq!(p.coverage(), (0, 0));
        assert!(p.terminates());
    }

    #[test]
    fn coverage_counts_proven_and_unproven_accesses() {
        let mut p = Proof::empty(4);
        p.set_access(
            0,
            AccessFact::Proven {
                region: RegionKind::Frame,
            },
        );
        p.set_access(
            2,
            AccessFact::Unproven {
                reason: "r3 may be null".into(),
            },
        );
        p.set_access(
            9,
            AccessFact::Proven {
                region: RegionKind::Ctx,
            },
        );
        assert!(p.is_proven(0));
        assert!(!p.is_proven(2));
        assert_eq!(p.coverage(), (1, 2));
        p.push_loop(LoopFact::Unproven {
            from: 3,
            to: 1,
            reason: "bound unknown".into(),
        });
        assert!(!p.terminates());
    }
}
