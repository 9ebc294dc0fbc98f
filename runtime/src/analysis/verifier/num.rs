//! [`Num`]: what is known about a 64-bit value: its known bits ([`Tnum`])
//! and its unsigned and signed ranges, kept consistent with each other.
//!
//! Every operator over-approximates: for concrete `a ∈ γ(A)` and
//! `b ∈ γ(B)`, `f(a, b) ∈ γ(f#(A, B))` where `f` is the RFC 9669 rule
//! (`sem::alu`). Any view that might wrap is widened to its full range; the
//! other views and the tnum then tighten it again in [`Num::sync`].
//!
//! 32-bit ALU forms are computed as "prepare the operands (low 32 bits,
//! sign-extended where the op is signed), apply the 64-bit operator, keep
//! the low 32 bits": the low 32 bits of a 64-bit add/sub/mul/and/or/xor/lsh
//! are the 32-bit result, and the prepared operands make rsh/arsh/div/mod
//! agree too.

use super::tnum::Tnum;
use crate::isa::insn::{AluOp, Width};
use crate::sem;

/// A set of 64-bit values (see the module docs). Invariant after
/// [`Num::sync`]: the set is non-empty and each view is consistent with the
/// others as far as the deduction rules reach.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Num {
    /// Known bits.
    pub t: Tnum,
    /// Unsigned minimum.
    pub umin: u64,
    /// Unsigned maximum.
    pub umax: u64,
    /// Signed minimum.
    pub smin: i64,
    /// Signed maximum.
    pub smax: i64,
}

impl Num {
    /// Every value.
    pub const UNKNOWN: Num = Num {
        t: Tnum::UNKNOWN,
        umin: 0,
        umax: u64::MAX,
        smin: i64::MIN,
        smax: i64::MAX,
    };

    /// Exactly `v`.
    pub const fn konst(v: u64) -> Num {
        Num {
            t: Tnum::konst(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
        }
    }

    /// The unsigned range `[min, max]` (unknown if empty).
    pub fn urange(min: u64, max: u64) -> Num {
        Num {
            umin: min,
            umax: max,
            ..Num::UNKNOWN
        }
        .synced()
        .unwrap_or(Num::UNKNOWN)
    }

    /// The signed range `[min, max]` (unknown if empty).
    pub fn srange(min: i64, max: i64) -> Num {
        Num {
            smin: min,
            smax: max,
            ..Num::UNKNOWN
        }
        .synced()
        .unwrap_or(Num::UNKNOWN)
    }

    /// The value, if known.
    pub fn as_const(&self) -> Option<u64> {
        self.t.is_const().then_some(self.t.value)
    }

    /// Whether `x` is a member (every view admits it).
    pub fn contains(&self, x: u64) -> bool {
        self.t.contains(x)
            && self.umin <= x
            && x <= self.umax
            && self.smin <= x as i64
            && x as i64 <= self.smax
    }

    /// Whether every member of `self` is a member of `other` (each view is
    /// contained in the same view of `other`).
    pub fn is_subset_of(&self, other: &Num) -> bool {
        self.t.is_subset_of(other.t)
            && other.umin <= self.umin
            && self.umax <= other.umax
            && other.smin <= self.smin
            && self.smax <= other.smax
    }

    /// The values both admit, or `None` if there are none.
    pub fn intersect(&self, o: &Num) -> Option<Num> {
        Num {
            t: self.t.intersect(o.t)?,
            umin: self.umin.max(o.umin),
            umax: self.umax.min(o.umax),
            smin: self.smin.max(o.smin),
            smax: self.smax.min(o.smax),
        }
        .synced()
    }

    /// Tightens the views against each other; `None` if no value is left.
    pub fn synced(mut self) -> Option<Num> {
        for _ in 0..2 {
            // Known bits bound both ranges.
            self.umin = self.umin.max(self.t.umin());
            self.umax = self.umax.min(self.t.umax());
            let sign = 1u64 << 63;
            let (tsmin, tsmax) = if self.t.mask & sign == 0 {
                (self.t.value as i64, (self.t.value | self.t.mask) as i64)
            } else {
                (
                    (self.t.value | sign) as i64,
                    ((self.t.value | self.t.mask) & !sign) as i64,
                )
            };
            self.smin = self.smin.max(tsmin);
            self.smax = self.smax.min(tsmax);
            // An unsigned range within one sign half is a signed range, and
            // a signed range of one sign is an unsigned range.
            if (self.umin as i64) <= (self.umax as i64) {
                self.smin = self.smin.max(self.umin as i64);
                self.smax = self.smax.min(self.umax as i64);
            }
            if self.smin >= 0 || self.smax < 0 {
                self.umin = self.umin.max(self.smin as u64);
                self.umax = self.umax.min(self.smax as u64);
            }
            if self.umin > self.umax || self.smin > self.smax {
                return None;
            }
            self.t = self.t.intersect(Tnum::range(self.umin, self.umax))?;
        }
        if self.umin > self.umax || self.smin > self.smax {
            return None;
        }
        Some(self)
    }

    /// [`Num::synced`] for values known to be non-empty (results of
    /// operators); an (impossible) empty result falls back to unknown.
    fn sync(self) -> Num {
        self.synced().unwrap_or(Num::UNKNOWN)
    }

    /// Both sets, and anything between (for reports; the verifier itself
    /// never joins).
    pub fn union(&self, o: &Num) -> Num {
        Num {
            t: self.t.union(o.t),
            umin: self.umin.min(o.umin),
            umax: self.umax.max(o.umax),
            smin: self.smin.min(o.smin),
            smax: self.smax.max(o.smax),
        }
        .sync()
    }

    /// The low 32 bits, zero-extended.
    pub fn trunc32(&self) -> Num {
        let t = self.t.trunc32();
        let (umin, umax) = if self.umin >> 32 == self.umax >> 32 {
            (self.umin & 0xffff_ffff, self.umax & 0xffff_ffff)
        } else {
            (0, 0xffff_ffff)
        };
        Num {
            t,
            umin,
            umax,
            smin: 0,
            smax: 0xffff_ffff,
        }
        .sync()
    }

    /// The low `bits` bits, sign-extended (`bits` in 8, 16, 32).
    pub fn sext(&self, bits: u32) -> Num {
        let half = 1i64 << (bits - 1);
        let low = (1u64 << bits) - 1;
        // If the value already fits the signed range, it is unchanged.
        if self.smin >= -half && self.smax < half {
            return *self;
        }
        // If its low bits lie in the positive half, sign extension is the
        // truncation.
        let trunc = Num {
            t: Tnum {
                value: self.t.value & low,
                mask: self.t.mask & low,
            },
            ..Num::urange(0, low)
        }
        .sync();
        Num {
            t: self.t.sext(bits),
            ..Num::srange(-half, half - 1)
        }
        .intersect(&Num::srange(-half, half - 1))
        .map(|n| if trunc.umax < half as u64 { trunc } else { n })
        .unwrap_or(Num::srange(-half, half - 1))
    }

    /// `a + b` (64-bit, wrapping).
    pub fn add(&self, b: &Num) -> Num {
        let (umin, umax) = match (self.umin.checked_add(b.umin), self.umax.checked_add(b.umax)) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (0, u64::MAX),
        };
        let (smin, smax) = match (self.smin.checked_add(b.smin), self.smax.checked_add(b.smax)) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (i64::MIN, i64::MAX),
        };
        Num {
            t: self.t.plus(b.t),
            umin,
            umax,
            smin,
            smax,
        }
        .sync()
    }

    /// `a - b` (64-bit, wrapping).
    pub fn sub(&self, b: &Num) -> Num {
        let (umin, umax) = if self.umin >= b.umax {
            (self.umin - b.umax, self.umax - b.umin)
        } else {
            (0, u64::MAX)
        };
        let (smin, smax) = match (self.smin.checked_sub(b.smax), self.smax.checked_sub(b.smin)) {
            (Some(lo), Some(hi)) => (lo, hi),
            _ => (i64::MIN, i64::MAX),
        };
        Num {
            t: self.t.minus(b.t),
            umin,
            umax,
            smin,
            smax,
        }
        .sync()
    }

    /// `a * b` (64-bit, wrapping).
    pub fn mul(&self, b: &Num) -> Num {
        let (umin, umax) = match self.umax.checked_mul(b.umax) {
            Some(hi) => (self.umin * b.umin, hi),
            None => (0, u64::MAX),
        };
        Num {
            t: self.t.times(b.t),
            umin,
            umax,
            ..Num::UNKNOWN
        }
        .sync()
    }

    /// `a & b`.
    pub fn and(&self, b: &Num) -> Num {
        let mut r = Num {
            t: self.t.and(b.t),
            umin: 0,
            umax: self.umax.min(b.umax),
            ..Num::UNKNOWN
        };
        if self.smin >= 0 || b.smin >= 0 {
            r.smin = 0;
        }
        r.sync()
    }

    /// `a | b`.
    pub fn or(&self, b: &Num) -> Num {
        Num {
            t: self.t.or(b.t),
            umin: self.umin.max(b.umin),
            ..Num::UNKNOWN
        }
        .sync()
    }

    /// `a ^ b`.
    pub fn xor(&self, b: &Num) -> Num {
        Num {
            t: self.t.xor(b.t),
            ..Num::UNKNOWN
        }
        .sync()
    }

    /// `a << (b & 63)`.
    pub fn lsh(&self, b: &Num) -> Num {
        let Some(k) = b.as_const().map(|k| (k & 63) as u32) else {
            return Num::UNKNOWN;
        };
        let (umin, umax) = if self.umax.leading_zeros() >= k {
            (self.umin << k, self.umax << k)
        } else {
            (0, u64::MAX)
        };
        Num {
            t: self.t.lsh(k),
            umin,
            umax,
            ..Num::UNKNOWN
        }
        .sync()
    }

    /// `a >> (b & 63)`, logical.
    pub fn rsh(&self, b: &Num) -> Num {
        match b.as_const().map(|k| (k & 63) as u32) {
            Some(k) => Num {
                t: self.t.rsh(k),
                umin: self.umin >> k,
                umax: self.umax >> k,
                ..Num::UNKNOWN
            }
            .sync(),
            // Any shift only shrinks the value.
            None => Num::urange(0, self.umax),
        }
    }

    /// `a >> (b & 63)`, arithmetic.
    pub fn arsh(&self, b: &Num) -> Num {
        let Some(k) = b.as_const().map(|k| (k & 63) as u32) else {
            return Num::srange(self.smin.min(0), self.smax.max(0));
        };
        Num {
            t: self.t.arsh(k),
            smin: self.smin >> k,
            smax: self.smax >> k,
            ..Num::UNKNOWN
        }
        .sync()
    }

    /// `a / b` unsigned, with `x / 0 = 0`.
    pub fn div(&self, b: &Num) -> Num {
        match self.umax.checked_div(b.umin) {
            // b >= b.umin > 0: a / b lies in [a.umin / b.umax, a.umax / b.umin].
            Some(hi) => Num::urange(self.umin / b.umax, hi),
            // b may be 0 (x / 0 = 0): the quotient is at most a.
            None => Num::urange(0, self.umax),
        }
    }

    /// `a % b` unsigned, with `x % 0 = x`.
    pub fn umod(&self, b: &Num) -> Num {
        if b.umin > 0 {
            Num::urange(0, self.umax.min(b.umax - 1))
        } else {
            Num::urange(0, self.umax)
        }
    }

    /// The RFC 9669 ALU rule `op` of width `w` (§4.1) on abstract values.
    /// Constant operands fold through `sem::alu`, the one definition.
    pub fn alu(w: Width, op: AluOp, a: &Num, b: &Num) -> Num {
        if let (Some(x), Some(y)) = (a.as_const(), b.as_const()) {
            return Num::konst(sem::alu(w, op, x, y));
        }
        if op == AluOp::Mov {
            return match w {
                Width::W64 => *b,
                Width::W32 => b.trunc32(),
            };
        }
        match w {
            Width::W64 => Num::alu64(op, a, b),
            Width::W32 => {
                let signed = matches!(op, AluOp::Arsh | AluOp::Sdiv | AluOp::Smod);
                let prep = |n: &Num| {
                    if signed {
                        n.trunc32().sext(32)
                    } else {
                        n.trunc32()
                    }
                };
                let b32 = match op {
                    AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => b.and(&Num::konst(31)),
                    _ => prep(b),
                };
                Num::alu64(op, &prep(a), &b32).trunc32()
            }
        }
    }

    /// The 64-bit operators (constants already folded).
    fn alu64(op: AluOp, a: &Num, b: &Num) -> Num {
        match op {
            AluOp::Add => a.add(b),
            AluOp::Sub => a.sub(b),
            AluOp::Mul => a.mul(b),
            AluOp::Div => a.div(b),
            AluOp::Mod => a.umod(b),
            AluOp::Or => a.or(b),
            AluOp::And => a.and(b),
            AluOp::Xor => a.xor(b),
            AluOp::Lsh => a.lsh(b),
            AluOp::Rsh => a.rsh(b),
            AluOp::Arsh => a.arsh(b),
            AluOp::Mov => *b,
            AluOp::Sdiv | AluOp::Smod => Num::UNKNOWN,
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(c) = self.as_const() {
            return write!(f, "{}", c as i64);
        }
        let mut parts = Vec::new();
        if self.umin != 0 || self.umax != u64::MAX {
            parts.push(format!("umin={},umax={}", self.umin, self.umax));
        }
        if self.smin != i64::MIN || self.smax != i64::MAX {
            parts.push(format!("smin={},smax={}", self.smin, self.smax));
        }
        if self.t.mask != u64::MAX {
            parts.push(format!("var_off={}", self.t));
        }
        if parts.is_empty() {
            write!(f, "?")
        } else {
            write!(f, "{}", parts.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small sets to check operators against: each with the concrete
    /// members it stands for (all within a window the test enumerates).
    fn samples() -> Vec<(Num, Vec<u64>)> {
        let window: Vec<u64> = (0..40u64)
            .chain((0..8).map(|i| u64::MAX - i))
            .chain([0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x1_0000_0000])
            .chain([i64::MAX as u64, i64::MIN as u64])
            .collect();
        let sets = [
            Num::konst(0),
            Num::konst(7),
            Num::konst(u64::MAX),
            Num::urange(0, 15),
            Num::urange(3, 9),
            Num::srange(-4, 4),
            Num::urange(0x7fff_ffff, 0x1_0000_0000),
            Num {
                t: Tnum {
                    value: 0,
                    mask: 0x1c,
                },
                ..Num::UNKNOWN
            }
            .synced()
            .unwrap(),
            Num::UNKNOWN,
        ];
        sets.iter()
            .map(|n| {
                (
                    *n,
                    window.iter().copied().filter(|&x| n.contains(x)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn num_alu_is_sound_on_samples() {
        let s = samples();
        for w in [Width::W64, Width::W32] {
            for op in AluOp::ALL {
                for (a, xs) in &s {
                    for (b, ys) in &s {
                        let r = Num::alu(w, op, a, b);
                        for &x in xs {
                            for &y in ys {
                                let c = sem::alu(w, op, x, y);
                                assert!(
                                    r.contains(c),
                                    "{w:?} {op:?}: {a} op {b} = {r} misses {x:#x} op {y:#x} = {c:#x}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn num_add_hand_worked() {
        let a = Num::urange(0, 10);
        let r = a.add(&Num::konst(5));
        assert_eq!((r.umin, r.umax, r.smin, r.smax), (5, 15, 5, 15));
        // May wrap: the unsigned view is lost, the signed view is exact.
        let r = Num::srange(-1, 1).add(&Num::konst(1));
        assert_eq!((r.smin, r.smax), (0, 2));
        assert_eq!((r.umin, r.umax), (0, 2));
    }

    #[test]
    fn num_sub_and_mask_hand_worked() {
        let r = Num::urange(10, 20).sub(&Num::urange(0, 5));
        assert_eq!((r.umin, r.umax), (5, 20));
        let r = Num::UNKNOWN.and(&Num::konst(0xff));
        assert_eq!((r.umin, r.umax, r.smin, r.smax), (0, 255, 0, 255));
        let r = Num::urange(0, 255).lsh(&Num::konst(2));
        assert_eq!((r.umin, r.umax), (0, 1020));
        assert_eq!(
            r.t,
            Tnum {
                value: 0,
                mask: 0x3fc
            }
        );
    }

    #[test]
    fn num_sync_deduces_across_views() {
        // Signed [0, 100] is unsigned [0, 100].
        let n = Num::srange(0, 100);
        assert_eq!((n.umin, n.umax), (0, 100));
        // Unsigned [2^63, max] is signed negative.
        let n = Num::urange(1 << 63, u64::MAX);
        assert_eq!((n.smin, n.smax), (i64::MIN, -1));
        assert_eq!(Num::urange(5, 3), Num::UNKNOWN);
        assert!(Num::konst(1).intersect(&Num::urange(2, 3)).is_none());
    }

    #[test]
    fn num_trunc32_and_sext() {
        let n = Num::urange(0x1_0000_0005, 0x1_0000_0009).trunc32();
        assert_eq!((n.umin, n.umax), (5, 9));
        let n = Num::urange(0xffff_fff0, 0x1_0000_0001).trunc32();
        assert_eq!((n.umin, n.umax), (0, 0xffff_ffff));
        let n = Num::urange(0, 0xff).sext(8);
        assert_eq!((n.smin, n.smax), (-128, 127));
        assert!(Num::urange(0, 100).sext(8) == Num::urange(0, 100));
    }
}
