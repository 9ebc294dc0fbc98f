//! Golden CLIF tests: each `tests/clif/*.s` holds an assembly program and,
//! below a marker line, the expected CLIF of all its functions (lowered
//! with `ModuleFreeEnv` and the SystemV host convention), each line
//! prefixed with `;; `. `CRANEBPF_BLESS=1 cargo test -p cranebpf-lower`
//! rewrites the expectations.

use cranebpf_lower::{function_ranges, function_signature, lower_function, ModuleFreeEnv};
use cranebpf_runtime::{asm::assemble, Program};
use cranelift_codegen::ir::{self, UserFuncName};
use cranelift_codegen::isa::CallConv;
use std::path::Path;

const MARKER: &str = ";; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----";

fn clif_of(asm: &str) -> String {
    let insns = assemble(asm).expect("golden input assembles");
    let p = Program::from_insns(&insns).expect("golden input loads");
    let mut out = String::new();
    let mut env = ModuleFreeEnv::default();
    for i in 0..function_ranges(&p).len() {
        let mut f = ir::Function::with_name_signature(
            UserFuncName::user(0, i as u32),
            function_signature(),
        );
        lower_function(&p, i, &mut env, CallConv::SystemV, &mut f).expect("lowers");
        out.push_str(&f.display().to_string());
    }
    out
}

#[test]
fn golden_clif() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("clif");
    let bless = std::env::var_os("CRANEBPF_BLESS").is_some();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/clif exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "s"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty());
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable");
        let (asm, expected) = match text.split_once(MARKER) {
            Some((a, e)) => (a.to_string(), e.to_string()),
            None => (text.clone(), String::new()),
        };
        let actual: String = clif_of(&asm)
            .lines()
            .map(|l| format!(";; {l}").trim_end().to_string() + "\n")
            .collect();
        if bless {
            std::fs::write(
                &path,
                format!("{}{MARKER}\n{actual}", asm.trim_end().to_string() + "\n"),
            )
            .expect("writable");
        } else {
            assert_eq!(
                expected.trim_start_matches('\n'),
                actual,
                "{}: CLIF changed; rerun with CRANEBPF_BLESS=1 and review the diff",
                path.display()
            );
        }
    }
}
