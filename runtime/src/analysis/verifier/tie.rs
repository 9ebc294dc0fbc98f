//! Ties: an input pointer that strides in step with a loop counter, as
//! compiled C walks `p + i * 64` by adding 64 to a pointer while `i` counts
//! to `L / 64` (a relation no interval holds, and one the loop test on `i`
//! must reach the pointer through).
//!
//! A [`Tie`] on a pointer says `off = (x << t) + b` with `b` in `[lo, hi]`,
//! where `x` is the value of the one scalar holding the tie's id
//! ([`Scalar::tie`]). The rules that keep it true:
//! - only [`discover`] creates one, where the fallback joins two states in
//!   which the pointer's offset and the counter are constants on a line of
//!   slope `1 << t` (or one side is tied and the other a constant point on
//!   the line);
//! - the holder is unique: copies of it (`mov`, spills, id-linked scalars)
//!   do not carry the id; adding a constant to the holder (no wrap) keeps
//!   it and moves every tied base the other way; any other write ends it,
//!   which leaves the ties with no holder, proving nothing;
//! - adding a constant or a bounded scalar to a tied pointer moves its
//!   bases; a join keeps a tie only where both sides' holders sit in the
//!   same register.
//!
//! An access through a tied pointer is proven in bounds when the holder has
//! `x + c <= L >> s` with `t <= s`: then `off <= L - (c << t) + hi`.

use super::state::{Combine, Ptr, PtrKind, Scalar, State, Tie, Value};

/// The register of frame `f` holding tie `id` in `regs`, if exactly one.
fn holder(regs: &[Value; 11], id: u32) -> Option<usize> {
    let mut found = None;
    for (r, v) in regs.iter().enumerate() {
        if let Value::Scalar(s) = v {
            if s.tie == id {
                if found.is_some() {
                    return None;
                }
                found = Some(r);
            }
        }
    }
    found
}

/// The constant of a scalar, as a non-negative i64.
fn konst(v: &Value) -> Option<i64> {
    match v {
        Value::Scalar(s) => {
            s.n.as_const()
                .filter(|&c| c <= i32::MAX as u64)
                .map(|c| c as i64)
        }
        _ => None,
    }
}

/// An input pointer's constant offset range (`None` if it may wrap).
fn input_off(v: &Value) -> Option<(Ptr, i64, i64)> {
    match v {
        Value::Ptr(p) if p.kind == PtrKind::Input => Some((*p, p.off.smin, p.off.smax)),
        _ => None,
    }
}

/// After a join of frames `a` and `b` into frame `f` of `out`: validates the
/// ties the per-value join kept (same holder register on both sides) and
/// discovers new ones (see the module docs; never while widening, so that
/// ties only ever end or stay as they are from then on).
pub(super) fn discover(out: &mut State, f: usize, a: &[Value; 11], b: &[Value; 11], how: Combine) {
    // Keep a joined tie only if both sides' holders are one register.
    let regs = out.frames[f].regs;
    for (r, v) in regs.iter().enumerate() {
        if let Value::Ptr(Ptr { tie: Some(t), .. }) = v {
            let h = holder(a, t.id);
            if h.is_none() || h != holder(b, t.id) || holder(&regs, t.id) != h {
                set_tie(out, f, r, None);
            }
        }
    }
    if how == Combine::Widen {
        return;
    }
    // Counters the loop test bounded first, then any scalar.
    for pass in [true, false] {
        for p in 0..11 {
            for x in 0..11 {
                let bounded = matches!(out.frames[f].regs[x], Value::Scalar(s) if s.flim.is_some() || s.lim.is_some());
                if p != x && bounded == pass {
                    try_pair(out, f, (p, x), a, b);
                }
            }
        }
    }
}

fn set_tie(out: &mut State, f: usize, r: usize, tie: Option<Tie>) {
    if let Value::Ptr(p) = &mut out.frames[f].regs[r] {
        p.tie = tie;
    }
}

fn set_holder(out: &mut State, f: usize, r: usize, id: u32) {
    if let Value::Scalar(s) = &mut out.frames[f].regs[r] {
        s.tie = id;
    }
}

/// Pointer register `p` and counter register `x` of frame `f`.
fn try_pair(out: &mut State, f: usize, (p, x): (usize, usize), a: &[Value; 11], b: &[Value; 11]) {
    let (Value::Ptr(op), Value::Scalar(ox)) = (out.frames[f].regs[p], out.frames[f].regs[x]) else {
        return;
    };
    if op.tie.is_some() || op.kind != PtrKind::Input {
        return;
    }
    let (Some((pa, pa_lo, pa_hi)), Some((pb, pb_lo, pb_hi))) = (input_off(&a[p]), input_off(&b[p]))
    else {
        return;
    };
    // One side tied to its counter in `x`, the other a point on the line.
    for (tied, side, point_lo, point_hi, point_x) in
        [(pa, a, pb_lo, pb_hi, &b[x]), (pb, b, pa_lo, pa_hi, &a[x])]
    {
        let (Some(t), Value::Scalar(Scalar { tie: id, .. })) = (tied.tie, &side[x]) else {
            continue;
        };
        if *id != t.id || holder(side, t.id) != Some(x) || (ox.tie != 0 && ox.tie != t.id) {
            continue;
        }
        let Some(v) = konst(point_x) else { continue };
        let Some(step) = v.checked_shl(t.t as u32) else {
            continue;
        };
        let (Some(lo), Some(hi)) = (point_lo.checked_sub(step), point_hi.checked_sub(step)) else {
            continue;
        };
        let tie = Tie {
            lo: t.lo.min(lo),
            hi: t.hi.max(hi),
            ..t
        };
        set_tie(out, f, p, Some(tie));
        set_holder(out, f, x, t.id);
        return;
    }
    // Two points: both offsets and both counters constant.
    if pa.tie.is_some() || pb.tie.is_some() || ox.tie != 0 || pa_lo != pa_hi || pb_lo != pb_hi {
        return;
    }
    let (Some(va), Some(vb)) = (konst(&a[x]), konst(&b[x])) else {
        return;
    };
    let (dv, doff) = (vb as i128 - va as i128, pb_lo as i128 - pa_lo as i128);
    if dv == 0 || doff % dv != 0 {
        return;
    }
    let slope = doff / dv;
    if slope <= 0 || (slope as u128).count_ones() != 1 || slope > 1 << 32 {
        return;
    }
    let t = slope.trailing_zeros() as u8;
    let base = pa_lo as i128 - slope * va as i128;
    let Ok(base) = i64::try_from(base) else {
        return;
    };
    let id = out.fresh_id();
    set_tie(
        out,
        f,
        p,
        Some(Tie {
            id,
            t,
            lo: base,
            hi: base,
        }),
    );
    set_holder(out, f, x, id);
}

/// Whether exactly one value of `st` (any frame) holds tie `id`.
pub(super) fn sole_holder(st: &State, id: u32) -> bool {
    let holders: usize = st
        .frames
        .iter()
        .map(|f| {
            f.regs
                .iter()
                .filter(|v| matches!(v, Value::Scalar(s) if s.tie == id))
                .count()
        })
        .sum();
    holders == 1
}

/// `holder += k` (`sub`: `-= k`) kept the tie: every pointer tied to `id`
/// moves its bases the other way (`None` from `moved`: the tie ends).
pub(super) fn counter_moved(st: &mut State, id: u32, k: u64, sub: bool) {
    st.for_each_value(|v| {
        if let Value::Ptr(p) = v {
            if let Some(t) = p.tie.filter(|t| t.id == id) {
                let d = (k as i64)
                    .checked_shl(t.t as u32)
                    .filter(|d| d >> t.t == k as i64 && k <= i32::MAX as u64);
                p.tie = d.and_then(|d| if sub { t.moved(d, d) } else { t.moved(-d, -d) });
            }
        }
    });
}

/// Whether tied pointer access `[off + o, off + o + size)` is inside the
/// input (see the module docs).
pub(super) fn proves(st: &State, tie: Tie, o: i64, size: u64) -> bool {
    let Some(r) = holder(&st.cur().regs, tie.id) else {
        return false;
    };
    let Value::Scalar(x) = st.cur().regs[r] else {
        return false;
    };
    if tie.lo.checked_add(o).is_none_or(|lo| lo < 0) {
        return false;
    }
    let t = tie.t as u32;
    // Bytes guaranteed between `(x << t)` and L.
    let from_flim = x
        .flim
        .filter(|&(s, _)| t <= s as u32)
        .and_then(|(_, c)| c.checked_shl(t).filter(|v| v >> t == c));
    let from_lim = x.lim.filter(|_| t == 0);
    let end = tie.hi as i128 + o as i128 + size as i128;
    let by_room = from_flim
        .max(from_lim)
        .is_some_and(|room| end <= room as i128);
    // Or `(x.umax << t) + hi + o + size <= input_min`.
    let by_min = (x.n.umax as i128) < (1i128 << 62 >> t)
        && ((x.n.umax as i128) << t) + end <= st.input_min as i128;
    by_room || by_min
}
