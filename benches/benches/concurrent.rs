//! Shared maps under contention (issue 17): 1, 2, 4 and 8 threads run
//! `examples/bpf/hostile/shared_maps.c` (array and per-CPU atomic adds, hash
//! update/delete/lookup, LRU update, a ring buffer record) on one
//! `ObjectVm` per engine, while one thread drains the ring buffer. The
//! figure is the time of one run per thread (criterion's per-iteration
//! time with every thread running `iters` runs at once).

use cranebpf::{EngineKind, ObjectVm, RunOptions};
use cranebpf_runtime::elf::{LoadOptions, Object};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn shared_maps(c: &mut Criterion) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bpf/hostile/shared_maps.o"
    );
    let obj = Object::parse(&std::fs::read(path).expect("shared_maps.o")).expect("parse");
    let mut group = c.benchmark_group("shared_maps");
    group.sample_size(10);
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let set = obj
            .load_set("hammer", LoadOptions::default())
            .expect("load");
        let vm = Arc::new(ObjectVm::new(set, engine).expect("prepare"));
        let events = obj.map("events").expect("events").clone();
        let name = if engine == EngineKind::Jit {
            "jit"
        } else {
            "interpreter"
        };
        for threads in [1u32, 2, 4, 8] {
            group.bench_with_input(BenchmarkId::new(name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| run(&vm, &events, threads, iters))
            });
        }
    }
    group.finish();
}

/// `threads` threads each run the program `iters` times; the elapsed time.
fn run(
    vm: &Arc<ObjectVm>,
    events: &cranebpf_runtime::maps::Map,
    threads: u32,
    iters: u64,
) -> Duration {
    let done = Arc::new(AtomicBool::new(false));
    let drainer = {
        let (events, done) = (events.clone(), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                while let Ok(Some(_)) = events.ringbuf_pop() {}
                std::thread::yield_now();
            }
        })
    };
    let start = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let vm = Arc::clone(vm);
            std::thread::spawn(move || {
                for seq in 0..iters {
                    let mut input = [0u8; 8];
                    input[..4].copy_from_slice(&t.to_le_bytes());
                    input[4..].copy_from_slice(&(seq as u32).to_le_bytes());
                    std::hint::black_box(vm.run_mem(&mut input, &RunOptions::default()));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    let elapsed = start.elapsed();
    done.store(true, Ordering::Relaxed);
    drainer.join().expect("drainer");
    elapsed
}

criterion_group!(benches, shared_maps);
criterion_main!(benches);
