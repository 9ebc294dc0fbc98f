//! Run time per call. Group `c/<workload>-<cpu>`: every C workload at every
//! ISA level on every engine of [`engines`] (with `--features peers`, rbpf's
//! Cranelift JIT and solana-sbpf too). Groups `arith_loop`, `mem_loop`,
//! `helper_loop`: the hand-written assembly loops, cranebpf only. Compile
//! time is outside the measured loop; an engine that refuses a program, or
//! returns another r0 than native, is skipped with a note on stderr.

use cranebpf::{asm, EngineKind, Helpers, Program, Vm};
use cranebpf_benches::c_workloads::{Cpu, C_WORKLOADS};
use cranebpf_benches::engines::{engines, Prepared};
use cranebpf_benches::{ARITH_LOOP, HELPER_LOOP, MEM_LOOP, MEM_LOOP_INPUT};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;

fn program(src: &str) -> Program {
    let insns = asm::assemble(src).expect("workload assembles");
    Program::from_insns(&insns).expect("workload validates")
}

fn helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register(1, "add", |_, a| Ok(a[0].wrapping_add(a[1])));
    h
}

fn exec(c: &mut Criterion) {
    let workloads: [(&str, &str, usize); 3] = [
        ("arith_loop", ARITH_LOOP, 0),
        ("mem_loop", MEM_LOOP, MEM_LOOP_INPUT),
        ("helper_loop", HELPER_LOOP, 0),
    ];
    for (name, src, input_len) in workloads {
        let prog = program(src);
        let mut group = c.benchmark_group(name);
        for engine in [EngineKind::Interpreter, EngineKind::Jit] {
            let vm = Vm::new(&prog, helpers(), engine).expect("engine builds");
            let mut input = vec![1u8; input_len];
            group.bench_function(BenchmarkId::from_parameter(format!("{engine:?}")), |b| {
                b.iter(|| black_box(vm.run(black_box(&mut input))))
            });
        }
        group.finish();
    }
}

fn c_workloads(c: &mut Criterion) {
    for w in &C_WORKLOADS {
        for cpu in Cpu::ALL {
            let prepared = Prepared::new(w, cpu).expect("workload loads");
            let mut group = c.benchmark_group(format!("c/{}-{}", w.name, cpu.name()));
            for engine in engines() {
                let mut input = (w.input)();
                let expect = w.run_native(&mut (w.input)());
                let mut exec =
                    match engine
                        .prepare(&prepared.subject(input.len()))
                        .and_then(|mut x| match x.run(&mut (w.input)()) {
                            Ok(r0) if r0 == expect => Ok(x),
                            Ok(r0) => Err(format!("wrong r0 {r0:#x} (native {expect:#x})")),
                            Err(e) => Err(e),
                        }) {
                        Ok(r) => r,
                        Err(e) => {
                            eprintln!("{} {} {}: not run: {e}", w.name, cpu.name(), engine.name);
                            continue;
                        }
                    };
                group.bench_function(engine.name, |b| {
                    b.iter(|| black_box(exec.run(black_box(&mut input))))
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, c_workloads, exec);
criterion_main!(benches);
