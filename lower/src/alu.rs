//! ALU, byte-order and comparison lowering (RFC 9669 §4.1-§4.3).
//!
//! 32-bit forms reduce their operands to i32, compute on i32 and zero-extend
//! the result (`write`). Immediates: 64-bit forms sign-extend the 32-bit imm,
//! 32-bit forms use it as is.
//!
//! Division never reaches a trapping Cranelift instruction: `udiv`/`urem`
//! trap on a zero divisor and `sdiv`/`srem` also on MIN / -1, so the divisor
//! is replaced by 1 in those cases and the defined result is selected
//! afterwards (RFC 9669: x / 0 = 0, x % 0 = x, MIN s/ -1 = MIN, x s% -1 = 0).

use crate::func::Lower;
use crate::PlantedBug;
use cranebpf_runtime::{sem, AluOp, Endian, JmpCond, Reg, Src, Width};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64, I8};
use cranelift_codegen::ir::{InstBuilder, Type, Value};

/// The Cranelift type of a width's operands.
fn ty(w: Width) -> Type {
    match w {
        Width::W32 => I32,
        Width::W64 => I64,
    }
}

impl Lower<'_> {
    /// Reads `r` at width `w` (i32: the low half).
    pub(crate) fn read(&mut self, w: Width, r: Reg) -> Value {
        let v = self.get(r);
        match w {
            Width::W32 => self.b.ins().ireduce(I32, v),
            Width::W64 => v,
        }
    }

    /// The second operand at width `w`.
    pub(crate) fn operand(&mut self, w: Width, src: Src) -> Value {
        match (src, w) {
            (Src::Reg(r), _) => self.read(w, r),
            // 32-bit: the low half, zero-extended as Cranelift expects for
            // narrow constants.
            (Src::Imm(k), Width::W32) => {
                let v = sem::imm_operand(w, k) as u32;
                self.b.ins().iconst(I32, i64::from(v))
            }
            (Src::Imm(k), Width::W64) => self.b.ins().iconst(I64, sem::imm_operand(w, k) as i64),
        }
    }

    /// Writes a width-`w` result to `r`, zero-extending 32-bit results.
    pub(crate) fn write(&mut self, w: Width, r: Reg, v: Value) {
        let v = match w {
            Width::W32 => self.b.ins().uextend(I64, v),
            Width::W64 => v,
        };
        self.set(r, v);
    }

    /// `dst = dst OP src`.
    pub(crate) fn translate_alu(&mut self, w: Width, op: AluOp, dst: Reg, src: Src) {
        if matches!(op, AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod) {
            return self.translate_divmod(w, op, dst, src);
        }
        if w == Width::W32 && op == AluOp::Mov && self.bug == Some(PlantedBug::Mov32NoZeroExtend) {
            let v = self.operand(Width::W64, src);
            return self.set(dst, v);
        }
        let b = self.operand(w, src);
        let a = self.read(w, dst);
        let ins = self.b.ins();
        let v = match op {
            AluOp::Mov => b,
            AluOp::Add => ins.iadd(a, b),
            AluOp::Sub => ins.isub(a, b),
            AluOp::Mul => ins.imul(a, b),
            AluOp::Or => ins.bor(a, b),
            AluOp::And => ins.band(a, b),
            AluOp::Xor => ins.bxor(a, b),
            // Cranelift takes shift amounts modulo the type width, which is
            // RFC 9669's `& 31` / `& 63` mask.
            AluOp::Lsh => ins.ishl(a, b),
            AluOp::Rsh => ins.ushr(a, b),
            AluOp::Arsh => ins.sshr(a, b),
            // Dispatched to `translate_divmod` above.
            AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod => return,
        };
        self.write(w, dst, v);
    }

    /// Guarded DIV, SDIV, MOD, SMOD (see the module docs).
    pub(crate) fn translate_divmod(&mut self, w: Width, op: AluOp, dst: Reg, src: Src) {
        let t = ty(w);
        let x = self.read(w, dst);
        let y = self.operand(w, src);
        let zero = self.b.ins().iconst(t, 0);
        let one = self.b.ins().iconst(t, 1);
        let y_is_0 = self.b.ins().icmp_imm_u(IntCC::Equal, y, 0);
        let v = match op {
            AluOp::Div | AluOp::Mod => {
                // y == 0 ? (div: 0, mod: x) : x op y, dividing by 1 instead of 0.
                let safe = self.b.ins().select(y_is_0, one, y);
                if op == AluOp::Div {
                    let q = self.b.ins().udiv(x, safe);
                    self.b.ins().select(y_is_0, zero, q)
                } else if w == Width::W32 && self.bug == Some(PlantedBug::Mod32ByZeroKeepsUpper) {
                    let r = self.b.ins().urem(x, safe);
                    let r = self.b.ins().uextend(I64, r);
                    let whole = self.get(dst);
                    let v = self.b.ins().select(y_is_0, whole, r);
                    return self.set(dst, v);
                } else {
                    let r = self.b.ins().urem(x, safe);
                    self.b.ins().select(y_is_0, x, r)
                }
            }
            _ => {
                // y == 0 ? (sdiv: 0, smod: x) : y == -1 ? (sdiv: -x, smod: 0)
                // : x op y, dividing by 1 instead of 0 and -1 (MIN / -1
                // would trap; -x wraps to MIN as RFC 9669 requires).
                let minus_one = match w {
                    Width::W32 => u32::MAX as i64,
                    Width::W64 => -1,
                };
                let m1 = self.b.ins().iconst(t, minus_one);
                let y_is_m1 = self.b.ins().icmp(IntCC::Equal, y, m1);
                let bad = self.b.ins().bor(y_is_0, y_is_m1);
                let safe = self.b.ins().select(bad, one, y);
                if op == AluOp::Sdiv {
                    let q = self.b.ins().sdiv(x, safe);
                    let neg = self.b.ins().ineg(x);
                    let q = self.b.ins().select(y_is_m1, neg, q);
                    self.b.ins().select(y_is_0, zero, q)
                } else {
                    let r = self.b.ins().srem(x, safe);
                    let r = self.b.ins().select(y_is_m1, zero, r);
                    self.b.ins().select(y_is_0, x, r)
                }
            }
        };
        self.write(w, dst, v);
    }

    /// MOVSX: sign-extend the low `bits` of src (32-bit form: into 32 bits,
    /// then zero-extend).
    pub(crate) fn translate_movsx(&mut self, w: Width, dst: Reg, src: Reg, bits: u8) {
        let narrow = match bits {
            8 => I8,
            16 => I16,
            _ => I32,
        };
        let v = self.get(src);
        let n = self.b.ins().ireduce(narrow, v);
        let wide = ty(w);
        let v = if narrow == wide {
            n
        } else {
            self.b.ins().sextend(wide, n)
        };
        self.write(w, dst, v);
    }

    /// `le`/`be`/`bswap` of the low `bits`, truncated and zero-extended. On
    /// a little-endian target `le` is a truncation and `be` a swap.
    pub(crate) fn translate_end(&mut self, kind: Endian, dst: Reg, bits: u8) {
        let v = self.get(dst);
        let narrow = match bits {
            16 => I16,
            32 => I32,
            _ => I64,
        };
        let n = if narrow == I64 {
            v
        } else {
            self.b.ins().ireduce(narrow, v)
        };
        let n = match kind {
            Endian::Le => n,
            Endian::Be | Endian::Swap => self.b.ins().bswap(n),
        };
        let v = if narrow == I64 {
            n
        } else {
            self.b.ins().uextend(I64, n)
        };
        self.set(dst, v);
    }

    /// The i8 truth value of `dst COND src` at width `w`.
    pub(crate) fn condition(&mut self, w: Width, cond: JmpCond, dst: Reg, src: Src) -> Value {
        let a = self.read(w, dst);
        let b = self.operand(w, src);
        let cc = match cond {
            JmpCond::Eq => IntCC::Equal,
            JmpCond::Ne => IntCC::NotEqual,
            JmpCond::Gt => IntCC::UnsignedGreaterThan,
            JmpCond::Ge => IntCC::UnsignedGreaterThanOrEqual,
            JmpCond::Lt => IntCC::UnsignedLessThan,
            JmpCond::Le => IntCC::UnsignedLessThanOrEqual,
            JmpCond::Sgt => IntCC::SignedGreaterThan,
            JmpCond::Sge => IntCC::SignedGreaterThanOrEqual,
            JmpCond::Slt => IntCC::SignedLessThan,
            JmpCond::Sle => IntCC::SignedLessThanOrEqual,
            JmpCond::Set => {
                let m = self.b.ins().band(a, b);
                return self.b.ins().icmp_imm_u(IntCC::NotEqual, m, 0);
            }
        };
        self.b.ins().icmp(cc, a, b)
    }
}
