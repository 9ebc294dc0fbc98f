//! Call fragments: helper calls by id (pure, failing, memory-reading and
//! memory-writing helpers, with pointer arguments into the stack and the
//! input), `callx` through a register (including unregistered ids), nested
//! local calls, and rare unbounded self-recursion that meets the call-depth
//! limit. See [`crate::helpers::difftest_helpers`] for the helpers.

use super::{alu, load_const, Code, Ctx, Rng, DATA, INPUT};
use crate::helpers::{HELPER_FALLIBLE, HELPER_IDENTITY, HELPER_MEMFILL, HELPER_MEMSUM, HELPER_MIX};
use cranebpf_runtime::{AluOp, CallKind, Insn, Reg, Src, Width};

/// One call fragment.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    let can_call_local = cx.func < cx.nfuncs;
    if cx.cfg.kernel {
        if can_call_local {
            return local(rng, cx);
        }
        return super::alu::fragment(rng, cx);
    }
    match rng.below(100) {
        0..=39 if can_call_local => local(rng, cx),
        0..=29 => simple_helper(rng, cx.risky),
        40..=59 => memory_helper(rng, cx),
        60..=79 => callx(rng, cx.risky),
        80..=84 if cx.risky => {
            // Self-recursion without a base case: the call-depth limit.
            let mut code = Code::default();
            code.call_local(cx.func);
            code
        }
        _ => simple_helper(rng, cx.risky),
    }
}

/// `call mix` / `call fallible` / `call identity` with scalar arguments.
fn simple_helper(rng: &mut Rng, risky: bool) -> Code {
    let mut code = Code::default();
    let id = rng.pick(&[HELPER_MIX, HELPER_FALLIBLE, HELPER_IDENTITY]);
    if id == HELPER_FALLIBLE && (!risky || rng.chance(50)) {
        // Mostly an argument it accepts (not a multiple of 16).
        code.push(load_const(Reg::R1, (rng.next_u64() | 1) & 0xffff));
    }
    code.push(Insn::Call {
        kind: CallKind::Helper,
        imm: id as i32,
    });
    code
}

/// `memfill(ptr, len, byte)` or `memsum(ptr, len)` on the stack or the
/// input, mostly in bounds; r1 is a scalar again afterwards.
fn memory_helper(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let len = rng.range(0, 16);
    let (base, off) = if rng.chance(50) {
        (Reg::R10, -rng.range(len.max(1), 64))
    } else {
        let data = cx.data_len as i64;
        let off = if !cx.risky || rng.chance(75) {
            rng.range(0, (data - len).max(0))
        } else {
            cx.input_len as i64 - len + rng.range(1, 4)
        };
        (INPUT, off)
    };
    code.push(alu(Width::W64, AluOp::Mov, Reg::R1, Src::Reg(base)));
    code.push(alu(Width::W64, AluOp::Add, Reg::R1, Src::Imm(off as i32)));
    code.push(load_const(Reg::R2, len as u64));
    let id = if rng.chance(50) {
        HELPER_MEMFILL
    } else {
        HELPER_MEMSUM
    };
    code.push(Insn::Call {
        kind: CallKind::Helper,
        imm: id as i32,
    });
    code.push(load_const(Reg::R1, rng.imm64()));
    code
}

/// `mov rX, id; callx rX`, mostly a registered scalar helper.
fn callx(rng: &mut Rng, risky: bool) -> Code {
    let mut code = Code::default();
    let reg = rng.pick(&DATA);
    let id = match rng.below(10) {
        0 if risky => rng.pick(&[0u64, 99, 0x1_0000_0001, u64::MAX]),
        _ if risky => rng.pick(&[HELPER_MIX, HELPER_FALLIBLE, HELPER_IDENTITY]) as u64,
        _ => rng.pick(&[HELPER_MIX, HELPER_IDENTITY]) as u64,
    };
    code.push(load_const(reg, id));
    code.push(Insn::Callx { reg });
    code
}

/// A local call to a later function, with fresh arguments sometimes; in
/// kernel mode r1-r5 are re-initialised afterwards (the verifier treats
/// them as clobbered).
fn local(rng: &mut Rng, cx: &Ctx) -> Code {
    let target = rng.range(cx.func as i64 + 1, cx.nfuncs as i64) as usize;
    chain_call(rng, cx, target)
}

/// A local call to function `target`, with fresh arguments sometimes; in
/// kernel mode r1-r5 are re-initialised afterwards.
pub(crate) fn chain_call(rng: &mut Rng, cx: &Ctx, target: usize) -> Code {
    let mut code = Code::default();
    if rng.chance(50) {
        let r = rng.pick(&[Reg::R1, Reg::R2, Reg::R3, Reg::R4, Reg::R5]);
        code.push(load_const(r, rng.imm64()));
    }
    code.call_local(target);
    if cx.cfg.kernel {
        for r in [Reg::R1, Reg::R2, Reg::R3, Reg::R4, Reg::R5] {
            code.push(load_const(r, rng.imm64()));
        }
    }
    code
}
