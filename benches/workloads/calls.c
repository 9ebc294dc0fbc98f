#include "common.h"
/* Several bpf-to-bpf calls per 16-byte record: `record` calls `fnv` (a
 * FNV-1a hash of the record, byte by byte), `classify` (which calls `rotmix`
 * twice) and `clamp`. Every function is `noinline`, in eBPF (call with
 * src = 1) and natively alike. r0 = sum over records. */
#define NOINLINE static __attribute__((noinline))
/* The entry point comes first in .text (slot 0): declare, define later. */
NOINLINE u64 record(const u8 *q);
ENTRY u64 bench_calls(u8 *p, u64 len) {
    u64 n = len / 16, sum = 0;
    for (u64 i = 0; i < n; i++)
        sum += record(p + i * 16) * (i + 1);
    return sum;
}
NOINLINE u64 fnv(const u8 *q, u64 n) {
    u64 h = 0xcbf29ce484222325ULL;
    for (u64 i = 0; i < n; i++) {
        h ^= q[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
NOINLINE u64 rotmix(u64 x, u64 r) {
    r &= 63;
    return ((x << r) | (x >> ((64 - r) & 63))) ^ (x >> 29);
}
NOINLINE u64 classify(u64 h) {
    u64 a = rotmix(h, h >> 58);
    u64 b = rotmix(a, 17);
    return (a ^ b) % 7;
}
NOINLINE u64 clamp(u64 x, u64 lo, u64 hi) {
    return x < lo ? lo : x > hi ? hi : x;
}
NOINLINE u64 record(const u8 *q) {
    u64 h = fnv(q, 16);
    return classify(h) + clamp(h & 0xff, 16, 200);
}
