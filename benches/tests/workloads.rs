//! Every benchmark workload computes what the same logic in Rust computes, in
//! every engine, so the benchmarks time correct programs.

use cranebpf::{asm, EngineKind, Helpers, Program, Vm};
use cranebpf_benches::{synthetic, ARITH_LOOP, HELPER_LOOP, MEM_LOOP, MEM_LOOP_INPUT};

fn run(src: &str, input: &mut [u8], engine: EngineKind) -> u64 {
    let prog = Program::from_insns(&asm::assemble(src).expect("assembles")).expect("validates");
    let mut h = Helpers::new();
    h.register(1, "add", |_, a| Ok(a[0].wrapping_add(a[1])));
    Vm::new(&prog, h, engine)
        .expect("engine")
        .run(input)
        .expect("runs to exit")
}

#[test]
fn workloads_match_rust() {
    let mut x: u64 = 1;
    for _ in 0..100_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x = x.wrapping_mul(0x2545f491);
    }
    let words = MEM_LOOP_INPUT / 8;
    let (mut sum, mut expect_mem) = (0u64, Vec::new());
    for _ in 0..words {
        sum = sum.wrapping_add(0x0101_0101_0101_0101);
        expect_mem.extend_from_slice(&sum.to_le_bytes());
    }
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        assert_eq!(run(ARITH_LOOP, &mut [], engine), x, "{engine:?}");
        let mut input = vec![1u8; MEM_LOOP_INPUT];
        assert_eq!(run(MEM_LOOP, &mut input, engine), sum, "{engine:?}");
        assert_eq!(input, expect_mem, "{engine:?}");
        assert_eq!(
            run(HELPER_LOOP, &mut [], engine),
            10_000 * 10_001 / 2,
            "{engine:?}"
        );
    }
}

#[test]
fn synthetic_programs_agree_across_engines() {
    for n in [10, 100, 1000] {
        let src = synthetic(n);
        let a = run(&src, &mut [], EngineKind::Interpreter);
        let b = run(&src, &mut [], EngineKind::Jit);
        assert_eq!(a, b, "n = {n}");
    }
}
