//! Transfer functions of the memory family (RFC 9669 §5): LDX, ST, STX and
//! atomics, and the one rule deciding whether an access is proven.
//!
//! **Soundness-critical.** An access is proven only if, for every concrete
//! value the base register may hold, `[base + off, base + off + size)` lies
//! inside one region every run registers with the needed permission
//! (`MemoryMap::check` could not fail). Per region, with `o` the
//! instruction's offset and `off` the pointer's offset range:
//! - frame: `off.smin + o >= -512 && off.smax + o + size <= 0` (r10 of the
//!   frame the pointer was taken from; the whole stack is one region);
//! - context: inside one of its regions (offsets from r1, `CtxRegion`),
//!   writable if a store; never atomic;
//! - map value, ring-buffer record (fixed size `S`):
//!   `off.smin + o >= 0 && off.smax + o + size <= S`;
//! - packet / input (dynamic end): `off.smin + o >= 0` and either
//!   `o + size <= range` (the pointer itself was compared with the end) or
//!   `off.smax + o + size <= min_len` (some pointer was);
//! - a constant (scalar) base inside a global-data region.
//!
//! Atomics must also be naturally aligned: frames are 16-byte aligned and
//! map values 8-byte aligned (map value buffers are `u64` words, array
//! strides multiples of 8), so the low bits of the offset decide.
//! All sums are computed in `i128`, so nothing wraps.

use super::config::CtxPtr;
use super::config::Entry;
use super::error::ErrorKind;
use super::num::Num;
use super::state::{Ptr, PtrKind, State, Value, FRAME};
use super::step::Step;
use crate::analysis::proof::RegionKind;
use crate::isa::insn::{AtomicOp, Reg, Size};

/// What kind of access.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
    Atomic,
}

/// Where a proven access lies, with what the model needs to update.
enum Place {
    /// Frame `frame`, start offsets `[lo, hi]` relative to its r10.
    Frame { frame: usize, lo: i64, hi: i64 },
    /// The context at start offsets `[lo, hi]`.
    Ctx { lo: i64, hi: i64 },
    /// Anywhere else (no model to update).
    Other(RegionKind),
}

/// Decides whether `[base + o, +size)` is proven (see the module docs).
fn place(
    st: &State,
    base: Reg,
    o: i16,
    size: u64,
    kind: Kind,
    step: &Step,
) -> Result<Place, String> {
    let r = base.index();
    let p = match st.reg(r) {
        Value::NotInit => return Err(format!("r{r} is not initialised")),
        Value::Scalar(s) => return global(&s.n, o, size, kind, step).map(Place::Other),
        Value::Ptr(p) => p,
    };
    let o = o as i128;
    let lo = p.off.smin as i128 + o;
    let hi = p.off.smax as i128 + o + size as i128;
    let fixed = |len: u64| lo >= 0 && hi <= len as i128;
    let what = Value::Ptr(p);
    let bad = |why: &str| Err(format!("r{r}={what}: {why}"));
    let aligned = |base_align: u64| {
        size <= base_align
            && p.off.t.mask & (size - 1) == 0
            && (p.off.t.value as i128 + o) & (size as i128 - 1) == 0
    };
    if kind == Kind::Atomic {
        let align = match p.kind {
            PtrKind::Stack { .. } => 16,
            PtrKind::MapValue { .. } => 8,
            _ => 1,
        };
        if !aligned(align) {
            return bad("atomic access not proven naturally aligned");
        }
    }
    match p.kind {
        PtrKind::Stack { frame } => {
            if lo >= -(FRAME as i128) && hi <= 0 {
                Ok(Place::Frame {
                    frame: frame as usize,
                    lo: lo as i64,
                    hi: (hi - size as i128) as i64,
                })
            } else {
                bad(&format!(
                    "stack access [{lo}, {hi}) outside the frame [-512, 0)"
                ))
            }
        }
        PtrKind::Ctx => {
            let Entry::Ctx { regions, .. } = &step.conf.entry else {
                return bad("the context's size is not known");
            };
            let Some(region) = regions.iter().find(|g| g.holds(lo, hi)) else {
                return bad(&format!("context access [{lo}, {hi}) outside its regions"));
            };
            match kind {
                Kind::Atomic => bad("atomic operations on the context are not allowed"),
                Kind::Write if !region.writable => bad("this part of the context is read-only"),
                _ => Ok(Place::Ctx {
                    lo: lo as i64,
                    hi: (hi - size as i128) as i64,
                }),
            }
        }
        PtrKind::Packet | PtrKind::Input => {
            let (min, region, name) = if p.kind == PtrKind::Packet {
                (st.pkt_min, RegionKind::Packet, "packet")
            } else {
                (st.input_min, RegionKind::Input, "input")
            };
            let by_tie = region == RegionKind::Input
                && p.tie
                    .is_some_and(|t| super::tie::proves(st, t, o as i64, size));
            if lo < 0 && !by_tie {
                return bad(&format!("{name} offset may be negative ({lo})"));
            }
            // `p + range <= end` is a fact only for a range learned from a
            // test (or a length): range 0 is "nothing known", not `p <=
            // end`, so it proves nothing, not even an access before `p`.
            let range = p.range.max(p.sym_range(st.input_min));
            let by_range = range > 0 && o + size as i128 <= range as i128;
            if !(by_tie || by_range || hi <= min as i128) {
                return bad(&format!(
                    "{name} access up to {hi} not proven within the {name} (test it against the end first)"
                ));
            }
            if kind != Kind::Read && region == RegionKind::Input {
                if let Entry::Mem { writable: false } = step.conf.entry {
                    return bad("the input is read-only");
                }
            }
            Ok(Place::Other(region))
        }
        PtrKind::MapValue { size: len } | PtrKind::Record { size: len } => {
            let region = if matches!(p.kind, PtrKind::MapValue { .. }) {
                RegionKind::MapValue
            } else {
                RegionKind::HelperRegion
            };
            if fixed(len as u64) {
                Ok(Place::Other(region))
            } else {
                bad(&format!("access [{lo}, {hi}) outside the value [0, {len})"))
            }
        }
        PtrKind::MapValueOrNull { .. } | PtrKind::RecordOrNull { .. } => {
            bad("may be null (test it against 0 first)")
        }
        PtrKind::PacketEnd | PtrKind::InputEnd | PtrKind::PacketMeta => {
            bad("no access is allowed through this pointer")
        }
    }
}

/// A constant-address access inside a global-data region.
fn global(n: &Num, o: i16, size: u64, kind: Kind, step: &Step) -> Result<RegionKind, String> {
    let lo = n.umin as i128 + o as i128;
    let hi = n.umax as i128 + o as i128 + size as i128;
    let inside = step.conf.globals.iter().any(|g| {
        lo >= g.start as i128
            && hi <= g.start as i128 + g.len as i128
            && (kind == Kind::Read || g.writable)
            && (kind != Kind::Atomic || (n.is_const_aligned(o, size)))
    });
    if inside {
        Ok(RegionKind::MapValue)
    } else {
        Err(format!("base is a scalar ({n}), not a pointer"))
    }
}

impl Num {
    /// Whether the constant `self + o` is a multiple of `size`.
    fn is_const_aligned(&self, o: i16, size: u64) -> bool {
        self.as_const()
            .is_some_and(|c| c.wrapping_add(o as i64 as u64) % size == 0)
    }
}

/// Records the access verdict; a failed one is also an issue.
fn verdict(step: &mut Step, r: Result<&Place, String>) {
    match r {
        Ok(p) => {
            let region = match p {
                Place::Frame { .. } => RegionKind::Frame,
                Place::Ctx { .. } => RegionKind::Ctx,
                Place::Other(k) => *k,
            };
            step.access = Some(Ok(region));
        }
        Err(e) => {
            step.issue(ErrorKind::Access { reason: e.clone() });
            step.access = Some(Err(e));
        }
    }
}

/// Marks frame accesses of frames other than the running one.
fn frame_region(st: &State, p: &Place) -> Option<RegionKind> {
    match p {
        Place::Frame { frame, .. } if *frame != st.depth() => Some(RegionKind::CallerFrame),
        _ => None,
    }
}

/// `dst = *(size *)(src + off)` (sign-extending if `sx`).
pub(super) fn load(
    st: &mut State,
    size: Size,
    sx: bool,
    dst: Reg,
    src: Reg,
    off: i16,
    step: &mut Step,
) {
    let n = size.bytes();
    let at = place(st, src, off, n, Kind::Read, step);
    verdict(step, at.as_ref().map_err(Clone::clone));
    if let Ok(p) = &at {
        if let Some(k) = frame_region(st, p) {
            step.access = Some(Ok(k));
        }
    }
    let v = match at {
        Ok(Place::Frame { frame, lo, hi }) => frame_load(st, frame, lo, hi, n, step),
        Ok(Place::Ctx { lo, hi }) if lo == hi && n == 8 => ctx_pointer(st, lo, step),
        _ => Value::loaded(size),
    };
    let v = match v {
        Value::Scalar(s) if sx && n < 8 => Value::scalar(s.n.sext(8 * n as u32)),
        Value::Ptr(_) if sx || n < 8 => Value::loaded(size),
        v => v,
    };
    st.set(dst.index(), v);
}

/// A load from a frame: the spill there, an unknown scalar, or an issue if
/// some byte may be unwritten.
fn frame_load(st: &State, frame: usize, lo: i64, hi: i64, n: u64, step: &mut Step) -> Value {
    let stack = &st.frames[frame].stack;
    let v = if lo == hi {
        stack.load(lo, n)
    } else {
        stack
            .is_init(lo, hi + n as i64)
            .then(|| Value::loaded(super::state::size_of(n)))
    };
    v.unwrap_or_else(|| {
        step.issue(ErrorKind::Uninit {
            what: format!("stack [fp{frame}{lo:+}, size {n}]"),
        });
        Value::loaded(super::state::size_of(n))
    })
}

/// The pointer a context field holds, or an unknown scalar. A field is
/// trusted only inside a read-only region (the configuration guarantees
/// it; checked again here since a store could otherwise change it).
fn ctx_pointer(st: &mut State, off: i64, step: &Step) -> Value {
    let Entry::Ctx { pointers, regions } = &step.conf.entry else {
        return Value::UNKNOWN;
    };
    let (lo, hi) = (off as i128, off as i128 + 8);
    if !regions.iter().any(|g| !g.writable && g.holds(lo, hi)) {
        return Value::UNKNOWN;
    }
    match pointers.iter().find(|(o, _)| *o == off).map(|(_, k)| *k) {
        Some(CtxPtr::PacketData) => Value::Ptr(Ptr {
            id: st.fresh_id(),
            ..Ptr::at(PtrKind::Packet, 0)
        }),
        Some(CtxPtr::PacketEnd) => Value::Ptr(Ptr::at(PtrKind::PacketEnd, 0)),
        Some(CtxPtr::PacketMeta) => Value::Ptr(Ptr::at(PtrKind::PacketMeta, 0)),
        None => Value::UNKNOWN,
    }
}

/// `*(size *)(dst + off) = value`.
pub(super) fn store(st: &mut State, size: Size, dst: Reg, off: i16, value: Value, step: &mut Step) {
    let n = size.bytes();
    let at = place(st, dst, off, n, Kind::Write, step);
    verdict(step, at.as_ref().map_err(Clone::clone));
    match at {
        Ok(Place::Frame { frame, lo, hi }) => {
            if let Some(k) = frame_region(st, &Place::Frame { frame, lo, hi }) {
                step.access = Some(Ok(k));
            }
            let stack = &mut st.frames[frame].stack;
            if lo == hi {
                stack.store(lo, n, value);
            } else {
                stack.forget(lo, hi + n as i64);
            }
        }
        Ok(_) => {}
        // An unproven store may still land anywhere in the stack at run
        // time: no spill can be trusted afterwards.
        Err(_) => forget_all_spills(st),
    }
}

/// Forgets every spill of every frame.
pub(super) fn forget_all_spills(st: &mut State) {
    for f in &mut st.frames {
        f.stack.forget_all();
    }
}

/// Atomic read-modify-write (RFC 9669 §5.3).
#[allow(clippy::too_many_arguments)] // the instruction's fields, as for `load`
pub(super) fn atomic(
    st: &mut State,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    dst: Reg,
    src: Reg,
    off: i16,
    step: &mut Step,
) {
    let n = size.bytes();
    step.read(st, src.index());
    if op == AtomicOp::Cmpxchg {
        step.read(st, Reg::R0.index());
    }
    let at = place(st, dst, off, n, Kind::Atomic, step);
    verdict(step, at.as_ref().map_err(Clone::clone));
    match at {
        Ok(Place::Frame { frame, lo, hi }) => {
            if let Some(k) = frame_region(st, &Place::Frame { frame, lo, hi }) {
                step.access = Some(Ok(k));
            }
            if !st.frames[frame].stack.is_init(lo, hi + n as i64) {
                step.issue(ErrorKind::Uninit {
                    what: format!("stack [fp{frame}{lo:+}, size {n}]"),
                });
            }
            let stack = &mut st.frames[frame].stack;
            if lo == hi {
                stack.store(lo, n, Value::loaded(size));
            } else {
                stack.forget(lo, hi + n as i64);
            }
        }
        Ok(_) => {}
        Err(_) => forget_all_spills(st),
    }
    if let Some(r) = crate::sem::atomic_fetch_reg(op, fetch, src) {
        st.set(r.index(), Value::loaded(size));
    }
}
