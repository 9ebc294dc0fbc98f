//! Interpreter vs JIT run time on three workloads (arithmetic, memory,
//! helper calls). Compile time is outside the measured loop.

use cranebpf::{asm, Engine, Helpers, Program, Vm};
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
        for engine in [Engine::Interpreter, Engine::Jit] {
            let vm = Vm::new(&prog, helpers(), engine).expect("engine builds");
            let mut input = vec![1u8; input_len];
            group.bench_function(BenchmarkId::from_parameter(format!("{engine:?}")), |b| {
                b.iter(|| black_box(vm.run(black_box(&mut input))))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, exec);
criterion_main!(benches);
