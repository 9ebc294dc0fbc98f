//! The differential harness over tracing contexts: generated kprobe and
//! embedder-context programs with probe reads of host memory, on the
//! interpreter against the JIT and the audited elide JIT.

use cranebpf::EngineKind;
use cranebpf_difftest::cli::elide_engine;
use cranebpf_difftest::gen::trace::{generate_trace, TraceKind, MEM_LEN};
use cranebpf_difftest::trace::{run_on, run_trace_batch};
use cranebpf_runtime::{asm::assemble, Engine, InterpreterEngine};

fn batch(kind: TraceKind, seed: u64, count: u64, target: &dyn Engine) {
    let s = run_trace_batch(kind, seed, count, &InterpreterEngine, target, &|| {});
    assert!(
        s.divergences.is_empty(),
        "{} divergences:\n{}",
        s.divergences.len(),
        s.divergences[..s.divergences.len().min(3)].join("\n")
    );
    assert_eq!(
        s.compared,
        count * cranebpf_difftest::gen::trace::EVENTS as u64
    );
}

#[test]
fn generated_kprobes_agree_across_engines() {
    batch(TraceKind::Kprobe, 0x7ace, 300, &EngineKind::Jit);
}

#[test]
fn generated_event_programs_agree_across_engines() {
    batch(TraceKind::Event, 0xe7e, 300, &EngineKind::Jit);
}

#[test]
fn generated_tracing_programs_pass_the_elide_audit() {
    let audited = elide_engine(true);
    batch(TraceKind::Kprobe, 0xa0d1, 100, &audited);
    batch(TraceKind::Event, 0xa0d2, 100, &audited);
}

/// What the generated probe reads rely on, on every engine: a read inside
/// the event's memory copies it, one that runs past its end fails with
/// -EFAULT and leaves zeros, as the kernel's does.
#[test]
fn probe_reads_copy_allowed_memory_and_fault_cleanly_elsewhere() {
    let prog = |off: usize| {
        assemble(&format!(
            "ldxdw %r3, [%r1]\nadd %r3, {off}\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 112\n\
             ldxdw %r1, [%r10-8]\nlsh %r0, 32\nxor %r0, %r1\nexit"
        ))
        .expect("assembles")
    };
    let events = generate_trace(1, TraceKind::Event).events;
    let engines: [&dyn Engine; 2] = [&InterpreterEngine, &EngineKind::Jit];
    for engine in engines {
        let inside = run_on(engine, TraceKind::Event, &prog(8), &events).expect("runs");
        let mem = &events[0].1;
        let want = u64::from_le_bytes(mem[8..16].try_into().expect("8 bytes"));
        assert_eq!(inside[0].r0, Ok(want as u32), "{}", engine.name());
        let past = run_on(engine, TraceKind::Event, &prog(MEM_LEN - 4), &events).expect("runs");
        // r0 = -EFAULT << 32 ^ 0 (the buffer zeroed): the low half is 0.
        assert_eq!(past[0].r0, Ok(0), "{}", engine.name());
    }
}
