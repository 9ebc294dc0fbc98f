//! ALU fragments: every binary operation of both widths with immediate and
//! register operands, NEG, MOVSX, the byte-order instructions and LDDW, fed
//! edge values (0, ±1, INT_MIN/INT_MAX of both widths, shift counts at and
//! beyond the width, negative counts, divisors 0 and -1, a divisor whose low
//! half is 0).

use super::{alu, load_const, Code, Ctx, Rng};
use cranebpf_runtime::{AluOp, Endian, Insn, Src, Width};

/// Divisors that probe the guards: 0, -1, and 64-bit values whose low half
/// is 0 or -1.
const DIVISORS: [u64; 6] = [
    0,
    u64::MAX,
    0x1_0000_0000,
    0xffff_ffff,
    0x1_0000_0004,
    i64::MIN as u64,
];

/// One ALU fragment.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let dst = rng.data_reg();
    match rng.below(20) {
        0..=1 => code.push(load_const(dst, rng.imm64())),
        2 => code.push(Insn::Neg {
            w: rng.width(),
            dst,
        }),
        3 => {
            let w = rng.width();
            let bits = match w {
                Width::W32 => rng.pick(&[8, 16]),
                Width::W64 => rng.pick(&[8, 16, 32]),
            };
            let src = rng.data_reg();
            code.push(Insn::MovSx { w, dst, src, bits });
        }
        4 => {
            let kind = rng.pick(&[Endian::Le, Endian::Be, Endian::Swap]);
            let bits = rng.pick(&[16, 32, 64]);
            code.push(Insn::End { kind, dst, bits });
        }
        _ => binary(rng, cx, &mut code, dst),
    }
    code
}

/// A binary operation, sometimes after loading an edge value into dst or
/// into the source register.
fn binary(rng: &mut Rng, cx: &Ctx, code: &mut Code, dst: cranebpf_runtime::Reg) {
    let op = rng.pick(&AluOp::ALL);
    let w = rng.width();
    let divides = matches!(op, AluOp::Div | AluOp::Sdiv | AluOp::Mod | AluOp::Smod);
    let shifts = matches!(op, AluOp::Lsh | AluOp::Rsh | AluOp::Arsh);
    if rng.chance(25) {
        code.push(load_const(dst, rng.imm64()));
    }
    let src = if rng.chance(50) {
        let s = rng.data_reg();
        if divides && rng.chance(40) {
            code.push(load_const(s, rng.pick(&DIVISORS)));
        } else if shifts && rng.chance(30) {
            code.push(load_const(
                s,
                rng.pick(&[31u64, 32, 33, 63, 64, 65, u64::MAX, 0x1_0000_0001]),
            ));
        }
        Src::Reg(s)
    } else {
        let mut imm = if divides && rng.chance(30) {
            rng.pick(&[0, -1, 1, i32::MIN])
        } else {
            rng.imm32()
        };
        if cx.cfg.kernel {
            // The verifier rejects a constant zero divisor and shift
            // immediates outside 0..width.
            if divides && imm == 0 {
                imm = 7;
            }
            if shifts {
                let bits = if w == Width::W32 { 32 } else { 64 };
                imm = imm.rem_euclid(bits);
            }
        }
        Src::Imm(imm)
    };
    code.push(alu(w, op, dst, src));
}
