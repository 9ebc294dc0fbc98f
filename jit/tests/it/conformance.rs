//! The bpf_conformance suite through the JIT (and the interpreter, which
//! must agree), with budgets.

use crate::harness::*;
use cranebpf::{JitOptions, Program};
use cranebpf_difftest::conformance::{load_dir, program_bytes, suite_or_skip};

#[test]
fn conformance_suite_jit() {
    suite_through("conformance_suite_jit", &JitOptions::default());
}

/// The suite again with every function lowered with its registers in a
/// stack slot (the lowering of functions past `FAST_TIER_MAX_BLOCKS`).
#[test]
fn conformance_suite_jit_registers_in_memory() {
    let opts = cranebpf_testkit::engines::registers_in_memory_options();
    suite_through("conformance_suite_jit_registers_in_memory", &opts);
}

/// Every program of the suite through the interpreter and the JIT built
/// with `opts`, which must agree with each other and with the suite.
fn suite_through(test: &str, opts: &JitOptions) {
    let Some(dir) = suite_or_skip(test) else {
        return;
    };
    let files = load_dir(&dir).expect("conformance directory readable");
    assert!(
        files.len() > 300,
        "expected the 313 .data files in {}",
        dir.display()
    );
    let h = helpers();
    let (mut ran, mut skipped) = (0, Vec::new());
    for f in &files {
        if let Some(why) = &f.skipped_reason {
            skipped.push(format!("{}: {why}", f.name));
            continue;
        }
        let Some(expected) = f.result else {
            skipped.push(format!("{}: no result", f.name));
            continue;
        };
        if f.error.is_some() {
            skipped.push(format!("{}: expects rejection", f.name));
            continue;
        }
        let bytes = program_bytes(f).unwrap_or_else(|e| panic!("{e}"));
        let p = match Program::from_bytes(&bytes) {
            Ok(p) => p,
            Err(e) => panic!("{}: does not load: {e}", f.name),
        };
        let (out, _) = check_with_jit(&p, &h, &f.mem, &f.name, opts);
        assert_eq!(out.result, Ok(expected), "{}", f.name);
        ran += 1;
    }
    eprintln!(
        "conformance: {ran} ran, {} skipped: {skipped:#?}",
        skipped.len()
    );
    assert!(ran >= 300, "only {ran} conformance tests ran");
}
