/* A hash map of 4.8M entries of a 4-byte key and an 8-byte value: 57 MB
 * by key and value bytes, 1.44 GB as the entries really cost. The loader
 * must count what an entry costs and refuse it by name (issue 17). */
#include "../cranebpf_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4800000);
} big SEC(".maps");

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&big, &k);
	return v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
