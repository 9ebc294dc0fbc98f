//! Arbitrary bytes through the loader: decoding and validation never panic,
//! and an accepted program re-encodes to exactly its bytes and survives a
//! disassemble/assemble round trip.
#![no_main]

use cranebpf_runtime::{asm, Program};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(prog) = Program::from_bytes(data) else {
        return;
    };
    assert_eq!(prog.to_bytes(), data, "encode(decode(x)) != x");
    let text = asm::disassemble(prog.insns());
    let insns = asm::assemble(&text).unwrap_or_else(|e| panic!("re-assembly failed: {e}\n{text}"));
    let again = Program::from_insns(&insns).unwrap_or_else(|e| panic!("re-load failed: {e}\n{text}"));
    assert_eq!(again.to_bytes(), data, "disassembly does not round-trip:\n{text}");
});
