//! What an instruction writes, from the semantic rules in [`crate::sem`].
//!
//! This lives apart from `insn.rs` because it reads `sem`, and `sem` reads
//! `insn.rs`'s types: keeping it here means no two files import each other.

use crate::isa::insn::{Insn, Reg};
use crate::sem;

impl Insn {
    /// The register this instruction writes, if any (r10 must never be one).
    ///
    /// Calls write r0 (and clobber r1-r5); they report `Some(r0)`. Atomics
    /// report [`sem::atomic_fetch_reg`], the register both engines write.
    pub fn written_reg(&self) -> Option<Reg> {
        match *self {
            Insn::Alu { dst, .. }
            | Insn::Neg { dst, .. }
            | Insn::MovSx { dst, .. }
            | Insn::End { dst, .. }
            | Insn::Lddw { dst, .. }
            | Insn::Ldx { dst, .. } => Some(dst),
            Insn::LdAbs { .. } | Insn::LdInd { .. } | Insn::Call { .. } | Insn::Callx { .. } => {
                Some(Reg::R0)
            }
            Insn::Atomic { op, fetch, src, .. } => sem::atomic_fetch_reg(op, fetch, src),
            Insn::St { .. }
            | Insn::Stx { .. }
            | Insn::Ja { .. }
            | Insn::Jmp { .. }
            | Insn::Exit => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::isa::insn::{AtomicOp, Insn, Reg, Size};

    fn atomic(op: AtomicOp, fetch: bool) -> Insn {
        Insn::Atomic {
            size: Size::DW,
            op,
            fetch,
            dst: Reg::R10,
            src: Reg::R1,
            off: -8,
        }
    }

    /// Regression: `written_reg` said `None` for an XCHG built without the
    /// FETCH flag, while both engines write `src` (XCHG always fetches).
    #[test]
    fn xchg_without_fetch_flag_writes_src() {
        assert_eq!(atomic(AtomicOp::Xchg, false).written_reg(), Some(Reg::R1));
        assert_eq!(atomic(AtomicOp::Xchg, true).written_reg(), Some(Reg::R1));
    }

    #[test]
    fn atomics_write_what_the_engines_write() {
        assert_eq!(atomic(AtomicOp::Add, false).written_reg(), None);
        assert_eq!(atomic(AtomicOp::Add, true).written_reg(), Some(Reg::R1));
        assert_eq!(atomic(AtomicOp::Cmpxchg, true).written_reg(), Some(Reg::R0));
        assert_eq!(
            atomic(AtomicOp::Cmpxchg, false).written_reg(),
            Some(Reg::R0)
        );
    }
}
