//! Arbitrary bytes through the static verifier: it never panics, stops
//! within its (small) complexity limit, and never proves an access the
//! interpreter then finds out of bounds. The first byte sizes the input
//! the program is run on (r1 = input, r2 = its length).
#![no_main]

use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::{FaultKind, Helpers, Interpreter, MemoryMap, Program, RunOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&len, code)) = data.split_first() else {
        return;
    };
    let Ok(prog) = Program::from_bytes(code) else {
        return;
    };
    let mut conf = VerifyConfig::mem();
    conf.complexity_limit = 20_000;
    let elide = verify(&prog, &conf).expect("elide mode never refuses");
    let strict = verify(&prog, &conf.clone().strict(true));
    if strict.is_ok() {
        assert!(elide.incomplete.is_none(), "strict accepted an incomplete exploration");
    }
    // Containment: a run never faults out of bounds at a proven access.
    let Ok(interp) = Interpreter::new(&prog, Helpers::new()) else {
        return;
    };
    let mut input = vec![0xa5u8; len as usize];
    let args = [input.as_mut_ptr() as u64, len as u64, 0, 0, 0];
    let mut mem = MemoryMap::new();
    mem.add_mut(&mut input);
    let out = interp.run_with(&mut mem, args, &RunOptions { budget: Some(100_000) }, None);
    if let Err(f) = out.result {
        if let FaultKind::OutOfBounds { .. } = f.kind {
            let i = prog.index_of_pc(f.pc).expect("faults name instructions");
            assert!(
                !elide.proof.is_proven(i),
                "proven access faulted at pc {}: {:?}",
                f.pc,
                f.kind
            );
        }
    }
});
