//! The disassembler: [`Insn`]s back to the assembler's syntax.
//!
//! Jump and local-call targets print as relative `+N`/`-N` slot offsets, so
//! every line stands alone and the output re-assembles to the same slots.
//! Immediates print in decimal (as `i32`), `lddw` values in hex.

use super::parse::lddw_kind_name;
use crate::isa::insn::*;
use std::fmt::Write;

/// Disassembles a program, one line per instruction (each ending in `\n`).
///
/// The pcs are not printed: the output is valid input for
/// [`assemble`](super::assemble), which produces the same instructions.
pub fn disassemble(insns: &[(usize, Insn)]) -> String {
    let mut out = String::new();
    for (_, insn) in insns {
        out.push_str(&disassemble_insn(insn));
        out.push('\n');
    }
    out
}

/// Disassembles one instruction, e.g. `ldxw %r0, [%r1+8]`.
pub fn disassemble_insn(insn: &Insn) -> String {
    let sfx = |w: Width| if w == Width::W32 { "32" } else { "" };
    match *insn {
        Insn::Alu { w, op, dst, src } => {
            format!("{}{} {dst}, {}", op.mnemonic(), sfx(w), operand(src))
        }
        Insn::Neg { w, dst } => format!("neg{} {dst}", sfx(w)),
        Insn::MovSx { w, dst, src, bits } => {
            let to = if w == Width::W32 { 32 } else { 64 };
            format!("movsx{bits}{to} {dst}, {src}")
        }
        Insn::End { kind, dst, bits } => {
            let m = match kind {
                Endian::Le => "le",
                Endian::Be => "be",
                Endian::Swap => "bswap",
            };
            format!("{m}{bits} {dst}")
        }
        Insn::Lddw {
            dst,
            kind,
            imm,
            next_imm,
        } => {
            let v = Insn::lddw_value(imm, next_imm);
            match kind {
                LddwKind::Imm64 => format!("lddw {dst}, {v:#x}"),
                k => format!("lddw {dst}, {v:#x}, {}", lddw_kind_name(k)),
            }
        }
        Insn::LdAbs { size, imm } => format!("ldabs{} {imm}", size.suffix()),
        Insn::LdInd { size, src, imm } => format!("ldind{} {src}, {imm}", size.suffix()),
        Insn::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => {
            let s = if sx { "s" } else { "" };
            format!("ldx{s}{} {dst}, {}", size.suffix(), mem(src, off))
        }
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => format!("st{} {}, {imm}", size.suffix(), mem(dst, off)),
        Insn::Stx {
            size,
            dst,
            src,
            off,
        } => format!("stx{} {}, {src}", size.suffix(), mem(dst, off)),
        Insn::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            let (name, fetch) = match op {
                AtomicOp::Add => ("add", fetch),
                AtomicOp::Or => ("or", fetch),
                AtomicOp::And => ("and", fetch),
                AtomicOp::Xor => ("xor", fetch),
                // Always fetching; the keyword is implied.
                AtomicOp::Xchg => ("xchg", false),
                AtomicOp::Cmpxchg => ("cmpxchg", false),
            };
            let f = if fetch { "fetch " } else { "" };
            let w = if size == Size::W { "32" } else { "" };
            format!("lock {f}{name}{w} {}, {src}", mem(dst, off))
        }
        Insn::Ja { off, wide } => {
            let m = if wide { "ja32" } else { "ja" };
            format!("{m} {}", rel(off as i64))
        }
        Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off,
        } => format!(
            "{}{} {dst}, {}, {}",
            cond.mnemonic(),
            sfx(w),
            operand(src),
            rel(off as i64)
        ),
        Insn::Call { kind, imm } => match kind {
            CallKind::Helper => format!("call {imm}"),
            CallKind::Local => format!("call local {}", rel(imm as i64)),
            CallKind::Btf => format!("call btf {imm}"),
        },
        Insn::Callx { reg } => format!("call {reg}"),
        Insn::Exit => "exit".to_string(),
    }
}

fn operand(src: Src) -> String {
    match src {
        Src::Reg(r) => r.to_string(),
        Src::Imm(i) => i.to_string(),
    }
}

fn mem(base: Reg, off: i16) -> String {
    let mut s = format!("[{base}");
    if off != 0 {
        // `{:+}` prints the sign of both positive and negative offsets.
        let _ = write!(s, "{off:+}");
    }
    s.push(']');
    s
}

fn rel(off: i64) -> String {
    format!("{off:+}")
}
