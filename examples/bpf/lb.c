/* A load-balancer-style header rewrite, plus a second program in the same
 * object.
 *
 * `xdp_lb`: IPv4 TCP/UDP packets to the virtual IP 10.0.0.100 get a backend
 * chosen by a hash of (source address, source port, destination port). The
 * program rewrites from the `backends` table the destination address, fixes the IPv4 and TCP/UDP checksums
 * incrementally (RFC 1624), sets the Ethernet destination to the backend's
 * MAC and the source to the old destination, counts the packet in
 * `backend_hits` (a per-CPU array) and returns XDP_TX. Everything else
 * passes; truncated packets are aborted.
 *
 * `xdp_count` (a second program in the same section): counts packets and bytes in `seen` (.bss) and passes them.
 */
#include "cranebpf_helpers.h"

#define NUM_BACKENDS 4
#define VIP 0x6400000a /* 10.0.0.100 in network order, read as a little-endian u32 */

struct backend {
	__u32 addr; /* network order */
	__u8 mac[6];
	__u16 pad;
};

/* The backend table: read-only global data (.rodata) that an embedder may
 * overwrite before loading, as with a libbpf skeleton. Backend i is
 * 10.1.0.(10 + i) with MAC 02:be:00:00:00:0i. */
const volatile struct backend backends[NUM_BACKENDS] = {
	{ .addr = 0x0a00010a, .mac = { 0x02, 0xbe, 0, 0, 0, 0 } },
	{ .addr = 0x0b00010a, .mac = { 0x02, 0xbe, 0, 0, 0, 1 } },
	{ .addr = 0x0c00010a, .mac = { 0x02, 0xbe, 0, 0, 0, 2 } },
	{ .addr = 0x0d00010a, .mac = { 0x02, 0xbe, 0, 0, 0, 3 } },
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NUM_BACKENDS);
	__type(key, __u32);
	__type(value, __u64);
} backend_hits SEC(".maps");

struct {
	__u64 packets;
	__u64 bytes;
} seen;

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') over the two 16-bit halves of a
 * 32-bit field changing from `from` to `to`. */
static __always_inline __u16 csum_replace4(__u16 check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~check;
	sum += (__u16)~(from & 0xffff) + (__u16)~(from >> 16);
	sum += (to & 0xffff) + (to >> 16);
	return ~csum_fold(sum);
}

static __noinline __u32 flow_hash(__u32 saddr, __u32 ports)
{
	__u32 h = saddr ^ ports;
	h ^= h >> 16;
	h *= 0x45d9f3b;
	h ^= h >> 16;
	return h;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct ports *ports;
	struct backend *be;
	__u16 *l4check;
	__u32 idx, old;
	__u64 *hits;

	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl_version != 0x45 || ip->daddr != VIP)
		return XDP_PASS;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	ports = (void *)(ip + 1);
	if ((void *)ports + 20 > data_end)
		return XDP_ABORTED;

	idx = flow_hash(ip->saddr, *(__u32 *)ports) % NUM_BACKENDS;
	be = (struct backend *)&backends[idx];

	old = ip->daddr;
	ip->daddr = be->addr;
	ip->check = csum_replace4(ip->check, old, be->addr);
	l4check = (void *)ports + (ip->protocol == IPPROTO_TCP ? 16 : 6);
	if (ip->protocol == IPPROTO_TCP || *l4check != 0)
		*l4check = csum_replace4(*l4check, old, be->addr);

	__builtin_memcpy(eth->h_source, eth->h_dest, 6);
	__builtin_memcpy(eth->h_dest, be->mac, 6);

	hits = bpf_map_lookup_elem(&backend_hits, &idx);
	if (hits)
		*hits += 1;
	return XDP_TX;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&seen.packets, 1);
	__sync_fetch_and_add(&seen.bytes, ctx->data_end - ctx->data);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
