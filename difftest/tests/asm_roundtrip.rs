//! The assembler, disassembler and `.data` reader against the whole
//! bpf_conformance suite, plus a random round trip over every instruction.

use cranebpf_difftest::conformance::{load_dir, program_bytes, suite_or_skip, TestFile};
use cranebpf_difftest::strategies::any_insn;
use cranebpf_runtime::asm::{assemble, assemble_to_bytes, disassemble};
use cranebpf_runtime::{decode_all, encode_all, slots_from_bytes, Insn, Program};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The suite's files, or `None` if it is not here (see [`suite_or_skip`]).
fn suite() -> Option<Vec<TestFile>> {
    let dir = suite_or_skip("asm_roundtrip")?;
    Some(load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

/// The suite's negative files, or `None` if it is not here.
fn negatives() -> Option<Vec<TestFile>> {
    let dir = suite_or_skip("asm_roundtrip")?.join("negative");
    Some(load_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

/// Disassembles bytecode and re-assembles it.
fn round_trip(name: &str, bytes: &[u8]) -> Vec<u8> {
    let slots = slots_from_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let insns = decode_all(&slots).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = disassemble(&insns);
    assemble_to_bytes(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"))
}

#[test]
fn conformance_every_asm_section_assembles_and_round_trips() {
    let Some(files) = suite() else { return };
    assert_eq!(files.len(), 313, "expected the 313 upstream test files");
    for f in &files {
        assert_eq!(f.skipped_reason, None, "{}", f.name);
        assert!(f.result.is_some(), "{}: no result", f.name);
        assert!(f.error.is_none(), "{}: positive test with -- error", f.name);
        let asm = f
            .asm
            .as_deref()
            .unwrap_or_else(|| panic!("{}: no asm", f.name));
        let bytes = assemble_to_bytes(asm).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert_eq!(round_trip(&f.name, &bytes), bytes, "{}", f.name);
        // Whatever the assembler emits, the strict decoder accepts.
        let slots = slots_from_bytes(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        decode_all(&slots).unwrap_or_else(|e| panic!("{}: {e}", f.name));
    }
}

#[test]
fn conformance_lddw_raw_equals_its_asm() {
    let Some(files) = suite() else { return };
    let raw: Vec<&TestFile> = files.iter().filter(|f| f.raw.is_some()).collect();
    assert_eq!(raw.len(), 1, "only lddw.data has a -- raw section");
    let f = raw[0];
    assert_eq!(f.name, "lddw.data");
    let asm = assemble_to_bytes(f.asm.as_deref().unwrap_or("")).unwrap();
    assert_eq!(program_bytes(f).unwrap(), asm);
    assert_eq!(f.result, Some(0x1122334455667788));
}

#[test]
fn conformance_mem_and_results_are_read() {
    let Some(files) = suite() else { return };
    let by_name = |n: &str| files.iter().find(|f| f.name == n).unwrap();
    // mem-len.data: 8 bytes of memory split over two lines, result decimal/hex.
    let f = by_name("mem-len.data");
    assert_eq!(f.mem, vec![0, 0, 0, 1, 0, 0, 0, 2]);
    assert_eq!(f.result, Some(8));
    assert_eq!(files.iter().filter(|f| !f.mem.is_empty()).count(), 40);
    // The C source of prime.data is not part of the asm.
    assert!(!by_name("prime.data")
        .asm
        .as_deref()
        .unwrap()
        .contains("include"));
}

#[test]
fn negative_unused_fields_are_rejected_by_the_loader() {
    let Some(files) = negatives() else { return };
    let unused: Vec<&TestFile> = files
        .iter()
        .filter(|f| f.name.starts_with("unused-"))
        .collect();
    assert_eq!(unused.len(), 45);
    for f in unused {
        assert!(f.error.is_some(), "{}: no -- error", f.name);
        let bytes = f.raw_bytes.as_ref().unwrap_or_else(|| panic!("{}", f.name));
        assert_eq!(program_bytes(f).unwrap(), *bytes);
        assert!(
            Program::from_bytes(bytes).is_err(),
            "{}: the loader accepted it",
            f.name
        );
    }
}

#[test]
fn negative_invalid_asm_fails_to_assemble() {
    let Some(files) = negatives() else { return };
    let by_name = |n: &str| {
        files
            .iter()
            .find(|f| f.name == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    let invalid: Vec<&TestFile> = files
        .iter()
        .filter(|f| f.name.starts_with("invalid_"))
        .collect();
    assert_eq!(invalid.len(), 11);
    for f in invalid {
        if f.name == "invalid_unknown_directive.data" {
            // An unknown directive skips the file, before any assembling.
            assert!(f.skipped_reason.is_some(), "{}", f.name);
            continue;
        }
        let asm = f.asm.as_deref().unwrap_or_else(|| panic!("{}", f.name));
        assert!(assemble(asm).is_err(), "{} assembled", f.name);
        assert!(program_bytes(f).is_err(), "{}", f.name);
    }
    // Errors name the line of the .data file.
    assert_eq!(
        program_bytes(by_name("invalid_imm32_dec_range.data")).unwrap_err(),
        "invalid_imm32_dec_range.data:5: immediate '2147483648' is out of 32-bit range \
         (-2147483648..=2147483647)"
    );
    // No program at all.
    for n in ["empty.data", "empty_instructions.data"] {
        assert!(!by_name(n).has_program(), "{n}");
        assert!(program_bytes(by_name(n)).is_err(), "{n}");
    }
    // Documented exception: error.data expects `or %r0, %r10` to fail, but
    // reading r10 is legal in RFC 9669 (only writing it is not).
    let f = by_name("error.data");
    assert!(f.error.is_some());
    assert!(program_bytes(f).is_ok());
    // incorrect_return_value_high_bits.data is a runner test: its asm is fine.
    assert!(program_bytes(by_name("incorrect_return_value_high_bits.data")).is_ok());
}

#[test]
fn random_insns_round_trip_through_the_disassembler() {
    // Fixed seed, so a failure reproduces.
    let seed = [0x5a; 32];
    println!("seed: {seed:?}");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 512,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    let strategy = proptest::collection::vec(any_insn(), 1..24);
    runner
        .run(&strategy, |insns: Vec<Insn>| {
            let slots = encode_all(&insns);
            let decoded = decode_all(&slots).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let text = disassemble(&decoded);
            let back = assemble(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
            prop_assert_eq!(encode_all(&back), slots, "{}", text);
            Ok(())
        })
        .unwrap();
}
