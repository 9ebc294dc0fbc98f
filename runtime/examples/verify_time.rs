//! Verification time: every corpus program (the objects in `examples/bpf`
//! and `benches/workloads/bin`, and the raw workloads) and a generated
//! 10,000-instruction program, in elide mode. Prints one line per program:
//! instructions, instructions processed, the median time of 5 runs and the
//! time per instruction. For BENCHMARKS.md; run it with
//! `cargo run --release -p cranebpf-runtime --example verify_time`.

use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::asm::assemble;
use cranebpf_runtime::elf::Object;
use cranebpf_runtime::Program;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    println!(
        "{:<34} {:>6} {:>9} {:>8} {:>11} {:>9}",
        "program", "insns", "processed", "proven", "time (µs)", "µs/insn"
    );
    for dir in ["examples/bpf", "benches/workloads/bin"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for f in files {
            match f.extension().and_then(|e| e.to_str()) {
                Some("o") => objects(&f)?,
                Some("bin") => {
                    let prog = Program::from_bytes(&std::fs::read(&f)?)?;
                    measure(&name(&f, ""), &prog, &VerifyConfig::mem());
                }
                _ => {}
            }
        }
    }
    let big = generated(10_000);
    measure("generated (10,000 insns)", &big, &VerifyConfig::mem());
    Ok(())
}

fn name(f: &Path, prog: &str) -> String {
    let file = f
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if prog.is_empty() {
        file
    } else {
        format!("{file} {prog}")
    }
}

fn objects(f: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let obj = Object::parse(&std::fs::read(f)?)?;
    for p in obj.programs() {
        if let Ok(loaded) = obj.load(&p.name) {
            measure(
                &name(f, &p.name),
                loaded.program(),
                &VerifyConfig::for_loaded(&loaded),
            );
        }
    }
    Ok(())
}

fn measure(what: &str, prog: &Program, conf: &VerifyConfig) {
    let mut times: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = Instant::now();
        let v = verify(prog, conf);
        times.push(t.elapsed());
        last = Some(v);
    }
    times.sort();
    let t = times[times.len() / 2];
    let n = prog.insns().len();
    let (processed, proven) = match last {
        Some(Ok(v)) => {
            let (p, total) = v.proof.coverage();
            (v.stats.processed, format!("{p}/{total}"))
        }
        _ => (0, "-".into()),
    };
    let us = t.as_secs_f64() * 1e6;
    println!(
        "{what:<34} {n:>6} {processed:>9} {proven:>8} {us:>11.1} {:>9.3}",
        us / n as f64
    );
}

/// A raw-memory program of about `n` instructions: after one length test,
/// blocks that read the input, branch on it (diamonds whose sides differ
/// only in dead registers, so the states prune) and spill to the stack.
fn generated(n: usize) -> Program {
    let mut text = String::from("mov %r0, 0\njlt %r2, 64, out\n");
    let mut k = 0;
    while text.lines().count() < n - 2 {
        let off = k % 56;
        let slot = 8 * (k % 16 + 1);
        text.push_str(&format!(
            "ldxb %r3, [%r1+{off}]\n\
             add %r0, %r3\n\
             jeq %r3, {k}, l{k}\n\
             mov %r5, 1\n\
             l{k}:\n\
             stxdw [%r10-{slot}], %r0\n\
             ldxdw %r4, [%r10-{slot}]\n\
             and %r4, 7\n\
             mov %r6, %r1\n\
             add %r6, %r4\n\
             ldxw %r7, [%r6+{off}]\n\
             xor %r0, %r7\n"
        ));
        k += 1;
    }
    text.push_str("out:\nexit\n");
    let insns = assemble(&text).expect("generated assembly is valid");
    Program::from_insns(&insns).expect("generated program is valid")
}
