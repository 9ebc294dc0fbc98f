//! Control-flow fragments: every jump condition of both widths with
//! immediate and register operands (skips and if/else diamonds), bounded
//! loops counting r8 down, `ja` and `ja32` over unreachable code, early
//! exits, and rare wild backward jumps that may run into the budget.

use super::{alu, fragments, load_const, Code, Ctx, Rng, COUNTER};
use cranebpf_runtime::{AluOp, Insn, JmpCond, Src, Width};

/// One control-flow fragment.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    let inner = Ctx {
        depth: cx.depth + 1,
        ..*cx
    };
    if cx.depth >= 3 {
        return super::alu::fragment(rng, cx);
    }
    match rng.below(100) {
        0..=34 => skip(rng, &inner),
        35..=54 => diamond(rng, &inner),
        55..=74 if !cx.in_loop => bounded_loop(rng, &inner),
        75..=84 => over_junk(rng, &inner),
        85..=91 if cx.func != 0 || rng.chance(30) => early_exit(rng, &inner),
        92..=99 if cx.risky => wild(rng, &inner),
        _ => skip(rng, &inner),
    }
}

/// A conditional jump with a random condition, width and operands.
fn cond_jump(rng: &mut Rng, off: i16) -> Insn {
    let w = rng.width();
    let cond = rng.pick(&JmpCond::ALL);
    let dst = rng.data_reg();
    let src = if rng.chance(50) {
        Src::Reg(rng.data_reg())
    } else {
        Src::Imm(rng.imm32())
    };
    Insn::Jmp {
        w,
        cond,
        dst,
        src,
        off,
    }
}

/// `if cond goto +k; <k slots>`.
fn skip(rng: &mut Rng, cx: &Ctx) -> Code {
    let n = 1 + rng.below(2) as usize;
    let body = fragments(rng, cx, n);
    let mut code = Code::default();
    code.push(cond_jump(rng, body.slots() as i16));
    code.append(body);
    code
}

/// `if cond goto else; A; ja end; else: B; end:`.
fn diamond(rng: &mut Rng, cx: &Ctx) -> Code {
    let a = fragments(rng, cx, 1);
    let n = 1 + rng.below(2) as usize;
    let b = fragments(rng, cx, n);
    let mut code = Code::default();
    code.push(cond_jump(rng, a.slots() as i16 + 1));
    code.append(a);
    code.push(ja(rng, b.slots() as i32));
    code.append(b);
    code
}

/// An unconditional jump, `ja` or `ja32`.
fn ja(rng: &mut Rng, off: i32) -> Insn {
    Insn::Ja {
        off,
        wide: rng.chance(25),
    }
}

/// `r8 = n; loop: body; r8 -= 1; if r8 <cond> 0 goto loop`, with `n` small.
fn bounded_loop(rng: &mut Rng, cx: &Ctx) -> Code {
    let kernel = cx.cfg.kernel;
    let n = rng.range(1, if kernel { 4 } else { 8 });
    let body_cx = Ctx {
        in_loop: true,
        ..*cx
    };
    let count = 1 + rng.below(if kernel { 2 } else { 3 }) as usize;
    let body = fragments(rng, &body_cx, count);
    let mut code = Code::default();
    code.push(load_const(COUNTER, n as u64));
    let back = -(body.slots() as i64 + 2) as i16;
    code.append(body);
    let w = if rng.chance(30) {
        Width::W32
    } else {
        Width::W64
    };
    code.push(if rng.chance(50) {
        alu(w, AluOp::Sub, COUNTER, Src::Imm(1))
    } else {
        alu(w, AluOp::Add, COUNTER, Src::Imm(-1))
    });
    let cond = rng.pick(&[JmpCond::Ne, JmpCond::Sgt, JmpCond::Gt]);
    code.push(Insn::Jmp {
        w,
        cond,
        dst: COUNTER,
        src: Src::Imm(0),
        off: back,
    });
    code
}

/// `ja +k; <k unreachable slots>` (in kernel mode, which rejects
/// unreachable code, `ja +0`).
fn over_junk(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    if cx.cfg.kernel {
        code.push(ja(rng, 0));
        return code;
    }
    let junk = fragments(rng, cx, 1);
    code.push(ja(rng, junk.slots() as i32));
    code.append(junk);
    code
}

/// `if cond goto +1; exit` (skips the entry function's dump when taken).
fn early_exit(rng: &mut Rng, _cx: &Ctx) -> Code {
    let mut code = Code::default();
    code.push(cond_jump(rng, 1));
    code.push(Insn::Exit);
    code
}

/// A data-dependent backward jump (may loop until the budget), or rarely a
/// jump to itself.
fn wild(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    if rng.chance(15) {
        code.push(ja(rng, -1));
        return code;
    }
    let body = super::alu::fragment(rng, cx);
    let back = -(body.slots() as i64 + 1) as i16;
    code.append(body);
    code.push(cond_jump(rng, back));
    code
}
