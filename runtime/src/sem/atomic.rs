//! RFC 9669 §5.3: atomic read-modify-write operations, in terms of the old
//! and new memory values.
//!
//! The engines perform the read-modify-write with real atomic instructions
//! (`fetch_add`, `swap`, `compare_exchange`, ...); these functions state what
//! those instructions must compute, so the engines and the tests agree. For
//! the W (32-bit) form only the low 32 bits of `src` and `r0` take part, and
//! memory holds 4 bytes.
//!
//! One atomic is three rules, applied in this order:
//! 1. whether it stores: always, except a CMPXCHG whose [`cmpxchg_matches`]
//!    fails;
//! 2. what it stores: [`atomic_new_value`];
//! 3. which register receives the old value ([`atomic_fetch_reg`]) and what
//!    it receives ([`atomic_fetch_result`]).

use crate::isa::insn::{AtomicOp, Reg, Size};

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

/// The register that receives the old memory value, if any (§5.3):
/// `r0` for CMPXCHG; `src` for XCHG, which always fetches (RFC 9669 defines
/// only `BPF_XCHG = 0xe0 | BPF_FETCH`), and for ADD/OR/AND/XOR with FETCH;
/// none for ADD/OR/AND/XOR without FETCH.
///
/// The FETCH flag is ignored for XCHG and CMPXCHG: the decoder only accepts
/// them with it set, and an `Insn` built without it behaves the same.
pub fn atomic_fetch_reg(op: AtomicOp, fetch: bool, src: Reg) -> Option<Reg> {
    match op {
        AtomicOp::Add | AtomicOp::Or | AtomicOp::And | AtomicOp::Xor => fetch.then_some(src),
        AtomicOp::Xchg => Some(src),
        AtomicOp::Cmpxchg => Some(Reg::R0),
    }
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
    fn add_wraps_in_the_access_width() {
        assert_eq!(atomic_new_value(Size::DW, AtomicOp::Add, u64::MAX, 2), 1);
        assert_eq!(
            atomic_new_value(Size::W, AtomicOp::Add, 0x8000_0000, 0x8000_0001),
            1
        );
        // The W form ignores the high half of src.
        assert_eq!(
            atomic_new_value(Size::W, AtomicOp::Add, 1, 0xffff_ffff_0000_0001),
            2
        );
    }

    #[test]
    fn xchg_and_cmpxchg_store_src() {
        assert_eq!(atomic_new_value(Size::DW, AtomicOp::Xchg, 7, 9), 9);
        assert_eq!(atomic_new_value(Size::DW, AtomicOp::Cmpxchg, 7, 9), 9);
        assert_eq!(
            atomic_new_value(Size::W, AtomicOp::Cmpxchg, 7, 0x1_0000_0009),
            9
        );
    }

    #[test]
    fn fetch_reg_names_the_register_that_receives_old() {
        let src = Reg::R3;
        for op in [AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor] {
            assert_eq!(atomic_fetch_reg(op, false, src), None, "{op:?}");
            assert_eq!(atomic_fetch_reg(op, true, src), Some(src), "{op:?} | FETCH");
        }
        // XCHG always fetches (0xe1 is the only XCHG encoding).
        assert_eq!(atomic_fetch_reg(AtomicOp::Xchg, true, src), Some(src));
        assert_eq!(atomic_fetch_reg(AtomicOp::Xchg, false, src), Some(src));
        // CMPXCHG writes r0, never src.
        assert_eq!(
            atomic_fetch_reg(AtomicOp::Cmpxchg, true, src),
            Some(Reg::R0)
        );
        assert_eq!(
            atomic_fetch_reg(AtomicOp::Cmpxchg, false, src),
            Some(Reg::R0)
        );
    }

    #[test]
    fn fetch_result_zero_extends_w() {
        assert_eq!(atomic_fetch_result(Size::W, 0xdead_beef_0000_0001), 1);
        assert_eq!(
            atomic_fetch_result(Size::DW, 0xdead_beef_0000_0001),
            0xdead_beef_0000_0001
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
