//! Structured programs from fuzzer bytes: the bytes drive the program
//! generator's choices (`gen::generate_from_bytes`), so every input is a
//! valid program, and libFuzzer's coverage feedback steers towards new
//! shapes. The interpreter and the engine under test must agree on the full
//! state. The first byte picks the generator (bit 0: default or kernel
//! subset) and whether Cranelift's IR verifier checks the compiled
//! functions (bits 4-7 all set: one input in sixteen; the verifier costs
//! about as much as compiling, and the cases are what we want many of).
#![no_main]

use cranebpf::{InterpreterEngine, JitEngine, JitOptions};
use cranebpf_difftest::engine::compare;
use cranebpf_difftest::gen::{generate_from_bytes, GenConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, tape)) = data.split_first() else {
        return;
    };
    let cfg = if mode & 1 == 0 {
        GenConfig::default()
    } else {
        GenConfig::kernel()
    };
    let mut options = JitOptions::default();
    options.verifier = mode & 0xf0 == 0xf0;
    let jit = JitEngine {
        options,
        name: None,
    };
    let case = generate_from_bytes(tape, &cfg);
    let cmp = compare(&InterpreterEngine, &jit, &case);
    if !cmp.diffs.is_empty() {
        panic!(
            "engines differ: {:?}\nprogram:\n{}\ninput: {}",
            cmp.diffs,
            case.asm(),
            case.input_hex()
        );
    }
});
