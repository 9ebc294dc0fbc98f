//! JIT compile latency against program size (10 to 100 000 generated
//! instructions) for every JIT of [`engines`] (cranebpf's two tiers, rbpf's
//! JITs, and with `--features peers` rbpf's Cranelift JIT and
//! solana-sbpf's JIT).

use cranebpf::{asm, Program};
use cranebpf_benches::c_workloads::Needs;
use cranebpf_benches::compile::prepare_once;
use cranebpf_benches::engines::{engines, Kind, Subject};
use cranebpf_benches::synthetic;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("jit_compile");
    group.sample_size(10);
    for n in [10usize, 100, 1_000, 10_000, 100_000] {
        let insns = asm::assemble(&synthetic(n)).expect("synthetic program assembles");
        let bytes = Program::from_insns(&insns)
            .expect("synthetic program validates")
            .to_bytes();
        let s = Subject {
            bytecode: &bytes,
            needs: Needs::Nothing,
            loaded: None,
            native: None,
            input_len: 0,
        };
        group.throughput(Throughput::Elements((bytes.len() / 8) as u64));
        for e in engines().filter(|e| e.kind == Kind::Jit) {
            // rbpf's JIT panics on programs over one page of code.
            if let Err(err) = prepare_once(e, &s) {
                eprintln!("{} gen-{n}: not compiled: {err}", e.name);
                continue;
            }
            group.bench_with_input(BenchmarkId::new(e.name, n), &s, |b, s| {
                b.iter(|| black_box(e.prepare(s).map(|x| x.code_size())))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
