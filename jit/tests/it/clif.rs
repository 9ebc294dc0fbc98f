//! Properties of the generated code: no trapping instruction anywhere, every
//! memory access `notrap`, and cross-ISA compilation.

use crate::harness::*;
use cranebpf::insn::*;
use cranebpf::{clif_text, native_disasm, Program, SUPPORTED_TARGETS};

/// A program with every instruction form (straight-line: every jump goes
/// to the next instruction), plus a local function.
fn every_form() -> Program {
    let mut v = Vec::new();
    for w in [Width::W32, Width::W64] {
        for op in AluOp::ALL {
            v.push(alu(w, op, 0, 3));
            v.push(alur(w, op, 0, 2));
        }
        v.push(Insn::Neg { w, dst: r(0) });
        for cond in JmpCond::ALL {
            v.push(Insn::Jmp {
                w,
                cond,
                dst: r(0),
                src: Src::Imm(1),
                off: 0,
            });
            v.push(Insn::Jmp {
                w,
                cond,
                dst: r(0),
                src: Src::Reg(r(2)),
                off: 0,
            });
        }
    }
    for (w, bits) in [
        (Width::W32, 8),
        (Width::W32, 16),
        (Width::W64, 8),
        (Width::W64, 16),
        (Width::W64, 32),
    ] {
        v.push(Insn::MovSx {
            w,
            dst: r(0),
            src: r(2),
            bits,
        });
    }
    for kind in [Endian::Le, Endian::Be, Endian::Swap] {
        for bits in [16, 32, 64] {
            v.push(Insn::End {
                kind,
                dst: r(0),
                bits,
            });
        }
    }
    v.push(lddw(3, 0x1234_5678_9abc_def0));
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        v.push(Insn::Ldx {
            size,
            sx: false,
            dst: r(0),
            src: r(1),
            off: 0,
        });
        v.push(Insn::Ldx {
            size,
            sx: false,
            dst: r(0),
            src: r(10),
            off: -8,
        });
        if size != Size::DW {
            v.push(Insn::Ldx {
                size,
                sx: true,
                dst: r(0),
                src: r(1),
                off: 0,
            });
        }
        v.push(Insn::St {
            size,
            dst: r(1),
            off: 0,
            imm: 1,
        });
        v.push(Insn::Stx {
            size,
            dst: r(10),
            src: r(0),
            off: -16,
        });
        if size != Size::DW {
            v.push(Insn::LdAbs { size, imm: 0 });
            v.push(Insn::LdInd {
                size,
                src: r(2),
                imm: 0,
            });
        }
    }
    for size in [Size::W, Size::DW] {
        for op in [AtomicOp::Add, AtomicOp::Or, AtomicOp::And, AtomicOp::Xor] {
            v.push(Insn::Atomic {
                size,
                op,
                fetch: false,
                dst: r(1),
                src: r(2),
                off: 0,
            });
            v.push(Insn::Atomic {
                size,
                op,
                fetch: true,
                dst: r(1),
                src: r(2),
                off: 0,
            });
        }
        for op in [AtomicOp::Xchg, AtomicOp::Cmpxchg] {
            v.push(Insn::Atomic {
                size,
                op,
                fetch: true,
                dst: r(10),
                src: r(2),
                off: -8,
            });
        }
    }
    v.push(Insn::Ja {
        off: 0,
        wide: false,
    });
    v.push(Insn::Ja { off: 0, wide: true });
    v.push(Insn::Call {
        kind: CallKind::Helper,
        imm: 5,
    });
    v.push(Insn::Callx { reg: r(2) });
    v.push(Insn::Call {
        kind: CallKind::Local,
        imm: 1,
    });
    v.push(EXIT);
    v.push(mov(0, 1));
    v.push(EXIT);
    prog(&v)
}

/// The opcode of a CLIF instruction line, if it is one.
fn opcode(line: &str) -> Option<&str> {
    let line = line.trim_start();
    let line = if line.starts_with('@') {
        line.split_once(' ')?.1.trim_start()
    } else {
        line
    };
    let rhs = line.split_once(" = ").map_or(line, |(_, r)| r);
    let word = rhs.split_whitespace().next()?;
    Some(word.split('.').next().unwrap_or(word))
}

#[test]
fn clif_has_no_trap_and_every_access_is_notrap() {
    let text = clif_text(&every_form(), None).expect("lowers");
    let mut accesses = 0;
    for line in text.lines() {
        let Some(op) = opcode(line) else { continue };
        assert!(
            !op.contains("trap") && !op.ends_with("_overflow_trap"),
            "trapping instruction: {line}"
        );
        let is_access = matches!(
            op,
            "load"
                | "uload8"
                | "uload16"
                | "uload32"
                | "sload8"
                | "sload16"
                | "sload32"
                | "store"
                | "istore8"
                | "istore16"
                | "istore32"
        );
        // (Cranelift's printer omits the flags of `atomic_rmw`/`atomic_cas`;
        // the lowering's unit test checks those on the IR itself.)
        if is_access {
            accesses += 1;
            assert!(
                line.contains("notrap"),
                "memory access without notrap: {line}"
            );
        }
    }
    assert!(accesses > 50, "expected many accesses, saw {accesses}");
    // Every line carries its eBPF pc (srcloc) except the entry, fault and
    // wrapper plumbing.
    assert!(text.contains("@0000"));
}

#[test]
fn every_form_runs_the_same_in_both_engines() {
    let mut mem = [0u8; 16];
    mem[0] = 0x7f;
    let (out, _) = check_with(&every_form(), &helpers(), &mem, "every form");
    assert!(out.result.is_ok(), "{:?}", out.result);
}

#[test]
fn cross_isa_compiles_and_disassembles() {
    let p = every_form();
    for t in SUPPORTED_TARGETS {
        let clif = clif_text(&p, Some(t)).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(clif.contains("function u0:0"));
        let asm = native_disasm(&p, Some(t)).unwrap_or_else(|e| panic!("{t}: {e}"));
        assert!(asm.lines().count() > 100, "{t}: disassembly too short");
    }
    assert!(native_disasm(&p, None).is_ok());
    assert!(clif_text(&p, Some("not-a-target")).is_err());
    assert!(clif_text(&p, Some("i686-unknown-linux-gnu")).is_err());
}
