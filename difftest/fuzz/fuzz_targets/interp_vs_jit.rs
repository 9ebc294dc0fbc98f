//! Structured programs from fuzzer bytes: the bytes drive the program
//! generator's choices (`gen::generate_from_bytes`), so every input is a
//! valid program, and libFuzzer's coverage feedback steers towards new
//! shapes. The interpreter and the engine under test must agree on the full
//! state. The first byte picks the generator (default or kernel subset).
#![no_main]

use cranebpf::{EngineKind, InterpreterEngine};
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
    let case = generate_from_bytes(tape, &cfg);
    let cmp = compare(&InterpreterEngine, &EngineKind::Jit, &case);
    if !cmp.diffs.is_empty() {
        panic!(
            "engines differ: {:?}\nprogram:\n{}\ninput: {}",
            cmp.diffs,
            case.asm(),
            case.input_hex()
        );
    }
});
