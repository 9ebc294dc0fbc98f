/* The per-packet drivers of the native socket filter and tc program
 * (skb_shim.h): each sets up a `struct __sk_buff` over a private copy of
 * the packet, as the kernel's hook has the packet in an skb, and calls the
 * program. The verdict and a hash of the packet as the program left it are
 * returned per packet, so the caller can check them against cranebpf's. */
#include "skb_shim.h"

struct __sk_buff *native_current_skb;

int sock_filter(struct __sk_buff *skb);
int tc_dnat(struct __sk_buff *skb);

/* FNV-1a of a packet. */
static uint64_t fnv(const __u8 *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void setup(struct __sk_buff *skb, __u8 *buf, size_t len, __u16 ethertype)
{
	memset(skb, 0, sizeof(*skb));
	skb->len = (__u32)len;
	skb->protocol = bpf_htons(ethertype);
	skb->ifindex = skb->ingress_ifindex = 1;
	skb->data = (unsigned long)buf;
	skb->data_end = (unsigned long)(buf + len);
	native_current_skb = skb;
}

/* Runs `prog` on `n` frames (`frames[i]`, `lens[i]` bytes); a socket
 * filter sees each from its network header (`l3`). Writes each verdict
 * and, unless `hashes` is NULL (the timed pass), each packet's hash;
 * returns the number of frames run. */
static size_t drive(int (*prog)(struct __sk_buff *), int l3, const __u8 *const *frames,
		    const __u32 *lens, size_t n, __u32 *verdicts, uint64_t *hashes)
{
	static __u8 buf[65536];
	struct __sk_buff skb;
	for (size_t i = 0; i < n; i++) {
		size_t len = lens[i];
		if (len < 14 || len > sizeof(buf))
			continue;
		__u16 ethertype = (__u16)(frames[i][12] << 8 | frames[i][13]);
		size_t skip = l3 ? 14 : 0;
		memcpy(buf, frames[i] + skip, len - skip);
		setup(&skb, buf, len - skip, ethertype);
		verdicts[i] = (__u32)prog(&skb);
		if (hashes)
			hashes[i] = fnv(buf, len - skip);
	}
	return n;
}

size_t cranebpf_native_sockfilter(const __u8 *const *frames, const __u32 *lens, size_t n,
				  __u32 *verdicts, uint64_t *hashes)
{
	return drive(sock_filter, 1, frames, lens, n, verdicts, hashes);
}

size_t cranebpf_native_tc_dnat(const __u8 *const *frames, const __u32 *lens, size_t n,
			       __u32 *verdicts, uint64_t *hashes)
{
	return drive(tc_dnat, 0, frames, lens, n, verdicts, hashes);
}
