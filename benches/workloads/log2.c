#include "common.h"
/* Sum of floor(log2(x)) over an array of u64 (x = 0 counts as 0), by the
 * textbook binary search on the bit position. */
static inline u64 ilog2(u64 x) {
    u64 r = 0;
    if (x >> 32) { x >>= 32; r += 32; }
    if (x >> 16) { x >>= 16; r += 16; }
    if (x >> 8)  { x >>= 8;  r += 8; }
    if (x >> 4)  { x >>= 4;  r += 4; }
    if (x >> 2)  { x >>= 2;  r += 2; }
    if (x >> 1)  { r += 1; }
    return r;
}
ENTRY u64 bench_log2(u8 *p, u64 len) {
    u64 *a = (u64 *)p;
    u64 n = len / 8, sum = 0;
    for (u64 i = 0; i < n; i++)
        sum += ilog2(a[i]);
    return sum;
}
