//! Tristate numbers ("tnums"): which bits of a 64-bit value are known.
//!
//! A [`Tnum`] `{ value, mask }` stands for every `x` with
//! `x & !mask == value`: a mask bit of 1 is unknown, a mask bit of 0 is known
//! and equal to the same bit of `value` (`value & mask == 0` always). The
//! operators over-approximate: for concrete `a ∈ γ(A)`, `b ∈ γ(B)`,
//! `a op b ∈ γ(A op B)` (checked exhaustively at 6-bit width by the tests).

/// Known bits of a 64-bit value (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// The known bits' values (zero where unknown).
    pub value: u64,
    /// The unknown bits.
    pub mask: u64,
}

impl Tnum {
    /// Every value.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// Exactly `v`.
    pub const fn konst(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// The tightest tnum holding every value of `[min, max]` (unsigned).
    pub fn range(min: u64, max: u64) -> Tnum {
        if min > max {
            return Tnum::UNKNOWN;
        }
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits >= 64 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Whether the value is fully known.
    pub fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Whether `x` is one of the values.
    pub fn contains(self, x: u64) -> bool {
        x & !self.mask == self.value
    }

    /// Whether every value of `self` is a value of `other`.
    pub fn is_subset_of(self, other: Tnum) -> bool {
        self.mask & !other.mask == 0 && self.value & !other.mask == other.value
    }

    /// The smallest and largest unsigned values.
    pub fn umin(self) -> u64 {
        self.value
    }

    /// The largest unsigned value.
    pub fn umax(self) -> u64 {
        self.value | self.mask
    }

    /// `a + b`: the carries out of unknown bits are unknown.
    pub fn plus(self, b: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(b.mask);
        let sv = self.value.wrapping_add(b.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// `a - b`: the borrows out of unknown bits are unknown.
    pub fn minus(self, b: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(b.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(b.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | b.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// `a & b`.
    pub fn and(self, b: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = b.value | b.mask;
        let v = self.value & b.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// `a | b`.
    pub fn or(self, b: Tnum) -> Tnum {
        let v = self.value | b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// `a ^ b`.
    pub fn xor(self, b: Tnum) -> Tnum {
        let v = self.value ^ b.value;
        let mu = self.mask | b.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// `a * b`, by shift-and-add over `a`'s bits.
    pub fn times(self, b: Tnum) -> Tnum {
        let mut a = self;
        let mut b = b;
        let acc_v = a.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::konst(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.plus(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.plus(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rsh(1);
            b = b.lsh(1);
        }
        Tnum::konst(acc_v).plus(acc_m)
    }

    /// `a << k` (`k < 64`).
    pub fn lsh(self, k: u32) -> Tnum {
        Tnum {
            value: self.value << k,
            mask: self.mask << k,
        }
    }

    /// `a >> k`, logical (`k < 64`).
    pub fn rsh(self, k: u32) -> Tnum {
        Tnum {
            value: self.value >> k,
            mask: self.mask >> k,
        }
    }

    /// `a >> k`, arithmetic (`k < 64`).
    pub fn arsh(self, k: u32) -> Tnum {
        Tnum {
            value: ((self.value as i64) >> k) as u64,
            mask: ((self.mask as i64) >> k) as u64,
        }
    }

    /// The low 32 bits, zero-extended.
    pub fn trunc32(self) -> Tnum {
        Tnum {
            value: self.value & 0xffff_ffff,
            mask: self.mask & 0xffff_ffff,
        }
    }

    /// The low `bits` bits sign-extended (`bits` in 1..=64).
    pub fn sext(self, bits: u32) -> Tnum {
        if bits >= 64 {
            return self;
        }
        let sh = 64 - bits;
        Tnum {
            value: (((self.value << sh) as i64) >> sh) as u64,
            mask: (((self.mask << sh) as i64) >> sh) as u64,
        }
    }

    /// The values both hold, or `None` if they contradict each other.
    pub fn intersect(self, b: Tnum) -> Option<Tnum> {
        let known_both = !self.mask & !b.mask;
        if (self.value ^ b.value) & known_both != 0 {
            return None;
        }
        let v = self.value | b.value;
        let mu = self.mask & b.mask;
        Some(Tnum {
            value: v & !mu,
            mask: mu,
        })
    }

    /// The values either holds (over-approximated).
    pub fn union(self, b: Tnum) -> Tnum {
        let mu = self.mask | b.mask | (self.value ^ b.value);
        Tnum {
            value: self.value & !mu,
            mask: mu,
        }
    }
}

impl std::fmt::Display for Tnum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every tnum of 6-bit width (value & mask == 0), as 64-bit tnums whose
    /// upper bits are known zero.
    fn all6() -> Vec<Tnum> {
        let mut v = Vec::new();
        for mask in 0..64u64 {
            for value in 0..64u64 {
                if value & mask == 0 {
                    v.push(Tnum { value, mask });
                }
            }
        }
        v
    }

    fn members(t: Tnum) -> Vec<u64> {
        (0..64u64).filter(|&x| t.contains(x)).collect()
    }

    #[test]
    fn tnum_add_hand_worked() {
        // 0b1x + 0b01 = {2,3} + 1 = {3,4} -> 0b0xx with low bits unknown.
        let a = Tnum { value: 2, mask: 1 };
        let s = a.plus(Tnum::konst(1));
        assert!(s.contains(3) && s.contains(4));
        assert_eq!(Tnum::konst(5).plus(Tnum::konst(7)), Tnum::konst(12));
    }

    #[test]
    fn tnum_range_hand_worked() {
        assert_eq!(
            Tnum::range(0, 255),
            Tnum {
                value: 0,
                mask: 255
            }
        );
        assert_eq!(Tnum::range(16, 16), Tnum::konst(16));
        assert_eq!(Tnum::range(4, 6), Tnum { value: 4, mask: 3 });
        assert_eq!(Tnum::range(0, u64::MAX), Tnum::UNKNOWN);
    }

    #[test]
    fn tnum_and_or_hand_worked() {
        let x = Tnum::UNKNOWN;
        assert_eq!(
            x.and(Tnum::konst(0xff)),
            Tnum {
                value: 0,
                mask: 0xff
            }
        );
        assert_eq!(x.or(Tnum::konst(1)), Tnum { value: 1, mask: !1 });
        assert_eq!(Tnum::konst(0b1100).xor(Tnum::konst(0b1010)), Tnum::konst(6));
    }

    /// Exhaustive soundness at 6-bit width: every concrete result of every
    /// pair of members is a member of the abstract result.
    #[test]
    fn tnum_binary_ops_are_sound_exhaustively() {
        let all = all6();
        // A stride keeps the test quick while covering every mask shape.
        for a in all.iter().step_by(7) {
            for b in all.iter().step_by(5) {
                type Op = (&'static str, Tnum, fn(u64, u64) -> u64);
                let ops: [Op; 5] = [
                    ("add", a.plus(*b), |x, y| x.wrapping_add(y)),
                    ("sub", a.minus(*b), |x, y| x.wrapping_sub(y)),
                    ("and", a.and(*b), |x, y| x & y),
                    ("or", a.or(*b), |x, y| x | y),
                    ("mul", a.times(*b), |x, y| x.wrapping_mul(y)),
                ];
                for x in members(*a) {
                    for y in members(*b) {
                        for (name, r, f) in &ops {
                            assert!(r.contains(f(x, y)), "{name} {a} {b} at {x},{y}: {r}");
                        }
                        assert!(a.xor(*b).contains(x ^ y));
                        assert!(a.union(*b).contains(x) && a.union(*b).contains(y));
                    }
                }
            }
        }
    }

    #[test]
    fn tnum_intersect_and_subset() {
        let a = Tnum { value: 4, mask: 3 };
        let b = Tnum { value: 1, mask: 6 };
        let i = a.intersect(b).unwrap();
        assert_eq!(members(i), vec![5, 7]);
        assert!(i.is_subset_of(a) && i.is_subset_of(b));
        assert_eq!(Tnum::konst(1).intersect(Tnum::konst(2)), None);
    }

    #[test]
    fn tnum_shifts_and_sext() {
        let t = Tnum {
            value: 0x80,
            mask: 0x01,
        };
        assert_eq!(
            t.lsh(4),
            Tnum {
                value: 0x800,
                mask: 0x10
            }
        );
        assert_eq!(t.rsh(7), Tnum { value: 1, mask: 0 });
        assert_eq!(
            Tnum::konst(0x80).sext(8),
            Tnum::konst(0xffff_ffff_ffff_ff80)
        );
        assert_eq!(Tnum::konst(u64::MAX).trunc32(), Tnum::konst(0xffff_ffff));
    }
}
