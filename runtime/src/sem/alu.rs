//! RFC 9669 §4.1: arithmetic and logic (ALU and ALU64 classes).
//!
//! Every binary operation takes the width, `dst`'s value and the operand
//! value. For [`Width::W32`] it uses only the low 32 bits of both and returns
//! the 32-bit result zero-extended to 64 bits. For [`Width::W64`] it uses all
//! 64 bits. Nothing here traps: division and modulo by zero have defined
//! results and signed overflow wraps.

use crate::isa::insn::{AluOp, Width};

/// The operand value of an immediate (§3, §4.1): `imm` sign-extended to 64
/// bits.
///
/// ALU64 and JMP sign-extend the immediate *even for unsigned operations*:
/// `div r0, -1` divides by `0xffff_ffff_ffff_ffff`, and `jeq r1, 0x80000000`
/// compares against `0xffff_ffff_8000_0000`. For the 32-bit classes only the
/// low 32 bits matter, which are `imm`'s own bits either way, so one
/// function serves both widths.
pub fn imm_operand(_w: Width, imm: i32) -> u64 {
    imm as i64 as u64
}

/// Applies the 32-bit rule: compute on the low halves, zero-extend the result.
#[inline]
fn w32(a: u64, b: u64, f: impl FnOnce(u32, u32) -> u32) -> u64 {
    f(a as u32, b as u32) as u64
}

/// `dst + src`, wrapping.
pub fn add(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, u32::wrapping_add),
        Width::W64 => dst.wrapping_add(src),
    }
}

/// `dst - src`, wrapping.
pub fn sub(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, u32::wrapping_sub),
        Width::W64 => dst.wrapping_sub(src),
    }
}

/// `dst * src`, keeping the low 32 or 64 bits (signed and unsigned agree).
pub fn mul(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, u32::wrapping_mul),
        Width::W64 => dst.wrapping_mul(src),
    }
}

/// Unsigned `dst / src`; **division by zero gives 0** (§4.1).
///
/// For W32 the divisor is `src`'s low 32 bits, so `0x1_0000_0000` divides
/// by zero and `0x1_0000_0004` by 4.
pub fn div(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a.checked_div(b).unwrap_or(0)),
        Width::W64 => dst.checked_div(src).unwrap_or(0),
    }
}

/// Signed, truncating `dst / src` (SDIV, offset 1); division by zero gives 0
/// and `INT_MIN / -1` wraps to `INT_MIN` (§4.1).
pub fn sdiv(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| {
            if b == 0 {
                0
            } else {
                (a as i32).wrapping_div(b as i32) as u32
            }
        }),
        Width::W64 => {
            if src == 0 {
                0
            } else {
                (dst as i64).wrapping_div(src as i64) as u64
            }
        }
    }
}

/// Unsigned `dst % src`; **modulo by zero leaves dst** (§4.1).
///
/// For W32 "leaves dst" means the low 32 bits are kept and the upper 32 are
/// zeroed, like every 32-bit result.
pub fn umod(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a.checked_rem(b).unwrap_or(a)),
        Width::W64 => dst.checked_rem(src).unwrap_or(dst),
    }
}

/// Signed, truncating `dst % src` (SMOD, offset 1): the result has the sign
/// of the dividend (`-13 smod 4 = -1`, `13 smod -4 = 1`); modulo by zero
/// leaves dst (low half, zero-extended, for W32); `INT_MIN % -1 = 0` (§4.1).
pub fn smod(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| {
            if b == 0 {
                a
            } else {
                (a as i32).wrapping_rem(b as i32) as u32
            }
        }),
        Width::W64 => {
            if src == 0 {
                dst
            } else {
                (dst as i64).wrapping_rem(src as i64) as u64
            }
        }
    }
}

/// `dst | src`.
pub fn or(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a | b),
        Width::W64 => dst | src,
    }
}

/// `dst & src`.
pub fn and(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a & b),
        Width::W64 => dst & src,
    }
}

/// `dst ^ src`.
pub fn xor(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a ^ b),
        Width::W64 => dst ^ src,
    }
}

/// `src` itself (for W32, its low half zero-extended: `mov32 r0, -1` gives
/// `0x0000_0000_ffff_ffff`; for W64 an immediate was already sign-extended by
/// [`imm_operand`]: `mov r0, -1` gives all ones).
pub fn mov(w: Width, _dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => src as u32 as u64,
        Width::W64 => src,
    }
}

/// `dst << (src & (bits - 1))`: the count is masked to 5 or 6 bits, so
/// `lsh r0, 68` shifts by 4 and a negative count such as -60 shifts by 4.
pub fn lsh(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a.wrapping_shl(b & 31)),
        Width::W64 => dst.wrapping_shl((src & 63) as u32),
    }
}

/// Logical `dst >> (src & (bits - 1))`; the count is masked as for [`lsh`].
pub fn rsh(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| a.wrapping_shr(b & 31)),
        Width::W64 => dst.wrapping_shr((src & 63) as u32),
    }
}

/// Arithmetic `dst >> (src & (bits - 1))`. ARSH32 treats the low 32 bits as
/// signed and zero-extends the result (`arsh32` of `0x8000_0000` by 48
/// shifts by 16 and gives `0x0000_0000_ffff_8000`).
pub fn arsh(w: Width, dst: u64, src: u64) -> u64 {
    match w {
        Width::W32 => w32(dst, src, |a, b| (a as i32).wrapping_shr(b & 31) as u32),
        Width::W64 => (dst as i64).wrapping_shr((src & 63) as u32) as u64,
    }
}

/// The binary ALU rule `dst = dst OP src` for every [`AluOp`] (§4.1).
///
/// `src` is the operand value: a register's value, or [`imm_operand`] of the
/// immediate. The result is what the instruction writes to `dst`.
pub fn alu(w: Width, op: AluOp, dst: u64, src: u64) -> u64 {
    let f = match op {
        AluOp::Add => add,
        AluOp::Sub => sub,
        AluOp::Mul => mul,
        AluOp::Div => div,
        AluOp::Sdiv => sdiv,
        AluOp::Or => or,
        AluOp::And => and,
        AluOp::Lsh => lsh,
        AluOp::Rsh => rsh,
        AluOp::Mod => umod,
        AluOp::Smod => smod,
        AluOp::Xor => xor,
        AluOp::Mov => mov,
        AluOp::Arsh => arsh,
    };
    f(w, dst, src)
}

/// NEG: `dst = -dst`, wrapping, so `-INT_MIN = INT_MIN` (for W32 of the low
/// half, zero-extended) (§4.1).
pub fn neg(w: Width, dst: u64) -> u64 {
    match w {
        Width::W32 => (dst as u32).wrapping_neg() as u64,
        Width::W64 => dst.wrapping_neg(),
    }
}

/// MOVSX: sign-extend the low `bits` of `src` (§4.1, offset field).
///
/// W64 (`movsx{8,16,32}64`) extends to 64 bits. W32 (`movsx{8,16}32`)
/// extends to 32 bits and zero-extends that, so `movsx832` of `0x80` is
/// `0x0000_0000_ffff_ff80`. The decoder admits only 8/16 (W32) and 8/16/32
/// (W64); any other `bits` is a plain move, so the function stays total.
pub fn movsx(w: Width, src: u64, bits: u8) -> u64 {
    let extended = match bits {
        8 => src as i8 as i64 as u64,
        16 => src as i16 as i64 as u64,
        32 => src as i32 as i64 as u64,
        _ => src,
    };
    match w {
        Width::W32 => extended as u32 as u64,
        Width::W64 => extended,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Width::{W32, W64};

    const INT64_MIN: u64 = 0x8000_0000_0000_0000;
    const INT32_MIN: u64 = 0x8000_0000;
    const M1: u64 = u64::MAX; // -1 as a 64-bit value

    #[test]
    fn mov32_minus_one_zero_extends() {
        assert_eq!(
            alu(W32, AluOp::Mov, 0x1234, imm_operand(W32, -1)),
            0xffff_ffff
        );
        assert_eq!(alu(W64, AluOp::Mov, 0x1234, imm_operand(W64, -1)), M1);
        // mov r0, 0x80000000 (imm is i32::MIN) sign-extends.
        assert_eq!(
            alu(W64, AluOp::Mov, 0, imm_operand(W64, i32::MIN)),
            0xffff_ffff_8000_0000
        );
        // A 32-bit register move drops the upper half of src.
        assert_eq!(alu(W32, AluOp::Mov, 0, 0xaaaa_bbbb_cccc_dddd), 0xcccc_dddd);
    }

    #[test]
    fn alu32_results_zero_extend() {
        // add32: 0xffffffff + 1 wraps to 0, upper half of dst cleared.
        assert_eq!(alu(W32, AluOp::Add, 0xdead_beef_ffff_ffff, 1), 0);
        assert_eq!(alu(W32, AluOp::Sub, 0x1_0000_0000, 1), 0xffff_ffff);
        assert_eq!(alu(W32, AluOp::Or, 0xffff_0000_0000_0000, 1), 1);
        assert_eq!(alu(W32, AluOp::Xor, 0xffff_ffff_0000_0001, 3), 2);
        assert_eq!(alu(W32, AluOp::And, 0xffff_ffff_ffff_ffff, M1), 0xffff_ffff);
    }

    #[test]
    fn mul_keeps_low_bits() {
        // 0x8000_0000 * 2 overflows 32 bits to 0.
        assert_eq!(mul(W32, INT32_MIN, 2), 0);
        // INT64_MIN * -1 = INT64_MIN (wraps).
        assert_eq!(mul(W64, INT64_MIN, M1), INT64_MIN);
        // 32-bit: 0x10000 * 0x10000 = 2^32 -> 0; 0xffff * 0x10001 = 0xffffffff.
        assert_eq!(mul(W32, 0x10000, 0x10000), 0);
        assert_eq!(mul(W32, 0xffff, 0x10001), 0xffff_ffff);
    }

    #[test]
    fn div_and_mod_by_zero_both_widths() {
        assert_eq!(div(W64, 7, 0), 0);
        assert_eq!(div(W32, 0xffff_ffff_0000_0007, 0), 0);
        assert_eq!(sdiv(W64, 7, 0), 0);
        assert_eq!(sdiv(W32, 7, 0), 0);
        // mod64 by zero leaves dst entirely.
        assert_eq!(umod(W64, 0xdead_beef_0000_0007, 0), 0xdead_beef_0000_0007);
        assert_eq!(smod(W64, M1, 0), M1);
        // mod32 by zero keeps the low half and zeroes the upper half.
        assert_eq!(umod(W32, 0xdead_beef_0000_0007, 0), 7);
        assert_eq!(smod(W32, 0xdead_beef_ffff_fff3, 0), 0xffff_fff3);
    }

    #[test]
    fn div32_uses_low_half_of_divisor() {
        // 0x1_0000_0000 acts as 0: division by zero.
        assert_eq!(div(W32, 12, 0x1_0000_0000), 0);
        assert_eq!(umod(W32, 12, 0x1_0000_0000), 12);
        // 0x1_0000_0004 acts as 4.
        assert_eq!(div(W32, 12, 0x1_0000_0004), 3);
        assert_eq!(umod(W32, 13, 0x1_0000_0004), 1);
        // The dividend's upper half is ignored too.
        assert_eq!(div(W32, 0x5_0000_000c, 4), 3);
    }

    #[test]
    fn signed_division_overflow_wraps() {
        assert_eq!(sdiv(W64, INT64_MIN, M1), INT64_MIN);
        assert_eq!(smod(W64, INT64_MIN, M1), 0);
        assert_eq!(sdiv(W32, INT32_MIN, 0xffff_ffff), INT32_MIN);
        assert_eq!(smod(W32, INT32_MIN, 0xffff_ffff), 0);
    }

    #[test]
    fn sdiv_truncates_toward_zero() {
        // -7 / 2 = -3 (not -4).
        assert_eq!(sdiv(W64, (-7i64) as u64, 2), (-3i64) as u64);
        assert_eq!(sdiv(W32, (-7i32) as u32 as u64, 2), (-3i32) as u32 as u64);
        assert_eq!(sdiv(W64, 7, (-2i64) as u64), (-3i64) as u64);
    }

    #[test]
    fn smod_takes_sign_of_dividend() {
        let m = |v: i64| v as u64;
        assert_eq!(smod(W64, m(-13), 4), m(-1));
        assert_eq!(smod(W64, 13, m(-4)), 1);
        assert_eq!(smod(W64, m(-13), m(-4)), m(-1));
        let m32 = |v: i32| v as u32 as u64;
        assert_eq!(smod(W32, m32(-13), 4), m32(-1));
        assert_eq!(smod(W32, 13, m32(-4)), 1);
    }

    #[test]
    fn unsigned_div64_by_imm_minus_one() {
        // div r0, -1: the divisor is 2^64 - 1, so only u64::MAX gives 1.
        let d = imm_operand(W64, -1);
        assert_eq!(d, u64::MAX);
        assert_eq!(div(W64, 0xffff_ffff_ffff_fffe, d), 0);
        assert_eq!(div(W64, u64::MAX, d), 1);
        assert_eq!(umod(W64, 5, d), 5);
        // div32 r0, -1 divides by 0xffff_ffff.
        assert_eq!(div(W32, 0xffff_ffff, imm_operand(W32, -1)), 1);
    }

    #[test]
    fn shifts_mask_the_count() {
        assert_eq!(lsh(W64, 1, 68), 16);
        assert_eq!(lsh(W64, 1, imm_operand(W64, -60)), 16); // -60 & 63 = 4
        assert_eq!(rsh(W64, 0x100, imm_operand(W64, -60)), 0x10);
        assert_eq!(lsh(W32, 1, 36), 16); // 36 & 31 = 4
        assert_eq!(lsh(W32, 0x8000_0001, 1), 2); // bit 31 shifted out, not to bit 32
        assert_eq!(rsh(W32, 0xffff_ffff_0000_0100, 4), 0x10); // upper half ignored
        assert_eq!(arsh(W64, INT64_MIN, 63), M1);
        assert_eq!(arsh(W64, INT64_MIN, 64), INT64_MIN); // 64 & 63 = 0
    }

    #[test]
    fn arsh32_is_signed_on_the_low_half() {
        // arsh32 0x8000_0000 by 48: count 16, sign bit 31 replicates, zero-extended.
        assert_eq!(arsh(W32, INT32_MIN, 48), 0xffff_8000);
        // The upper half of dst does not provide the sign.
        assert_eq!(arsh(W32, 0x8000_0000_7000_0000, 4), 0x0700_0000);
        assert_eq!(arsh(W32, 0xffff_fff0, 2), 0xffff_fffc);
    }

    #[test]
    fn neg_wraps_and_zero_extends() {
        assert_eq!(neg(W64, INT64_MIN), INT64_MIN);
        assert_eq!(neg(W32, INT32_MIN), INT32_MIN);
        assert_eq!(neg(W64, 1), M1);
        assert_eq!(neg(W32, 1), 0xffff_ffff);
        assert_eq!(neg(W32, 0xffff_ffff_0000_0000), 0);
    }

    #[test]
    fn movsx_widths() {
        assert_eq!(movsx(W32, 0x80, 8), 0xffff_ff80);
        assert_eq!(movsx(W32, 0x7f, 8), 0x7f);
        assert_eq!(movsx(W32, 0xffff_ffff_0000_8000, 16), 0xffff_8000);
        assert_eq!(movsx(W64, 0x80, 8), 0xffff_ffff_ffff_ff80);
        assert_eq!(movsx(W64, 0x1234_8000, 16), 0xffff_ffff_ffff_8000);
        assert_eq!(movsx(W64, 0x1_8000_0000, 32), 0xffff_ffff_8000_0000);
        assert_eq!(movsx(W64, 0x1_7fff_ffff, 32), 0x7fff_ffff);
    }

    #[test]
    fn imm_operand_sign_extends() {
        assert_eq!(imm_operand(W64, -1), u64::MAX);
        assert_eq!(imm_operand(W64, i32::MIN), 0xffff_ffff_8000_0000);
        assert_eq!(imm_operand(W32, -1) as u32, 0xffff_ffff);
        assert_eq!(imm_operand(W64, 5), 5);
    }
}
