//! Pointer fragments: the shapes a static verifier has to reason about, so
//! that the JIT's proof-driven elision is exercised (in audit mode every
//! elided check is still evaluated, see `cranebpf::JitOptions::audit`).
//!
//! - pointer arithmetic on the frame and input pointers with a
//!   data-dependent, masked register offset (`r9 = r10 - (x & m)`);
//! - a bounds test against the input length (saved from the entry r2, see
//!   [`LEN_SLOT`]) before an input access at a data-dependent index;
//! - loops whose trip count is computed from data, walking a pointer down
//!   the frame or along the input;
//! - spills and fills of pointers through the stack (the slot is
//!   overwritten with a scalar afterwards, so no address stays in memory);
//! - 32-bit operations on pointers (truncation, only in risky programs:
//!   the result is a wild address) and alignment masks;
//! - a null test on the pointer a helper returns.
//!
//! Safe programs keep every access in bounds; risky ones get off-by-one
//! masks and bounds, so the checked engines fault and an unsound proof
//! would be caught by the audit. Every fragment leaves its pointers in r9
//! (the address temporary) only, and data registers hold scalars again
//! when it ends. Not used in kernel mode.

use super::{alu, load_const, Code, Ctx, Rng, COUNTER, INPUT, TMP};
use super::{mem::HELPER_SCRATCH, SCRATCH_LEN};
use cranebpf_runtime::{AluOp, CallKind, Insn, JmpCond, Reg, Size, Src, Width};

/// The entry frame's slot where the entry function's prologue saves r2
/// (the input length) in non-kernel mode. Other fragments may overwrite
/// it; then the bounds test below compares with whatever is there, and the
/// run-time check (or the verifier) has to cope.
pub(crate) const LEN_SLOT: i16 = -256;

/// A slot for pointer spills, below the dumped top of the frame.
const SPILL_SLOT: i16 = -120;

/// One pointer fragment.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    match rng.below(100) {
        0..=24 => frame_arith(rng, cx),
        25..=29 if cx.func == 0 && cx.risky => signed_bound_test(rng),
        25..=44 if cx.func == 0 => input_bounds_test(rng, cx),
        45..=59 if !cx.in_loop => walking_loop(rng, cx),
        60..=74 => spill_fill(rng, cx),
        75..=84 => alu32_on_pointer(rng, cx),
        85..=99 => null_test(rng, cx),
        _ => frame_arith(rng, cx),
    }
}

fn ldx(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
    Insn::Ldx {
        size,
        sx: false,
        dst,
        src,
        off,
    }
}

fn stx(size: Size, dst: Reg, src: Reg, off: i16) -> Insn {
    Insn::Stx {
        size,
        dst,
        src,
        off,
    }
}

fn jmp(cond: JmpCond, dst: Reg, src: Src, off: i16) -> Insn {
    Insn::Jmp {
        w: Width::W64,
        cond,
        dst,
        src,
        off,
    }
}

/// A load into a data register or a store of one, at `[base + off]`.
fn access(rng: &mut Rng, size: Size, base: Reg, off: i16) -> Insn {
    let reg = rng.data_reg();
    match rng.below(3) {
        0 => ldx(size, reg, base, off),
        1 => Insn::St {
            size,
            dst: base,
            off,
            imm: rng.imm32(),
        },
        _ => stx(size, base, reg, off),
    }
}

/// `r9 = r10 - (x & m) [+ k]; access [r9 + off]`: a frame pointer with a
/// variable offset, inside the frame unless the program is risky.
fn frame_arith(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i64;
    // x & m <= m, and the access [r10 - (x & m) - n - d, ...) with
    // m + n + d <= 512 stays in the frame.
    let m = rng.pick(&[7i64, 15, 63, 255, 448]);
    let m = if cx.risky && rng.chance(30) {
        rng.pick(&[511, 1023, 4095])
    } else {
        m
    };
    let x = rng.data_reg();
    code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(x)));
    code.push(alu(Width::W64, AluOp::And, TMP, Src::Imm(m as i32)));
    if rng.chance(50) {
        // r9 = r10 - r9 (through neg + add: a register-register add).
        code.push(Insn::Neg {
            w: Width::W64,
            dst: TMP,
        });
        code.push(alu(Width::W64, AluOp::Add, TMP, Src::Reg(Reg::R10)));
    } else {
        // r9 = -r9 + r10 the other way round: mov a copy, sub.
        let y = rng.data_reg();
        code.push(alu(Width::W64, AluOp::Mov, y, Src::Reg(TMP)));
        code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(Reg::R10)));
        code.push(alu(Width::W64, AluOp::Sub, TMP, Src::Reg(y)));
    }
    let d = rng.range(0, (512 - m - n).max(0));
    let off = if cx.risky && rng.chance(20) {
        rng.range(-n + 1, 0) // may straddle r10 when x & m is small
    } else {
        -(n + d)
    };
    code.push(access(rng, size, TMP, off as i16));
    code
}

/// `x = idx & mask; if x + n > len goto skip; r9 = r6 + x; access [r9]`
/// (only the entry function has r6 and the saved length).
fn input_bounds_test(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i32;
    let x = rng.data_reg();
    let mask = rng.pick(&[7, 15, 31, 63, 127, 255, 0x7fff_ffff]);
    code.push(ldx(Size::DW, TMP, Reg::R10, LEN_SLOT));
    code.push(alu(Width::W64, AluOp::And, x, Src::Imm(mask)));
    // The test: signed or unsigned, with the size added first or folded
    // into the bound; risky programs get an off-by-one (`>=` replaced by
    // `>` on the last byte).
    let body = {
        let mut b = Code::default();
        b.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(INPUT)));
        b.push(alu(Width::W64, AluOp::Add, TMP, Src::Reg(x)));
        b.push(access(rng, size, TMP, 0));
        b
    };
    let off_by_one = cx.risky && rng.chance(30);
    // len - n (the last index an access of n bytes may start at).
    code.push(alu(Width::W64, AluOp::Sub, TMP, Src::Imm(n)));
    let cond = match (rng.chance(50), off_by_one) {
        (false, false) => JmpCond::Gt, // skip if x > len - n
        (true, false) => JmpCond::Sgt,
        (_, true) => JmpCond::Gt,
    };
    if off_by_one {
        code.push(alu(Width::W64, AluOp::Add, TMP, Src::Imm(1)));
    }
    code.push(jmp(cond, x, Src::Reg(TMP), body.slots() as i16));
    code.append(body);
    code
}

/// `if len < k + n goto skip; if x s> k goto skip; r9 = r6 + x; access
/// [r9]` with `x` unmasked (risky: a negative `x` passes the signed test
/// and the access faults; only a verifier that trusted an unsigned bound
/// for the signed compare would call it proven).
fn signed_bound_test(rng: &mut Rng) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i32;
    let x = rng.data_reg();
    let k = rng.pick(&[0, 3, 7, 15]);
    let mut body = Code::default();
    body.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(INPUT)));
    body.push(alu(Width::W64, AluOp::Add, TMP, Src::Reg(x)));
    body.push(access(rng, size, TMP, 0));
    code.push(ldx(Size::DW, TMP, Reg::R10, LEN_SLOT));
    code.push(jmp(
        JmpCond::Lt,
        TMP,
        Src::Imm(k + n),
        body.slots() as i16 + 1,
    ));
    code.push(jmp(JmpCond::Sgt, x, Src::Imm(k), body.slots() as i16));
    code.append(body);
    code
}

/// `r8 = (x & m) + 1; r9 = base; loop: access [r9 + off]; r9 += step;
/// r8 -= 1; if r8 != 0 goto loop`: a loop with a computed bound walking a
/// pointer down the frame or along the input's data.
fn walking_loop(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let on_input = cx.func == 0 && rng.chance(50);
    let size = rng.size();
    let n = size.bytes() as i64;
    let x = rng.data_reg();
    // Trips `t` are 1..=m+1; the walk covers t * n bytes.
    let (m, base, step, first) = if on_input {
        // data_len is a power of two: m + 1 trips of n bytes cover it
        // exactly; a risky bound covers the whole input and more.
        let m = if cx.risky && rng.chance(30) {
            ((cx.input_len as u64 / n as u64 + 1).next_power_of_two() - 1) as i64
        } else {
            (cx.data_len as i64 / n).max(1) - 1
        };
        (m, INPUT, n, 0)
    } else {
        // Down from r10 - n, at most 32 trips of at most 8 bytes.
        // (a risky bound leaves the frame: still the stack region).
        let m = if cx.risky && rng.chance(30) {
            127
        } else {
            rng.pick(&[3i64, 7, 15, 31])
        };
        (m, Reg::R10, -n, -n)
    };
    code.push(alu(Width::W64, AluOp::Mov, COUNTER, Src::Reg(x)));
    code.push(alu(Width::W64, AluOp::And, COUNTER, Src::Imm(m as i32)));
    code.push(alu(Width::W64, AluOp::Add, COUNTER, Src::Imm(1)));
    code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(base)));
    let body = [
        access(rng, size, TMP, first as i16),
        alu(Width::W64, AluOp::Add, TMP, Src::Imm(step as i32)),
        alu(Width::W64, AluOp::Sub, COUNTER, Src::Imm(1)),
    ];
    let back = -(body.len() as i16) - 1;
    for i in body {
        code.push(i);
    }
    code.push(jmp(JmpCond::Ne, COUNTER, Src::Imm(0), back));
    code
}

/// `r9 = p + k; *(u64 *)(r10 - 120) = r9; r9 = 0; r9 = *(u64 *)(r10 - 120);
/// access [r9 + off]; *(u64 *)(r10 - 120) = 0`.
fn spill_fill(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i64;
    let (base, k, off) = if cx.func == 0 && rng.chance(40) {
        let k = rng.range(0, cx.data_len as i64 - n);
        (INPUT, k, 0)
    } else {
        let k = -rng.range(n, 200);
        (Reg::R10, k, 0)
    };
    let off = if cx.risky && rng.chance(20) {
        off + rng.pick(&[-600, 600, 64 * 1024])
    } else {
        off
    };
    code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(base)));
    code.push(alu(Width::W64, AluOp::Add, TMP, Src::Imm(k as i32)));
    code.push(stx(Size::DW, Reg::R10, TMP, SPILL_SLOT));
    code.push(load_const(TMP, 0));
    code.push(ldx(Size::DW, TMP, Reg::R10, SPILL_SLOT));
    code.push(access(rng, size, TMP, off as i16));
    code.push(Insn::St {
        size: Size::DW,
        dst: Reg::R10,
        off: SPILL_SLOT,
        imm: 0,
    });
    code
}

/// 32-bit operations on a pointer: an alignment mask (64-bit, keeps the
/// pointer) in every program; truncation to 32 bits (a wild address) only
/// in risky ones.
fn alu32_on_pointer(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i64;
    code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(Reg::R10)));
    code.push(alu(
        Width::W64,
        AluOp::Add,
        TMP,
        Src::Imm(-rng.range(n, 64) as i32),
    ));
    if cx.risky && rng.chance(50) {
        let op = rng.pick(&[AluOp::Mov, AluOp::Add, AluOp::And]);
        let src = if op == AluOp::Mov {
            Src::Reg(TMP)
        } else {
            Src::Imm(rng.pick(&[0, -1, -8]))
        };
        code.push(alu(Width::W32, op, TMP, src));
    } else {
        // Round down to a multiple of n: stays inside the frame.
        code.push(alu(Width::W64, AluOp::And, TMP, Src::Imm(-(n as i32))));
    }
    code.push(access(rng, size, TMP, 0));
    code
}

/// `r0 = helper 3 (the scratch region); if r0 == 0 goto skip;
/// r9 = r0; r0 = scalar; access [r9 + off]`.
fn null_test(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.size();
    let n = size.bytes() as i64;
    let len = SCRATCH_LEN as i64;
    let off = if cx.risky && rng.chance(25) {
        len - n + 1
    } else {
        rng.range(0, len - n)
    };
    code.push(Insn::Call {
        kind: CallKind::Helper,
        imm: HELPER_SCRATCH,
    });
    let body = [
        alu(Width::W64, AluOp::Mov, TMP, Src::Reg(Reg::R0)),
        load_const(Reg::R0, rng.imm64()),
        access(rng, size, TMP, off as i16),
    ];
    let slots: usize = body.iter().map(|i| i.slots()).sum();
    code.push(jmp(JmpCond::Eq, Reg::R0, Src::Imm(0), slots as i16));
    for i in body {
        code.push(i);
    }
    // r0 is a scalar on both paths (the null path: 0).
    code
}
