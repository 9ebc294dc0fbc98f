//! `cargo run --release -p cranebpf-benches --example checks_cost -- [SUBSTR]
//! [--samples N] [--ms MS]`: what cranebpf's memory bounds checks cost.
//!
//! For every C workload whose `name-cpu` contains SUBSTR (all by default)
//! it times cranebpf's JIT with the normal checks and with the checks
//! turned off ([`cranebpf::JitOptions::without_bounds_checks`], an
//! `unsafe` benchmark-only mode: the workloads are trusted to stay inside
//! their input and stack, which the correctness tests check with the
//! interpreter), next to rbpf's JIT and the native build, and prints the
//! median µs per call. r0 must agree across all four.

use cranebpf::{Helpers, JitOptions, Program, Vm};
use cranebpf_benches::c_workloads::{CWorkload, Cpu, C_WORKLOADS};
use cranebpf_benches::engines::{EngineKind, Runner};
use std::time::{Duration, Instant};

/// Median ns per call of `f` over `samples` samples of about `ms` ms each.
fn median_ns(samples: usize, ms: u64, mut f: impl FnMut() -> u64) -> f64 {
    let t = Instant::now();
    std::hint::black_box(f());
    let one = t.elapsed().max(Duration::from_nanos(1));
    let calls = (u128::from(ms) * 1_000_000 / one.as_nanos()).clamp(1, 1_000_000) as u64;
    let mut v = Vec::with_capacity(samples);
    for _ in 0..samples.max(1) {
        let t = Instant::now();
        for _ in 0..calls {
            std::hint::black_box(f());
        }
        v.push(t.elapsed().as_nanos() as f64 / calls as f64);
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn jit(w: &CWorkload, cpu: Cpu, checks: bool) -> Vm {
    let prog = Program::from_bytes(w.bytecode(cpu)).unwrap_or_else(|e| panic!("{}: {e}", w.name));
    let opts = if checks {
        JitOptions::default()
    } else {
        // SAFETY: benchmark workloads only touch their input and their
        // stack frame (checked against the interpreter by the tests).
        unsafe { JitOptions::default().without_bounds_checks() }
    };
    Vm::jit_with(&prog, Helpers::new(), &opts).unwrap_or_else(|e| panic!("{}: {e}", w.name))
}

fn main() {
    let mut filter = None;
    let mut samples = 9;
    let mut ms = 50;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--samples" => samples = args.next().and_then(|s| s.parse().ok()).unwrap_or(samples),
            "--ms" => ms = args.next().and_then(|s| s.parse().ok()).unwrap_or(ms),
            _ => filter = Some(a),
        }
    }
    println!("| workload | cranebpf JIT | JIT, checks off | rbpf JIT | native |");
    println!("|---|---:|---:|---:|---:|");
    for w in &C_WORKLOADS {
        for cpu in Cpu::ALL {
            let id = format!("{}-{}", w.name, cpu.name());
            if filter.as_deref().is_some_and(|f| !id.contains(f)) {
                continue;
            }
            let mut cells = Vec::new();
            let mut r0s = Vec::new();
            for checks in [true, false] {
                let vm = jit(w, cpu, checks);
                let mut input = (w.input)();
                r0s.push(vm.run(&mut input).ok());
                let mut input = (w.input)();
                cells.push(median_ns(samples, ms, || vm.run(&mut input).unwrap_or(0)));
            }
            for engine in [EngineKind::RbpfJit, EngineKind::Native] {
                let mut input = (w.input)();
                match Runner::new(w, cpu, engine, input.len()) {
                    Ok(r) => {
                        r0s.push(r.run(&mut (w.input)()).ok());
                        cells.push(median_ns(samples, ms, || r.run(&mut input).unwrap_or(0)));
                    }
                    Err(_) => cells.push(f64::NAN),
                }
            }
            let agree = r0s.windows(2).all(|p| p[0] == p[1]);
            let c: Vec<String> = cells.iter().map(|n| format!("{:.1}", n / 1e3)).collect();
            println!(
                "| {id}{} | {} | {} | {} | {} |",
                if agree { "" } else { " (r0 differs!)" },
                c[0],
                c[1],
                c[2],
                c[3]
            );
        }
    }
}
