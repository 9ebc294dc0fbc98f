//! Golden CLIF tests: each `tests/clif/*.s` holds an assembly program and,
//! below a marker line, the expected CLIF of all its functions (lowered
//! with `ModuleFreeEnv` and the SystemV host convention), each line
//! prefixed with `;; `. `CRANEBPF_BLESS=1 cargo test -p cranebpf-lower`
//! rewrites the expectations.
//!
//! A line `# proven: 0 2` in the program lowers it with a proof
//! ([`LowerOptions::proof`]) whose `Proven` facts are at those instruction
//! indexes; `# audit` turns on audit mode.

use cranebpf_lower::{
    function_ranges, function_signature, lower_function_with, LowerOptions, ModuleFreeEnv,
};
use cranebpf_runtime::analysis::proof::{AccessFact, Proof, RegionKind};
use cranebpf_runtime::{asm::assemble, Program};
use cranelift_codegen::ir::{self, UserFuncName};
use cranelift_codegen::isa::CallConv;
use std::path::Path;
use std::sync::Arc;

const MARKER: &str = ";; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----";

fn clif_of(asm: &str) -> String {
    let insns = assemble(asm).expect("golden input assembles");
    let p = Program::from_insns(&insns).expect("golden input loads");
    let opts = options(asm, &p);
    let mut out = String::new();
    let mut env = ModuleFreeEnv::default();
    for i in 0..function_ranges(&p).len() {
        let mut f = ir::Function::with_name_signature(
            UserFuncName::user(0, i as u32),
            function_signature(),
        );
        lower_function_with(&p, i, &mut env, CallConv::SystemV, &opts, &mut f).expect("lowers");
        out.push_str(&f.display().to_string());
    }
    out
}

/// The lowering options the `# proven:` and `# audit` lines ask for.
fn options(asm: &str, p: &Program) -> LowerOptions {
    let mut opts = LowerOptions::default();
    for line in asm.lines().map(str::trim) {
        if let Some(list) = line.strip_prefix("# proven:") {
            let mut proof = Proof::empty(p.insns().len());
            for i in list.split_whitespace() {
                let i: usize = i.parse().expect("`# proven:` lists instruction indexes");
                proof.set_access(
                    i,
                    AccessFact::Proven {
                        region: RegionKind::Input,
                    },
                );
            }
            opts.proof = Some(Arc::new(proof));
        } else if line == "# audit" {
            opts.audit = true;
        }
    }
    opts
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
