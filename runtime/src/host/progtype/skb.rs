//! `struct __sk_buff`: the context of socket filters
//! (`BPF_PROG_TYPE_SOCKET_FILTER`) and tc classifiers
//! (`BPF_PROG_TYPE_SCHED_CLS`).
//!
//! # Where things are
//! The run driver lays one buffer out as `[shadow][packet ...capacity]` and
//! passes r1 = the packet's first byte. Context fields therefore sit at
//! negative offsets from r1 (the shadow, rewritten at load time), while
//! LD_ABS/LD_IND read the packet through the input rule (the region that
//! starts at r1), as the kernel's legacy loads read `skb->data`. The packet
//! never moves: helpers that grow or shrink it move bytes within the
//! buffer, so `skb->data` is r1 for the whole run.
//!
//! The shadow keeps the fields a program may write in one block at its
//! start (registered writable) and the rest after it (read-only).

use super::layout::{CtxField, CtxLayout, FieldKind, Refused};

/// Byte offsets of the `__sk_buff` fields in the shadow, from its first
/// byte. Writable fields come first.
pub mod skb_shadow {
    /// `mark`.
    pub const MARK: usize = 0;
    /// `queue_mapping`.
    pub const QUEUE_MAPPING: usize = 4;
    /// `priority`.
    pub const PRIORITY: usize = 8;
    /// `tc_index`.
    pub const TC_INDEX: usize = 12;
    /// `cb[5]`, 20 bytes.
    pub const CB: usize = 16;
    /// `tc_classid`.
    pub const TC_CLASSID: usize = 36;
    /// `tstamp`, u64.
    pub const TSTAMP: usize = 40;
    /// End of the writable block.
    pub const WRITABLE_END: usize = 48;
    /// `len`.
    pub const LEN: usize = 48;
    /// `pkt_type`.
    pub const PKT_TYPE: usize = 52;
    /// `protocol` (network byte order in the low 16 bits, as the kernel).
    pub const PROTOCOL: usize = 56;
    /// `vlan_present`.
    pub const VLAN_PRESENT: usize = 60;
    /// `vlan_tci`.
    pub const VLAN_TCI: usize = 64;
    /// `vlan_proto` (network byte order).
    pub const VLAN_PROTO: usize = 68;
    /// `ingress_ifindex`.
    pub const INGRESS_IFINDEX: usize = 72;
    /// `ifindex`.
    pub const IFINDEX: usize = 76;
    /// `hash`.
    pub const HASH: usize = 80;
    /// `napi_id`.
    pub const NAPI_ID: usize = 84;
    /// `wire_len`.
    pub const WIRE_LEN: usize = 88;
    /// `gso_segs`.
    pub const GSO_SEGS: usize = 92;
    /// `gso_size`.
    pub const GSO_SIZE: usize = 96;
    /// `data`, a 64-bit host address.
    pub const DATA: usize = 104;
    /// `data_end`, a 64-bit host address.
    pub const DATA_END: usize = 112;
    /// `data_meta`, a 64-bit host address (equal to `data`: no metadata).
    pub const DATA_META: usize = 120;
    /// `hwtstamp`, u64.
    pub const HWTSTAMP: usize = 128;
    /// Shadow size in bytes (a multiple of 8, so the packet after it is
    /// 8-byte aligned).
    pub const SIZE: usize = 136;
}

/// Which `__sk_buff` program type a layout is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkbKind {
    /// `BPF_PROG_TYPE_SOCKET_FILTER`: no direct packet access, only `cb`
    /// writable.
    SocketFilter,
    /// `BPF_PROG_TYPE_SCHED_CLS`: direct packet access; `mark`,
    /// `queue_mapping`, `priority`, `tc_index`, `cb`, `tc_classid` and
    /// `tstamp` writable.
    SchedCls,
}

/// Offsets of the `__sk_buff` fields in the program's view (the UAPI
/// struct).
mod uapi {
    pub const TC_CLASSID: i16 = 72;
    pub const DATA: i16 = 76;
    pub const DATA_END: i16 = 80;
    pub const FAMILY: i16 = 88;
    pub const DATA_META: i16 = 140;
    pub const FLOW_KEYS: i16 = 144;
    pub const TSTAMP: i16 = 152;
    pub const WIRE_LEN: i16 = 160;
    pub const SK: i16 = 168;
    pub const TSTAMP_TYPE: i16 = 180;
    pub const HWTSTAMP: i16 = 184;
    pub const SIZE: u16 = 192;
}

impl CtxLayout {
    /// `struct __sk_buff` for `kind`, with the kernel's rules for that type.
    pub fn sk_buff(kind: SkbKind) -> CtxLayout {
        use skb_shadow as s;
        let tc = kind == SkbKind::SchedCls;
        // Shadow offsets are relative to r1, which points just past the shadow.
        let at = |o: usize| o as i16 - s::SIZE as i16;
        let w = |f: CtxField| if tc { f.writable() } else { f };
        let mut fields = vec![
            CtxField::u32("len", 0, at(s::LEN)),
            CtxField::u32("pkt_type", 4, at(s::PKT_TYPE)).kernel_width(1),
            w(CtxField::u32("mark", 8, at(s::MARK))),
            w(CtxField::u32("queue_mapping", 12, at(s::QUEUE_MAPPING)).kernel_width(2)),
            CtxField::u32("protocol", 16, at(s::PROTOCOL)).kernel_width(2),
            CtxField::u32("vlan_present", 20, at(s::VLAN_PRESENT)),
            CtxField::u32("vlan_tci", 24, at(s::VLAN_TCI)).kernel_width(2),
            CtxField::u32("vlan_proto", 28, at(s::VLAN_PROTO)).kernel_width(2),
            w(CtxField::u32("priority", 32, at(s::PRIORITY))),
            CtxField::u32("ingress_ifindex", 36, at(s::INGRESS_IFINDEX)),
            CtxField::u32("ifindex", 40, at(s::IFINDEX)),
            w(CtxField::u32("tc_index", 44, at(s::TC_INDEX)).kernel_width(2)),
            CtxField {
                name: "cb",
                offset: 48,
                size: 20,
                shadow_offset: at(s::CB),
                kind: FieldKind::Bytes,
                writable: true,
                kernel_size: 20,
            },
            CtxField::u32("hash", 68, at(s::HASH)),
            CtxField::u32("napi_id", 84, at(s::NAPI_ID)),
            CtxField::u32("gso_segs", 164, at(s::GSO_SEGS)).kernel_width(2),
            CtxField::u32("gso_size", 176, at(s::GSO_SIZE)).kernel_width(2),
        ];
        let mut refused = vec![
            Refused {
                name: "family..local_port",
                offset: uapi::FAMILY,
                size: 52,
                reason: "socket fields are only for sk_skb programs",
            },
            Refused {
                name: "flow_keys",
                offset: uapi::FLOW_KEYS,
                size: 8,
                reason: "flow_keys is only for flow dissector programs",
            },
            Refused {
                name: "sk",
                offset: uapi::SK,
                size: 8,
                reason: "cranebpf runs packets without a socket (sk is unsupported)",
            },
            Refused {
                name: "tstamp_type",
                offset: uapi::TSTAMP_TYPE,
                size: 4,
                reason: "tstamp_type is not readable",
            },
        ];
        let tc_only = [
            w(CtxField::u32("tc_classid", uapi::TC_CLASSID, at(s::TC_CLASSID)).kernel_width(2)),
            CtxField::pointer("data", uapi::DATA, at(s::DATA)),
            CtxField::pointer("data_end", uapi::DATA_END, at(s::DATA_END)),
            CtxField::pointer("data_meta", uapi::DATA_META, at(s::DATA_META)),
            w(CtxField::u64("tstamp", uapi::TSTAMP, at(s::TSTAMP))),
            CtxField::u32("wire_len", uapi::WIRE_LEN, at(s::WIRE_LEN)),
            CtxField::u64("hwtstamp", uapi::HWTSTAMP, at(s::HWTSTAMP)),
        ];
        if tc {
            fields.extend(tc_only);
        } else {
            refused.extend(tc_only.iter().map(|f| Refused {
                name: f.name,
                offset: f.offset,
                size: f.size,
                reason: "not available to socket filters (no direct packet access)",
            }));
        }
        CtxLayout {
            name: "__sk_buff",
            size: uapi::SIZE,
            fields,
            refused,
            narrow_reads: true,
            shadow_size: s::SIZE,
            ctx_offset: s::SIZE,
        }
    }
}

/// The `__sk_buff` fields of one packet that are not derived from the
/// packet bytes (`len`, `data`, `data_end` are). Integers are in host byte
/// order; `protocol` and `vlan_proto` are EtherTypes (e.g. `0x0800`), which
/// the program reads in network byte order, as from the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SkbMeta {
    /// `pkt_type` (`PACKET_HOST` 0, `PACKET_BROADCAST` 1, ...).
    pub pkt_type: u32,
    /// `mark`.
    pub mark: u32,
    /// `queue_mapping`.
    pub queue_mapping: u32,
    /// `protocol`, as an EtherType.
    pub protocol: u16,
    /// Whether an out-of-band VLAN tag is present.
    pub vlan_present: bool,
    /// `vlan_tci`.
    pub vlan_tci: u16,
    /// `vlan_proto`, as an EtherType.
    pub vlan_proto: u16,
    /// `priority`.
    pub priority: u32,
    /// `ingress_ifindex`.
    pub ingress_ifindex: u32,
    /// `ifindex`.
    pub ifindex: u32,
    /// `tc_index`.
    pub tc_index: u32,
    /// `cb[5]`.
    pub cb: [u32; 5],
    /// `hash`.
    pub hash: u32,
    /// `tc_classid`.
    pub tc_classid: u32,
    /// `napi_id`.
    pub napi_id: u32,
    /// `tstamp`.
    pub tstamp: u64,
    /// `wire_len`.
    pub wire_len: u32,
    /// `gso_segs`.
    pub gso_segs: u32,
    /// `gso_size`.
    pub gso_size: u32,
    /// `hwtstamp`.
    pub hwtstamp: u64,
}

/// `PACKET_HOST`: addressed to this host.
pub const PACKET_HOST: u32 = 0;
/// `PACKET_BROADCAST`.
pub const PACKET_BROADCAST: u32 = 1;
/// `PACKET_MULTICAST`.
pub const PACKET_MULTICAST: u32 = 2;
/// `PACKET_OTHERHOST`: addressed to another host.
pub const PACKET_OTHERHOST: u32 = 3;

impl SkbMeta {
    /// The metadata the kernel derives from an Ethernet frame received on
    /// an interface whose address is all zeros (the loopback device
    /// `BPF_PROG_TEST_RUN` uses): `protocol` from the EtherType (tagged
    /// frames keep 0x8100: VLAN tags stay in the packet), `pkt_type` from
    /// the destination address, `ingress_ifindex` and `ifindex` 1 (lo),
    /// `wire_len` the frame's length. Frames shorter than an Ethernet header
    /// get protocol 0. As on lo, whose broadcast address is all zeros too,
    /// `ff:ff:ff:ff:ff:ff` is `PACKET_MULTICAST`.
    pub fn from_frame(frame: &[u8]) -> SkbMeta {
        let (pkt_type, protocol) = match frame {
            [d0, d1, d2, d3, d4, d5, _, _, _, _, _, _, t0, t1, ..] => {
                let dst = [*d0, *d1, *d2, *d3, *d4, *d5];
                // lo's address and its broadcast address are both all
                // zeros, so the kernel calls ff:ff:ff:ff:ff:ff multicast
                // there, not broadcast (found by the skb generator of the
                // differential harness against BPF_PROG_TEST_RUN).
                let pkt_type = if dst == [0; 6] {
                    PACKET_HOST
                } else if d0 & 1 == 1 {
                    PACKET_MULTICAST
                } else {
                    PACKET_OTHERHOST
                };
                (pkt_type, u16::from_be_bytes([*t0, *t1]))
            }
            _ => (PACKET_HOST, 0),
        };
        SkbMeta {
            pkt_type,
            protocol,
            ingress_ifindex: 1,
            ifindex: 1,
            wire_len: frame.len() as u32,
            ..SkbMeta::default()
        }
    }

    /// Writes the fields into a shadow (`skb_shadow` layout) through
    /// `write(offset, bytes)`. `data`, `data_end`, `data_meta` and `len` are
    /// the driver's.
    pub(crate) fn store(&self, write: &mut dyn FnMut(usize, &[u8])) {
        use skb_shadow as s;
        let mut w32 = |o: usize, v: u32| write(o, &v.to_le_bytes());
        w32(s::MARK, self.mark);
        w32(s::QUEUE_MAPPING, self.queue_mapping);
        w32(s::PRIORITY, self.priority);
        w32(s::TC_INDEX, self.tc_index);
        for (i, c) in self.cb.iter().enumerate() {
            w32(s::CB + 4 * i, *c);
        }
        w32(s::TC_CLASSID, self.tc_classid);
        w32(s::PKT_TYPE, self.pkt_type);
        w32(s::PROTOCOL, u32::from(self.protocol.to_be()));
        w32(s::VLAN_PRESENT, u32::from(self.vlan_present));
        w32(s::VLAN_TCI, u32::from(self.vlan_tci));
        w32(s::VLAN_PROTO, u32::from(self.vlan_proto.to_be()));
        w32(s::INGRESS_IFINDEX, self.ingress_ifindex);
        w32(s::IFINDEX, self.ifindex);
        w32(s::HASH, self.hash);
        w32(s::NAPI_ID, self.napi_id);
        w32(s::WIRE_LEN, self.wire_len);
        w32(s::GSO_SEGS, self.gso_segs);
        w32(s::GSO_SIZE, self.gso_size);
        write(s::TSTAMP, &self.tstamp.to_le_bytes());
        write(s::HWTSTAMP, &self.hwtstamp.to_le_bytes());
    }

    /// Reads back the fields a program may write (`skb_shadow`'s writable
    /// block) from `shadow`.
    pub(crate) fn load_writable(&mut self, shadow: &[u8]) {
        use skb_shadow as s;
        let r32 = |o: usize| {
            shadow
                .get(o..o + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        self.mark = r32(s::MARK);
        self.queue_mapping = r32(s::QUEUE_MAPPING);
        self.priority = r32(s::PRIORITY);
        self.tc_index = r32(s::TC_INDEX);
        for i in 0..5 {
            self.cb[i] = r32(s::CB + 4 * i);
        }
        self.tc_classid = r32(s::TC_CLASSID);
        self.tstamp = u64::from(r32(s::TSTAMP)) | u64::from(r32(s::TSTAMP + 4)) << 32;
    }
}

/// A tc program's verdict (`TC_ACT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TcAction {
    /// -1: `TC_ACT_UNSPEC`, use the default action.
    Unspec,
    /// 0: `TC_ACT_OK`, pass the packet on.
    Ok,
    /// 1: `TC_ACT_RECLASSIFY`.
    Reclassify,
    /// 2: `TC_ACT_SHOT`, drop it.
    Shot,
    /// 3: `TC_ACT_PIPE`.
    Pipe,
    /// 4: `TC_ACT_STOLEN`.
    Stolen,
    /// 5: `TC_ACT_QUEUED`.
    Queued,
    /// 6: `TC_ACT_REPEAT`.
    Repeat,
    /// 7: `TC_ACT_REDIRECT` (the target is the one `bpf_redirect` recorded).
    Redirect,
    /// 8: `TC_ACT_TRAP`.
    Trap,
    /// Any other value: the kernel treats it as `TC_ACT_UNSPEC` (`Other`
    /// keeps it for reports).
    Other(i32),
}

impl TcAction {
    /// Every named verdict, in kernel order.
    pub const ALL: [TcAction; 10] = [
        TcAction::Unspec,
        TcAction::Ok,
        TcAction::Reclassify,
        TcAction::Shot,
        TcAction::Pipe,
        TcAction::Stolen,
        TcAction::Queued,
        TcAction::Repeat,
        TcAction::Redirect,
        TcAction::Trap,
    ];

    /// The verdict in a program's r0 (its low 32 bits, signed).
    pub fn from_r0(r0: u64) -> TcAction {
        match r0 as u32 as i32 {
            -1 => TcAction::Unspec,
            0 => TcAction::Ok,
            1 => TcAction::Reclassify,
            2 => TcAction::Shot,
            3 => TcAction::Pipe,
            4 => TcAction::Stolen,
            5 => TcAction::Queued,
            6 => TcAction::Repeat,
            7 => TcAction::Redirect,
            8 => TcAction::Trap,
            v => TcAction::Other(v),
        }
    }

    /// The kernel's name, e.g. `TC_ACT_OK`.
    pub fn name(self) -> &'static str {
        match self {
            TcAction::Unspec => "TC_ACT_UNSPEC",
            TcAction::Ok => "TC_ACT_OK",
            TcAction::Reclassify => "TC_ACT_RECLASSIFY",
            TcAction::Shot => "TC_ACT_SHOT",
            TcAction::Pipe => "TC_ACT_PIPE",
            TcAction::Stolen => "TC_ACT_STOLEN",
            TcAction::Queued => "TC_ACT_QUEUED",
            TcAction::Repeat => "TC_ACT_REPEAT",
            TcAction::Redirect => "TC_ACT_REDIRECT",
            TcAction::Trap => "TC_ACT_TRAP",
            TcAction::Other(_) => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::progtype::layout::AccessFault;
    use crate::isa::insn::Size;

    #[test]
    fn sk_buff_rules_follow_the_kernel() {
        let sf = CtxLayout::sk_buff(SkbKind::SocketFilter);
        let tc = CtxLayout::sk_buff(SkbKind::SchedCls);
        // len: whole and narrow reads, no writes.
        let len = sf.resolve(0, Size::W, false, false).unwrap();
        assert_eq!(len.shadow_offset, -(skb_shadow::SIZE as i16) + 48);
        assert_eq!(
            sf.resolve(2, Size::H, false, false).unwrap().shadow_offset,
            len.shadow_offset + 2
        );
        assert_eq!(
            sf.resolve(0, Size::W, true, false),
            Err(AccessFault::ReadOnly)
        );
        assert_eq!(
            sf.resolve(1, Size::H, false, false),
            Err(AccessFault::Misaligned)
        );
        assert_eq!(
            sf.resolve(0, Size::DW, false, false),
            Err(AccessFault::Partial)
        );
        // mark: tc writes it, a socket filter may not.
        assert!(tc.resolve(8, Size::W, true, false).is_ok());
        assert_eq!(
            sf.resolve(8, Size::W, true, false),
            Err(AccessFault::ReadOnly)
        );
        assert_eq!(
            tc.resolve(8, Size::H, true, false),
            Err(AccessFault::Partial)
        );
        // cb: any aligned access inside, never past cb[4].
        assert!(sf.resolve(48, Size::DW, true, false).is_ok());
        assert!(sf.resolve(67, Size::B, true, false).is_ok());
        assert_eq!(
            sf.resolve(64, Size::DW, false, false),
            Err(AccessFault::Partial)
        );
        // data: a socket filter has none; tc reads it whole, as 64 bits.
        assert!(matches!(
            sf.resolve(76, Size::W, false, false),
            Err(AccessFault::Refused(_))
        ));
        let d = tc.resolve(76, Size::W, false, false).unwrap();
        assert_eq!(d.shadow_size, Size::DW);
        assert_eq!(
            tc.resolve(76, Size::H, false, false),
            Err(AccessFault::Partial)
        );
        assert_eq!(
            tc.resolve(76, Size::W, false, true),
            Err(AccessFault::SignExtend)
        );
        // Unknown offsets.
        assert_eq!(
            tc.resolve(200, Size::W, false, false),
            Err(AccessFault::Unknown)
        );
        assert!(matches!(
            tc.resolve(92, Size::W, false, false),
            Err(AccessFault::Refused(_))
        ));
    }

    #[test]
    fn tc_action_reads_low_32_bits_signed() {
        assert_eq!(TcAction::from_r0(u64::MAX), TcAction::Unspec);
        assert_eq!(TcAction::from_r0(0xffff_ffff), TcAction::Unspec);
        assert_eq!(TcAction::from_r0(2), TcAction::Shot);
        assert_eq!(TcAction::from_r0(1 << 32 | 7), TcAction::Redirect);
        assert_eq!(TcAction::from_r0(99), TcAction::Other(99));
    }
}
