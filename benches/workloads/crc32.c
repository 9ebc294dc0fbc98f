#include "common.h"
/* CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320) of the input, bit by bit
 * (no table, so no .rodata). crc32("123456789") = 0xCBF43926. */
ENTRY u64 bench_crc32(u8 *p, u64 len) {
    u32 crc = 0xFFFFFFFFu;
    for (u64 i = 0; i < len; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return crc ^ 0xFFFFFFFFu;
}
