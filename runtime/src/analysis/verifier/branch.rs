//! Transfer function of conditional jumps (RFC 9669 §4.3): each way out of
//! a jump gets the state refined by the condition holding (taken) or not
//! (fall-through), or no state when it cannot hold.
//!
//! What is learned:
//! - scalar against scalar: both ranges (and known bits for `jset`) narrow,
//!   and so does every scalar linked to them by id; `x < L` or `x <= L`
//!   against the input length gives `x + 1 <= L` / `x <= L`;
//! - a map lookup's result (or a ring-buffer reservation) against 0: null
//!   on one side (every copy becomes the scalar 0), a valid pointer on the
//!   other; a pointer that cannot be null is never equal to 0;
//! - a packet (input) pointer `p` against the end: where `p <= end` (or
//!   `p < end`) holds, every pointer sharing `p`'s id learns how many bytes
//!   lie before the end, and the packet's minimum length grows.
//!
//! A 32-bit compare refines only when the 32-bit and 64-bit comparisons
//! agree: both operands' upper halves are known zero (and, for signed
//! conditions, their bit 31 too).

use super::num::Num;
use super::state::{Ptr, PtrKind, Scalar, State, Value};
use super::step::Step;
use super::tnum::Tnum;
use crate::isa::insn::{JmpCond, Reg, Src, Width};
use crate::sem;

/// A relation `x rel y` that holds on one way out of a jump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rel {
    Eq,
    Ne,
    Lt { signed: bool },
    Le { signed: bool },
    Set,
    NotSet,
}

/// The relation holding when `cond` is `taken` (or not), and whether its
/// operands are swapped (`src rel dst`).
fn normalize(cond: JmpCond, taken: bool) -> (Rel, bool) {
    use JmpCond::*;
    let u = false;
    let s = true;
    match (cond, taken) {
        (Eq, true) | (Ne, false) => (Rel::Eq, false),
        (Ne, true) | (Eq, false) => (Rel::Ne, false),
        (Set, true) => (Rel::Set, false),
        (Set, false) => (Rel::NotSet, false),
        (Gt, true) | (Le, false) => (Rel::Lt { signed: u }, true),
        (Ge, true) | (Lt, false) => (Rel::Le { signed: u }, true),
        (Lt, true) | (Ge, false) => (Rel::Lt { signed: u }, false),
        (Le, true) | (Gt, false) => (Rel::Le { signed: u }, false),
        (Sgt, true) | (Sle, false) => (Rel::Lt { signed: s }, true),
        (Sge, true) | (Slt, false) => (Rel::Le { signed: s }, true),
        (Slt, true) | (Sge, false) => (Rel::Lt { signed: s }, false),
        (Sle, true) | (Sgt, false) => (Rel::Le { signed: s }, false),
    }
}

/// The states after `if dst cond src goto`: `(taken, fall-through)`.
pub(super) fn branch(
    st: &State,
    w: Width,
    cond: JmpCond,
    dst: Reg,
    src: Src,
    step: &mut Step,
) -> (Option<State>, Option<State>) {
    let a = step.read(st, dst.index());
    let (b, src_reg) = match src {
        // A 32-bit compare reads only the immediate's low half.
        Src::Imm(imm) if w == Width::W32 => (Value::scalar(Num::konst(imm as u32 as u64)), None),
        Src::Imm(imm) => (Value::scalar(Num::konst(sem::imm_operand(w, imm))), None),
        Src::Reg(r) => (step.read(st, r.index()), Some(r)),
    };
    if let (Value::Scalar(x), Value::Scalar(y)) = (a, b) {
        if let (Some(cx), Some(cy)) = (x.n.as_const(), y.n.as_const()) {
            let t = sem::jmp_taken(w, cond, cx, cy);
            return if t {
                (Some(st.clone()), None)
            } else {
                (None, Some(st.clone()))
            };
        }
    }
    let way = |taken: bool| {
        let (rel, swap) = normalize(cond, taken);
        let (x, xr, y, yr) = if swap {
            (b, src_reg, a, Some(dst))
        } else {
            (a, Some(dst), b, src_reg)
        };
        refine(st, w, rel, (x, xr), (y, yr))
    };
    (way(true), way(false))
}

/// `st` with `x rel y` assumed, or `None` if it cannot hold.
fn refine(
    st: &State,
    w: Width,
    rel: Rel,
    (x, xr): (Value, Option<Reg>),
    (y, yr): (Value, Option<Reg>),
) -> Option<State> {
    let mut out = st.clone();
    match (x, y) {
        (Value::Scalar(a), Value::Scalar(b)) => {
            let (na, nb) = refine_nums(w, rel, &a.n, &b.n)?;
            let mut a2 = Scalar { n: na, ..a };
            let b2 = Scalar { n: nb, ..b };
            if w == Width::W64 && b.is_len {
                let lim = match rel {
                    Rel::Lt { signed: false } => Some(1),
                    Rel::Le { signed: false } | Rel::Eq => Some(0),
                    _ => None,
                };
                a2.lim = lim.max(a.lim);
            }
            if let (Width::W64, Some(t)) = (w, b.frac) {
                // x < L >> t (or <=, ==): x + 1 (or 0) <= L >> t.
                let c = match rel {
                    Rel::Lt { signed: false } => Some(1),
                    Rel::Le { signed: false } | Rel::Eq => Some(0),
                    _ => None,
                };
                if let Some(c) = c {
                    let old = a.flim.filter(|f| f.0 == t).map(|f| f.1);
                    a2.flim = Some((t, c.max(old.unwrap_or(0))));
                }
            }
            // A refined length is a minimum input length, and so is a
            // refined fraction of it (`L >> t >= m` gives `L >= m << t`).
            for s in [&a2, &b2] {
                if s.is_len {
                    out.input_min = out.input_min.max(s.n.umin);
                }
                if let Some(t) = s.frac {
                    if s.n.umin.leading_zeros() >= t as u32 {
                        out.input_min = out.input_min.max(s.n.umin << t);
                    }
                }
            }
            write_scalar(&mut out, xr, a, a2);
            write_scalar(&mut out, yr, b, b2);
            Some(out)
        }
        (Value::Ptr(p), Value::Scalar(s)) | (Value::Scalar(s), Value::Ptr(p)) => {
            let zero = s.n.as_const() == Some(0) && w == Width::W64;
            let preg = if matches!(x, Value::Ptr(_)) { xr } else { yr };
            match rel {
                Rel::Eq | Rel::Ne if zero => null_test(out, p, preg, rel == Rel::Eq),
                _ => Some(out),
            }
        }
        (Value::Ptr(p), Value::Ptr(q)) if w == Width::W64 => {
            let extra = match rel {
                Rel::Lt { signed: false } => Some(1),
                Rel::Le { signed: false } | Rel::Eq => Some(0),
                _ => None,
            };
            let end_of = |k: PtrKind| match k {
                PtrKind::Packet => Some(PtrKind::PacketEnd),
                PtrKind::Input => Some(PtrKind::InputEnd),
                _ => None,
            };
            if let (Some(extra), Some(end)) = (extra, end_of(p.kind)) {
                if q.kind == end {
                    learn_range(&mut out, &p, xr, extra);
                }
            }
            Some(out)
        }
        _ => Some(out),
    }
}

/// Refines two numbers by `x rel y` (for 32-bit compares, only when the
/// 64-bit relation is the same; see the module docs).
fn refine_nums(w: Width, rel: Rel, x: &Num, y: &Num) -> Option<(Num, Num)> {
    if w == Width::W32 {
        let fits = x.umax <= u32::MAX as u64 && y.umax <= u32::MAX as u64;
        let signed = matches!(rel, Rel::Lt { signed: true } | Rel::Le { signed: true });
        let fits_signed = x.umax < 1 << 31 && y.umax < 1 << 31;
        let low_bits = matches!(rel, Rel::Set | Rel::NotSet) && y.umax <= u32::MAX as u64;
        if !(low_bits || (fits && (!signed || fits_signed))) {
            return Some((*x, *y));
        }
    }
    refine64(rel, x, y)
}

/// `x rel y` on 64-bit values.
fn refine64(rel: Rel, x: &Num, y: &Num) -> Option<(Num, Num)> {
    let mut x = *x;
    let mut y = *y;
    match rel {
        Rel::Eq => {
            let z = x.intersect(&y)?;
            return Some((z, z));
        }
        Rel::Ne => {
            if let Some(c) = y.as_const() {
                x = exclude(&x, c)?;
            }
            if let Some(c) = x.as_const() {
                y = exclude(&y, c)?;
            }
        }
        Rel::Lt { signed: false } => {
            x.umax = x.umax.min(y.umax.checked_sub(1)?);
            y.umin = y.umin.max(x.umin.checked_add(1)?);
        }
        Rel::Le { signed: false } => {
            x.umax = x.umax.min(y.umax);
            y.umin = y.umin.max(x.umin);
        }
        Rel::Lt { signed: true } => {
            x.smax = x.smax.min(y.smax.checked_sub(1)?);
            y.smin = y.smin.max(x.smin.checked_add(1)?);
        }
        Rel::Le { signed: true } => {
            x.smax = x.smax.min(y.smax);
            y.smin = y.smin.max(x.smin);
        }
        Rel::Set => {
            if let Some(c) = y.as_const() {
                if (x.t.value | x.t.mask) & c == 0 {
                    return None;
                }
                if c.is_power_of_two() {
                    x.t = Tnum {
                        value: x.t.value | c,
                        mask: x.t.mask & !c,
                    };
                }
            }
        }
        Rel::NotSet => {
            if let Some(c) = y.as_const() {
                if x.t.value & c != 0 {
                    return None;
                }
                x.t = Tnum {
                    value: x.t.value & !c,
                    mask: x.t.mask & !c,
                };
            }
        }
    }
    Some((x.synced()?, y.synced()?))
}

/// `x` without the value `c` (only its bounds can move).
fn exclude(x: &Num, c: u64) -> Option<Num> {
    if x.as_const() == Some(c) {
        return None;
    }
    let mut x = *x;
    if x.umin == c {
        x.umin += 1;
    }
    if x.umax == c {
        x.umax -= 1;
    }
    if x.smin == c as i64 {
        x.smin += 1;
    }
    if x.smax == c as i64 {
        x.smax -= 1;
    }
    x.synced()
}

/// Writes a refined scalar to its register and to every scalar linked to
/// it by id.
fn write_scalar(st: &mut State, r: Option<Reg>, old: Scalar, new: Scalar) {
    if old.id != 0 {
        st.for_each_value(|v| {
            if let Value::Scalar(s) = v {
                if s.id == old.id {
                    // Each keeps its own tie (a copy holds none).
                    *s = Scalar { tie: s.tie, ..new };
                }
            }
        });
    }
    if let Some(r) = r {
        st.set(r.index(), Value::Scalar(new));
    }
}

/// The way out where `p == 0` (`null`) or `p != 0` holds.
fn null_test(mut st: State, p: Ptr, r: Option<Reg>, null: bool) -> Option<State> {
    let valid = match p.kind {
        PtrKind::MapValueOrNull { size } => PtrKind::MapValue { size },
        PtrKind::RecordOrNull { size } => PtrKind::Record { size },
        // Every other pointer is a host address, never 0.
        _ => return if null { None } else { Some(st) },
    };
    let fix = |q: &Ptr| {
        if null {
            Value::scalar(Num::konst(0))
        } else {
            Value::Ptr(Ptr {
                kind: valid,
                id: 0,
                ..*q
            })
        }
    };
    if p.id != 0 {
        st.for_each_value(|v| {
            if let Value::Ptr(q) = v {
                if q.kind == p.kind && q.id == p.id {
                    *v = fix(q);
                }
            }
        });
    }
    if let Some(r) = r {
        if st.reg(r.index()) == Value::Ptr(p) {
            st.set(r.index(), fix(&p));
        }
    }
    Some(st)
}

/// `p + extra <= end` holds: pointers sharing `p`'s variable part learn
/// their distance to the end, and the region's minimum length grows.
fn learn_range(st: &mut State, p: &Ptr, r: Option<Reg>, extra: i64) {
    let need = p.k as i128 + extra as i128;
    let update = |q: &mut Ptr| {
        let d = need - q.k as i128;
        if d > 0 {
            q.range = q.range.max(d.min(u64::MAX as i128) as u64);
        }
    };
    if p.id != 0 {
        st.for_each_value(|v| {
            if let Value::Ptr(q) = v {
                if q.kind == p.kind && q.id == p.id {
                    update(q);
                }
            }
        });
    } else if let Some(r) = r {
        if let Value::Ptr(mut q) = st.reg(r.index()) {
            if q == *p {
                update(&mut q);
                st.set(r.index(), Value::Ptr(q));
            }
        }
    }
    if p.off.smin >= 0 {
        let min = p.off.umin.saturating_add(extra as u64);
        match p.kind {
            PtrKind::Packet => st.pkt_min = st.pkt_min.max(min),
            _ => st.input_min = st.input_min.max(min),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::verifier::config::VerifyConfig;

    fn both(
        st: &State,
        w: Width,
        cond: JmpCond,
        dst: u8,
        src: Src,
    ) -> (Option<State>, Option<State>) {
        let conf = VerifyConfig::mem();
        let mut step = Step::new(&conf);
        branch(st, w, cond, Reg::new(dst).unwrap(), src, &mut step)
    }

    fn num(st: &State, r: usize) -> Num {
        match st.reg(r) {
            Value::Scalar(s) => s.n,
            v => panic!("r{r} is {v}"),
        }
    }

    #[test]
    fn jgt_refines_both_ways() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(1, Value::scalar(Num::urange(0, 100)));
        let (t, f) = both(&st, Width::W64, JmpCond::Gt, 1, Src::Imm(10));
        let (t, f) = (t.unwrap(), f.unwrap());
        assert_eq!((num(&t, 1).umin, num(&t, 1).umax), (11, 100));
        assert_eq!((num(&f, 1).umin, num(&f, 1).umax), (0, 10));
    }

    #[test]
    fn jslt_refines_signed_and_kills_impossible_ways() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(1, Value::scalar(Num::srange(-5, 5)));
        let (t, f) = both(&st, Width::W64, JmpCond::Slt, 1, Src::Imm(0));
        assert_eq!((num(&t.unwrap(), 1).smin, 0), (-5, 0));
        assert_eq!(num(&f.unwrap(), 1).smin, 0);
        st.set(1, Value::scalar(Num::urange(20, 30)));
        let (t, f) = both(&st, Width::W64, JmpCond::Gt, 1, Src::Imm(10));
        assert!(t.is_some() && f.is_none());
    }

    #[test]
    fn jeq_null_test_on_lookup_result() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        let p = Ptr {
            id: 7,
            ..Ptr::at(PtrKind::MapValueOrNull { size: 8 }, 0)
        };
        st.set(0, Value::Ptr(p));
        st.set(6, Value::Ptr(p));
        let (null, valid) = both(&st, Width::W64, JmpCond::Eq, 0, Src::Imm(0));
        let (null, valid) = (null.unwrap(), valid.unwrap());
        assert_eq!(null.reg(6), Value::scalar(Num::konst(0)));
        assert!(matches!(
            valid.reg(6),
            Value::Ptr(Ptr {
                kind: PtrKind::MapValue { size: 8 },
                ..
            })
        ));
    }

    #[test]
    fn packet_bounds_idiom_learns_range() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        let data = Ptr {
            id: 3,
            ..Ptr::at(PtrKind::Packet, 0)
        };
        let data14 = Ptr {
            off: Num::konst(14),
            k: 14,
            ..data
        };
        st.set(1, Value::Ptr(data));
        st.set(2, Value::Ptr(data14));
        st.set(3, Value::Ptr(Ptr::at(PtrKind::PacketEnd, 0)));
        // if r2 > r3 goto out: the fall-through has 14 bytes.
        let (t, f) = both(&st, Width::W64, JmpCond::Gt, 2, Src::Reg(Reg::R3));
        let (t, f) = (t.unwrap(), f.unwrap());
        assert_eq!(t.pkt_min, 0);
        assert_eq!(f.pkt_min, 14);
        let Value::Ptr(r1) = f.reg(1) else { panic!() };
        assert_eq!(r1.range, 14);
    }

    #[test]
    fn jmp32_refines_only_when_halves_agree() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(1, Value::scalar(Num::urange(0, 1000)));
        let (t, _) = both(&st, Width::W32, JmpCond::Lt, 1, Src::Imm(10));
        assert_eq!(num(&t.unwrap(), 1).umax, 9);
        st.set(1, Value::UNKNOWN);
        let (t, _) = both(&st, Width::W32, JmpCond::Lt, 1, Src::Imm(10));
        assert_eq!(num(&t.unwrap(), 1), Num::UNKNOWN);
    }

    #[test]
    fn compare_with_length_links_the_index() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(
            2,
            Value::Scalar(Scalar {
                is_len: true,
                ..Scalar::of(Num::UNKNOWN)
            }),
        );
        st.set(3, Value::scalar(Num::urange(0, 50)));
        // if r3 >= r2 goto out: the fall-through has r3 + 1 <= L.
        let (_, f) = both(&st, Width::W64, JmpCond::Ge, 3, Src::Reg(Reg::R2));
        let Value::Scalar(s) = f.unwrap().reg(3) else {
            panic!()
        };
        assert_eq!(s.lim, Some(1));
    }
}
