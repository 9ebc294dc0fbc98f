/* Native build of the example socket filter and tc programs
 * (examples/bpf/sockfilter.c, examples/bpf/tc_rewrite.c): the same source,
 * compiled by the host C compiler with this header forced in front
 * (`-include skb_shim.h`). It takes the place of cranebpf_helpers.h (whose
 * include guard it defines), giving the program a native `struct
 * __sk_buff` whose data pointers are real pointers, the helpers as plain C
 * functions with the kernel's semantics for the cases the examples use,
 * and array maps backed by memory. skb_native.c drives it per packet, as
 * the kernel's hook would; BENCHMARKS.md puts it beside cranebpf's engines.
 */
#ifndef CRANEBPF_SKB_SHIM_H
#define CRANEBPF_SKB_SHIM_H
#define CRANEBPF_HELPERS_H /* the eBPF header is not used natively */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../examples/bpf/net_types.h"

/* Weak, so that both examples' LICENSE strings link into one library. */
#define SEC(name) __attribute__((weak))
#define __uint(name, val) int (*name)[val]
#define __type(name, val) typeof(val) *name
#define __always_inline inline __attribute__((always_inline))
#define __noinline __attribute__((noinline))

enum { BPF_MAP_TYPE_HASH = 1, BPF_MAP_TYPE_ARRAY = 2 };
enum { TC_ACT_UNSPEC = -1, TC_ACT_OK = 0, TC_ACT_SHOT = 2, TC_ACT_REDIRECT = 7 };
enum { BPF_F_RECOMPUTE_CSUM = 1, BPF_F_PSEUDO_HDR = 1 << 4, BPF_F_MARK_MANGLED_0 = 1 << 5 };

/* The fields the examples use, in the kernel's order; data and data_end
 * hold real pointers here. */
struct __sk_buff {
	__u32 len;
	__u32 pkt_type;
	__u32 mark;
	__u32 queue_mapping;
	__u32 protocol;
	__u32 vlan_present;
	__u32 vlan_tci;
	__u32 vlan_proto;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 ifindex;
	__u32 tc_index;
	__u32 cb[5];
	__u32 hash;
	__u32 tc_classid;
	unsigned long data;
	unsigned long data_end;
	__u32 redirect_ifindex;
};

/* ethhdr, iphdr, ports and the byte-order macros: net_types.h, as for
 * the eBPF build. */

/* Array maps: the map struct's `value` pointer is the storage, allocated
 * zeroed on first use; the key is a __u32 index. */
static inline void *native_array_lookup(void **slot, size_t value_size, size_t n, const void *key)
{
	if (!*slot)
		*slot = calloc(n, value_size);
	__u32 k;
	memcpy(&k, key, sizeof(k));
	return *slot && k < n ? (char *)*slot + (size_t)k * value_size : NULL;
}
#define bpf_map_lookup_elem(map, key)                                                   \
	native_array_lookup((void **)&(map)->value, sizeof(*(map)->value),              \
			    sizeof(*(map)->max_entries) / sizeof(int), (key))

/* LD_ABS/LD_IND: big-endian loads from the packet (a socket filter's
 * starts at the network header); out of range ends the kernel's program
 * with 0, which these packets never reach. */
static inline unsigned long long load_byte(void *ctx, unsigned long long off)
{
	struct __sk_buff *skb = ctx;
	const __u8 *p = (const __u8 *)skb->data;
	return off < skb->len ? p[off] : 0;
}
static inline unsigned long long load_half(void *ctx, unsigned long long off)
{
	struct __sk_buff *skb = ctx;
	const __u8 *p = (const __u8 *)skb->data;
	return off + 2 <= skb->len ? (unsigned)(p[off] << 8 | p[off + 1]) : 0;
}

static inline long bpf_skb_load_bytes(const struct __sk_buff *skb, __u32 off, void *to, __u32 len)
{
	if ((__u64)off + len > skb->len)
		return -14; /* -EFAULT */
	memcpy(to, (const __u8 *)skb->data + off, len);
	return 0;
}

static inline long bpf_skb_store_bytes(struct __sk_buff *skb, __u32 off, const void *from, __u32 len,
				       __u64 flags)
{
	(void)flags;
	if ((__u64)off + len > skb->len)
		return -14;
	memcpy((__u8 *)skb->data + off, from, len);
	return 0;
}

/* One's-complement arithmetic (RFC 1071, RFC 1624). */
static inline __u32 native_csum_add(__u32 a, __u32 b)
{
	__u32 s = a + b;
	return s + (s < a);
}
static inline __u16 native_csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static inline long long bpf_csum_diff(__be32 *from, __u32 from_size, __be32 *to, __u32 to_size, __u32 seed)
{
	__u32 s = seed;
	for (__u32 i = 0; i < from_size / 4; i++)
		s = native_csum_add(s, ~from[i]);
	for (__u32 i = 0; i < to_size / 4; i++)
		s = native_csum_add(s, to[i]);
	return s;
}

/* *sum (a folded checksum in the packet) after `from` became `to`. */
static inline __u16 native_replace(__u16 sum, __u32 from, __u32 to)
{
	__u32 s = native_csum_add(native_csum_add((__u16)~sum, ~from), to);
	return native_csum_fold(s);
}

static inline long bpf_l3_csum_replace(struct __sk_buff *skb, __u32 off, __u64 from, __u64 to, __u64 flags)
{
	__u16 *sum;
	if ((__u64)off + 2 > skb->len)
		return -14;
	sum = (__u16 *)((__u8 *)skb->data + off);
	switch (flags & 0xf) {
	case 0: /* `to` is a diff from bpf_csum_diff */
		*sum = native_csum_fold(native_csum_add((__u16)~*sum, (__u32)to));
		return 0;
	case 2:
		*sum = native_replace(*sum, (__u16)from, (__u16)to);
		return 0;
	case 4:
		*sum = native_replace(*sum, (__u32)from, (__u32)to);
		return 0;
	}
	return -22;
}

static inline long bpf_l4_csum_replace(struct __sk_buff *skb, __u32 off, __u64 from, __u64 to, __u64 flags)
{
	__u16 *sum;
	if ((__u64)off + 2 > skb->len)
		return -14;
	sum = (__u16 *)((__u8 *)skb->data + off);
	if ((flags & BPF_F_MARK_MANGLED_0) && *sum == 0)
		return 0;
	if ((flags & 0xf) == 4)
		*sum = native_replace(*sum, (__u32)from, (__u32)to);
	else if ((flags & 0xf) == 2)
		*sum = native_replace(*sum, (__u16)from, (__u16)to);
	else if ((flags & 0xf) == 0)
		*sum = native_csum_fold(native_csum_add((__u16)~*sum, (__u32)to));
	else
		return -22;
	if ((flags & BPF_F_MARK_MANGLED_0) && *sum == 0)
		*sum = 0xffff;
	return 0;
}

/* The skb of the run in progress (set by the driver, skb_native.c). */
extern struct __sk_buff *native_current_skb;
static inline long bpf_redirect(__u32 ifindex, __u64 flags)
{
	if (flags & ~1ull)
		return TC_ACT_SHOT;
	native_current_skb->redirect_ifindex = ifindex;
	return TC_ACT_REDIRECT;
}

/* The examples' other programs (tc_vlan) use these; not benchmarked. */
static inline long bpf_skb_vlan_push(struct __sk_buff *skb, __be16 proto, __u16 tci)
{
	(void)skb; (void)proto; (void)tci;
	return -95;
}
static inline long bpf_skb_change_tail(struct __sk_buff *skb, __u32 len, __u64 flags)
{
	(void)skb; (void)len; (void)flags;
	return -95;
}

#endif
