/* An XDP dispatcher that tail-calls per-protocol handlers through a program
 * array (BPF_MAP_TYPE_PROG_ARRAY), filled by its BTF `values` initialiser.
 *
 * `xdp_dispatch` (the entry): counts every packet in `dispatched` (.bss);
 * aborts frames shorter than an Ethernet header; tail-calls slot 0 for IPv4,
 * slot 1 for IPv6 and slot 2 for ARP. Slot 2 is empty, so that tail call
 * fails: the dispatcher counts it in `missed` and passes the packet. Other
 * ethertypes pass.
 *
 * `handle_ipv4` (slot 0): counts in `hits[0]`; drops packets whose IPv4
 * header is truncated; tail-calls slot 3 for TCP (a chain of two tail
 * calls); drops ICMP; passes the rest.
 *
 * `handle_ipv6` (slot 1): counts in `hits[1]` and drops.
 *
 * `handle_tcp` (slot 3): counts in `hits[3]`; aborts packets whose TCP ports
 * (behind `ihl` words of IPv4 header) are truncated; adds the frame length to
 * `tcp_bytes` (.bss); drops destination ports 22 and 23; passes the rest.
 */
#include "cranebpf_helpers.h"

#define BPF_MAP_TYPE_PROG_ARRAY 3
#define ETH_P_IPV6 0x86dd
#define ETH_P_ARP 0x0806
#define __array(name, val) typeof(val) *name[]

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

enum { SLOT_IPV4 = 0, SLOT_IPV6 = 1, SLOT_ARP = 2, SLOT_TCP = 3, NUM_SLOTS = 4 };

int handle_ipv4(struct xdp_md *ctx);
int handle_ipv6(struct xdp_md *ctx);
int handle_tcp(struct xdp_md *ctx);

struct handlers_map {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, NUM_SLOTS);
	__type(key, __u32);
	__array(values, int(struct xdp_md *));
};

/* A tentative definition here, the initialised one after the handlers, so
 * that clang emits the dispatcher first in the section. */
struct handlers_map handlers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NUM_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

__u64 dispatched;
__u64 missed;
__u64 tcp_bytes;

static __always_inline void count(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&hits, &slot);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	__sync_fetch_and_add(&dispatched, 1);
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	switch (bpf_ntohs(eth->h_proto)) {
	case ETH_P_IP:
		bpf_tail_call(ctx, &handlers, SLOT_IPV4);
		break;
	case ETH_P_IPV6:
		bpf_tail_call(ctx, &handlers, SLOT_IPV6);
		break;
	case ETH_P_ARP:
		bpf_tail_call(ctx, &handlers, SLOT_ARP);
		break;
	default:
		return XDP_PASS;
	}
	/* Only reached when the tail call failed. */
	__sync_fetch_and_add(&missed, 1);
	return XDP_PASS;
}

SEC("xdp")
int handle_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);

	count(SLOT_IPV4);
	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (ip->protocol == IPPROTO_TCP) {
		bpf_tail_call(ctx, &handlers, SLOT_TCP);
		return XDP_PASS;
	}
	return ip->protocol == IPPROTO_ICMP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int handle_ipv6(struct xdp_md *ctx)
{
	count(SLOT_IPV6);
	return XDP_DROP;
}

SEC("xdp")
int handle_tcp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct ports *ports;
	__u32 ihl;

	count(SLOT_TCP);
	if ((void *)(ip + 1) > data_end)
		return XDP_ABORTED;
	ihl = ip->ihl_version & 0xf;
	if (ihl < 5)
		return XDP_ABORTED;
	ports = (void *)ip + ihl * 4;
	if ((void *)(ports + 1) > data_end)
		return XDP_ABORTED;
	__sync_fetch_and_add(&tcp_bytes, data_end - data);
	if (ports->dest == bpf_htons(22) || ports->dest == bpf_htons(23))
		return XDP_DROP;
	return XDP_PASS;
}

struct handlers_map handlers SEC(".maps") = {
	.values = {
		[SLOT_IPV4] = (void *)&handle_ipv4,
		[SLOT_IPV6] = (void *)&handle_ipv6,
		[SLOT_TCP] = (void *)&handle_tcp,
	},
};

char _license[] SEC("license") = "GPL";
