/* A tc classifier (BPF_PROG_TYPE_SCHED_CLS) that rewrites headers and fixes
 * the checksums with the kernel's helpers, as a DNAT would.
 *
 * tc_dnat, for IPv4 packets (direct packet access through data/data_end):
 * - UDP to port 53: the destination address becomes 10.0.0.53
 *   (bpf_skb_store_bytes; the IP checksum through bpf_csum_diff and
 *   bpf_l3_csum_replace, the UDP checksum through bpf_l4_csum_replace with
 *   the pseudo-header flag); the TTL drops by one (a 2-byte replace); the
 *   packet is marked 0x53 with priority 6;
 * - TCP to port 23: TC_ACT_SHOT;
 * - ICMP: redirected to interface 1 (bpf_redirect);
 * - anything else: TC_ACT_OK.
 * Verdicts are counted in `verdicts`.
 *
 * tc_vlan pushes two VLAN tags (the second push moves the first into the
 * packet) and trims the frame to at most 80 bytes (bpf_skb_change_tail).
 */
#include "cranebpf_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

#define ETH_HLEN 14
#define IP_CSUM_OFF (ETH_HLEN + 10)
#define IP_TTL_OFF (ETH_HLEN + 8)
#define IP_DST_OFF (ETH_HLEN + 16)
#define UDP_CSUM_OFF (ETH_HLEN + 20 + 6)

static __always_inline int count(int verdict)
{
	__u32 k = verdict == TC_ACT_REDIRECT ? 7 : (__u32)verdict & 7;
	__u64 *c = bpf_map_lookup_elem(&verdicts, &k);
	if (c)
		__sync_fetch_and_add(c, 1);
	return verdict;
}

static __always_inline int dnat_udp(struct __sk_buff *skb, __be32 old_dst)
{
	__be32 new_dst = bpf_htonl(0x0a000035); /* 10.0.0.53 */
	__u8 *data = (void *)(long)skb->data;
	__u8 *end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + 20 + 8 > end)
		return TC_ACT_OK;
	__u16 old_ttl_word = *(__u16 *)(data + IP_TTL_OFF);
	__u8 ttl = data[IP_TTL_OFF];
	if (ttl <= 1)
		return TC_ACT_SHOT;

	long long diff = bpf_csum_diff(&old_dst, 4, &new_dst, 4, 0);
	bpf_l4_csum_replace(skb, UDP_CSUM_OFF, old_dst, new_dst,
			    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4);
	bpf_skb_store_bytes(skb, IP_DST_OFF, &new_dst, 4, 0);
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0, diff, 0);

	__u8 new_ttl = ttl - 1;
	bpf_skb_store_bytes(skb, IP_TTL_OFF, &new_ttl, 1, 0);
	/* The helpers may have moved the packet: reload before reading. */
	data = (void *)(long)skb->data;
	end = (void *)(long)skb->data_end;
	if (data + ETH_HLEN + 20 > end)
		return TC_ACT_SHOT;
	__u16 new_ttl_word = *(__u16 *)(data + IP_TTL_OFF);
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_ttl_word, new_ttl_word, 2);
	skb->mark = 0x53;
	skb->priority = 6;
	return TC_ACT_OK;
}

SEC("tc")
int tc_dnat(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;
	__u8 *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = (void *)data;
	if ((void *)(eth + 1) > (void *)end || eth->h_proto != bpf_htons(ETH_P_IP))
		return count(TC_ACT_OK);
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > (void *)end || (ip->ihl_version & 0xf) != 5)
		return count(TC_ACT_OK);
	if (ip->protocol == IPPROTO_ICMP)
		return count(bpf_redirect(1, 0));
	struct ports *p = (void *)(ip + 1);
	if ((void *)(p + 1) > (void *)end)
		return count(TC_ACT_OK);
	if (ip->protocol == IPPROTO_TCP && p->dest == bpf_htons(23))
		return count(TC_ACT_SHOT);
	if (ip->protocol == IPPROTO_UDP && p->dest == bpf_htons(53))
		return count(dnat_udp(skb, ip->daddr));
	return count(TC_ACT_OK);
}

SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	if (bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100) < 0)
		return TC_ACT_SHOT;
	if (bpf_skb_vlan_push(skb, bpf_htons(0x88a8), 200) < 0)
		return TC_ACT_SHOT;
	skb->cb[1] = skb->vlan_tci;
	skb->cb[2] = skb->len;
	if (skb->len > 80 && bpf_skb_change_tail(skb, 80, 0) < 0)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
