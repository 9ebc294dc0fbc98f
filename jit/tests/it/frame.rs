//! Accesses through registers the frame analysis tracks (`r10 + c`): the
//! lowering omits the check exactly when the access lies in the current
//! frame, so the edges of the frame must fault or succeed as in the
//! interpreter, at depth 0 and in a callee, and laundered pointers must
//! still be checked.

use crate::harness::{both, helpers, prog};
use cranebpf::insn::*;
use cranebpf::{FaultKind, Vm};
use cranebpf_testkit::build::{alu64, mov, movr, r, EXIT};

/// `r1 = r10 + k; *(size *)(r1 + off) = 7; r0 = *(size *)(r1 + off)`.
fn body(k: i32, off: i16, size: Size) -> Vec<Insn> {
    vec![
        movr(1, 10),
        alu64(AluOp::Add, 1, k),
        Insn::St {
            size,
            dst: r(1),
            off,
            imm: 7,
        },
        Insn::Ldx {
            size,
            sx: false,
            dst: r(0),
            src: r(1),
            off,
        },
    ]
}

/// The same access at depth 0, and in a callee at depth 1.
fn programs(k: i32, off: i16, size: Size) -> [Vec<Insn>; 2] {
    let mut top = body(k, off, size);
    top.push(EXIT);
    let mut nested = vec![
        Insn::Call {
            kind: CallKind::Local,
            imm: 1,
        },
        EXIT,
    ];
    nested.extend(body(k, off, size));
    nested.push(EXIT);
    [top, nested]
}

fn run(insns: &[Insn], what: &str) -> Result<u64, FaultKind> {
    let p = prog(insns);
    let interp = Vm::interpreter(&p, helpers()).expect("interp");
    let jit = Vm::jit(&p, helpers()).expect("jit");
    let (out, _) = both(&interp, &jit, &[0u8; 16], None, what);
    out.result.map_err(|f| f.kind)
}

#[test]
fn frame_edges_through_derived_registers() {
    // (k, off, size, ok at depth 0, ok at depth 1)
    let cases: [(i32, i16, Size, bool, bool); 9] = [
        (-256, -256, Size::DW, true, true), // c + off = -512: frame bottom
        (0, -1, Size::B, true, true),       // last byte of the frame
        (-8, 4, Size::DW, false, true), // crosses the frame top (into the caller's frame at depth 1)
        (0, 0, Size::B, false, true),   // one past the frame top
        (-512, -1, Size::B, true, true), // one below the frame: still in the stack
        (8, -16, Size::DW, true, true), // back at -8 .. 0 via a positive k
        (16, -8, Size::DW, false, true), // 0 .. 8: above the frame
        (i32::MIN, 0, Size::B, false, false), // far below the stack
        (-3584, -1, Size::B, true, false), // inside the stack at depth 0, below it at depth 1
    ];
    for (k, off, size, ok0, ok1) in cases {
        let [top, nested] = programs(k, off, size);
        for (insns, ok, depth) in [(top, ok0, 0), (nested, ok1, 1)] {
            let what = format!("k {k} off {off} {size:?} depth {depth}");
            let got = run(&insns, &what);
            if ok {
                assert_eq!(got, Ok(7), "{what}");
            } else {
                assert!(
                    matches!(got, Err(FaultKind::OutOfBounds { .. })),
                    "{what}: {got:?}"
                );
            }
        }
    }
}

#[test]
fn laundered_frame_pointers_are_still_checked() {
    // r1 = r10 + 8 (above the frame top at depth 0), laundered three ways,
    // then read through: every one must fault like the interpreter.
    let launder: [Vec<Insn>; 4] = [
        // Spill and reload.
        vec![
            Insn::Stx {
                size: Size::DW,
                dst: r(10),
                src: r(1),
                off: -8,
            },
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(1),
                src: r(10),
                off: -8,
            },
        ],
        // Through a helper that returns its argument.
        vec![
            Insn::Call {
                kind: CallKind::Helper,
                imm: 5,
            },
            movr(1, 0),
        ],
        // Through register arithmetic.
        vec![
            mov(3, 0),
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Add,
                dst: r(1),
                src: Src::Reg(r(3)),
            },
        ],
        // Through a merge of two different offsets.
        vec![
            Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Eq,
                dst: r(2),
                src: Src::Imm(12345),
                off: 1,
            },
            alu64(AluOp::Add, 1, 0),
        ],
    ];
    for (i, l) in launder.into_iter().enumerate() {
        let mut insns = vec![movr(1, 10), alu64(AluOp::Add, 1, 8)];
        insns.extend(l);
        insns.push(Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: r(0),
            src: r(1),
            off: -4,
        });
        insns.push(EXIT);
        let got = run(&insns, &format!("launder {i}"));
        assert!(
            matches!(got, Err(FaultKind::OutOfBounds { .. })),
            "launder {i}: {got:?}"
        );
    }
}
