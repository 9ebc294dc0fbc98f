/* A stateful XDP firewall and flow counter.
 *
 * - Counts every packet by IP protocol in `proto_stats` (array of 256
 *   {packets, bytes}).
 * - Tracks IPv4 TCP/UDP flows in `flows` (hash keyed by the 5-tuple).
 * - Drops TCP to the blocked port (a `const volatile` global in .rodata),
 *   drops a flow's packets after its first `flow_limit` (.data), passes
 *   everything else. Non-IPv4 frames pass; truncated headers are aborted.
 * - Counts all packets seen in `total_seen` (.bss).
 */
#include "cranebpf_helpers.h"

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct counter {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct counter);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct counter);
} proto_stats SEC(".maps");

const volatile __u16 blocked_port = 23;
__u64 flow_limit = 4;
__u64 total_seen;

static __noinline int count_proto(__u32 proto, __u64 len)
{
	struct counter *c = bpf_map_lookup_elem(&proto_stats, &proto);
	if (!c)
		return 0;
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	return 1;
}

SEC("xdp")
int xdp_firewall(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 len = data_end - data;
	struct ethhdr *eth = data;
	struct iphdr *ip;
	struct ports *ports;
	struct flow_key key = {};
	struct counter *c;

	__sync_fetch_and_add(&total_seen, 1);
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	count_proto(ip->protocol, len);
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	ports = (void *)ip + (ip->ihl_version & 0x0f) * 4;
	if ((void *)(ports + 1) > data_end)
		return XDP_ABORTED;

	key.saddr = ip->saddr;
	key.daddr = ip->daddr;
	key.sport = bpf_ntohs(ports->source);
	key.dport = bpf_ntohs(ports->dest);
	key.proto = ip->protocol;
	if (key.proto == IPPROTO_TCP && key.dport == blocked_port)
		return XDP_DROP;

	c = bpf_map_lookup_elem(&flows, &key);
	if (!c) {
		struct counter init = { .packets = 1, .bytes = len };
		bpf_map_update_elem(&flows, &key, &init, BPF_NOEXIST);
		return XDP_PASS;
	}
	__sync_fetch_and_add(&c->packets, 1);
	__sync_fetch_and_add(&c->bytes, len);
	if (c->packets > flow_limit)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
