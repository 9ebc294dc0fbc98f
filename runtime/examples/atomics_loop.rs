//! A micro-benchmark of the interpreter's atomics: a loop of 2M iterations,
//! each doing eight atomic read-modify-writes on the stack (every operation,
//! both widths, with and without FETCH). Prints the best of five runs.
//!
//! `cargo run --release -p cranebpf-runtime --example atomics_loop`

use cranebpf_runtime::asm::assemble;
use cranebpf_runtime::{Helpers, Interpreter, Program};
use std::time::{Duration, Instant};

const LOOP: &str = "
    mov %r6, 2000000
    mov %r2, 3
    mov %r0, 0
    stxdw [%r10-8], %r0
    stxdw [%r10-16], %r0
top:
    lock add [%r10-8], %r2
    lock fetch add32 [%r10-16], %r2
    lock or [%r10-8], %r2
    lock fetch and32 [%r10-16], %r2
    lock fetch xor [%r10-8], %r2
    lock xchg32 [%r10-16], %r2
    lock cmpxchg [%r10-8], %r2
    lock cmpxchg32 [%r10-16], %r2
    sub %r6, 1
    jne %r6, 0, top
    exit
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prog = Program::from_insns(&assemble(LOOP)?)?;
    let interp = Interpreter::new(&prog, Helpers::new())?;
    let mut best = Duration::MAX;
    let mut r0 = 0;
    for _ in 0..5 {
        let start = Instant::now();
        r0 = interp.run(&mut [])?;
        best = best.min(start.elapsed());
    }
    println!(
        "atomics_loop: best of 5 {:.1} ms (r0 = {r0:#x})",
        best.as_secs_f64() * 1e3
    );
    Ok(())
}
