//! Instruction and program builders: one function per instruction form,
//! registers by number (`r(n)`), immediates as `i32`, sizes and operations
//! as the runtime's own enums. Every builder panics on an invalid register,
//! which is a bug in the test, never input.

use cranebpf_runtime::{
    AluOp, AtomicOp, CallKind, HelperError, Helpers, Insn, JmpCond, LddwKind, Program, Reg, Size,
    Src, Width,
};

/// `r{n}`.
pub fn r(n: u8) -> Reg {
    Reg::new(n).expect("test register")
}

/// ALU with an immediate operand.
pub fn alu(w: Width, op: AluOp, dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        w,
        op,
        dst: r(dst),
        src: Src::Imm(imm),
    }
}

/// ALU with a register operand.
pub fn alur(w: Width, op: AluOp, dst: u8, src: u8) -> Insn {
    Insn::Alu {
        w,
        op,
        dst: r(dst),
        src: Src::Reg(r(src)),
    }
}

/// 64-bit ALU with an immediate.
pub fn alu64(op: AluOp, dst: u8, imm: i32) -> Insn {
    alu(Width::W64, op, dst, imm)
}

/// 32-bit ALU with an immediate.
pub fn alu32(op: AluOp, dst: u8, imm: i32) -> Insn {
    alu(Width::W32, op, dst, imm)
}

/// 64-bit ALU with a register.
pub fn alu64r(op: AluOp, dst: u8, src: u8) -> Insn {
    alur(Width::W64, op, dst, src)
}

/// 32-bit ALU with a register.
pub fn alu32r(op: AluOp, dst: u8, src: u8) -> Insn {
    alur(Width::W32, op, dst, src)
}

/// `mov dst, imm` (64-bit, sign-extended).
pub fn mov(dst: u8, imm: i32) -> Insn {
    alu64(AluOp::Mov, dst, imm)
}

/// `mov dst, src` (64-bit).
pub fn movr(dst: u8, src: u8) -> Insn {
    alu64r(AluOp::Mov, dst, src)
}

/// `neg dst` at width `w`.
pub fn neg(w: Width, dst: u8) -> Insn {
    Insn::Neg { w, dst: r(dst) }
}

/// `lddw dst, v`.
pub fn lddw(dst: u8, v: u64) -> Insn {
    Insn::Lddw {
        dst: r(dst),
        kind: LddwKind::Imm64,
        imm: v as u32 as i32,
        next_imm: (v >> 32) as u32 as i32,
    }
}

/// `dst = *(size *)(src + off)`, zero-extending.
pub fn ldx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Ldx {
        size,
        sx: false,
        dst: r(dst),
        src: r(src),
        off,
    }
}

/// `dst = *(size *)(src + off)`, sign-extending.
pub fn ldxs(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Ldx {
        size,
        sx: true,
        dst: r(dst),
        src: r(src),
        off,
    }
}

/// `*(size *)(dst + off) = imm`.
pub fn st(size: Size, dst: u8, off: i16, imm: i32) -> Insn {
    Insn::St {
        size,
        dst: r(dst),
        off,
        imm,
    }
}

/// `*(size *)(dst + off) = src`.
pub fn stx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Stx {
        size,
        dst: r(dst),
        src: r(src),
        off,
    }
}

/// An atomic read-modify-write of `*(size *)(dst + off)` with `src`.
pub fn atomic(size: Size, op: AtomicOp, fetch: bool, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Atomic {
        size,
        op,
        fetch,
        dst: r(dst),
        src: r(src),
        off,
    }
}

/// A conditional jump by `off` when `dst cond src`.
pub fn jmp(w: Width, cond: JmpCond, dst: u8, src: Src, off: i16) -> Insn {
    Insn::Jmp {
        w,
        cond,
        dst: r(dst),
        src,
        off,
    }
}

/// `ja off` (16-bit offset).
pub fn ja(off: i32) -> Insn {
    Insn::Ja { off, wide: false }
}

/// A call of helper `id`.
pub fn call(id: i32) -> Insn {
    Insn::Call {
        kind: CallKind::Helper,
        imm: id,
    }
}

/// A local (bpf-to-bpf) call by `off`.
pub fn call_local(off: i32) -> Insn {
    Insn::Call {
        kind: CallKind::Local,
        imm: off,
    }
}

/// `callx reg`: a call of the helper whose id is in `reg`.
pub fn callx(reg: u8) -> Insn {
    Insn::Callx { reg: r(reg) }
}

/// Legacy `ld_abs`: r0 = the packet's big-endian `size` at `imm`.
pub fn ld_abs(size: Size, imm: i32) -> Insn {
    Insn::LdAbs { size, imm }
}

/// Legacy `ld_ind`: r0 = the packet's big-endian `size` at `src + imm`.
pub fn ld_ind(size: Size, src: u8, imm: i32) -> Insn {
    Insn::LdInd {
        size,
        src: r(src),
        imm,
    }
}

/// `exit`.
pub const EXIT: Insn = Insn::Exit;

/// A program from instructions (the test's program must load).
pub fn prog(insns: &[Insn]) -> Program {
    Program::from_insns(insns).expect("test program loads")
}

/// Helpers every test program may call: 5 returns r1 (the conformance
/// suite's), 7 returns r1 + r2 + r3 + r4 + r5, 9 fails.
pub fn helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register(5, "identity", |_, a| Ok(a[0]));
    h.register(7, "sum", |_, a| {
        Ok(a.iter().fold(0u64, |s, &x| s.wrapping_add(x)))
    });
    h.register(9, "fail", |_, _| Err(HelperError::new("nope")));
    h
}
