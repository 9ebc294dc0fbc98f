#include "common.h"
/* Number of primes below n (n = first u32 of the input), by trial division. */
ENTRY u64 bench_primes(u8 *p, u64 len) {
    if (len < 4) return 0;
    u32 n = *(u32 *)p;
    u64 count = 0;
    for (u32 k = 2; k < n; k++) {
        u32 prime = 1;
        for (u32 d = 2; d * d <= k; d++) {
            if (k % d == 0) { prime = 0; break; }
        }
        count += prime;
    }
    return count;
}
