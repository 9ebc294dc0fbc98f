//! [`PacketMeta`]: what a translated packet filter may know about a packet
//! besides its bytes. The kernel reads these from the socket buffer; here
//! the embedder fills them in and passes them as a read-only region.

/// The packet's metadata, read by `ld #pktlen`, `ldx #pktlen` and the
/// supported ancillary loads (`ld [SKF_AD_OFF + n]`). The translated
/// program reads each field as a native-endian `u32` at its offset
/// ([`PacketMeta::offset_of_ancillary`]); [`PacketMeta::to_bytes`] is the
/// region to lend it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PacketMeta {
    /// Offset 0: the length on the wire (libpcap's `len`, the kernel's
    /// `skb->len`), which may exceed the captured bytes.
    pub len: u32,
    /// Offset 4: `SKF_AD_PROTOCOL`, the EtherType in host order.
    pub protocol: u32,
    /// Offset 8: `SKF_AD_PKTTYPE` (`PACKET_HOST` = 0, `PACKET_OUTGOING` = 4, ...).
    pub pkttype: u32,
    /// Offset 12: `SKF_AD_IFINDEX`.
    pub ifindex: u32,
    /// Offset 16: `SKF_AD_MARK`.
    pub mark: u32,
    /// Offset 20: `SKF_AD_QUEUE`.
    pub queue: u32,
    /// Offset 24: `SKF_AD_HATYPE` (`ARPHRD_ETHER` = 1, ...).
    pub hatype: u32,
    /// Offset 28: `SKF_AD_RXHASH`.
    pub rxhash: u32,
    /// Offset 32: `SKF_AD_CPU`.
    pub cpu: u32,
    /// Offset 36: `SKF_AD_VLAN_TAG`, the VLAN TCI of an offloaded tag.
    pub vlan_tag: u32,
    /// Offset 40: `SKF_AD_VLAN_TAG_PRESENT`, 1 if there is one.
    pub vlan_tag_present: u32,
    /// Offset 44: `SKF_AD_VLAN_TPID`, the tag's protocol (0x8100, 0x88a8).
    pub vlan_tpid: u32,
}

/// Bytes of [`PacketMeta::to_bytes`].
pub const PACKET_META_LEN: usize = 48;

impl PacketMeta {
    /// Metadata with only the wire length set (a packet from a capture file).
    pub fn with_len(len: u32) -> PacketMeta {
        PacketMeta {
            len,
            ..PacketMeta::default()
        }
    }

    /// The fields in offset order, each a native-endian `u32`.
    pub fn to_bytes(&self) -> [u8; PACKET_META_LEN] {
        let fields = [
            self.len,
            self.protocol,
            self.pkttype,
            self.ifindex,
            self.mark,
            self.queue,
            self.hatype,
            self.rxhash,
            self.cpu,
            self.vlan_tag,
            self.vlan_tag_present,
            self.vlan_tpid,
        ];
        let mut out = [0u8; PACKET_META_LEN];
        for (chunk, v) in out.chunks_exact_mut(4).zip(fields) {
            chunk.copy_from_slice(&v.to_ne_bytes());
        }
        out
    }

    /// The offset of the field an ancillary load `SKF_AD_OFF + anc` reads,
    /// or `None` if this struct does not carry it.
    pub fn offset_of_ancillary(anc: u32) -> Option<i16> {
        use crate::isa::cbpf::insn::skf::*;
        Some(match anc {
            AD_PROTOCOL => 4,
            AD_PKTTYPE => 8,
            AD_IFINDEX => 12,
            AD_MARK => 16,
            AD_QUEUE => 20,
            AD_HATYPE => 24,
            AD_RXHASH => 28,
            AD_CPU => 32,
            AD_VLAN_TAG => 36,
            AD_VLAN_TAG_PRESENT => 40,
            AD_VLAN_TPID => 44,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_fields_sit_at_their_offsets() {
        let m = PacketMeta {
            len: 1,
            vlan_tag: 0x1234,
            vlan_tpid: 0x88a8,
            ..PacketMeta::default()
        };
        let b = m.to_bytes();
        let at = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        assert_eq!(at(0), 1);
        assert_eq!(
            at(PacketMeta::offset_of_ancillary(44).unwrap() as usize),
            0x1234
        );
        assert_eq!(
            at(PacketMeta::offset_of_ancillary(60).unwrap() as usize),
            0x88a8
        );
        assert_eq!(PacketMeta::offset_of_ancillary(56), None);
    }
}
