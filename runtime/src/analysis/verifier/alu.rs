//! Transfer functions of the ALU family (RFC 9669 §4.1): ALU/ALU64, NEG,
//! MOVSX, byte swaps, and LDDW, on scalars and pointers.
//!
//! Scalars go through [`Num::alu`]. Pointers support what compiled C does
//! with them: 64-bit `mov`, `add`/`sub` of a scalar (the offset moves, the
//! region stays), and `sub` of two pointers into the same region (a scalar).
//! Anything else on a pointer yields an unknown scalar and an issue (strict
//! refuses it, as the kernel does).

use super::error::ErrorKind;
use super::num::Num;
use super::state::{Ptr, PtrKind, Scalar, State, Value};
use super::step::Step;
use crate::isa::insn::{AluOp, Endian, Reg, Src, Width};
use crate::sem;

/// `dst = dst op src` (width `w`).
pub(super) fn alu(st: &mut State, w: Width, op: AluOp, dst: Reg, src: Src, step: &mut Step) {
    let b = match src {
        Src::Imm(imm) => Value::scalar(Num::konst(sem::imm_operand(w, imm))),
        Src::Reg(r) => step.read(st, r.index()),
    };
    if op == AluOp::Mov {
        let v = mov(st, w, b, src);
        st.set(dst.index(), v);
        return;
    }
    let a = step.read(st, dst.index());
    let v = match (a, b) {
        (Value::Scalar(x), Value::Scalar(y)) => {
            let mut r = scalar_op(w, op, &x, &y);
            r.tie = counter_step(st, w, op, &x, &y);
            Value::Scalar(r)
        }
        (Value::Ptr(p), Value::Scalar(s)) if w == Width::W64 && op == AluOp::Add => {
            ptr_add(st, p, &s, false, step)
        }
        (Value::Ptr(p), Value::Scalar(s)) if w == Width::W64 && op == AluOp::Sub => {
            ptr_add(st, p, &s, true, step)
        }
        (Value::Scalar(s), Value::Ptr(p)) if w == Width::W64 && op == AluOp::Add => {
            ptr_add(st, p, &s, false, step)
        }
        (Value::Ptr(p), Value::Ptr(q)) if w == Width::W64 && op == AluOp::Sub => {
            ptr_diff(&p, &q, step)
        }
        // `(u32)(data_end - data)`: a number, as the kernel allows root.
        (Value::Ptr(p), Value::Ptr(q)) if op == AluOp::Sub => match ptr_diff(&p, &q, step) {
            Value::Scalar(s) => Value::scalar(s.n.trunc32()),
            _ => unknown(w),
        },
        _ => {
            step.issue(ErrorKind::Pointer {
                reason: format!(
                    "{}{} on a pointer is not followed",
                    op.mnemonic(),
                    if w == Width::W32 { "32" } else { "" }
                ),
            });
            unknown(w)
        }
    };
    st.set(dst.index(), v);
}

/// An unknown result of width `w`.
fn unknown(w: Width) -> Value {
    match w {
        Width::W64 => Value::UNKNOWN,
        Width::W32 => Value::scalar(Num::urange(0, u32::MAX as u64)),
    }
}

/// `mov`: 64-bit copies keep everything (and link equal scalars); 32-bit
/// copies keep a scalar that already fits in 32 bits.
fn mov(st: &mut State, w: Width, b: Value, src: Src) -> Value {
    match (w, b) {
        (Width::W64, Value::Scalar(mut s)) => {
            if let Src::Reg(r) = src {
                if s.id == 0 && s.n.as_const().is_none() {
                    s.id = st.fresh_id();
                    st.set(r.index(), Value::Scalar(s));
                }
            }
            // A copy holds no tie (`tie.rs`).
            Value::Scalar(Scalar { tie: 0, ..s })
        }
        (Width::W64, v) => v,
        (Width::W32, Value::Scalar(s)) if s.n.umax <= u32::MAX as u64 => Value::Scalar(Scalar {
            is_len: false,
            tie: 0,
            ..s
        }),
        (Width::W32, Value::Scalar(s)) => Value::scalar(s.n.trunc32()),
        (Width::W32, _) => unknown(Width::W32),
    }
}

/// A scalar operation, with the input-length links of `add`/`sub` of a
/// constant carried over, and those of a fraction of the length (see
/// [`fraction_links`]).
fn scalar_op(w: Width, op: AluOp, x: &Scalar, y: &Scalar) -> Scalar {
    let n = Num::alu(w, op, &x.n, &y.n);
    let mut r = Scalar::of(n);
    if w == Width::W64 {
        if let Some(k) = y.n.as_const() {
            // value + lim <= L: adding k (no wrap) leaves lim - k; taking
            // k away (no wrap) leaves lim + k.
            let shift = |lim: u64| match op {
                AluOp::Add if k <= lim && x.n.umax.checked_add(k).is_some() => Some(lim - k),
                AluOp::Sub if x.n.umin >= k => lim.checked_add(k),
                _ => None,
            };
            r.lim = x.lim.and_then(shift);
            r.flim = x.flim.and_then(|(s, c)| shift(c).map(|c| (s, c)));
            fraction_links(op, x, k, &mut r);
        }
    }
    r
}

/// The tie `x op y` keeps (`tie.rs`): a holder plus or minus a constant,
/// without wrap, moving the tied pointers' bases; 0 otherwise.
fn counter_step(st: &mut State, w: Width, op: AluOp, x: &Scalar, y: &Scalar) -> u32 {
    let Some(k) = y.n.as_const() else {
        return 0;
    };
    if x.tie == 0 || w != Width::W64 {
        return 0;
    }
    let ok = match op {
        AluOp::Add => x.n.umax.checked_add(k).is_some(),
        AluOp::Sub => x.n.umin >= k,
        _ => false,
    };
    if !ok || !super::tie::sole_holder(st, x.tie) {
        return 0;
    }
    super::tie::counter_moved(st, x.tie, k, op == AluOp::Sub);
    x.tie
}

/// The links of `x op k` (64-bit, `k` constant) to a fraction of the input
/// length L:
/// - `L >> t` (or `L / 2^t`) is exactly `L >> t` (`frac`), and shifting a
///   fraction further adds up;
/// - `x << t` (or `x * 2^t`) with `x + c <= L >> s` and `t <= s` has
///   `value + (c << t) <= L` (`(L >> s) << t <= L`; no wrap, since
///   `x << t <= L`).
fn fraction_links(op: AluOp, x: &Scalar, k: u64, r: &mut Scalar) {
    let pow2 = |k: u64| k.is_power_of_two().then(|| k.trailing_zeros() as u64);
    let t = match op {
        AluOp::Rsh | AluOp::Lsh if (1..64).contains(&k) => Some(k),
        AluOp::Div | AluOp::Mul if k > 1 => pow2(k),
        _ => None,
    };
    let Some(t) = t else {
        return;
    };
    match op {
        AluOp::Rsh | AluOp::Div => {
            let before = if x.is_len {
                Some(0)
            } else {
                x.frac.map(u64::from)
            };
            r.frac = before.map(|b| b + t).filter(|&s| s < 64).map(|s| s as u8);
        }
        _ => {
            if let Some((s, c)) = x.flim {
                if t <= s as u64 {
                    r.lim = c.checked_mul(1 << t).max(r.lim);
                }
            }
            if let Some(s) = x.frac {
                if t <= s as u64 {
                    r.lim = r.lim.max(Some(0));
                }
            }
        }
    }
}

/// `p + s` (or `p - s`): the offset moves by `s`; packet and input
/// pointers keep their proven range for a constant `s` and start a new
/// variable part otherwise.
fn ptr_add(st: &mut State, p: Ptr, s: &Scalar, sub: bool, step: &mut Step) -> Value {
    match p.kind {
        PtrKind::MapValueOrNull { .. }
        | PtrKind::RecordOrNull { .. }
        | PtrKind::PacketEnd
        | PtrKind::InputEnd
        | PtrKind::PacketMeta => {
            step.issue(ErrorKind::Pointer {
                reason: format!("arithmetic on {} is prohibited", Value::Ptr(p)),
            });
            return Value::UNKNOWN;
        }
        _ => {}
    }
    if p.kind == PtrKind::Input && !sub && s.is_len && p.off.as_const() == Some(0) {
        return Value::Ptr(Ptr::at(PtrKind::InputEnd, 0));
    }
    let off = if sub {
        p.off.sub(&s.n)
    } else {
        p.off.add(&s.n)
    };
    if let Some(c) = s.n.as_const() {
        let delta = if sub {
            (c as i64).checked_neg()
        } else {
            Some(c as i64)
        };
        let tie = delta.and_then(|d| p.tie?.moved(d, d));
        if let Some(k) = delta.and_then(|d| p.k.checked_add(d)) {
            let range = (p.range as i128 - (k - p.k) as i128).clamp(0, u64::MAX as i128) as u64;
            return Value::Ptr(Ptr {
                off,
                k,
                range,
                tie,
                ..p
            });
        }
        return Value::Ptr(Ptr {
            off,
            id: 0,
            k: 0,
            range: 0,
            sym: None,
            tie,
            ..p
        });
    }
    if p.kind == PtrKind::Input && !sub && p.off.as_const() == Some(0) {
        if let Some(t) = s.frac {
            // start + (L >> t): the origin of a symbolic pointer.
            return Value::Ptr(Ptr {
                off,
                id: st.fresh_id(),
                k: 0,
                range: 0,
                sym: Some(t),
                tie: None,
                ..p
            });
        }
    }
    let range = match (p.kind, sub, s.lim, s.flim, p.sym) {
        // start + s with s + lim <= L: lim bytes are left (L >> t <= L).
        (PtrKind::Input, false, lim, flim, _) if p.off.as_const() == Some(0) => {
            lim.max(flim.map(|f| f.1)).unwrap_or(0)
        }
        // start + (L >> t) + k + s with s + c <= L >> t: c - k bytes are
        // left, since 2 * (L >> t) <= L.
        (PtrKind::Input, false, _, Some((t, c)), Some(u)) if t == u => {
            (c as i128 - p.k as i128).clamp(0, u64::MAX as i128) as u64
        }
        _ => 0,
    };
    let id = if matches!(p.kind, PtrKind::Packet | PtrKind::Input) {
        st.fresh_id()
    } else {
        0
    };
    // A tied pointer plus a bounded scalar stays tied, its bases moved.
    let tie = p.tie.and_then(|t| {
        let (a, b) = (s.n.smin, s.n.smax);
        if sub {
            t.moved(b.checked_neg()?, a.checked_neg()?)
        } else {
            t.moved(a, b)
        }
    });
    Value::Ptr(Ptr {
        off,
        id,
        k: 0,
        range,
        sym: None,
        tie,
        ..p
    })
}

/// `p - q`: a scalar when both point into the same region.
fn ptr_diff(p: &Ptr, q: &Ptr, step: &mut Step) -> Value {
    let same = p.kind == q.kind
        && matches!(
            p.kind,
            PtrKind::Packet | PtrKind::Input | PtrKind::Stack { .. }
        );
    if same {
        return Value::scalar(p.off.sub(&q.off));
    }
    let ends = matches!(
        (p.kind, q.kind),
        (PtrKind::PacketEnd, PtrKind::Packet) | (PtrKind::InputEnd, PtrKind::Input)
    );
    if !ends {
        step.issue(ErrorKind::Pointer {
            reason: format!(
                "subtraction of pointers into different regions ({} - {})",
                Value::Ptr(*p),
                Value::Ptr(*q)
            ),
        });
    }
    Value::UNKNOWN
}

/// `dst = -dst`.
pub(super) fn neg(st: &mut State, w: Width, dst: Reg, step: &mut Step) {
    let v = match step.read(st, dst.index()) {
        Value::Scalar(s) => Value::scalar(Num::alu(w, AluOp::Sub, &Num::konst(0), &s.n)),
        _ => {
            step.issue(ErrorKind::Pointer {
                reason: "neg on a pointer is not followed".into(),
            });
            unknown(w)
        }
    };
    st.set(dst.index(), v);
}

/// `dst = (sN) src` (MOVSX, RFC 9669 §4.1).
pub(super) fn movsx(st: &mut State, w: Width, dst: Reg, src: Reg, bits: u8, step: &mut Step) {
    let v = match step.read(st, src.index()) {
        Value::Scalar(s) => Value::scalar(match s.n.as_const() {
            Some(c) => Num::konst(sem::movsx(w, c, bits)),
            None => {
                let n = s.n.sext(bits as u32);
                match w {
                    Width::W64 => n,
                    Width::W32 => n.trunc32(),
                }
            }
        }),
        _ => {
            step.issue(ErrorKind::Pointer {
                reason: "movsx of a pointer is not followed".into(),
            });
            unknown(w)
        }
    };
    st.set(dst.index(), v);
}

/// Byte-order conversions (RFC 9669 §4.2).
pub(super) fn endian(st: &mut State, kind: Endian, dst: Reg, bits: u8, step: &mut Step) {
    let v = match step.read(st, dst.index()) {
        Value::Scalar(s) => Value::scalar(match (s.n.as_const(), bits) {
            (Some(c), _) => Num::konst(sem::byteorder(kind, bits, c)),
            (None, 64) => Num::UNKNOWN,
            (None, b) => Num::urange(0, (1u64 << b) - 1),
        }),
        _ => {
            step.issue(ErrorKind::Pointer {
                reason: "byte swap of a pointer is not followed".into(),
            });
            Value::UNKNOWN
        }
    };
    st.set(dst.index(), v);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::verifier::config::VerifyConfig;

    fn run(st: &mut State, w: Width, op: AluOp, dst: u8, src: Src) -> Vec<ErrorKind> {
        let conf = VerifyConfig::mem();
        let mut step = Step::new(&conf);
        alu(st, w, op, Reg::new(dst).unwrap(), src, &mut step);
        step.issues
    }

    #[test]
    fn alu_pointer_plus_constant_keeps_region_and_range() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(
            1,
            Value::Ptr(Ptr {
                range: 14,
                id: 4,
                ..Ptr::at(PtrKind::Packet, 0)
            }),
        );
        assert!(run(&mut st, Width::W64, AluOp::Add, 1, Src::Imm(6)).is_empty());
        let Value::Ptr(p) = st.reg(1) else { panic!() };
        assert_eq!((p.off.as_const(), p.range, p.id, p.k), (Some(6), 8, 4, 6));
    }

    #[test]
    fn alu_pointer_plus_variable_starts_a_new_id() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(1, Value::Ptr(Ptr::at(PtrKind::Packet, 0)));
        st.set(2, Value::scalar(Num::urange(0, 20)));
        assert!(run(&mut st, Width::W64, AluOp::Add, 1, Src::Reg(Reg::R2)).is_empty());
        let Value::Ptr(p) = st.reg(1) else { panic!() };
        assert_eq!((p.off.umin, p.off.umax, p.range), (0, 20, 0));
        assert_ne!(p.id, 0);
    }

    #[test]
    fn alu32_on_a_pointer_is_an_issue_and_a_scalar() {
        let mut st = State::entry([Value::Ptr(Ptr::at(PtrKind::Ctx, 0)); 5]);
        let issues = run(&mut st, Width::W32, AluOp::Add, 1, Src::Imm(1));
        assert_eq!(issues.len(), 1);
        assert!(matches!(st.reg(1), Value::Scalar(_)));
    }

    #[test]
    fn alu_input_plus_length_is_the_end() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(1, Value::Ptr(Ptr::at(PtrKind::Input, 0)));
        st.set(
            2,
            Value::Scalar(Scalar {
                is_len: true,
                ..Scalar::of(Num::UNKNOWN)
            }),
        );
        run(&mut st, Width::W64, AluOp::Add, 1, Src::Reg(Reg::R2));
        assert_eq!(st.reg(1), Value::Ptr(Ptr::at(PtrKind::InputEnd, 0)));
    }

    #[test]
    fn alu_add_constant_moves_the_length_link() {
        let mut st = State::entry([Value::UNKNOWN; 5]);
        st.set(
            3,
            Value::Scalar(Scalar {
                lim: Some(4),
                ..Scalar::of(Num::urange(0, 100))
            }),
        );
        run(&mut st, Width::W64, AluOp::Add, 3, Src::Imm(3));
        let Value::Scalar(s) = st.reg(3) else {
            panic!()
        };
        assert_eq!((s.lim, s.n.umin, s.n.umax), (Some(1), 3, 103));
    }
}
