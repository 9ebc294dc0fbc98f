//! Assembler and disassembler tests. Expected encodings are worked out by hand
//! from RFC 9669's field layout: `opcode | dst<<8 | src<<12 | off<<16 | imm<<32`.

use cranebpf_runtime::asm::{assemble, assemble_to_bytes, disassemble, disassemble_insn};
use cranebpf_runtime::{decode_all, encode_all};

/// Assembles `text` and returns its slots as (opcode, dst, src, off, imm).
fn slots(text: &str) -> Vec<(u8, u8, u8, i16, i32)> {
    let insns = assemble(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
    encode_all(&insns)
        .iter()
        .map(|s| (s.opcode, s.dst, s.src, s.off, s.imm))
        .collect()
}

fn one(text: &str) -> (u8, u8, u8, i16, i32) {
    let s = slots(text);
    assert_eq!(s.len(), 1, "{text}");
    s[0]
}

fn err_line(text: &str) -> (usize, String) {
    match assemble(text) {
        Ok(insns) => panic!("{text:?} assembled to {insns:?}"),
        Err(e) => (e.line, e.message),
    }
}

#[test]
fn alu_widths_and_operand_forms() {
    // ALU64 = class 7, ALU = class 4; K form 0x00, X form 0x08.
    assert_eq!(one("mov %r0, 1"), (0xb7, 0, 0, 0, 1));
    assert_eq!(one("mov32 %r0, -1"), (0xb4, 0, 0, 0, -1));
    assert_eq!(one("add %r1, %r2"), (0x0f, 1, 2, 0, 0));
    assert_eq!(one("add64 %r1, %r2"), (0x0f, 1, 2, 0, 0));
    assert_eq!(one("add32 %r1, %r2"), (0x0c, 1, 2, 0, 0));
    assert_eq!(one("arsh32 %r3, 5"), (0xc4, 3, 0, 0, 5));
    assert_eq!(one("lsh %r9, %r10"), (0x6f, 9, 10, 0, 0));
    assert_eq!(one("xor32 %r0, 0xffffffff"), (0xa4, 0, 0, 0, -1));
    assert_eq!(one("and %r0, -0x80000000"), (0x57, 0, 0, 0, i32::MIN));
    // Signed division: DIV/MOD with offset 1.
    assert_eq!(one("sdiv %r0, 3"), (0x37, 0, 0, 1, 3));
    assert_eq!(one("smod32 %r0, %r1"), (0x9c, 0, 1, 1, 0));
    assert_eq!(one("neg %r4"), (0x87, 4, 0, 0, 0));
    assert_eq!(one("neg32 %r4"), (0x84, 4, 0, 0, 0));
    // MOVSX: MOV X form with the source width in offset.
    assert_eq!(one("movsx832 %r0, %r1"), (0xbc, 0, 1, 8, 0));
    assert_eq!(one("movsx1632 %r0, %r1"), (0xbc, 0, 1, 16, 0));
    assert_eq!(one("movsx864 %r0, %r1"), (0xbf, 0, 1, 8, 0));
    assert_eq!(one("movsx3264 %r0, %r1"), (0xbf, 0, 1, 32, 0));
}

#[test]
fn byte_order_and_swap_alias() {
    assert_eq!(one("le16 %r0"), (0xd4, 0, 0, 0, 16));
    assert_eq!(one("be64 %r2"), (0xdc, 2, 0, 0, 64));
    assert_eq!(one("bswap32 %r1"), (0xd7, 1, 0, 0, 32));
    // swapN is bswapN: the unconditional ALU64 swap.
    for n in [16, 32, 64] {
        assert_eq!(one(&format!("swap{n} %r1")), one(&format!("bswap{n} %r1")));
    }
    assert!(assemble("le8 %r0").is_err());
}

#[test]
fn loads_and_stores() {
    assert_eq!(one("ldxb %r0, [%r1+2]"), (0x71, 0, 1, 2, 0));
    assert_eq!(one("ldxh %r0, [%r1]"), (0x69, 0, 1, 0, 0));
    assert_eq!(one("ldxw %r0, [ %r1 - 4 ]"), (0x61, 0, 1, -4, 0));
    assert_eq!(one("ldxdw %r0, [%r10-8]"), (0x79, 0, 10, -8, 0));
    assert_eq!(one("ldxsb %r0, [%r1+0x10]"), (0x91, 0, 1, 16, 0));
    assert_eq!(one("ldxsh %r0, [%r1]"), (0x89, 0, 1, 0, 0));
    assert_eq!(one("ldxsw %r0, [%r1]"), (0x81, 0, 1, 0, 0));
    assert_eq!(one("stb [%r10-1], 7"), (0x72, 10, 0, -1, 7));
    assert_eq!(one("sth [%r1+2], 0x1122"), (0x6a, 1, 0, 2, 0x1122));
    assert_eq!(one("stw [%r1], -1"), (0x62, 1, 0, 0, -1));
    assert_eq!(one("stdw [%r1+32767], 1"), (0x7a, 1, 0, 32767, 1));
    assert_eq!(one("stxb [%r1-32768], %r2"), (0x73, 1, 2, -32768, 0));
    assert_eq!(one("stxdw [%r10-8], %r3"), (0x7b, 10, 3, -8, 0));
    assert_eq!(one("ldabsb 3"), (0x30, 0, 0, 0, 3));
    assert_eq!(one("ldabsh 3"), (0x28, 0, 0, 0, 3));
    assert_eq!(one("ldabsw 3"), (0x20, 0, 0, 0, 3));
    assert_eq!(one("ldindb %r2, 4"), (0x50, 0, 2, 0, 4));
    assert_eq!(one("ldindw %r2, -4"), (0x40, 0, 2, 0, -4));
    // No sign-extending DW load, no legacy DW packet load.
    assert!(assemble("ldxsdw %r0, [%r1]").is_err());
    assert!(assemble("ldabsdw 0").is_err());
}

#[test]
fn lddw_values() {
    assert_eq!(
        slots("lddw %r0, 0x1122334455667788"),
        vec![(0x18, 0, 0, 0, 0x55667788), (0, 0, 0, 0, 0x11223344)]
    );
    assert_eq!(
        slots("lddw %r3, -1"),
        vec![(0x18, 3, 0, 0, -1), (0, 0, 0, 0, -1)]
    );
    assert_eq!(
        slots("lddw %r0, 2147483648"),
        vec![(0x18, 0, 0, 0, i32::MIN), (0, 0, 0, 0, 0)]
    );
    assert_eq!(
        slots("lddw %r1, 0x800000005, map_value_by_fd"),
        vec![(0x18, 1, 2, 0, 5), (0, 0, 0, 0, 8)]
    );
    assert!(assemble("lddw %r0, 0x10000000000000000").is_err());
    assert!(assemble("lddw %r0, -9223372036854775809").is_err());
    assert!(assemble("lddw %r0, 1, map_by_name").is_err());
}

#[test]
fn atomics() {
    // STX | ATOMIC: 0xdb (DW), 0xc3 (W); the operation in imm.
    assert_eq!(one("lock add [%r1+0], %r2"), (0xdb, 1, 2, 0, 0x00));
    assert_eq!(one("lock fetch add32 [%r1], %r2"), (0xc3, 1, 2, 0, 0x01));
    assert_eq!(one("lock or [%r10-8], %r2"), (0xdb, 10, 2, -8, 0x40));
    assert_eq!(one("lock fetch and [%r10-8], %r2"), (0xdb, 10, 2, -8, 0x51));
    assert_eq!(one("lock xor32 [%r10-8], %r2"), (0xc3, 10, 2, -8, 0xa0));
    assert_eq!(one("lock xchg [%r10-8], %r2"), (0xdb, 10, 2, -8, 0xe1));
    assert_eq!(one("lock cmpxchg32 [%r10-8], %r2"), (0xc3, 10, 2, -8, 0xf1));
    assert!(assemble("lock nand [%r1], %r2").is_err());
}

#[test]
fn jumps_count_slots_and_resolve_labels() {
    let text = "
        start:
        jeq %r1, 0, skip     # pc 0 -> 4: off 3
        lddw %r0, 1          # pc 1-2
        ja exit              # pc 3 -> first exit at 5: off 1
        skip: mov %r0, 2     # pc 4
        exit                 # pc 5
        ja start             # pc 6 -> 0: off -7
        jsgt32 %r1, %r2, -1  # pc 7
        ja32 +70000          # pc 8
        exit";
    let s = slots(text);
    assert_eq!(s[0], (0x15, 1, 0, 3, 0));
    assert_eq!(s[3], (0x05, 0, 0, 1, 0));
    assert_eq!(s[6], (0x05, 0, 0, -7, 0));
    assert_eq!(s[7], (0x6e, 1, 2, -1, 0));
    assert_eq!(s[8], (0x06, 0, 0, 0, 70000));
    // A label named `exit` wins over the implicit one.
    let s = slots("ja exit\nexit\nexit:\nexit");
    assert_eq!(s[0], (0x05, 0, 0, 1, 0));
    // Every condition, 64- and 32-bit, K and X.
    let conds = [
        ("jeq", 0x10),
        ("jgt", 0x20),
        ("jge", 0x30),
        ("jset", 0x40),
        ("jne", 0x50),
        ("jsgt", 0x60),
        ("jsge", 0x70),
        ("jlt", 0xa0),
        ("jle", 0xb0),
        ("jslt", 0xc0),
        ("jsle", 0xd0),
    ];
    for (m, code) in conds {
        assert_eq!(one(&format!("{m} %r1, 7, +2")), (code | 0x05, 1, 0, 2, 7));
        assert_eq!(
            one(&format!("{m} %r1, %r3, -2")),
            (code | 0x0d, 1, 3, -2, 0)
        );
        assert_eq!(one(&format!("{m}32 %r1, 7, +2")), (code | 0x06, 1, 0, 2, 7));
        assert_eq!(
            one(&format!("{m}32 %r1, %r3, +2")),
            (code | 0x0e, 1, 3, 2, 0)
        );
    }
}

#[test]
fn calls() {
    assert_eq!(one("call 5"), (0x85, 0, 0, 0, 5));
    assert_eq!(one("call %r2"), (0x8d, 2, 0, 0, 0));
    assert_eq!(one("callx %r2"), (0x8d, 2, 0, 0, 0));
    assert_eq!(one("call btf 9"), (0x85, 0, 2, 0, 9));
    let s = slots("call local f\nexit\nf:\nmov %r0, 1\nexit");
    assert_eq!(s[0], (0x85, 0, 1, 0, 1));
    assert_eq!(one("call local -1"), (0x85, 0, 1, 0, -1));
    assert_eq!(one("exit"), (0x95, 0, 0, 0, 0));
}

#[test]
fn errors_name_their_line() {
    // The cases of the suite's negative/invalid_*.data.
    let (line, msg) = err_line("mov %r0, 1\nmov32 %r0, 2147483648\nexit");
    assert_eq!(line, 2);
    assert!(msg.contains("out of 32-bit range"), "{msg}");
    let (line, msg) = err_line("mov32 %r0, 0x100000000\nexit");
    assert_eq!(line, 1);
    assert!(msg.contains("out of 32-bit range"), "{msg}");
    let (line, msg) = err_line("# c\n\nja NOT_A_LABEL\nexit");
    assert_eq!(line, 3);
    assert!(msg.contains("unknown label 'NOT_A_LABEL'"), "{msg}");
    for text in ["lock or [%r10-8]\nexit", "lock\nexit"] {
        let (line, msg) = err_line(text);
        assert_eq!(line, 1);
        assert!(msg.contains("invalid number of operands for lock"), "{msg}");
    }
    let (_, msg) = err_line("ldxq %r0, %r1\nexit");
    assert!(msg.contains("invalid mnemonic 'ldxq'"), "{msg}");
    let (_, msg) = err_line("ldxb %r0, %r1\nexit");
    assert!(msg.contains("memory operand"), "{msg}");
    let (_, msg) = err_line("ldxb %r0, [%r1+0x10000]\nexit");
    assert!(msg.contains("out of 16-bit range"), "{msg}");
    let (_, msg) = err_line("lddw %r0\nexit");
    assert!(msg.contains("invalid number of operands for lddw"), "{msg}");
    let (_, msg) = err_line("or %r0, %r50\nexit");
    assert!(msg.contains("invalid register '%r50'"), "{msg}");
    // Others.
    assert!(assemble("jeq %r0, 0, +32768\nexit").is_err());
    assert!(assemble("ja -32769\nexit").is_err());
    assert!(assemble("mov32 %r0, -2147483649").is_err());
    assert!(assemble("mov %r11, 1").is_err());
    assert!(assemble("mov %r0, 1, 2").is_err());
    assert!(assemble("mov %r0,").is_err());
    assert!(assemble("mov %r0, 1x").is_err());
    assert!(assemble("mov %r0, --1").is_err());
    assert!(assemble("exit %r0").is_err());
    assert!(assemble("a:\na:\nexit").is_err());
    assert!(assemble("ja exit").is_err());
    assert!(assemble("").is_err());
    assert!(assemble("# only a comment\nlabel:").is_err());
    assert_eq!(
        assemble("nop").unwrap_err().to_string(),
        "line 1: invalid mnemonic 'nop'"
    );
}

#[test]
fn reading_r10_is_valid_assembly() {
    // negative/error.data expects `or %r0, %r10` to be rejected, but reading
    // r10 is legal (RFC 9669 only forbids writing it); the assembler accepts it.
    assert_eq!(one("or %r0, %r10"), (0x4f, 0, 10, 0, 0));
}

#[test]
fn disassembly_prints_the_assembler_syntax() {
    let text = "mov32 %r0, -1\nldxdw %r1, [%r10-8]\nstw [%r1+4], 7\nlock fetch or32 [%r1], %r2\n\
                lock xchg [%r1], %r2\nlddw %r0, 0x1122334455667788\njne32 %r0, %r1, -3\n\
                call local +1\ncall 1\ncall %r3\nbswap16 %r0\nmovsx1664 %r1, %r2\nja32 -12\nexit\n";
    let insns = assemble(text).unwrap();
    let pcs = decode_all(&encode_all(&insns)).unwrap();
    assert_eq!(disassemble(&pcs), text);
    assert_eq!(disassemble_insn(&insns[0]), "mov32 %r0, -1");
}

#[test]
fn assemble_to_bytes_is_little_endian() {
    let bytes = assemble_to_bytes("mov %r1, 0x1234\nexit").unwrap();
    assert_eq!(
        bytes,
        vec![0xb7, 0x01, 0, 0, 0x34, 0x12, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]
    );
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::select;
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

    fn runner(cases: u32) -> TestRunner {
        // Fixed seed, so a failure reproduces.
        TestRunner::new_with_rng(
            Config {
                cases,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &[0x42; 32]),
        )
    }

    #[test]
    fn asm_arbitrary_text_never_panics() {
        runner(2000)
            .run(&".{0,64}", |text| {
                let _ = assemble(&text);
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn asm_token_soup_never_panics() {
        // Lines built from the syntax's own tokens reach deeper than random text.
        let mnemonic = select(vec![
            "mov",
            "mov32",
            "add64",
            "lddw",
            "ja",
            "ja32",
            "jeq32",
            "jsle",
            "call",
            "callx",
            "lock add",
            "lock fetch or32",
            "lock xchg",
            "lock cmpxchg32",
            "lock",
            "ldxsw",
            "ldxdw",
            "stxdw",
            "stb",
            "movsx3264",
            "movsx832",
            "swap16",
            "be64",
            "le",
            "exit",
            "neg",
            "neg32",
            "sdiv32",
            "ldabsh",
            "ldindb",
            "l:",
            "l: exit",
            "",
        ]);
        let operand = select(vec![
            "%r1",
            "%r10",
            "%r11",
            "%r",
            "[%r1+8]",
            "[%r10-8]",
            "[%r1]",
            "[%r1-]",
            "[%r1+0x10000]",
            "7",
            "-1",
            "0xffffffff",
            "-0x80000000",
            "2147483648",
            "+3",
            "-32769",
            "l",
            "exit",
            "local l",
            "btf 3",
            "map_by_fd",
            "0x1122334455667788",
            "",
        ]);
        let line = (mnemonic, proptest::collection::vec(operand, 0..4))
            .prop_map(|(m, ops)| format!("{m} {}", ops.join(", ")));
        let text = proptest::collection::vec(line, 1..3).prop_map(|l| l.join("\n"));
        runner(10000)
            .run(&text, |text| {
                if let Ok(insns) = assemble(&text) {
                    // Whatever assembles, prints and re-assembles identically.
                    let pcs = decode_all(&encode_all(&insns))
                        .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
                    let again = assemble(&disassemble(&pcs))
                        .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
                    prop_assert_eq!(again, insns);
                }
                Ok(())
            })
            .unwrap();
    }
}
