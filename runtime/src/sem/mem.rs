//! RFC 9669 §5: the value rules of loads and stores. Addresses and bounds are
//! the memory model's business ([`crate::MemoryMap`]); these functions only
//! say which value moves.

use crate::isa::insn::Size;

/// The register value of an LDX/LDXS (§5.1, §5.2) from the `size`-byte value
/// `raw` read from memory (in its low bits, zero-extended).
///
/// LDX zero-extends; LDXS (`sx`, MEMSX mode: B, H, W) sign-extends to 64
/// bits. A DW load has nothing to extend.
pub fn ldx_value(size: Size, sx: bool, raw: u64) -> u64 {
    match (size, sx) {
        (Size::B, true) => raw as i8 as i64 as u64,
        (Size::H, true) => raw as i16 as i64 as u64,
        (Size::W, true) => raw as i32 as i64 as u64,
        (Size::B, false) => raw as u8 as u64,
        (Size::H, false) => raw as u16 as u64,
        (Size::W, false) => raw as u32 as u64,
        (Size::DW, _) => raw,
    }
}

/// The value an ST (store immediate, §5.1) writes: `imm` sign-extended to 64
/// bits, of which the low `size` bytes are stored. So `stdw [r1], -1` writes
/// eight `0xff` bytes.
pub fn st_imm_value(imm: i32) -> u64 {
    imm as i64 as u64
}

/// **The frame rule** (not in RFC 9669; the kernel's, enforced at run
/// time): an access through r10 plus a constant, `[r10 + off, r10 + off +
/// size)`, must lie in the current frame, `[r10 - 512, r10)`. So a callee
/// cannot reach its caller's frame through `r10 + 8`, and no function reads
/// below its own frame (`[r10 - 520]`, a returned callee's dead locals).
/// r10 is never written (the validator refuses it), so the rule depends
/// only on the instruction: an access it refuses faults out of bounds at
/// `r10 + off` in every engine, whatever the memory around it. Pointers
/// into other frames that a function was given (in a register or memory)
/// are not r10 plus a constant and keep the ordinary bounds rule.
/// Computed in `i128`: no overflow for any `off` and `size`.
/// `size` is the access width in bytes (1, 2, 4 or 8).
pub fn frame_access_ok(off: i16, size: u64) -> bool {
    let start = i128::from(off);
    start >= -i128::from(crate::STACK_FRAME_SIZE) && start + i128::from(size) <= 0
}

/// The address of a legacy packet load (§5.5): `packet + imm` for LD_ABS and
/// `packet + src + imm` for LD_IND (`index` is `src`'s value, or 0 for
/// LD_ABS). The arithmetic wraps in 64 bits; the bounds check against the
/// packet region decides the rest.
pub fn packet_addr(packet_start: u64, index: u64, imm: i32) -> u64 {
    packet_start
        .wrapping_add(index)
        .wrapping_add(imm as i64 as u64)
}

/// The r0 value of a legacy packet load (§5.5): the `size` bytes at the
/// address are in network (big-endian) order. `le_raw` is the value
/// [`crate::MemoryMap::load`] returns for them, which reads memory as
/// little-endian; the bytes are reinterpreted as big-endian and
/// zero-extended. A packet `[0x12, 0x34]` loads as `0x1234` with `ldabsh`.
pub fn packet_value(size: Size, le_raw: u64) -> u64 {
    match size {
        Size::B => le_raw as u8 as u64,
        Size::H => u16::from_be_bytes((le_raw as u16).to_le_bytes()) as u64,
        Size::W => u32::from_be_bytes((le_raw as u32).to_le_bytes()) as u64,
        Size::DW => u64::from_be_bytes(le_raw.to_le_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldx_extension() {
        assert_eq!(ldx_value(Size::B, false, 0x80), 0x80);
        assert_eq!(ldx_value(Size::B, true, 0x80), 0xffff_ffff_ffff_ff80);
        assert_eq!(ldx_value(Size::H, true, 0x7fff), 0x7fff);
        assert_eq!(ldx_value(Size::H, true, 0x8001), 0xffff_ffff_ffff_8001);
        assert_eq!(ldx_value(Size::W, true, 0x8000_0000), 0xffff_ffff_8000_0000);
        assert_eq!(ldx_value(Size::W, false, 0x8000_0000), 0x8000_0000);
        assert_eq!(ldx_value(Size::DW, false, u64::MAX), u64::MAX);
    }

    #[test]
    fn frame_rule_edges() {
        assert!(frame_access_ok(-8, 8));
        assert!(frame_access_ok(-512, 8));
        assert!(frame_access_ok(-1, 1));
        assert!(!frame_access_ok(-513, 1), "one byte below the frame");
        assert!(!frame_access_ok(-520, 8));
        assert!(!frame_access_ok(-4, 8), "straddles r10");
        assert!(!frame_access_ok(0, 1), "r10 itself is the caller's");
        assert!(!frame_access_ok(8, 8), "the caller's frame");
        assert!(!frame_access_ok(i16::MIN, 1));
        assert!(!frame_access_ok(i16::MAX, 8));
    }

    #[test]
    fn st_dw_sign_extends() {
        assert_eq!(st_imm_value(-1), u64::MAX);
        assert_eq!(st_imm_value(i32::MIN), 0xffff_ffff_8000_0000);
        assert_eq!(st_imm_value(0x7fff_ffff), 0x7fff_ffff);
    }

    #[test]
    fn packet_loads_are_big_endian() {
        // Bytes 12 34 56 78 read as little-endian give 0x78563412.
        assert_eq!(packet_value(Size::W, 0x7856_3412), 0x1234_5678);
        assert_eq!(packet_value(Size::H, 0x3412), 0x1234);
        assert_eq!(packet_value(Size::B, 0x12), 0x12);
    }

    #[test]
    fn packet_addresses_wrap() {
        assert_eq!(packet_addr(100, 0, 4), 104);
        assert_eq!(packet_addr(100, 8, -4), 104);
        assert_eq!(packet_addr(0, u64::MAX, 1), 0);
    }
}
