//! ALU, byte order and jumps: an exhaustive sweep of every operation over
//! edge operands, compared between engines. (The hand-worked values run on
//! every engine in `tests/hand_worked.rs`.)

use crate::harness::*;
use cranebpf::insn::*;
use Width::{W32, W64};

#[test]
fn end_truncates() {
    let le16 = Insn::End {
        kind: Endian::Le,
        dst: r(0),
        bits: 16,
    };
    let be16 = Insn::End {
        kind: Endian::Be,
        dst: r(0),
        bits: 16,
    };
    let sw32 = Insn::End {
        kind: Endian::Swap,
        dst: r(0),
        bits: 32,
    };
    expect_r0(&[lddw(0, 0xaabb_1234), le16, EXIT], &[], 0x1234);
    expect_r0(&[lddw(0, 0xaabb_1234), be16, EXIT], &[], 0x3412);
    expect_r0(
        &[lddw(0, 0x1122_3344_5566_7788), sw32, EXIT],
        &[],
        0x8877_6655,
    );
}

const VALUES: [u64; 12] = [
    0,
    1,
    2,
    7,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    0xfffe_dcba_9876_5432,
];
const IMMS: [i32; 7] = [0, 1, -1, 3, -7, i32::MIN, i32::MAX];

/// Every ALU op, both widths, register and immediate forms, over edge
/// values: the JIT must match the interpreter exactly (and survive).
#[test]
fn alu_sweep_matches_interpreter() {
    let h = helpers();
    // One program per (op, width, form): r0 and r1 come from the input.
    for op in AluOp::ALL {
        for w in [W32, W64] {
            let load = [
                Insn::Ldx {
                    size: Size::DW,
                    sx: false,
                    dst: r(0),
                    src: r(1),
                    off: 0,
                },
                Insn::Ldx {
                    size: Size::DW,
                    sx: false,
                    dst: r(2),
                    src: r(1),
                    off: 8,
                },
            ];
            let reg_prog = prog(&[load[0], load[1], alur(w, op, 0, 2), EXIT]);
            let (i, j) = engines(&reg_prog, &h);
            for &a in &VALUES {
                for &b in &VALUES {
                    let mut mem = a.to_le_bytes().to_vec();
                    mem.extend_from_slice(&b.to_le_bytes());
                    both(&i, &j, &mem, None, &format!("{op:?} {w:?} {a:#x}, {b:#x}"));
                }
            }
            for &k in &IMMS {
                let p = prog(&[load[0], alu(w, op, 0, k), EXIT]);
                let (i, j) = engines(&p, &h);
                for &a in &VALUES {
                    both(
                        &i,
                        &j,
                        &a.to_le_bytes(),
                        None,
                        &format!("{op:?} {w:?} {a:#x}, imm {k}"),
                    );
                }
            }
        }
    }
}

/// Every condition, both widths, over edge values.
#[test]
fn jmp_sweep_matches_interpreter() {
    let h = helpers();
    for cond in JmpCond::ALL {
        for w in [W32, W64] {
            let p = prog(&[
                Insn::Ldx {
                    size: Size::DW,
                    sx: false,
                    dst: r(3),
                    src: r(1),
                    off: 0,
                },
                Insn::Ldx {
                    size: Size::DW,
                    sx: false,
                    dst: r(4),
                    src: r(1),
                    off: 8,
                },
                mov(0, 1),
                Insn::Jmp {
                    w,
                    cond,
                    dst: r(3),
                    src: Src::Reg(r(4)),
                    off: 1,
                },
                mov(0, 2),
                EXIT,
            ]);
            let (i, j) = engines(&p, &h);
            for &a in &VALUES {
                for &b in &VALUES {
                    let mut mem = a.to_le_bytes().to_vec();
                    mem.extend_from_slice(&b.to_le_bytes());
                    both(
                        &i,
                        &j,
                        &mem,
                        None,
                        &format!("{cond:?} {w:?} {a:#x}, {b:#x}"),
                    );
                }
            }
        }
    }
}

#[test]
fn neg_end_movsx_sweep_matches_interpreter() {
    let h = helpers();
    let mut forms = vec![
        Insn::Neg { w: W32, dst: r(0) },
        Insn::Neg { w: W64, dst: r(0) },
    ];
    for kind in [Endian::Le, Endian::Be, Endian::Swap] {
        for bits in [16, 32, 64] {
            forms.push(Insn::End {
                kind,
                dst: r(0),
                bits,
            });
        }
    }
    for (w, bits) in [(W32, 8), (W32, 16), (W64, 8), (W64, 16), (W64, 32)] {
        forms.push(Insn::MovSx {
            w,
            dst: r(0),
            src: r(0),
            bits,
        });
    }
    for f in forms {
        let p = prog(&[
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(0),
                src: r(1),
                off: 0,
            },
            f,
            EXIT,
        ]);
        let (i, j) = engines(&p, &h);
        for &a in &VALUES {
            both(&i, &j, &a.to_le_bytes(), None, &format!("{f:?} {a:#x}"));
        }
    }
}
