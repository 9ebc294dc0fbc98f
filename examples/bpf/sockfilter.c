/* A socket filter (BPF_PROG_TYPE_SOCKET_FILTER), as attached with
 * SO_ATTACH_BPF to a packet socket of type SOCK_DGRAM: the packet starts at
 * the network header and skb->protocol holds the EtherType.
 *
 * It reads headers the three ways a socket filter can: LD_ABS/LD_IND
 * (load_byte/load_half), bpf_skb_load_bytes, and __sk_buff fields. It
 * counts packets per IP protocol, notes the IP header length in cb[0], and
 * returns how many bytes the socket keeps: none for telnet (TCP port 23),
 * the first 64 bytes of UDP (a snap length), everything else whole.
 */
#include "cranebpf_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} proto_count SEC(".maps");

__u64 not_ipv4;

SEC("socket")
int sock_filter(struct __sk_buff *skb)
{
	if (skb->protocol != bpf_htons(ETH_P_IP) || skb->len < 20) {
		not_ipv4++;
		return skb->len;
	}
	__u32 proto = load_byte(skb, 9);
	__u64 *c = bpf_map_lookup_elem(&proto_count, &proto);
	if (c)
		__sync_fetch_and_add(c, 1);
	__u32 ihl = (load_byte(skb, 0) & 0xf) * 4;
	skb->cb[0] = ihl;
	if (proto == IPPROTO_TCP) {
		struct ports p;
		if (bpf_skb_load_bytes(skb, ihl, &p, sizeof(p)) < 0)
			return 0;
		if (p.dest == bpf_htons(23))
			return 0;
		/* LD_IND: the same field through a register offset. */
		if (load_half(skb, ihl + 2) == 22)
			return skb->len;
	}
	if (proto == IPPROTO_UDP)
		return 64;
	return skb->len;
}

char LICENSE[] SEC("license") = "GPL";
