//! RFC 9669 §4.2: byte-order instructions (`le`, `be`, `bswap`).

use crate::isa::insn::Endian;

/// The byte-order rule: convert the low `bits` (16, 32 or 64) of `dst` and
/// zero-extend the result to 64 bits.
///
/// - [`Endian::Le`] (0xd4): host order to little-endian. On a little-endian
///   host this is a pure truncation (`le16` of `0x1234_5678` is `0x5678`) and
///   `le64` is the identity.
/// - [`Endian::Be`] (0xdc): host order to big-endian. On a little-endian host
///   it swaps the low `bits`: `be16` of `0xaabb_1234` is `0x3412`. Although
///   the opcode is in the 32-bit ALU class, `be64` swaps all 64 bits.
/// - [`Endian::Swap`] (0xd7, ALU64, v4): swap unconditionally, whatever the
///   host order.
///
/// `to_le`/`to_be` make `Le`/`Be` correct on either host order. The decoder
/// admits only 16, 32 and 64; any other `bits` is treated as 64 so the
/// function stays total.
pub fn byteorder(kind: Endian, bits: u8, dst: u64) -> u64 {
    match (kind, bits) {
        (Endian::Le, 16) => (dst as u16).to_le() as u64,
        (Endian::Le, 32) => (dst as u32).to_le() as u64,
        (Endian::Le, _) => dst.to_le(),
        (Endian::Be, 16) => (dst as u16).to_be() as u64,
        (Endian::Be, 32) => (dst as u32).to_be() as u64,
        (Endian::Be, _) => dst.to_be(),
        (Endian::Swap, 16) => (dst as u16).swap_bytes() as u64,
        (Endian::Swap, 32) => (dst as u32).swap_bytes() as u64,
        (Endian::Swap, _) => dst.swap_bytes(),
    }
}

#[cfg(all(test, target_endian = "little"))]
mod tests {
    use super::*;

    #[test]
    fn le_truncates_on_little_endian_hosts() {
        assert_eq!(byteorder(Endian::Le, 16, 0x1122_3344_5566_7788), 0x7788);
        assert_eq!(
            byteorder(Endian::Le, 32, 0x1122_3344_5566_7788),
            0x5566_7788
        );
        assert_eq!(
            byteorder(Endian::Le, 64, 0x1122_3344_5566_7788),
            0x1122_3344_5566_7788
        );
    }

    #[test]
    fn be_swaps_the_low_bits() {
        assert_eq!(byteorder(Endian::Be, 16, 0xaabb_1234), 0x3412);
        assert_eq!(
            byteorder(Endian::Be, 32, 0x1122_3344_5566_7788),
            0x8877_6655
        );
        assert_eq!(
            byteorder(Endian::Be, 64, 0x1122_3344_5566_7788),
            0x8877_6655_4433_2211
        );
    }

    #[test]
    fn bswap_swaps_unconditionally() {
        assert_eq!(byteorder(Endian::Swap, 16, 0xaabb_1234), 0x3412);
        assert_eq!(
            byteorder(Endian::Swap, 32, 0xffff_ffff_0102_0304),
            0x0403_0201
        );
        assert_eq!(
            byteorder(Endian::Swap, 64, 0x0102_0304_0506_0708),
            0x0807_0605_0403_0201
        );
    }
}
