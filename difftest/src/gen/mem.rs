//! Memory fragments: loads (zero- and sign-extending), stores of registers
//! and immediates, and atomics of every width into the stack, the input and
//! a helper-returned scratch region. Most accesses are in bounds; some are
//! just outside (one byte past the end, just below the start, above the
//! entry frame, below the whole stack), some misaligned atomics, and some
//! at data-dependent (masked) input offsets.

use super::{alu, load_const, Code, Ctx, Rng, INPUT, SCRATCH_LEN, TMP};
use cranebpf_runtime::{AluOp, AtomicOp, CallKind, Insn, Reg, Size, Src, Width};

/// Helper 3 returns a pointer to the scratch region.
pub(crate) const HELPER_SCRATCH: i32 = 3;

/// One memory fragment.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let kernel = cx.cfg.kernel;
    let risky = cx.risky;
    if !kernel && rng.chance(8) {
        return packet_load(rng, cx);
    }
    let atomic = rng.chance(20);
    let size = if atomic {
        rng.pick(&[Size::W, Size::DW])
    } else {
        rng.size()
    };
    let n = size.bytes() as i64;
    // Pick the base register and the offset.
    // In kernel mode only the entry function has the input pointer (the
    // verifier does not let callees read the caller's r6).
    let roll = match rng.below(100) {
        // Nor atomics on packet memory.
        45..=84 if kernel && (cx.func != 0 || atomic) => 0,
        r => r,
    };
    let (base, off): (Reg, i64) = match roll {
        // The stack.
        0..=44 => {
            let off = if kernel || rng.chance(80) {
                // Inside the top 64 bytes (what the epilogue dumps), aligned
                // in kernel mode and for most atomics.
                let slot = rng.range(1, 64 / n);
                let mut off = -slot * n;
                if !kernel && !atomic && rng.chance(20) {
                    off = rng.range(-64, -n);
                }
                off
            } else {
                // Outside the frame (every arm but the first) always
                // faults, by the frame rule: only risky programs go there.
                match if risky { rng.below(4) } else { 0 } {
                    0 => rng.range(-512, -n),
                    1 => rng.range(-1024, -513),
                    2 => rng.range(-(n - 1), 8),
                    _ => -4096 - rng.range(1, 16),
                }
            };
            // Atomics are aligned (misaligned ones are planted below).
            let off = if atomic { off - off.rem_euclid(n) } else { off };
            if !kernel && rng.chance(30) {
                // Through a computed pointer.
                let k = rng.range(-64, 0);
                code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(Reg::R10)));
                code.push(alu(Width::W64, AluOp::Add, TMP, Src::Imm(k as i32)));
                (TMP, off - k)
            } else {
                (Reg::R10, off)
            }
        }
        // The input.
        45..=84 => {
            let data = cx.data_len as i64;
            let total = cx.input_len as i64;
            let off = if kernel || !risky || rng.chance(75) {
                let off = rng.range(0, data - n);
                if kernel || atomic {
                    off - off % n
                } else {
                    off
                }
            } else if rng.chance(50) {
                total - n + rng.range(1, n)
            } else {
                -rng.range(1, n)
            };
            if !kernel && rng.chance(15) {
                // A data-dependent offset, masked into the data area.
                let idx = rng.data_reg();
                let mask = (data - 8) & !7;
                code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(idx)));
                code.push(alu(Width::W64, AluOp::And, TMP, Src::Imm(mask as i32)));
                code.push(alu(Width::W64, AluOp::Add, TMP, Src::Reg(INPUT)));
                (TMP, if atomic { 0 } else { rng.range(0, 8 - n) })
            } else if !kernel && rng.chance(20) {
                let k = rng.range(0, data);
                code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(INPUT)));
                code.push(alu(Width::W64, AluOp::Add, TMP, Src::Imm(k as i32)));
                (TMP, off - k)
            } else {
                (INPUT, off)
            }
        }
        // The scratch region, through the pointer helper 3 returns; r0 gets
        // a scalar again at once.
        85..=94 if !kernel => {
            code.push(Insn::Call {
                kind: CallKind::Helper,
                imm: HELPER_SCRATCH,
            });
            code.push(alu(Width::W64, AluOp::Mov, TMP, Src::Reg(Reg::R0)));
            code.push(load_const(Reg::R0, rng.imm64()));
            let len = SCRATCH_LEN as i64;
            let off = if !risky || rng.chance(70) {
                let off = rng.range(0, len - n);
                off - off % n
            } else {
                len - n + rng.range(1, n)
            };
            (TMP, off)
        }
        // A wild address: a small constant (never a region).
        _ if risky => {
            code.push(load_const(TMP, rng.pick(&[0, 8, 0x1000, u64::MAX - 3])));
            (TMP, rng.range(-8, 8))
        }
        _ => (Reg::R10, -n),
    };
    let off = off as i16;
    let reg = rng.data_reg();
    if atomic {
        let op = rng.pick(&[
            AtomicOp::Add,
            AtomicOp::Or,
            AtomicOp::And,
            AtomicOp::Xor,
            AtomicOp::Xchg,
            AtomicOp::Cmpxchg,
        ]);
        // Kernel mode leaves out the 32-bit cmpxchg: on Linux 6.18 (x86-64)
        // the kernel oracle found programs where r0 keeps its upper half
        // after it (the RFC zero-extends the old value into r0; see the
        // harness report of issue 4), and every kernel batch would report
        // that one difference again.
        let op = if kernel && op == AtomicOp::Cmpxchg && size == Size::W {
            AtomicOp::Xchg
        } else {
            op
        };
        let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) || rng.chance(50);
        let off = if risky && rng.chance(15) {
            off.wrapping_add(rng.pick(&[1, 2, 4]))
        } else {
            off
        };
        code.push(Insn::Atomic {
            size,
            op,
            fetch,
            dst: base,
            src: reg,
            off,
        });
    } else {
        match rng.below(3) {
            0 => code.push(Insn::Ldx {
                size,
                sx: size != Size::DW && rng.chance(40),
                dst: reg,
                src: base,
                off,
            }),
            1 => code.push(Insn::St {
                size,
                dst: base,
                off,
                imm: rng.imm32(),
            }),
            _ => code.push(Insn::Stx {
                size,
                dst: base,
                src: reg,
                off,
            }),
        }
    }
    code
}

/// A legacy packet load (`ldabs`, `ldind`) from the input, mostly in bounds;
/// out of bounds it ends the program with r0 = 0.
fn packet_load(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let size = rng.pick(&[Size::B, Size::H, Size::W]);
    let n = size.bytes() as i64;
    let total = cx.input_len as i64;
    let imm = if rng.chance(90) {
        rng.range(0, cx.data_len as i64 - n)
    } else {
        rng.pick(&[total - n + 1, total, -1, i32::MAX as i64])
    } as i32;
    if rng.chance(50) {
        code.push(Insn::LdAbs { size, imm });
    } else {
        let src = rng.data_reg();
        if rng.chance(70) {
            code.push(load_const(src, rng.range(0, 8) as u64));
        }
        let imm = if rng.chance(80) { imm.clamp(0, 8) } else { imm };
        code.push(Insn::LdInd { size, src, imm });
    }
    code
}
