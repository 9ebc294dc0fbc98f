//! Arbitrary text through the assembler: it never panics, and what it
//! accepts disassembles to text that assembles to the same instructions.
#![no_main]

use cranebpf_runtime::asm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(insns) = asm::assemble(text) else {
        return;
    };
    let pairs: Vec<_> = insns.iter().map(|&i| (0usize, i)).collect();
    let printed = asm::disassemble(&pairs);
    let again = asm::assemble(&printed).unwrap_or_else(|e| panic!("re-assembly failed: {e}\n{printed}"));
    assert_eq!(again, insns, "round trip changed the program:\n{printed}");
});
