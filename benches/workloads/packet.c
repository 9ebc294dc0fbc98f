#include "common.h"
/* Ethernet/IPv4/TCP parsing with a verdict, over the input cut into 64-byte
 * frames. Per frame: drop (0) anything not IPv4 (after one optional 802.1Q
 * tag), with a bad header length or total length, fragmented, or not TCP;
 * drop TCP to port 23 or with SYN+FIN; pass (1) TCP to port 80 or 443;
 * else 2. r0 = sum over frames of verdict * (frame index + 1). */
#define FRAME 64
/* A 16-bit load and a byte swap: `be16` in v2/v3, `bswap16` in v4. */
static inline u16 be16(const u8 *q) {
    u16 v;
    __builtin_memcpy(&v, q, 2);
    return __builtin_bswap16(v);
}
static inline u64 verdict(const u8 *f) {
    u64 off = 12;
    u16 type = be16(f + off);
    if (type == 0x8100) { off += 4; type = be16(f + off); }
    if (type != 0x0800) return 0;
    const u8 *ip = f + off + 2;
    u64 ihl = (u64)(ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || ihl < 20) return 0;
    if (off + 2 + ihl + 20 > FRAME) return 0;
    u16 tot = be16(ip + 2);
    if (tot < ihl + 20) return 0;
    if (be16(ip + 6) & 0x3fff) return 0;
    if (ip[9] != 6) return 0;
    const u8 *tcp = ip + ihl;
    u16 dport = be16(tcp + 2);
    u8 flags = tcp[13];
    if (dport == 23 || (flags & 3) == 3) return 0;
    if (dport == 80 || dport == 443) return 1;
    return 2;
}
ENTRY u64 bench_packet(u8 *p, u64 len) {
    u64 n = len / FRAME, sum = 0;
    for (u64 i = 0; i < n; i++)
        sum += verdict(p + i * FRAME) * (i + 1);
    return sum;
}
