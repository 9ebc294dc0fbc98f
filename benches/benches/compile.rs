//! JIT compile latency against program size (10 to 10 000 instructions).

use cranebpf::{asm, Engine, Helpers, Program, Vm};
use cranebpf_benches::synthetic;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("jit_compile");
    group.sample_size(10);
    for n in [10usize, 100, 1_000, 10_000] {
        let insns = asm::assemble(&synthetic(n)).expect("synthetic program assembles");
        let prog = Program::from_insns(&insns).expect("synthetic program validates");
        group.throughput(Throughput::Elements(prog.insns().len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &prog, |b, prog| {
            b.iter(|| black_box(Vm::new(prog, Helpers::new(), Engine::Jit).expect("compiles")))
        });
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
