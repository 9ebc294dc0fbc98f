#include "common.h"
/* A helper-call-heavy loop: one call of helper 1 (`mix`, registered by the
 * embedder as a 64-bit multiply-xorshift of its two arguments) per u64 of the
 * input, chained through the accumulator. Natively, `mix` is the same Rust
 * function called through the C ABI (never inlined). */
HELPER(1, u64, cranebpf_bench_mix, u64 a, u64 b)
ENTRY u64 bench_helpers(u8 *p, u64 len) {
    u64 *a = (u64 *)p;
    u64 n = len / 8, acc = 0;
    for (u64 i = 0; i < n; i++)
        acc = cranebpf_bench_mix(acc, a[i]);
    return acc;
}
