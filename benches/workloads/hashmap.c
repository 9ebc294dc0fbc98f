#include "common.h"
/* A hash-map lookup and update per packet, over the input cut into 64-byte
 * Ethernet/IPv4/TCP frames. The flow key (addresses, ports, protocol) is
 * looked up in the `flows` hash map; on a hit the flow's packet and byte
 * counters are incremented through bpf_map_update_elem and the flow's class
 * is added to r0, a miss adds 1000 (the map is not grown, so r0 is the same
 * on every run). The embedder fills the map before the runs.
 *
 * eBPF: an ELF object with a legacy `maps` definition, loaded by
 * cranebpf's ELF loader and run with its kernel helpers. Natively (and for
 * peers, which have no maps) the two helpers are Rust functions over the same
 * cranebpf map implementation. */
struct flow_key {
    u32 saddr, daddr;
    u16 sport, dport;
    u32 proto;
};
struct flow_stats {
    u64 class_, packets, bytes;
};
#ifdef __bpf__
#define SEC(name) __attribute__((section(name), used))
/* A legacy `maps` definition (no BTF needed): type 1 = BPF_MAP_TYPE_HASH,
 * key size, value size, max entries, flags. */
struct bpf_map_def {
    u32 type, key_size, value_size, max_entries, map_flags;
};
struct bpf_map_def flows SEC("maps") = {1, sizeof(struct flow_key),
                                        sizeof(struct flow_stats), 4096, 0};
#define FLOWS ((void *)&flows)
#else
#define SEC(name)
#define FLOWS ((void *)0)
#endif
HELPER(1, void *, cranebpf_bench_map_lookup, void *map, const void *key)
HELPER(2, long, cranebpf_bench_map_update, void *map, const void *key,
       const void *value, u64 flags)
#define FRAME 64
SEC("cranebpf/mem")
ENTRY u64 bench_hashmap(u8 *p, u64 len) {
    u64 n = len / FRAME, sum = 0;
    for (u64 i = 0; i < n; i++) {
        const u8 *f = p + i * FRAME;
        if (f[12] != 0x08 || f[13] != 0x00) continue;
        const u8 *ip = f + 14;
        if (ip[0] != 0x45 || ip[9] != 6) continue;
        const u8 *tcp = ip + 20;
        struct flow_key k;
        __builtin_memcpy(&k.saddr, ip + 12, 4);
        __builtin_memcpy(&k.daddr, ip + 16, 4);
        __builtin_memcpy(&k.sport, tcp, 2);
        __builtin_memcpy(&k.dport, tcp + 2, 2);
        k.proto = ip[9];
        struct flow_stats *v = cranebpf_bench_map_lookup(FLOWS, &k);
        if (!v) {
            sum += 1000;
            continue;
        }
        struct flow_stats s = *v;
        s.packets += 1;
        s.bytes += ((u64)ip[2] << 8) | ip[3];
        cranebpf_bench_map_update(FLOWS, &k, &s, 0);
        sum += s.class_;
    }
    return sum;
}
