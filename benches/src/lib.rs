//! Workloads and engines shared by the cranebpf benchmarks (`benches/exec.rs`,
//! `benches/compile.rs`, the `cranebpf-bench` binary and the correctness test).
//!
//! Two kinds of workload live here: small hand-written assembly loops
//! ([`ARITH_LOOP`], [`MEM_LOOP`], [`HELPER_LOOP`], [`synthetic`]) and the C
//! workloads of [`c_workloads`], compiled with clang to eBPF for `-mcpu=v2`,
//! `v3` and `v4` (committed bytecode, `workloads/build.sh`) and natively from
//! the same source (`build.rs`). [`engines::engines`] lists every engine that
//! runs them in one process: cranebpf's interpreter and JIT (two tiers),
//! rbpf's interpreter and x86-64 JIT, with the `peers` feature rbpf's
//! Cranelift JIT and solana-sbpf's interpreter and JIT (the adapters of
//! `cranebpf-peers`, each a runtime `Engine`), any engine an embedder
//! registers ([`engines::register`]), and native code.
//! [`timing`] measures run time, [`compile`] compile latency and code size,
//! [`chart`] draws the SVG chart, and [`suite::run`] is the whole suite
//! (the `cranebpf-bench` binary and `cranebpf bench`).
#![deny(missing_docs)]

pub mod c_workloads;
pub mod chart;
pub mod compile;
pub mod engines;
pub mod hooks;
pub mod native_helpers;
pub mod percall;
pub mod subject;
pub mod suite;
pub mod timing;

/// A tight arithmetic loop: 100 000 iterations of a xorshift-multiply mix.
/// r0 is a hash of the iteration count; no memory is touched.
pub const ARITH_LOOP: &str = "
    mov %r0, 1
    mov %r1, 100000
loop:
    mov %r2, %r0
    lsh %r2, 13
    xor %r0, %r2
    mov %r2, %r0
    rsh %r2, 7
    xor %r0, %r2
    mul %r0, 0x2545f491
    sub %r1, 1
    jne %r1, 0, loop
    exit
";

/// A memory-heavy loop: sums the input as 64-bit words, then writes the
/// running sum back over every word (loads and stores through r1).
pub const MEM_LOOP: &str = "
    mov %r0, 0
    mov %r3, %r1
    mov %r4, %r2
    rsh %r4, 3
loop:
    jeq %r4, 0, done
    ldxdw %r5, [%r3+0]
    add %r0, %r5
    stxdw [%r3+0], %r0
    add %r3, 8
    sub %r4, 1
    ja loop
done:
    exit
";

/// Input size for [`MEM_LOOP`]: 64 KiB.
pub const MEM_LOOP_INPUT: usize = 64 * 1024;

/// A helper-heavy loop: 10 000 calls of helper 1 (`add`), which the benchmark
/// registers as `r1 + r2`.
pub const HELPER_LOOP: &str = "
    mov %r0, 0
    mov %r6, 10000
loop:
    mov %r1, %r0
    mov %r2, %r6
    call 1
    sub %r6, 1
    jne %r6, 0, loop
    exit
";

/// A straight-line-ish program of about `n` instructions for compile-latency
/// measurements: ALU work on r0-r5, a stack store and load every 8
/// instructions, and a forward conditional branch every 16.
pub fn synthetic(n: usize) -> String {
    let mut s =
        String::from("mov %r0, 0\nmov %r1, 1\nmov %r2, 2\nmov %r3, 3\nmov %r4, 4\nmov %r5, 5\n");
    let mut i = 6;
    let mut label = 0;
    while i + 2 < n {
        match i % 16 {
            0 => {
                s.push_str(&format!(
                    "jgt %r{}, %r{}, l{label}\nadd %r0, 1\nl{label}:\n",
                    i % 5,
                    (i + 1) % 5
                ));
                label += 1;
                i += 2;
                continue;
            }
            8 => s.push_str(&format!(
                "stxdw [%r10-{}], %r{}\nldxdw %r{}, [%r10-{}]\n",
                8 * (1 + i % 8),
                i % 6,
                (i + 3) % 6,
                8 * (1 + (i + 4) % 8)
            )),
            _ => {
                let ops = ["add", "sub", "xor", "or", "mul", "lsh", "rsh", "and"];
                s.push_str(&format!(
                    "{} %r{}, %r{}\n",
                    ops[i % ops.len()],
                    i % 6,
                    (i * 7 + 1) % 6
                ));
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    s.push_str("exit\n");
    s
}
