//! Internet checksum arithmetic as the kernel's checksum helpers use it
//! (RFC 1071 ones' complement sums, RFC 1624 incremental updates).
//!
//! Values are the bytes of the packet read as little-endian integers, as
//! the kernel does on a little-endian host: ones' complement sums do not
//! depend on the byte order as long as every operand uses the same one, so
//! a checksum field updated here holds the same bytes as the kernel's.

/// 32-bit ones' complement addition (end-around carry).
pub fn add32(a: u32, b: u32) -> u32 {
    let (s, carry) = a.overflowing_add(b);
    s.wrapping_add(u32::from(carry))
}

/// 32-bit ones' complement subtraction.
pub fn sub32(a: u32, b: u32) -> u32 {
    add32(a, !b)
}

/// Folds a 32-bit sum to 16 bits and complements it (`csum_fold`).
pub fn fold(sum: u32) -> u16 {
    let s = (sum & 0xffff) + (sum >> 16);
    let s = (s & 0xffff) + (s >> 16);
    !(s as u16)
}

/// Folds a 32-bit sum to 16 bits without complementing (`csum_from32to16`).
pub fn from32to16(sum: u32) -> u16 {
    let s = sum.wrapping_add(sum.rotate_left(16));
    (s >> 16) as u16
}

/// 16-bit ones' complement addition.
fn add16(a: u16, b: u16) -> u16 {
    let (s, carry) = a.overflowing_add(b);
    s.wrapping_add(u16::from(carry))
}

/// The ones' complement sum of `bytes` (read as little-endian u32 words, a
/// short tail padded with zeros) plus `seed` (`csum_partial`; the same sum
/// modulo 0xffff as the kernel's 16-bit word sum).
pub fn partial(bytes: &[u8], seed: u32) -> u32 {
    bytes
        .chunks(4)
        .map(|w| {
            let mut b = [0u8; 4];
            b[..w.len()].copy_from_slice(w);
            u32::from_le_bytes(b)
        })
        .fold(seed, add32)
}

/// `csum_replace4`: the checksum `sum` after a 4-byte field changed from
/// `from` to `to` (RFC 1624 eqn. 3).
pub fn replace4(sum: u16, from: u32, to: u32) -> u16 {
    fold(add32(sub32(u32::from(!sum), from), to))
}

/// `csum_replace2`: as [`replace4`] for a 2-byte field.
pub fn replace2(sum: u16, from: u16, to: u16) -> u16 {
    !add16(add16(!sum, !from), to)
}

/// `csum_replace_by_diff`: the checksum `sum` after adding the 32-bit
/// difference `diff` (as [`diff`] computes it).
pub fn replace_by_diff(sum: u16, diff: u32) -> u16 {
    fold(add32(diff, u32::from(!sum)))
}

/// `bpf_csum_diff`: the checksum difference between `from` and `to`,
/// added to `seed`, folded to 16 bits (as the kernel since 6.13; with both
/// empty, the folded seed).
pub fn diff(from: &[u8], to: &[u8], seed: u32) -> u32 {
    let f = u32::from;
    match (from.is_empty(), to.is_empty()) {
        (false, false) => f(from32to16(sub32(partial(to, seed), partial(from, 0)))),
        (true, false) => f(from32to16(partial(to, seed))),
        (false, true) => f(from32to16(!partial(from, !seed))),
        (true, true) => f(from32to16(seed)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RFC 1071 checksum of an IPv4 header (checksum field zero).
    fn ip_checksum(h: &[u8]) -> u16 {
        fold(partial(h, 0))
    }

    // The IPv4 header of RFC 1071's worked example style: 45 00 00 73 00 00
    // 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7: checksum 0xb861.
    const HDR: [u8; 20] = [
        0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7,
    ];

    #[test]
    fn fold_of_the_header_sum_is_its_checksum() {
        let c = ip_checksum(&HDR);
        assert_eq!(c.to_le_bytes(), [0xb8, 0x61]);
    }

    #[test]
    fn incremental_updates_match_recomputation() {
        let sum = ip_checksum(&HDR);
        // Change the TTL/protocol word 0x40 0x11 -> 0x3f 0x11.
        let mut h = HDR;
        h[8] = 0x3f;
        let from = u16::from_le_bytes([0x40, 0x11]);
        let to = u16::from_le_bytes([0x3f, 0x11]);
        assert_eq!(replace2(sum, from, to), ip_checksum(&h));
        // Change the destination address.
        let mut h2 = HDR;
        h2[16..20].copy_from_slice(&[10, 0, 0, 1]);
        let from = u32::from_le_bytes([0xc0, 0xa8, 0, 0xc7]);
        let to = u32::from_le_bytes([10, 0, 0, 1]);
        assert_eq!(replace4(sum, from, to), ip_checksum(&h2));
        // The same through a diff.
        let d = diff(&HDR[16..20], &h2[16..20], 0);
        assert_eq!(replace_by_diff(sum, d), ip_checksum(&h2));
    }
}
