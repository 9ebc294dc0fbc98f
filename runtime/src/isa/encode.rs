//! Encoding of [`Insn`]s into slots: the exact inverse of [`crate::isa::decode`].
//!
//! For every instruction `i` that decoding produced, `decode(encode(i)) == i`,
//! and for every slot sequence that decodes, re-encoding gives the same slots.

use crate::isa::insn::*;

/// Encodes one instruction into one or (for LDDW) two slots, appended to `out`.
pub fn encode_into(insn: &Insn, out: &mut Vec<RawInsn>) {
    let class_alu = |w: Width| if w == Width::W64 { 0x07 } else { 0x04 };
    let class_jmp = |w: Width| if w == Width::W64 { 0x05 } else { 0x06 };
    let slot = |opcode: u8, dst: u8, src: u8, off: i16, imm: i32| RawInsn {
        opcode,
        dst,
        src,
        off,
        imm,
    };
    let s = match *insn {
        Insn::Alu { w, op, dst, src } => match src {
            Src::Imm(imm) => slot(op.code() | class_alu(w), dst.num(), 0, op.offset(), imm),
            Src::Reg(r) => slot(
                op.code() | 0x08 | class_alu(w),
                dst.num(),
                r.num(),
                op.offset(),
                0,
            ),
        },
        Insn::Neg { w, dst } => slot(0x80 | class_alu(w), dst.num(), 0, 0, 0),
        Insn::MovSx { w, dst, src, bits } => {
            slot(0xb8 | class_alu(w), dst.num(), src.num(), bits as i16, 0)
        }
        Insn::End { kind, dst, bits } => {
            let opcode = match kind {
                Endian::Le => 0xd4,
                Endian::Be => 0xdc,
                Endian::Swap => 0xd7,
            };
            slot(opcode, dst.num(), 0, 0, bits as i32)
        }
        Insn::Lddw {
            dst,
            kind,
            imm,
            next_imm,
        } => {
            out.push(slot(0x18, dst.num(), kind.code(), 0, imm));
            slot(0, 0, 0, 0, next_imm)
        }
        Insn::LdAbs { size, imm } => slot(0x20 | size.code(), 0, 0, 0, imm),
        Insn::LdInd { size, src, imm } => slot(0x40 | size.code(), 0, src.num(), 0, imm),
        Insn::Ldx {
            size,
            sx,
            dst,
            src,
            off,
        } => {
            let mode = if sx { 0x80 } else { 0x60 };
            slot(mode | size.code() | 0x01, dst.num(), src.num(), off, 0)
        }
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => slot(0x60 | size.code() | 0x02, dst.num(), 0, off, imm),
        Insn::Stx {
            size,
            dst,
            src,
            off,
        } => slot(0x60 | size.code() | 0x03, dst.num(), src.num(), off, 0),
        Insn::Atomic {
            size,
            op,
            fetch,
            dst,
            src,
            off,
        } => {
            let imm = op.code() | if fetch { AtomicOp::FETCH } else { 0 };
            slot(0xc0 | size.code() | 0x03, dst.num(), src.num(), off, imm)
        }
        Insn::Ja { off, wide: false } => slot(0x05, 0, 0, off as i16, 0),
        Insn::Ja { off, wide: true } => slot(0x06, 0, 0, 0, off),
        Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off,
        } => match src {
            Src::Imm(imm) => slot(cond.code() | class_jmp(w), dst.num(), 0, off, imm),
            Src::Reg(r) => slot(
                cond.code() | 0x08 | class_jmp(w),
                dst.num(),
                r.num(),
                off,
                0,
            ),
        },
        Insn::Call { kind, imm } => {
            let src = match kind {
                CallKind::Helper => 0,
                CallKind::Local => 1,
                CallKind::Btf => 2,
            };
            slot(0x85, 0, src, 0, imm)
        }
        Insn::Callx { reg } => slot(0x8d, reg.num(), 0, 0, 0),
        Insn::Exit => slot(0x95, 0, 0, 0, 0),
    };
    out.push(s);
}

/// Encodes a sequence of instructions into slots.
pub fn encode_all<'a>(insns: impl IntoIterator<Item = &'a Insn>) -> Vec<RawInsn> {
    let mut out = Vec::new();
    for i in insns {
        encode_into(i, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::decode::decode_all;

    #[test]
    fn every_valid_single_slot_opcode_round_trips() {
        // Sweep every opcode with a few field patterns; whatever decodes must re-encode to itself.
        let mut decoded = 0;
        for opcode in 0..=255u8 {
            for (dst, src, off, imm) in [
                (0, 0, 0, 0),
                (1, 2, 0, 0),
                (1, 0, 1, 0),
                (3, 1, 8, 0),
                (2, 0, 0, 16),
                (4, 0, -3, 7),
                (0, 0, 0, 0xe1),
                (1, 0, 0, 64),
                (0, 1, 0, 3),
            ] {
                let slots = [
                    RawInsn {
                        opcode,
                        dst,
                        src,
                        off,
                        imm,
                    },
                    RawInsn::default(),
                ];
                if let Ok(insns) = decode_all(&slots[..if opcode == 0x18 { 2 } else { 1 }]) {
                    decoded += 1;
                    let re = encode_all(insns.iter().map(|(_, i)| i));
                    assert_eq!(&re[..], &slots[..re.len()], "opcode {opcode:#x}");
                }
            }
        }
        assert!(decoded > 150, "only {decoded} slots decoded");
    }
}
