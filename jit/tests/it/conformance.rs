//! The bpf_conformance suite through the JIT (and the interpreter, which
//! must agree), with budgets.

use crate::harness::*;
use cranebpf::Program;
use cranebpf_difftest::conformance::{load_dir, program_bytes, suite_or_skip};

#[test]
fn conformance_suite_jit() {
    let Some(dir) = suite_or_skip("conformance_suite_jit") else {
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
        let (out, _) = check_with(&p, &h, &f.mem, &f.name);
        assert_eq!(out.result, Ok(expected), "{}", f.name);
        ran += 1;
    }
    eprintln!(
        "conformance: {ran} ran, {} skipped: {skipped:#?}",
        skipped.len()
    );
    assert!(ran >= 300, "only {ran} conformance tests ran");
}
