//! RFC 9669 §5.3: atomic read-modify-write operations, in terms of the old
//! and new memory values.
//!
//! The engines perform the read-modify-write with real atomic instructions
//! (`fetch_add`, `swap`, `compare_exchange`, ...); these functions state what
//! those instructions must compute, so the engines and the tests agree. For
//! the W (32-bit) form only the low 32 bits of `src` and `r0` take part, and
//! memory holds 4 bytes.

use crate::isa::insn::{AtomicOp, Size};

/// The value an atomic writes to memory given the `old` memory value and the
/// operand `src` (truncated to the access size by the store):
/// ADD `old + src` (wrapping), OR, AND, XOR, XCHG `src`. For CMPXCHG it is
/// `src`, written only if [`cmpxchg_matches`] holds; otherwise memory keeps
/// `old`.
pub fn atomic_new_value(size: Size, op: AtomicOp, old: u64, src: u64) -> u64 {
    let v = match op {
        AtomicOp::Add => old.wrapping_add(src),
        AtomicOp::Or => old | src,
        AtomicOp::And => old & src,
        AtomicOp::Xor => old ^ src,
        AtomicOp::Xchg | AtomicOp::Cmpxchg => src,
    };
    truncate(size, v)
}

/// The register value a fetching atomic writes (into `src` for ADD/OR/AND/XOR
/// with FETCH and for XCHG, into `r0` for CMPXCHG): the old memory value,
/// zero-extended for the W form.
pub fn atomic_fetch_result(size: Size, old: u64) -> u64 {
    truncate(size, old)
}

/// Whether CMPXCHG stores: the old memory value equals `r0`, compared in the
/// access width (the W form compares only r0's low 32 bits). In every case
/// r0 then receives [`atomic_fetch_result`] of the old value.
pub fn cmpxchg_matches(size: Size, old: u64, r0: u64) -> bool {
    truncate(size, old) == truncate(size, r0)
}

/// The low `size` bytes of `v`.
fn truncate(size: Size, v: u64) -> u64 {
    match size {
        Size::B => v as u8 as u64,
        Size::H => v as u16 as u64,
        Size::W => v as u32 as u64,
        Size::DW => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn w_form_is_32_bit() {
        assert_eq!(atomic_new_value(Size::W, AtomicOp::Add, 0xffff_ffff, 1), 0);
        assert_eq!(
            atomic_new_value(Size::DW, AtomicOp::Add, 0xffff_ffff, 1),
            0x1_0000_0000
        );
        assert_eq!(
            atomic_new_value(Size::W, AtomicOp::Xchg, 0, 0xaaaa_bbbb_cccc_dddd),
            0xcccc_dddd
        );
        assert_eq!(atomic_fetch_result(Size::W, 0xffff_ffff), 0xffff_ffff);
    }

    #[test]
    fn bitwise_ops() {
        assert_eq!(
            atomic_new_value(Size::DW, AtomicOp::Or, 0b1100, 0b1010),
            0b1110
        );
        assert_eq!(
            atomic_new_value(Size::DW, AtomicOp::And, 0b1100, 0b1010),
            0b1000
        );
        assert_eq!(
            atomic_new_value(Size::DW, AtomicOp::Xor, 0b1100, 0b1010),
            0b0110
        );
    }

    #[test]
    fn cmpxchg_w_compares_low_half_of_r0() {
        assert!(cmpxchg_matches(Size::W, 0x1234, 0xffff_ffff_0000_1234));
        assert!(!cmpxchg_matches(Size::DW, 0x1234, 0xffff_ffff_0000_1234));
        assert!(cmpxchg_matches(Size::DW, 0x1234, 0x1234));
        assert!(!cmpxchg_matches(Size::W, 0x1234, 0x1235));
    }
}
