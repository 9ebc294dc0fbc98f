//! Concurrency (issue 17): eight threads run one program at once, on one
//! `ObjectVm` per engine, over shared array, per-CPU array, hash, LRU hash
//! and ring buffer maps (`examples/bpf/hostile/shared_maps.c`), while the host reads
//! the hash map and drains the ring buffer. Atomic totals must be exact,
//! no lookup (the program's or the host's) may see a torn value, and every
//! ring buffer record must arrive exactly once.

use cranebpf::{EngineKind, ObjectVm, RunOptions};
use cranebpf_runtime::elf::{LoadOptions, Object};
use cranebpf_runtime::maps::Map;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const THREADS: u32 = 8;
const RUNS: u32 = 4_000;

fn object() -> Object {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/bpf/hostile/shared_maps.o"
    );
    Object::parse(&std::fs::read(path).expect("read shared_maps.o")).expect("parse")
}

fn u64_at(map: &Map, index: u32) -> u64 {
    let v = map.lookup(&index.to_le_bytes()).expect("array entry");
    u64::from_le_bytes(v[..8].try_into().expect("8 bytes"))
}

/// Drains `events` until `done` and the ring is empty; returns the records.
fn drain(events: &Map, done: &AtomicBool) -> Vec<(u64, u64)> {
    let mut got = Vec::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        while let Some(r) = events.ringbuf_pop().expect("a ring buffer") {
            assert_eq!(r.len(), 16, "record size");
            let w = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().expect("8 bytes"));
            got.push((w(0), w(8)));
        }
        if finished {
            return got;
        }
        std::thread::yield_now();
    }
}

/// Host lookups racing the programs' updates and deletes: whole or absent.
fn check_pairs(pairs: &Map, done: &AtomicBool) -> u64 {
    let mut seen = 0;
    while !done.load(Ordering::SeqCst) {
        for k in 0u32..16 {
            if let Some(v) = pairs.lookup(&k.to_le_bytes()) {
                assert_eq!(v[..8], v[8..16], "torn host lookup of key {k}");
                seen += 1;
            }
        }
    }
    seen
}

fn hammer(engine: EngineKind) {
    let obj = object();
    let set = obj
        .load_set("hammer", LoadOptions::default())
        .expect("load");
    let vm = Arc::new(ObjectVm::new(set, engine).expect("prepare"));
    let done = Arc::new(AtomicBool::new(false));
    let events = obj.map("events").expect("events").clone();
    let pairs = obj.map("pairs").expect("pairs").clone();
    let drainer = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || drain(&events, &done))
    };
    let reader = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || check_pairs(&pairs, &done))
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let vm = Arc::clone(&vm);
            std::thread::spawn(move || {
                for seq in 0..RUNS {
                    let mut input = [0u8; 8];
                    input[..4].copy_from_slice(&t.to_le_bytes());
                    input[4..].copy_from_slice(&seq.to_le_bytes());
                    let out = vm.run_mem(&mut input, &RunOptions::default());
                    assert_eq!(out.outcome.result, Ok(0), "thread {t} run {seq}");
                }
            })
        })
        .collect();
    for w in workers {
        w.join().expect("worker");
    }
    done.store(true, Ordering::SeqCst);
    let records = drainer.join().expect("drainer");
    let _host_lookups = reader.join().expect("reader");

    let totals = obj.map("totals").expect("totals");
    let runs = u64::from(THREADS * RUNS);
    assert_eq!(u64_at(totals, 0), runs, "{engine:?}: array atomic total");
    assert_eq!(
        u64_at(obj.map("percpu").expect("percpu"), 0),
        runs,
        "{engine:?}: per-CPU atomic total"
    );
    assert_eq!(u64_at(totals, 1), 0, "{engine:?}: torn program lookups");
    let full = u64_at(totals, 2);
    assert_eq!(
        records.len() as u64 + full,
        runs,
        "{engine:?}: records popped + refused as full = runs"
    );
    let unique: HashSet<_> = records.iter().copied().collect();
    assert_eq!(
        unique.len(),
        records.len(),
        "{engine:?}: duplicated records"
    );
    for &(t, seq) in &records {
        assert!(
            t < u64::from(THREADS) && seq < u64::from(RUNS),
            "{engine:?}: bad record {t} {seq}"
        );
    }
    // Each thread's records arrive in its own order.
    for t in 0..u64::from(THREADS) {
        let seqs: Vec<u64> = records.iter().filter(|r| r.0 == t).map(|r| r.1).collect();
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "{engine:?}: thread {t} out of order"
        );
    }
    let recent = obj.map("recent").expect("recent");
    assert!(
        recent.len() <= 8,
        "{engine:?}: LRU over capacity: {}",
        recent.len()
    );
}

#[test]
fn eight_threads_share_maps_on_the_interpreter() {
    hammer(EngineKind::Interpreter);
}

#[test]
fn eight_threads_share_maps_on_the_jit() {
    hammer(EngineKind::Jit);
}
