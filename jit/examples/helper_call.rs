//! Times one helper call from JIT code: the same pure helper registered as
//! a closure (through the host trampoline) and as a direct C-ABI function
//! (`Helpers::register_direct`), in a loop of 10 000 calls.
//!
//! Run with `cargo run --release -p cranebpf --example helper_call`.
//! Figures are the best of several repetitions; they go in BENCHMARKS.md,
//! never in tests.

use cranebpf::{asm, Helpers, Program, Vm};
use std::hint::black_box;
use std::time::Instant;

const CALLS: u64 = 10_000;

/// The `helpers` workload's mix.
fn mix(a: u64, b: u64) -> u64 {
    let x = (a ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 31)
}

extern "C" fn direct_mix(a: u64, b: u64, _: u64, _: u64, _: u64) -> u64 {
    mix(a, b)
}

/// Nanoseconds per loop iteration (one call and four instructions), best
/// of 30 runs.
fn per_call(vm: &Vm) -> f64 {
    let mut ctx = vm.context();
    let mut best = f64::MAX;
    for _ in 0..30 {
        let t = Instant::now();
        black_box(ctx.run(&mut []).ok());
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / CALLS as f64);
    }
    best
}

/// The same loop in Rust, calling the helper through a function pointer
/// (as native code calls an external helper).
fn native_per_call() -> f64 {
    let f: extern "C" fn(u64, u64, u64, u64, u64) -> u64 = black_box(direct_mix);
    let mut best = f64::MAX;
    for _ in 0..30 {
        let t = Instant::now();
        let (mut acc, mut n) = (1u64, black_box(CALLS));
        while n != 0 {
            acc ^= f(acc, n, 0, 0, 0);
            n -= 1;
        }
        black_box(acc);
        best = best.min(t.elapsed().as_secs_f64() * 1e9 / CALLS as f64);
    }
    best
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // r6 = accumulator, r7 = counter: r0 = mix(r6, r7); r6 ^= r0; loop.
    let src = format!(
        "mov %r6, 1\nmov %r7, {CALLS}\nmov %r1, %r6\nmov %r2, %r7\ncall 1\nxor %r6, %r0\nsub %r7, 1\njne %r7, 0, -6\nmov %r0, %r6\nexit"
    );
    let prog = Program::from_insns(&asm::assemble(&src)?)?;
    let mut closure = Helpers::new();
    closure.register(1, "mix", |_, a| Ok(mix(a[0], a[1])));
    let mut direct = Helpers::new();
    direct.register_direct(1, "mix", direct_mix);
    let a = Vm::jit(&prog, closure)?;
    let b = Vm::jit(&prog, direct)?;
    assert_eq!(a.run(&mut [])?, b.run(&mut [])?);
    println!(
        "helper call, closure (trampoline): {:.2} ns per iteration",
        per_call(&a)
    );
    println!(
        "helper call, direct C ABI:        {:.2} ns per iteration",
        per_call(&b)
    );
    println!(
        "native loop, function pointer:    {:.2} ns per iteration",
        native_per_call()
    );
    Ok(())
}
