//! The packet of a socket filter or tc run ([`SkbState`]) and the
//! `__sk_buff` helpers: `bpf_skb_load_bytes`, `bpf_skb_store_bytes`,
//! `bpf_l3_csum_replace`, `bpf_l4_csum_replace`, `bpf_csum_diff`,
//! `bpf_skb_change_head`/`_tail`, `bpf_skb_vlan_push`/`_pop`,
//! `bpf_skb_pull_data` and `bpf_redirect`. Their semantics live here once,
//! so every engine sees the same packet.
//!
//! The packet is linear and never moves: it starts at the context pointer
//! (see [`crate::host::progtype::skb`]), and helpers that grow or shrink it
//! move bytes inside the run's buffer, then re-register the packet region
//! and update `len`/`data_end` in the shadow.
//!
//! # Deliberate differences from the kernel
//! - LD_ABS/LD_IND read the packet as it was when the run started (the
//!   engines fix its bounds at entry), so in a program that uses them the
//!   size-changing helpers (`change_head`, `change_tail`, `vlan_push`,
//!   `vlan_pop`) fail the run with a helper fault instead of resizing.
//! - Growth is bounded by [`SKB_MAX_LEN`] (the loopback device's MTU plus
//!   its Ethernet header, what `BPF_PROG_TEST_RUN` uses); bytes a helper
//!   adds are zero.
//! - There is no `skb->csum`: checksum helpers update the packet's checksum
//!   fields only (as the kernel does for `CHECKSUM_NONE` packets).

use super::csum;
use super::{split, KernelRun};
use crate::engine::fault::HelperError;
use crate::host::helpers::Helpers;
use crate::host::maps::ValueBuf;
use crate::host::mem::{MemoryMap, Region};
use crate::host::progtype::skb::{skb_shadow as s, SkbKind, SkbMeta};
use std::sync::Arc;

/// `bpf_skb_store_bytes`.
pub const HELPER_SKB_STORE_BYTES: u32 = 9;
/// `bpf_l3_csum_replace`.
pub const HELPER_L3_CSUM_REPLACE: u32 = 10;
/// `bpf_l4_csum_replace`.
pub const HELPER_L4_CSUM_REPLACE: u32 = 11;
/// `bpf_skb_vlan_push`.
pub const HELPER_SKB_VLAN_PUSH: u32 = 18;
/// `bpf_skb_vlan_pop`.
pub const HELPER_SKB_VLAN_POP: u32 = 19;
/// `bpf_redirect`.
pub const HELPER_REDIRECT: u32 = 23;
/// `bpf_skb_load_bytes`.
pub const HELPER_SKB_LOAD_BYTES: u32 = 26;
/// `bpf_csum_diff`.
pub const HELPER_CSUM_DIFF: u32 = 28;
/// `bpf_skb_change_tail`.
pub const HELPER_SKB_CHANGE_TAIL: u32 = 38;
/// `bpf_skb_pull_data`.
pub const HELPER_SKB_PULL_DATA: u32 = 39;
/// `bpf_skb_change_head`.
pub const HELPER_SKB_CHANGE_HEAD: u32 = 43;

/// The helpers a tc program gets beyond the common ones and
/// `bpf_skb_load_bytes`.
pub const SKB_WRITE_HELPERS: [u32; 10] = [
    HELPER_SKB_STORE_BYTES,
    HELPER_L3_CSUM_REPLACE,
    HELPER_L4_CSUM_REPLACE,
    HELPER_SKB_VLAN_PUSH,
    HELPER_SKB_VLAN_POP,
    HELPER_REDIRECT,
    HELPER_CSUM_DIFF,
    HELPER_SKB_CHANGE_TAIL,
    HELPER_SKB_PULL_DATA,
    HELPER_SKB_CHANGE_HEAD,
];

/// The helpers that change the packet's length.
pub const SKB_RESIZE_HELPERS: [u32; 4] = [
    HELPER_SKB_VLAN_PUSH,
    HELPER_SKB_VLAN_POP,
    HELPER_SKB_CHANGE_TAIL,
    HELPER_SKB_CHANGE_HEAD,
];

/// The longest packet a helper may make: the loopback device's MTU (65536)
/// plus the Ethernet header.
pub const SKB_MAX_LEN: usize = 65536 + ETH_HLEN;

const ETH_HLEN: usize = 14;
const VLAN_HLEN: usize = 4;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
const EINVAL: u64 = -22i64 as u64;
const EFAULT: u64 = -14i64 as u64;
const ENOMEM: u64 = -12i64 as u64;
/// `TC_ACT_SHOT`, `TC_ACT_REDIRECT`.
const TC_ACT_SHOT: u64 = 2;
const TC_ACT_REDIRECT: u64 = 7;
/// `BPF_F_INGRESS`.
const BPF_F_INGRESS: u64 = 1;

/// Where `bpf_redirect` asked the packet to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Redirect {
    /// The target interface.
    pub ifindex: u32,
    /// Whether to the target's ingress (`BPF_F_INGRESS`) rather than egress.
    pub ingress: bool,
}

/// The packet of one `__sk_buff` run: `[shadow][packet, capacity bytes]` in
/// one buffer, the packet starting at the context pointer.
pub(crate) struct SkbState {
    pub(crate) buf: Arc<ValueBuf>,
    pub(crate) kind: SkbKind,
    /// The packet's length.
    pub(crate) len: usize,
    /// The most bytes the packet may grow to inside `buf`.
    pub(crate) capacity: usize,
    /// The packet bytes `buf` has room for (at least `capacity`: a reused
    /// buffer may be larger; the bytes past the packet are never visible).
    pub(crate) buf_cap: usize,
    /// The program uses LD_ABS/LD_IND (see the module docs).
    pub(crate) legacy_loads: bool,
    pub(crate) redirect: Option<Redirect>,
    /// Where the kernel's network header is, from the packet's start: the
    /// shortest length `bpf_skb_change_tail` accepts. It moves with
    /// `bpf_skb_change_head` and the removal of an in-packet VLAN tag.
    pub(crate) net_off: usize,
}

impl std::fmt::Debug for SkbState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SkbState")
            .field("ctx", &self.ctx())
            .field("len", &self.len)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl SkbState {
    /// A state over `packet` with `meta` and `growth` extra bytes of
    /// capacity, in `reuse` (an earlier state's `buf_cap` and buffer) if it
    /// has room for the capacity this state needs
    /// (a buffer of an earlier run, whose packet bytes are never visible
    /// past the packet's length: the packet region ends there and a resize
    /// writes the whole new packet), else in a new zeroed buffer.
    pub(crate) fn with_buf(
        reuse: Option<(usize, Arc<ValueBuf>)>,
        packet: &[u8],
        meta: &SkbMeta,
        kind: SkbKind,
        growth: usize,
        legacy_loads: bool,
    ) -> SkbState {
        let capacity = packet.len() + growth;
        let (buf_cap, buf) = match reuse {
            Some((cap, b)) if cap >= capacity => {
                // The shadow starts as a fresh one would.
                b.write(0, &[0; s::SIZE]);
                (cap, b)
            }
            _ => (capacity, ValueBuf::zeroed(s::SIZE + capacity)),
        };
        meta.store(&mut |o, b| buf.write(o, b));
        buf.write(s::SIZE, packet);
        let st = SkbState {
            buf,
            kind,
            len: packet.len(),
            capacity,
            buf_cap,
            legacy_loads,
            redirect: None,
            net_off: match kind {
                SkbKind::SocketFilter => 0,
                SkbKind::SchedCls => ETH_HLEN,
            },
        };
        st.sync_shadow();
        st
    }

    /// The context pointer: the packet's first byte.
    pub(crate) fn ctx(&self) -> u64 {
        self.buf.addr() + s::SIZE as u64
    }

    /// The packet region, writable for tc.
    pub(crate) fn packet_region(&self) -> Region {
        Region {
            start: self.ctx(),
            len: self.len as u64,
            writable: self.kind == SkbKind::SchedCls,
        }
    }

    /// The shadow's writable block and read-only rest.
    pub(crate) fn shadow_regions(&self) -> [Region; 2] {
        let base = self.buf.addr();
        [
            Region {
                start: base,
                len: s::WRITABLE_END as u64,
                writable: true,
            },
            Region {
                start: base + s::WRITABLE_END as u64,
                len: (s::SIZE - s::WRITABLE_END) as u64,
                writable: false,
            },
        ]
    }

    /// Writes `len`, `data`, `data_end`, `data_meta` into the shadow.
    fn sync_shadow(&self) {
        let data = self.ctx();
        self.buf.write(s::LEN, &(self.len as u32).to_le_bytes());
        self.buf.write(s::DATA, &data.to_le_bytes());
        self.buf
            .write(s::DATA_END, &(data + self.len as u64).to_le_bytes());
        self.buf.write(s::DATA_META, &data.to_le_bytes());
    }

    /// The packet's bytes.
    pub(crate) fn packet(&self) -> Vec<u8> {
        self.buf.read(s::SIZE, self.len)
    }

    /// The packet as the program left it, into `out` (its storage reused).
    pub(crate) fn packet_into(&self, out: &mut Vec<u8>) {
        out.resize(self.len, 0);
        self.buf.read_into(s::SIZE, out);
    }

    /// The metadata as the program left it: `meta` with the writable
    /// fields, the VLAN fields and the protocol read back.
    pub(crate) fn meta(&self, meta: &mut SkbMeta) {
        let mut shadow = [0u8; s::SIZE];
        self.buf.read_into(0, &mut shadow);
        meta.load_writable(&shadow);
        meta.protocol = self.be16(s::PROTOCOL);
        meta.vlan_present = self.u32(s::VLAN_PRESENT) != 0;
        meta.vlan_tci = self.u32(s::VLAN_TCI) as u16;
        meta.vlan_proto = self.be16(s::VLAN_PROTO);
        meta.hash = self.u32(s::HASH);
    }

    fn u32(&self, off: usize) -> u32 {
        let mut b = [0u8; 4];
        self.buf.read_into(off, &mut b);
        u32::from_le_bytes(b)
    }

    fn set_u32(&self, off: usize, v: u32) {
        self.buf.write(off, &v.to_le_bytes());
    }

    /// A network-order 16-bit shadow field (`protocol`, `vlan_proto`).
    fn be16(&self, off: usize) -> u16 {
        (self.u32(off) as u16).swap_bytes()
    }

    fn set_be16(&self, off: usize, v: u16) {
        self.set_u32(off, u32::from(v.swap_bytes()));
    }

    /// Packet bytes `[off, off + n)`, if inside the packet.
    fn bytes(&self, off: usize, n: usize) -> Option<Vec<u8>> {
        (off.checked_add(n)? <= self.len).then(|| self.buf.read(s::SIZE + off, n))
    }

    fn write(&self, off: usize, data: &[u8]) {
        self.buf.write(s::SIZE + off, data);
    }

    /// Resizes the packet to `new_len`, keeping `[0, keep)`, inserting
    /// `new_len - len` zero bytes at `at` when growing or removing bytes at
    /// `at` when shrinking; re-registers the packet region.
    fn resize_at(&mut self, mem: &mut MemoryMap<'_>, at: usize, new_len: usize) {
        let old = self.packet();
        let mut p = Vec::with_capacity(new_len);
        if new_len >= self.len {
            p.extend_from_slice(&old[..at]);
            p.resize(at + new_len - self.len, 0);
            p.extend_from_slice(&old[at..]);
        } else {
            let cut = self.len - new_len;
            p.extend_from_slice(&old[..at]);
            p.extend_from_slice(&old[at + cut..]);
        }
        let before = self.packet_region();
        self.write(0, &p);
        self.len = new_len;
        mem.remove_at(before.start);
        // SAFETY: `new_len <= capacity` (the callers check), so the region
        // lies inside `buf`, which the `KernelRun` holds until after the
        // run and which is only accessed through raw pointers.
        unsafe { mem.add_raw(self.packet_region()) };
        self.sync_shadow();
    }

    /// Whether a resize to `new_len` is possible: within the capacity and
    /// not in a program using LD_ABS/LD_IND.
    fn can_resize(&self, new_len: usize) -> Result<bool, HelperError> {
        if self.legacy_loads {
            return Err(HelperError::new(
                "cranebpf cannot resize the packet of a program that uses LD_ABS/LD_IND \
                 (their packet bounds are fixed at entry)",
            ));
        }
        Ok(new_len <= self.capacity)
    }
}

/// The run's packet, checking that `ctx` is its context pointer.
fn skb<'r>(run: &'r mut KernelRun, ctx: u64) -> Result<&'r mut SkbState, HelperError> {
    match run.skb.as_mut() {
        Some(st) if st.ctx() == ctx => Ok(st),
        Some(_) => Err(HelperError::new(format!(
            "{ctx:#x} is not the __sk_buff context of this run"
        ))),
        None => Err(HelperError::new("not a socket filter or tc run")),
    }
}

fn read(mem: &MemoryMap<'_>, addr: u64, len: u64, what: &str) -> Result<Vec<u8>, HelperError> {
    super::read(mem, addr, len, what)
}

fn write(mem: &MemoryMap<'_>, addr: u64, data: &[u8], what: &str) -> Result<(), HelperError> {
    mem.write_bytes(addr, data).map_err(|e| {
        HelperError::new(format!(
            "cannot write {}-byte {what} at {addr:#x}: {e:?}",
            data.len()
        ))
    })
}

/// Registers the `__sk_buff` helpers in `want`.
pub(super) fn register(h: &mut Helpers, want: impl Fn(u32) -> bool) {
    let table: [(u32, &str, super::Body); 11] = [
        (HELPER_SKB_LOAD_BYTES, "bpf_skb_load_bytes", load_bytes),
        (HELPER_SKB_STORE_BYTES, "bpf_skb_store_bytes", store_bytes),
        (
            HELPER_L3_CSUM_REPLACE,
            "bpf_l3_csum_replace",
            l3_csum_replace,
        ),
        (
            HELPER_L4_CSUM_REPLACE,
            "bpf_l4_csum_replace",
            l4_csum_replace,
        ),
        (HELPER_CSUM_DIFF, "bpf_csum_diff", csum_diff),
        (HELPER_SKB_CHANGE_TAIL, "bpf_skb_change_tail", change_tail),
        (HELPER_SKB_CHANGE_HEAD, "bpf_skb_change_head", change_head),
        (HELPER_SKB_VLAN_PUSH, "bpf_skb_vlan_push", vlan_push),
        (HELPER_SKB_VLAN_POP, "bpf_skb_vlan_pop", vlan_pop),
        (HELPER_SKB_PULL_DATA, "bpf_skb_pull_data", pull_data),
        (HELPER_REDIRECT, "bpf_redirect", redirect),
    ];
    for (id, name, body) in table {
        if want(id) {
            h.register(id, name, body);
        }
    }
}

/// `bpf_skb_load_bytes(skb, offset, to, len)`: 0, or `-EFAULT` with `to`
/// zeroed when `[offset, offset + len)` is not inside the packet.
fn load_bytes(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let (off, len) = (a[1] as u32 as usize, a[3] as u32 as usize);
    let got = if off > 0xffff {
        None
    } else {
        st.bytes(off, len)
    };
    let (data, r) = match got {
        Some(b) => (b, 0),
        None => (vec![0; len], EFAULT),
    };
    write(mem, a[2], &data, "destination")?;
    Ok(r)
}

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)`.
fn store_bytes(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    const RECOMPUTE_CSUM: u64 = 1;
    const INVALIDATE_HASH: u64 = 2;
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let (off, len, flags) = (a[1] as u32 as usize, a[3] as u32 as usize, a[4]);
    if flags & !(RECOMPUTE_CSUM | INVALIDATE_HASH) != 0 {
        return Ok(EINVAL);
    }
    if off > 0xffff || off + len > st.len {
        return Ok(EFAULT);
    }
    let data = read(mem, a[2], len as u64, "source")?;
    st.write(off, &data);
    if flags & INVALIDATE_HASH != 0 {
        st.set_u32(s::HASH, 0);
    }
    Ok(0)
}

/// The 2-byte checksum field at `off` (even, inside the packet), or the
/// errno.
fn csum_field(st: &SkbState, off: u64) -> Result<(usize, u16), u64> {
    let off = off as u32 as usize;
    if off > 0xffff || off & 1 == 1 {
        return Err(EFAULT);
    }
    let b = st.bytes(off, 2).ok_or(EFAULT)?;
    Ok((off, u16::from_le_bytes([b[0], b[1]])))
}

/// `bpf_l3_csum_replace(skb, offset, from, to, flags)`: flags' low 4 bits
/// are the field size (0: `to` is a [`csum::diff`], 2 or 4).
fn l3_csum_replace(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (_, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let (from, to, flags) = (a[2], a[3], a[4]);
    if flags & !0xf != 0 {
        return Ok(EINVAL);
    }
    let (off, sum) = match csum_field(st, a[1]) {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let new = match flags & 0xf {
        0 if from != 0 => return Ok(EINVAL),
        0 => csum::replace_by_diff(sum, to as u32),
        2 => csum::replace2(sum, from as u16, to as u16),
        4 => csum::replace4(sum, from as u32, to as u32),
        _ => return Ok(EINVAL),
    };
    st.write(off, &new.to_le_bytes());
    Ok(0)
}

/// `bpf_l4_csum_replace(skb, offset, from, to, flags)`: as
/// [`l3_csum_replace`], plus `BPF_F_MARK_MANGLED_0` (a zero checksum, UDP's
/// "none", stays zero, and a result of zero is written as 0xffff),
/// `BPF_F_MARK_ENFORCE`, `BPF_F_PSEUDO_HDR` (no effect without `skb->csum`)
/// and `BPF_F_IPV6`.
fn l4_csum_replace(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    const PSEUDO_HDR: u64 = 1 << 4;
    const MARK_MANGLED_0: u64 = 1 << 5;
    const MARK_ENFORCE: u64 = 1 << 6;
    const IPV6: u64 = 1 << 7;
    let (_, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let (from, to, flags) = (a[2], a[3], a[4]);
    if flags & !(PSEUDO_HDR | MARK_MANGLED_0 | MARK_ENFORCE | IPV6 | 0xf) != 0 {
        return Ok(EINVAL);
    }
    let (off, sum) = match csum_field(st, a[1]) {
        Ok(f) => f,
        Err(e) => return Ok(e),
    };
    let mangled0 = flags & MARK_MANGLED_0 != 0;
    if mangled0 && flags & MARK_ENFORCE == 0 && sum == 0 {
        return Ok(0);
    }
    let mut new = match flags & 0xf {
        0 if from != 0 => return Ok(EINVAL),
        0 => csum::replace_by_diff(sum, to as u32),
        2 => csum::replace4(sum, u32::from(from as u16), u32::from(to as u16)),
        4 => csum::replace4(sum, from as u32, to as u32),
        _ => return Ok(EINVAL),
    };
    if mangled0 && new == 0 {
        new = 0xffff;
    }
    st.write(off, &new.to_le_bytes());
    Ok(0)
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: any sizes (the
/// kernel checks them no more since 6.13; the verifier bounds them by the
/// buffers).
fn csum_diff(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (fsz, tsz) = (a[1] as u32, a[3] as u32);
    let from = read(ctx.mem, a[0], u64::from(fsz), "from buffer")?;
    let to = read(ctx.mem, a[2], u64::from(tsz), "to buffer")?;
    Ok(u64::from(csum::diff(&from, &to, a[4] as u32)))
}

/// `bpf_skb_change_tail(skb, len, flags)`: the packet becomes `len` bytes
/// (at least up to the network header, which is after the Ethernet header
/// unless the packet grew in front; at most [`SKB_MAX_LEN`]), grown with
/// zeros.
fn change_tail(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let new_len = a[1] as u32 as usize;
    if a[2] != 0 || new_len > SKB_MAX_LEN || new_len < st.net_off.max(ETH_HLEN) {
        return Ok(EINVAL);
    }
    if !st.can_resize(new_len)? {
        return Ok(ENOMEM);
    }
    let at = st.len.min(new_len);
    st.resize_at(mem, at, new_len);
    Ok(0)
}

/// `bpf_skb_change_head(skb, len, flags)`: `len` zero bytes in front of the
/// packet.
fn change_head(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let room = a[1] as u32 as usize;
    let new_len = st.len + room;
    if a[2] != 0 || new_len > SKB_MAX_LEN {
        return Ok(EINVAL);
    }
    if !st.can_resize(new_len)? {
        return Ok(ENOMEM);
    }
    st.resize_at(mem, 0, new_len);
    st.net_off += room;
    Ok(0)
}

fn is_vlan(proto: u16) -> bool {
    proto == ETH_P_8021Q || proto == ETH_P_8021AD
}

/// `bpf_skb_vlan_push(skb, proto, tci)`: the tag becomes the packet's
/// out-of-band tag; an existing one moves into the packet first (at byte
/// 12, after what the kernel takes for the MAC addresses). A `proto` other than 802.1Q/802.1ad means 802.1Q.
fn vlan_push(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    let mut proto = (a[1] as u16).swap_bytes();
    if !is_vlan(proto) {
        proto = ETH_P_8021Q;
    }
    if st.u32(s::VLAN_PRESENT) != 0 {
        if st.len < ETH_HLEN {
            return Ok(EINVAL);
        }
        if !st.can_resize(st.len + VLAN_HLEN)? {
            return Ok(ENOMEM);
        }
        let (old_proto, old_tci) = (st.be16(s::VLAN_PROTO), st.u32(s::VLAN_TCI) as u16);
        // The tag goes in after the first 12 bytes, whatever they are (after
        // `bpf_skb_change_head` they are not the MAC addresses), and the
        // two bytes that were there become the encapsulated protocol: the
        // kernel does not write it (found by the skb generator against
        // BPF_PROG_TEST_RUN).
        st.resize_at(mem, 2 * 6, st.len + VLAN_HLEN);
        let mut tag = [0u8; 4];
        tag[..2].copy_from_slice(&old_proto.to_be_bytes());
        tag[2..].copy_from_slice(&old_tci.to_be_bytes());
        st.write(12, &tag);
        // The network header moves back with the packet: its offset stays.
        st.set_be16(s::PROTOCOL, old_proto);
    }
    st.set_u32(s::VLAN_PRESENT, 1);
    st.set_be16(s::VLAN_PROTO, proto);
    st.set_u32(s::VLAN_TCI, u32::from(a[2] as u16));
    Ok(0)
}

/// Removes the in-packet tag after the MAC addresses; returns its TCI or
/// the errno. The protocol becomes the encapsulated one.
fn pop_inline_tag(st: &mut SkbState, mem: &mut MemoryMap<'_>) -> Result<u16, u64> {
    let Some(h) = st.bytes(0, ETH_HLEN + VLAN_HLEN) else {
        return Err(ENOMEM);
    };
    let tci = u16::from_be_bytes([h[14], h[15]]);
    let inner = u16::from_be_bytes([h[16], h[17]]);
    let proto = if inner >= 0x600 {
        inner
    } else if st.bytes(18, 2).as_deref() == Some(&[0xff, 0xff]) {
        0x0001 // ETH_P_802_3
    } else {
        0x0004 // ETH_P_802_2
    };
    st.resize_at(mem, 2 * 6, st.len - VLAN_HLEN);
    st.net_off = st.net_off.saturating_sub(VLAN_HLEN).max(ETH_HLEN);
    st.set_be16(s::PROTOCOL, proto);
    Ok(tci)
}

/// `bpf_skb_vlan_pop(skb)`: drops the out-of-band tag (or, without one,
/// the packet's outer tag), then moves a remaining in-packet tag out of
/// band.
fn vlan_pop(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (mem, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    // Only an in-packet tag (protocol 802.1Q/802.1ad) makes a resize.
    if is_vlan(st.be16(s::PROTOCOL)) {
        st.can_resize(st.len)?;
    }
    if st.u32(s::VLAN_PRESENT) != 0 {
        st.set_u32(s::VLAN_PRESENT, 0);
        st.set_u32(s::VLAN_TCI, 0);
        st.set_u32(s::VLAN_PROTO, 0);
    } else {
        if !is_vlan(st.be16(s::PROTOCOL)) {
            return Ok(0);
        }
        if let Err(e) = pop_inline_tag(st, mem) {
            return Ok(e);
        }
    }
    let proto = st.be16(s::PROTOCOL);
    if !is_vlan(proto) {
        return Ok(0);
    }
    match pop_inline_tag(st, mem) {
        Ok(tci) => {
            st.set_u32(s::VLAN_PRESENT, 1);
            st.set_be16(s::VLAN_PROTO, proto);
            st.set_u32(s::VLAN_TCI, u32::from(tci));
            Ok(0)
        }
        Err(e) => Ok(e),
    }
}

/// `bpf_skb_pull_data(skb, len)`: the packet is linear, so 0 when `len`
/// bytes exist, else `-ENOMEM`.
fn pull_data(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (_, run) = split(ctx)?;
    let st = skb(run, a[0])?;
    Ok(if a[1] as u32 as usize <= st.len {
        0
    } else {
        ENOMEM
    })
}

/// `bpf_redirect(ifindex, flags)`: records the target and returns
/// `TC_ACT_REDIRECT`, or `TC_ACT_SHOT` for unknown flags.
fn redirect(ctx: &mut crate::HelperCtx<'_, '_>, a: [u64; 5]) -> Result<u64, HelperError> {
    let (_, run) = split(ctx)?;
    if a[1] & !BPF_F_INGRESS != 0 {
        return Ok(TC_ACT_SHOT);
    }
    if let Some(st) = run.skb.as_mut() {
        st.redirect = Some(Redirect {
            ifindex: a[0] as u32,
            ingress: a[1] & BPF_F_INGRESS != 0,
        });
    }
    Ok(TC_ACT_REDIRECT)
}
