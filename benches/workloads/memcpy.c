#include "common.h"
/* Byte-wise copy of the first half of the input over the second half; r0 is
 * the sum of the copied bytes read back from the destination. */
ENTRY u64 bench_memcpy(u8 *p, u64 len) {
    u64 half = len / 2;
    u8 *dst = p + half;
    for (u64 i = 0; i < half; i++)
        dst[i] = p[i];
    u64 sum = 0;
    for (u64 i = 0; i < half; i += 4096)
        sum += dst[i];
    return sum + dst[half - 1];
}
