//! Machine code for every supported target from whatever host runs the
//! tests: the short target names the CLI takes (`--target aarch64`), and
//! the shape of each disassembly (that target's return instruction and
//! registers, its atomic sequences, nothing of another ISA).

use cranebpf::asm::assemble;
use cranebpf::{clif_text, native_disasm, Program};

/// The checksum example (loop, loads, `be16`) plus an atomic add and a
/// compare-and-exchange on the stack, which need each target's atomics.
fn program() -> Program {
    let mut text = include_str!("../../../examples/checksum.s").to_string();
    // The atomics go first; the example then runs as before.
    text.insert_str(
        0,
        "    stdw [%r10-8], 1\n    mov %r3, 2\n    lock add [%r10-8], %r3\n\
         \x20   mov %r0, 3\n    lock cmpxchg [%r10-8], %r3\n",
    );
    let insns = assemble(&text).expect("example assembles");
    Program::from_insns(&insns).expect("example loads")
}

/// Target name (as the CLI takes it), words its disassembly must contain
/// (each entry: any one of the alternatives), and words it must not.
const SHAPES: [(&str, &[&[&str]], &[&str]); 3] = [
    (
        "x86_64",
        &[
            &["ret"],
            &["%rsp"],
            &["lock cmpxchg"],
            &["lock xadd", "lock add"],
        ],
        &[" x29", "jalr", " a0,"],
    ),
    (
        "aarch64",
        &[
            &["\n  ret\n"],
            &["x29"],
            &["ldaxr", "casal", "ldaddal", "cas"],
        ],
        &["%r", "jalr", " a0,"],
    ),
    (
        "riscv64",
        &[&["ret", "jalr"], &["a0"], &["lr.", "amoadd", "amocas"]],
        &["%r", " x29"],
    ),
];

#[test]
fn native_disassembly_for_every_target_from_this_host() {
    let p = program();
    for (target, must, must_not) in SHAPES {
        let text = native_disasm(&p, Some(target)).unwrap_or_else(|e| panic!("{target}: {e}"));
        for any in must {
            assert!(
                any.iter().any(|w| text.contains(w)),
                "{target}: none of {any:?} in\n{text}"
            );
        }
        for w in must_not {
            assert!(!text.contains(w), "{target}: unexpected {w:?} in\n{text}");
        }
        let clif = clif_text(&p, Some(target)).unwrap_or_else(|e| panic!("{target}: {e}"));
        assert!(clif.contains("function u0:0"), "{target}: {clif}");
        assert!(clif.contains("bswap"), "{target}: be16 lowers to bswap");
    }
    // Big-endian and 32-bit targets are refused with a message.
    for t in ["aarch64_be-unknown-linux-gnu", "i686-unknown-linux-gnu"] {
        assert!(native_disasm(&p, Some(t)).is_err(), "{t}");
    }
}
