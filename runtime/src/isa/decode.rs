//! Strict decoding of slots into [`Insn`]s.
//!
//! RFC 9669 says fields an instruction does not use MUST be zero; we reject
//! anything else, with the slot index and a reason. Rules, by class:
//!
//! - **ALU/ALU64** binary ops: K form needs `src == 0`; X form needs `imm == 0`;
//!   `offset` must be 0, except 1 for `sdiv`/`smod` (opcode 0x30/0x90) and
//!   8/16 (ALU) or 8/16/32 (ALU64) for `movsx` (X form of 0xb0).
//!   NEG (0x80) only in K form with src, offset and imm all zero.
//!   END: 0xd4/0xdc (ALU) and 0xd7 (ALU64) with `src == 0`, `offset == 0` and
//!   `imm` in {16, 32, 64}. Opcodes 0xe0/0xf0 and 0xdf are unknown.
//! - **JMP/JMP32**: `ja` (0x05) needs dst, src and imm zero; `ja32` (0x06) needs
//!   dst, src and offset zero; conditionals need `src == 0` (K) or `imm == 0`
//!   (X); `call` (0x85) needs dst and offset zero and src in {0, 1, 2};
//!   `callx` (0x8d) needs src, offset and imm zero; `exit` (0x95) needs every
//!   field zero. `call`, `callx` and `exit` exist only in the JMP class.
//! - **LD**: `lddw` (0x18) with offset zero, src in 0..=6, and a second slot
//!   whose opcode, dst, src and offset are zero; legacy ABS (0x20/0x28/0x30)
//!   with dst, src and offset zero; IND (0x40/0x48/0x50) with dst and offset zero.
//! - **LDX**: MEM (0x61/0x69/0x71/0x79) and MEMSX (0x81/0x89/0x91) with imm zero.
//! - **ST**: MEM (0x62/0x6a/0x72/0x7a) with src zero.
//! - **STX**: MEM (0x63/0x6b/0x73/0x7b) with imm zero; ATOMIC (0xc3/0xdb) with
//!   imm one of ADD, OR, AND, XOR (each optionally |FETCH), XCHG, CMPXCHG.
//! - Registers used by the instruction must be 0..=10. Whether r10 may be
//!   written is the validator's business, not the decoder's.

use crate::isa::insn::*;
use std::fmt;
use Field::{Dst, Imm, Offset};

/// Why a slot did not decode. Every error names its slot index (`pc`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Slot index of the offending instruction.
    pub pc: usize,
    /// What is wrong with it.
    pub reason: DecodeReason,
}

/// The field of a slot an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The destination register nibble.
    Dst,
    /// The source register nibble.
    Src,
    /// The 16-bit offset.
    Offset,
    /// The 32-bit immediate.
    Imm,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Dst => "dst",
            Field::Src => "src",
            Field::Offset => "offset",
            Field::Imm => "imm",
        })
    }
}

/// The reasons decoding can fail.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeReason {
    /// The bytecode length is not a multiple of 8.
    TruncatedSlot {
        /// Length in bytes.
        len: usize,
    },
    /// The opcode is not an instruction of RFC 9669 (or `callx`).
    UnknownOpcode {
        /// The opcode byte.
        opcode: u8,
    },
    /// A field the instruction does not use is non-zero.
    UnusedFieldNonZero {
        /// The opcode byte.
        opcode: u8,
        /// Which field.
        field: Field,
        /// Its value.
        value: i64,
    },
    /// A register field names a register above r10.
    BadRegister {
        /// Which field.
        field: Field,
        /// The register number.
        reg: u8,
    },
    /// A field holds a value the instruction does not define.
    BadValue {
        /// The opcode byte.
        opcode: u8,
        /// Which field.
        field: Field,
        /// Its value.
        value: i64,
        /// What is allowed.
        expected: &'static str,
    },
    /// An `lddw` is the last slot of the program.
    LddwMissingSecondSlot,
    /// The second slot of an `lddw` has a non-zero opcode, dst, src or offset.
    LddwBadSecondSlot {
        /// Which field.
        field: &'static str,
        /// Its value.
        value: i64,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pc {}: ", self.pc)?;
        match &self.reason {
            DecodeReason::TruncatedSlot { len } => {
                write!(f, "bytecode length {len} is not a multiple of 8")
            }
            DecodeReason::UnknownOpcode { opcode } => write!(f, "unknown opcode {opcode:#04x}"),
            DecodeReason::UnusedFieldNonZero { opcode, field, value } => write!(
                f,
                "opcode {opcode:#04x} does not use its {field} field, which must be 0 but is {value:#x}"
            ),
            DecodeReason::BadRegister { field, reg } => {
                write!(f, "{field} register r{reg} does not exist (r0..r10)")
            }
            DecodeReason::BadValue { opcode, field, value, expected } => write!(
                f,
                "opcode {opcode:#04x}: {field} is {value:#x}, expected {expected}"
            ),
            DecodeReason::LddwMissingSecondSlot => {
                write!(f, "lddw is the last slot; it needs a second slot")
            }
            DecodeReason::LddwBadSecondSlot { field, value } => write!(
                f,
                "second slot of lddw must have {field} 0, found {value:#x}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Decodes every instruction of a program, in order, as `(pc, insn)` pairs.
/// LDDW's second slot is consumed by its first.
pub fn decode_all(slots: &[RawInsn]) -> Result<Vec<(usize, Insn)>, DecodeError> {
    let mut out = Vec::with_capacity(slots.len());
    let mut pc = 0;
    while pc < slots.len() {
        let insn = decode_at(slots, pc)?;
        out.push((pc, insn));
        pc += insn.slots();
    }
    Ok(out)
}

/// Decodes the instruction that starts at slot `pc`. Returns an error if `pc`
/// is out of range.
pub fn decode_at(slots: &[RawInsn], pc: usize) -> Result<Insn, DecodeError> {
    let Some(&raw) = slots.get(pc) else {
        return Err(DecodeError {
            pc,
            reason: DecodeReason::LddwMissingSecondSlot,
        });
    };
    let err = |reason| DecodeError { pc, reason };
    match decode_slot(raw) {
        Ok(Some(insn)) => Ok(insn),
        Ok(None) => {
            // LDDW: the first slot checked out; now the second.
            let Some(&next) = slots.get(pc + 1) else {
                return Err(err(DecodeReason::LddwMissingSecondSlot));
            };
            for (field, value) in [
                ("opcode", next.opcode as i64),
                ("dst", next.dst as i64),
                ("src", next.src as i64),
                ("offset", next.off as i64),
            ] {
                if value != 0 {
                    return Err(err(DecodeReason::LddwBadSecondSlot { field, value }));
                }
            }
            let dst = reg(raw.dst, Field::Dst).map_err(err)?;
            let kind = LddwKind::from_code(raw.src).ok_or_else(|| {
                err(DecodeReason::BadValue {
                    opcode: raw.opcode,
                    field: Field::Src,
                    value: raw.src as i64,
                    expected: "an lddw sub-type 0..=6",
                })
            })?;
            Ok(Insn::Lddw {
                dst,
                kind,
                imm: raw.imm,
                next_imm: next.imm,
            })
        }
        Err(reason) => Err(err(reason)),
    }
}

fn reg(n: u8, field: Field) -> Result<Reg, DecodeReason> {
    Reg::new(n).ok_or(DecodeReason::BadRegister { field, reg: n })
}

/// Checks that the listed fields are zero.
fn zero(raw: RawInsn, fields: &[Field]) -> Result<(), DecodeReason> {
    for &field in fields {
        let value = match field {
            Field::Dst => raw.dst as i64,
            Field::Src => raw.src as i64,
            Field::Offset => raw.off as i64,
            Field::Imm => raw.imm as i64,
        };
        if value != 0 {
            return Err(DecodeReason::UnusedFieldNonZero {
                opcode: raw.opcode,
                field,
                value,
            });
        }
    }
    Ok(())
}

fn bad_value(raw: RawInsn, field: Field, value: i64, expected: &'static str) -> DecodeReason {
    DecodeReason::BadValue {
        opcode: raw.opcode,
        field,
        value,
        expected,
    }
}

/// Decodes one slot by its class. `Ok(None)` means "a well-formed first
/// slot of an LDDW": the caller checks the second slot and builds the
/// instruction.
fn decode_slot(raw: RawInsn) -> Result<Option<Insn>, DecodeReason> {
    let insn = match raw.opcode & 0x07 {
        0x04 | 0x07 => decode_alu(raw)?,
        0x05 | 0x06 => decode_jmp(raw)?,
        0x00 => return decode_ld(raw),
        0x01 => decode_ldx(raw)?,
        0x02 => decode_st(raw)?,
        0x03 => decode_stx(raw)?,
        _ => return Err(unknown_opcode(raw)),
    };
    Ok(Some(insn))
}

fn unknown_opcode(raw: RawInsn) -> DecodeReason {
    DecodeReason::UnknownOpcode { opcode: raw.opcode }
}

/// ALU (0x04) and ALU64 (0x07): neg, the byte-order ops, and the binary ops.
fn decode_alu(raw: RawInsn) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let w = if op & 0x07 == 0x07 {
        Width::W64
    } else {
        Width::W32
    };
    let x = op & 0x08 != 0;
    let dst = reg(raw.dst, Dst)?;
    Ok(match op & 0xf0 {
        0x80 => {
            if x {
                return Err(unknown());
            }
            zero(raw, &[Field::Src, Offset, Imm])?;
            Insn::Neg { w, dst }
        }
        0xd0 => {
            let kind = match (w, x) {
                (Width::W32, false) => Endian::Le,
                (Width::W32, true) => Endian::Be,
                (Width::W64, false) => Endian::Swap,
                (Width::W64, true) => return Err(unknown()),
            };
            zero(raw, &[Field::Src, Offset])?;
            let bits = match raw.imm {
                16 => 16,
                32 => 32,
                64 => 64,
                v => return Err(bad_value(raw, Imm, v as i64, "16, 32 or 64")),
            };
            Insn::End { kind, dst, bits }
        }
        0xe0 | 0xf0 => return Err(unknown()),
        code => decode_alu_binary(raw, w, x, dst, code)?,
    })
}

/// The binary ALU ops (`code` is the op bits, `x` the register-source bit):
/// the operand, then the offset that selects sdiv/smod and movsx.
fn decode_alu_binary(
    raw: RawInsn,
    w: Width,
    x: bool,
    dst: Reg,
    code: u8,
) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let base = AluOp::ALL
        .iter()
        .copied()
        .find(|o| o.code() == code && o.offset() == 0)
        .ok_or_else(unknown)?;
    let src = if x {
        zero(raw, &[Imm])?;
        Src::Reg(reg(raw.src, Field::Src)?)
    } else {
        zero(raw, &[Field::Src])?;
        Src::Imm(raw.imm)
    };
    Ok(match (base, raw.off, src) {
        (_, 0, src) => Insn::Alu {
            w,
            op: base,
            dst,
            src,
        },
        (AluOp::Div, 1, src) => Insn::Alu {
            w,
            op: AluOp::Sdiv,
            dst,
            src,
        },
        (AluOp::Mod, 1, src) => Insn::Alu {
            w,
            op: AluOp::Smod,
            dst,
            src,
        },
        (AluOp::Div | AluOp::Mod, off, _) => {
            return Err(bad_value(raw, Offset, off as i64, "0 or 1"))
        }
        (AluOp::Mov, off @ (8 | 16), Src::Reg(src)) => Insn::MovSx {
            w,
            dst,
            src,
            bits: off as u8,
        },
        (AluOp::Mov, 32, Src::Reg(src)) if w == Width::W64 => Insn::MovSx {
            w,
            dst,
            src,
            bits: 32,
        },
        (AluOp::Mov, off, Src::Reg(_)) => {
            let expected = if w == Width::W64 {
                "0, 8, 16 or 32"
            } else {
                "0, 8 or 16"
            };
            return Err(bad_value(raw, Offset, off as i64, expected));
        }
        (_, off, _) => {
            return Err(DecodeReason::UnusedFieldNonZero {
                opcode: op,
                field: Offset,
                value: off as i64,
            })
        }
    })
}

/// JMP (0x05) and JMP32 (0x06): ja, call, callx, exit, conditional jumps.
fn decode_jmp(raw: RawInsn) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let w = if op & 0x07 == 0x06 {
        Width::W32
    } else {
        Width::W64
    };
    let x = op & 0x08 != 0;
    Ok(match (op & 0xf0, w, x) {
        (0x00, Width::W64, false) => {
            zero(raw, &[Dst, Field::Src, Imm])?;
            Insn::Ja {
                off: raw.off as i32,
                wide: false,
            }
        }
        (0x00, Width::W32, false) => {
            zero(raw, &[Dst, Field::Src, Offset])?;
            Insn::Ja {
                off: raw.imm,
                wide: true,
            }
        }
        (0x80, Width::W64, false) => {
            zero(raw, &[Dst, Offset])?;
            let kind = match raw.src {
                0 => CallKind::Helper,
                1 => CallKind::Local,
                2 => CallKind::Btf,
                v => return Err(bad_value(raw, Field::Src, v as i64, "0, 1 or 2")),
            };
            Insn::Call { kind, imm: raw.imm }
        }
        (0x80, Width::W64, true) => {
            zero(raw, &[Field::Src, Offset, Imm])?;
            Insn::Callx {
                reg: reg(raw.dst, Dst)?,
            }
        }
        (0x90, Width::W64, false) => {
            zero(raw, &[Dst, Field::Src, Offset, Imm])?;
            Insn::Exit
        }
        (code, w, x) => {
            let cond = JmpCond::ALL
                .iter()
                .copied()
                .find(|c| c.code() == code)
                .ok_or_else(unknown)?;
            let dst = reg(raw.dst, Dst)?;
            let src = if x {
                zero(raw, &[Imm])?;
                Src::Reg(reg(raw.src, Field::Src)?)
            } else {
                zero(raw, &[Field::Src])?;
                Src::Imm(raw.imm)
            };
            Insn::Jmp {
                w,
                cond,
                dst,
                src,
                off: raw.off,
            }
        }
    })
}

/// LD (0x00): the first slot of lddw (`Ok(None)`) and the legacy packet loads.
fn decode_ld(raw: RawInsn) -> Result<Option<Insn>, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let insn = match op {
        0x18 => {
            zero(raw, &[Offset])?;
            return Ok(None);
        }
        0x20 | 0x28 | 0x30 => {
            zero(raw, &[Dst, Field::Src, Offset])?;
            Insn::LdAbs {
                size: Size::from_code(op),
                imm: raw.imm,
            }
        }
        0x40 | 0x48 | 0x50 => {
            zero(raw, &[Dst, Offset])?;
            Insn::LdInd {
                size: Size::from_code(op),
                src: reg(raw.src, Field::Src)?,
                imm: raw.imm,
            }
        }
        _ => return Err(unknown()),
    };
    Ok(Some(insn))
}

/// LDX (0x01): loads, zero- or sign-extending.
fn decode_ldx(raw: RawInsn) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let size = Size::from_code(op);
    let sx = match op & 0xe0 {
        0x60 => false,
        0x80 if size != Size::DW => true,
        _ => return Err(unknown()),
    };
    zero(raw, &[Imm])?;
    Ok(Insn::Ldx {
        size,
        sx,
        dst: reg(raw.dst, Dst)?,
        src: reg(raw.src, Field::Src)?,
        off: raw.off,
    })
}

/// ST (0x02): stores of an immediate.
fn decode_st(raw: RawInsn) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    if op & 0xe0 != 0x60 {
        return Err(unknown());
    }
    zero(raw, &[Field::Src])?;
    Ok(Insn::St {
        size: Size::from_code(op),
        dst: reg(raw.dst, Dst)?,
        off: raw.off,
        imm: raw.imm,
    })
}

/// STX (0x03): stores of a register, and the atomics.
fn decode_stx(raw: RawInsn) -> Result<Insn, DecodeReason> {
    let unknown = || unknown_opcode(raw);
    let op = raw.opcode;
    let size = Size::from_code(op);
    Ok(match op & 0xe0 {
        0x60 => {
            zero(raw, &[Imm])?;
            Insn::Stx {
                size,
                dst: reg(raw.dst, Dst)?,
                src: reg(raw.src, Field::Src)?,
                off: raw.off,
            }
        }
        0xc0 if matches!(size, Size::W | Size::DW) => {
            let (op_, fetch) = match raw.imm {
                0x00 => (AtomicOp::Add, false),
                0x01 => (AtomicOp::Add, true),
                0x40 => (AtomicOp::Or, false),
                0x41 => (AtomicOp::Or, true),
                0x50 => (AtomicOp::And, false),
                0x51 => (AtomicOp::And, true),
                0xa0 => (AtomicOp::Xor, false),
                0xa1 => (AtomicOp::Xor, true),
                0xe1 => (AtomicOp::Xchg, true),
                0xf1 => (AtomicOp::Cmpxchg, true),
                v => {
                    return Err(bad_value(
                        raw,
                        Imm,
                        v as i64,
                        "an atomic operation (0x00/0x40/0x50/0xa0 [|0x01], 0xe1, 0xf1)",
                    ))
                }
            };
            Insn::Atomic {
                size,
                op: op_,
                fetch,
                dst: reg(raw.dst, Dst)?,
                src: reg(raw.src, Field::Src)?,
                off: raw.off,
            }
        }
        _ => return Err(unknown()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(opcode: u8, dst: u8, src: u8, off: i16, imm: i32) -> RawInsn {
        RawInsn {
            opcode,
            dst,
            src,
            off,
            imm,
        }
    }

    #[test]
    fn add_imm_with_src_is_rejected() {
        let e = decode_at(&[raw(0x04, 0, 1, 0, 1)], 0).unwrap_err();
        assert_eq!(
            e.reason,
            DecodeReason::UnusedFieldNonZero {
                opcode: 0x04,
                field: Field::Src,
                value: 1
            }
        );
    }

    #[test]
    fn sdiv_and_movsx_offsets() {
        assert_eq!(
            decode_at(&[raw(0x3f, 1, 2, 1, 0)], 0).unwrap(),
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Sdiv,
                dst: Reg::R1,
                src: Src::Reg(Reg::R2)
            }
        );
        assert_eq!(
            decode_at(&[raw(0xbc, 1, 2, 16, 0)], 0).unwrap(),
            Insn::MovSx {
                w: Width::W32,
                dst: Reg::R1,
                src: Reg::R2,
                bits: 16
            }
        );
        // movsx32 exists only in the 64-bit form; movsx with an immediate not at all.
        assert!(decode_at(&[raw(0xbc, 1, 2, 32, 0)], 0).is_err());
        assert!(decode_at(&[raw(0xb4, 1, 0, 8, 0)], 0).is_err());
        assert!(decode_at(&[raw(0x37, 1, 0, 2, 3)], 0).is_err());
    }

    #[test]
    fn lddw_needs_a_clean_second_slot() {
        let first = raw(0x18, 1, 0, 0, 5);
        assert_eq!(
            decode_at(&[first], 0).unwrap_err().reason,
            DecodeReason::LddwMissingSecondSlot
        );
        assert!(decode_at(&[first, raw(0, 1, 0, 0, 0)], 0).is_err());
        assert_eq!(
            decode_at(&[first, raw(0, 0, 0, 0, 7)], 0).unwrap(),
            Insn::Lddw {
                dst: Reg::R1,
                kind: LddwKind::Imm64,
                imm: 5,
                next_imm: 7
            }
        );
        assert!(decode_at(&[raw(0x18, 1, 7, 0, 0), raw(0, 0, 0, 0, 0)], 0).is_err());
    }

    #[test]
    fn bad_registers_and_opcodes() {
        assert_eq!(
            decode_at(&[raw(0xb7, 11, 0, 0, 0)], 0).unwrap_err().reason,
            DecodeReason::BadRegister {
                field: Field::Dst,
                reg: 11
            }
        );
        for op in [
            0x8c, 0x8f, 0xdf, 0xe4, 0xf7, 0x86, 0x96, 0x8e, 0x0d, 0x38, 0x99, 0xc2, 0xd3, 0xcb,
        ] {
            assert!(
                decode_at(&[raw(op, 0, 0, 0, 0)], 0).is_err(),
                "opcode {op:#x}"
            );
        }
        assert!(decode_at(&[raw(0xd4, 1, 0, 0, 8)], 0).is_err());
        assert!(decode_at(&[raw(0xdb, 1, 2, 0, 0x02)], 0).is_err());
    }

    #[test]
    fn truncated_bytecode() {
        assert!(slots_from_bytes(&[0; 9]).is_err());
    }
}
