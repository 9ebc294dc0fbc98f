//! XDP (`BPF_PROG_TYPE_XDP`): `struct xdp_md`, whose r1 points at the shadow.

use super::layout::{CtxField, CtxLayout};

/// `struct xdp_md` fields' offsets in the XDP shadow context's layout.
pub mod xdp_shadow {
    /// `data` as a 64-bit host address.
    pub const DATA: usize = 0;
    /// `data_end` as a 64-bit host address.
    pub const DATA_END: usize = 8;
    /// `data_meta` as a 64-bit host address (equal to `data`: no metadata).
    pub const DATA_META: usize = 16;
    /// `ingress_ifindex`, u32.
    pub const INGRESS_IFINDEX: usize = 24;
    /// `rx_queue_index`, u32.
    pub const RX_QUEUE_INDEX: usize = 28;
    /// `egress_ifindex`, u32.
    pub const EGRESS_IFINDEX: usize = 32;
    /// Shadow size in bytes.
    pub const SIZE: usize = 40;
}

impl CtxLayout {
    /// The kernel's `struct xdp_md { u32 data, data_end, data_meta,
    /// ingress_ifindex, rx_queue_index, egress_ifindex; }`, mapped onto the
    /// offsets in [`xdp_shadow`]. Every field is read whole and none is
    /// written, as the kernel requires.
    pub fn xdp_md() -> CtxLayout {
        use xdp_shadow::*;
        let at = |o: usize| o as i16;
        CtxLayout {
            name: "xdp_md",
            size: 24,
            fields: vec![
                CtxField::pointer("data", 0, at(DATA)),
                CtxField::pointer("data_end", 4, at(DATA_END)),
                CtxField::pointer("data_meta", 8, at(DATA_META)),
                CtxField::u32("ingress_ifindex", 12, at(INGRESS_IFINDEX)),
                CtxField::u32("rx_queue_index", 16, at(RX_QUEUE_INDEX)),
                CtxField::u32("egress_ifindex", 20, at(EGRESS_IFINDEX)),
            ],
            refused: Vec::new(),
            narrow_reads: false,
            shadow_size: SIZE,
            ctx_offset: 0,
        }
    }
}
