#include "common.h"
/* strcmp of the two NUL-terminated strings that fill the two halves of the
 * input (equal strings: the whole length is compared). Returns the strcmp
 * result (as a u64) plus 1, so "equal" is 1. */
ENTRY u64 bench_strcmp(u8 *p, u64 len) {
    u64 half = len / 2;
    u8 *a = p, *b = p + half;
    u64 i = 0;
    while (i < half && a[i] != 0 && a[i] == b[i])
        i++;
    if (i == half) return 1;
    return (u64)((long long)a[i] - (long long)b[i]) + 1;
}
