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

#[cfg(test)]
mod tests {
    use super::*;

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
