/* Packet resizing with bpf_xdp_adjust_head and bpf_xdp_adjust_tail.
 *
 * `xdp_vlan_push`: IPv4 frames get an 802.1Q tag (TPID 0x8100, VLAN 42)
 * inserted after the MAC addresses: the packet grows by 4 bytes at the
 * front. Other frames pass unchanged.
 *
 * `xdp_trim`: frames longer than 64 bytes are cut to 64 bytes; the number
 * of bytes removed is added to `trimmed` (.bss).
 */
#include "cranebpf_helpers.h"

#define VLAN_ID 42
#define TRIM_TO 64

__u64 trimmed;

SEC("xdp")
int xdp_vlan_push(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 macs[12];

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	__builtin_memcpy(macs, eth, 12);
	if (bpf_xdp_adjust_head(ctx, -4))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + 18 > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, macs, 12);
	*(__u16 *)(data + 12) = bpf_htons(0x8100);
	*(__u16 *)(data + 14) = bpf_htons(VLAN_ID);
	return XDP_PASS;
}

SEC("xdp")
int xdp_trim(struct xdp_md *ctx)
{
	long len = ctx->data_end - ctx->data;

	if (len <= TRIM_TO)
		return XDP_PASS;
	if (bpf_xdp_adjust_tail(ctx, TRIM_TO - len))
		return XDP_ABORTED;
	__sync_fetch_and_add(&trimmed, len - TRIM_TO);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
