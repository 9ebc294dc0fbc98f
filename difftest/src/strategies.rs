//! Proptest strategies for the instruction model.
//!
//! [`any_insn`] generates every [`Insn`] variant over every field range the
//! strict decoder accepts, so `decode(encode(i)) == i` holds for each value it
//! produces. The instructions are individually valid; sequences of them are
//! not programs (jump targets, r10 writes and so on are unchecked).

use cranebpf_runtime::{
    AluOp, AtomicOp, CallKind, Endian, Insn, JmpCond, LddwKind, Reg, Size, Src, Width,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Any register r0..=r10.
pub fn any_reg() -> impl Strategy<Value = Reg> {
    (0u8..=10).prop_filter_map("register", Reg::new)
}

/// 32- or 64-bit.
pub fn any_width() -> impl Strategy<Value = Width> {
    select(vec![Width::W32, Width::W64])
}

/// Any access size.
pub fn any_size() -> impl Strategy<Value = Size> {
    select(vec![Size::B, Size::H, Size::W, Size::DW])
}

/// An immediate biased towards edge values.
pub fn any_imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        any::<i32>(),
        select(vec![0, 1, -1, 8, 16, 32, 64, i32::MIN, i32::MAX]),
    ]
}

/// A 16-bit offset biased towards edge values.
pub fn any_off() -> impl Strategy<Value = i16> {
    prop_oneof![any::<i16>(), select(vec![0, 1, -1, -8, i16::MIN, i16::MAX]),]
}

/// A register or an immediate operand.
pub fn any_src() -> impl Strategy<Value = Src> {
    prop_oneof![any_reg().prop_map(Src::Reg), any_imm().prop_map(Src::Imm)]
}

/// Any instruction the strict decoder accepts, of every variant.
pub fn any_insn() -> impl Strategy<Value = Insn> {
    let alu = (
        any_width(),
        select(AluOp::ALL.to_vec()),
        any_reg(),
        any_src(),
    )
        .prop_map(|(w, op, dst, src)| Insn::Alu { w, op, dst, src });
    let neg = (any_width(), any_reg()).prop_map(|(w, dst)| Insn::Neg { w, dst });
    let movsx = (
        any_reg(),
        any_reg(),
        select(vec![
            (Width::W32, 8),
            (Width::W32, 16),
            (Width::W64, 8),
            (Width::W64, 16),
            (Width::W64, 32),
        ]),
    )
        .prop_map(|(dst, src, (w, bits))| Insn::MovSx { w, dst, src, bits });
    let end = (
        select(vec![Endian::Le, Endian::Be, Endian::Swap]),
        any_reg(),
        select(vec![16u8, 32, 64]),
    )
        .prop_map(|(kind, dst, bits)| Insn::End { kind, dst, bits });
    let lddw = (
        any_reg(),
        select(vec![
            LddwKind::Imm64,
            LddwKind::MapByFd,
            LddwKind::MapValueByFd,
            LddwKind::VarAddr,
            LddwKind::CodeAddr,
            LddwKind::MapByIdx,
            LddwKind::MapValueByIdx,
        ]),
        any_imm(),
        any_imm(),
    )
        .prop_map(|(dst, kind, imm, next_imm)| Insn::Lddw {
            dst,
            kind,
            imm,
            next_imm,
        });
    let legacy_size = || select(vec![Size::B, Size::H, Size::W]);
    let ldabs = (legacy_size(), any_imm()).prop_map(|(size, imm)| Insn::LdAbs { size, imm });
    let ldind = (legacy_size(), any_reg(), any_imm()).prop_map(|(size, src, imm)| Insn::LdInd {
        size,
        src,
        imm,
    });
    let ldx = (any_size(), any::<bool>(), any_reg(), any_reg(), any_off()).prop_map(
        |(size, sx, dst, src, off)| Insn::Ldx {
            size,
            // MEMSX has no DW form.
            sx: sx && size != Size::DW,
            dst,
            src,
            off,
        },
    );
    let st =
        (any_size(), any_reg(), any_off(), any_imm()).prop_map(|(size, dst, off, imm)| Insn::St {
            size,
            dst,
            off,
            imm,
        });
    let stx =
        (any_size(), any_reg(), any_reg(), any_off()).prop_map(|(size, dst, src, off)| Insn::Stx {
            size,
            dst,
            src,
            off,
        });
    let atomic = (
        select(vec![Size::W, Size::DW]),
        select(vec![
            AtomicOp::Add,
            AtomicOp::Or,
            AtomicOp::And,
            AtomicOp::Xor,
            AtomicOp::Xchg,
            AtomicOp::Cmpxchg,
        ]),
        any::<bool>(),
        any_reg(),
        any_reg(),
        any_off(),
    )
        .prop_map(|(size, op, fetch, dst, src, off)| Insn::Atomic {
            size,
            op,
            // XCHG and CMPXCHG exist only with FETCH.
            fetch: fetch || matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg),
            dst,
            src,
            off,
        });
    let ja = prop_oneof![
        any_off().prop_map(|off| Insn::Ja {
            off: off as i32,
            wide: false
        }),
        any_imm().prop_map(|off| Insn::Ja { off, wide: true }),
    ];
    let jmp = (
        any_width(),
        select(JmpCond::ALL.to_vec()),
        any_reg(),
        any_src(),
        any_off(),
    )
        .prop_map(|(w, cond, dst, src, off)| Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off,
        });
    let call = (
        select(vec![CallKind::Helper, CallKind::Local, CallKind::Btf]),
        any_imm(),
    )
        .prop_map(|(kind, imm)| Insn::Call { kind, imm });
    let callx = any_reg().prop_map(|reg| Insn::Callx { reg });
    prop_oneof![
        alu,
        neg,
        movsx,
        end,
        lddw,
        ldabs,
        ldind,
        ldx,
        st,
        stx,
        atomic,
        ja,
        jmp,
        call,
        callx,
        Just(Insn::Exit),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::{decode_all, encode_all};
    use proptest::test_runner::{Config, TestRunner};

    #[test]
    fn any_insn_decodes_to_itself() {
        let mut runner = TestRunner::new(Config {
            cases: 2000,
            ..Config::default()
        });
        runner
            .run(&any_insn(), |insn| {
                let slots = encode_all([&insn]);
                let back = decode_all(&slots).map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(back, vec![(0usize, insn)]);
                Ok(())
            })
            .unwrap();
    }
}
