//! RFC 9669 §4.3: jump conditions and targets.

use crate::isa::insn::{JmpCond, Width};

/// Whether a conditional jump `if dst COND src goto ...` is taken.
///
/// `src` is the operand value (a register's value, or
/// [`super::imm_operand`] of the immediate, which JMP sign-extends to 64
/// bits: `jeq r1, 0x80000000` compares with `0xffff_ffff_8000_0000`).
/// JMP32 ([`Width::W32`]) compares only the low 32 bits, viewed as `i32` by
/// the signed conditions; JMP compares all 64 bits. `jset` tests
/// `dst & src != 0`.
pub fn jmp_taken(w: Width, cond: JmpCond, dst: u64, src: u64) -> bool {
    match w {
        Width::W32 => compare(cond, dst as u32, src as u32, dst as i32, src as i32),
        Width::W64 => compare(cond, dst, src, dst as i64, src as i64),
    }
}

/// One comparison on unsigned (`a`, `b`) and signed (`sa`, `sb`) views of the
/// same operands.
#[inline]
fn compare<U, S>(cond: JmpCond, a: U, b: U, sa: S, sb: S) -> bool
where
    U: Ord + Copy + std::ops::BitAnd<Output = U> + Default,
    S: Ord,
{
    match cond {
        JmpCond::Eq => a == b,
        JmpCond::Ne => a != b,
        JmpCond::Gt => a > b,
        JmpCond::Ge => a >= b,
        JmpCond::Lt => a < b,
        JmpCond::Le => a <= b,
        JmpCond::Set => (a & b) != U::default(),
        JmpCond::Sgt => sa > sb,
        JmpCond::Sge => sa >= sb,
        JmpCond::Slt => sa < sb,
        JmpCond::Sle => sa <= sb,
    }
}

/// The slot a jump or call at `pc` with relative offset `off` goes to:
/// `pc + 1 + off` (§4.3: offsets count slots from the next slot). Returns
/// `None` if that is negative or overflows; whether it names an instruction
/// is the validator's question.
pub fn jump_target(pc: usize, off: i64) -> Option<usize> {
    let t = (pc as i64).checked_add(1)?.checked_add(off)?;
    usize::try_from(t).ok()
}

/// [`jump_target`] as a signed number, for reporting targets outside the
/// program (possibly negative; wraps instead of overflowing).
pub fn jump_target_signed(pc: usize, off: i64) -> i64 {
    (pc as i64).wrapping_add(1).wrapping_add(off)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sem::imm_operand;
    use JmpCond::*;
    use Width::{W32, W64};

    #[test]
    fn jmp_compares_all_64_bits() {
        assert!(!jmp_taken(W64, Eq, 0x1_0000_0000, 0));
        assert!(jmp_taken(W64, Gt, 0x1_0000_0000, 0xffff_ffff));
        // The immediate is sign-extended: 0x80000000 means 0xffff_ffff_8000_0000.
        let imm = imm_operand(W64, i32::MIN);
        assert!(jmp_taken(W64, Eq, 0xffff_ffff_8000_0000, imm));
        assert!(!jmp_taken(W64, Eq, 0x8000_0000, imm));
    }

    #[test]
    fn jmp32_compares_the_low_half() {
        assert!(jmp_taken(W32, Eq, 0x1_0000_0000, 0));
        assert!(jmp_taken(W32, Eq, 0x8000_0000, imm_operand(W32, i32::MIN)));
        assert!(!jmp_taken(W32, Gt, 0x1_0000_0000, 0xffff_ffff));
    }

    #[test]
    fn jmp32_signed_compares_view_the_low_half_as_i32() {
        // 0xffff_ffff is -1 as an i32: less than 0 signed, greater unsigned.
        assert!(jmp_taken(W32, Slt, 0xffff_ffff, 0));
        assert!(!jmp_taken(W32, Lt, 0xffff_ffff, 0));
        // Upper half is ignored: 0x7fff_ffff_ffff_ffff is -1 in 32 bits.
        assert!(jmp_taken(W32, Sle, 0x7fff_ffff_ffff_ffff, 0));
        // In 64 bits the same value is a large positive number.
        assert!(!jmp_taken(W64, Sle, 0x7fff_ffff_ffff_ffff, 0));
        assert!(jmp_taken(W32, Sgt, 1, 0x8000_0000));
        assert!(jmp_taken(W32, Sge, 0x8000_0000, 0x8000_0000));
    }

    #[test]
    fn jmp_signed_and_unsigned_64() {
        let m1 = u64::MAX;
        assert!(jmp_taken(W64, Slt, m1, 0));
        assert!(jmp_taken(W64, Gt, m1, 0));
        assert!(jmp_taken(W64, Sge, 0, m1));
        assert!(jmp_taken(W64, Le, 3, 3));
        assert!(!jmp_taken(W64, Ne, 3, 3));
    }

    #[test]
    fn jset_tests_common_bits() {
        assert!(jmp_taken(W64, Set, 0b1010, 0b0010));
        assert!(!jmp_taken(W64, Set, 0b1010, 0b0101));
        assert!(jmp_taken(W64, Set, 0x1_0000_0000, 0x1_0000_0000));
        // JMP32 jset ignores the upper halves.
        assert!(!jmp_taken(W32, Set, 0x1_0000_0000, 0x1_0000_0000));
    }

    #[test]
    fn targets() {
        assert_eq!(jump_target(3, -2), Some(2));
        assert_eq!(jump_target(0, -1), Some(0));
        assert_eq!(jump_target(0, -2), None);
        assert_eq!(jump_target(5, 0), Some(6));
    }
}
