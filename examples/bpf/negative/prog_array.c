/* Negative example: a program array (tail calls) is not implemented; the
 * loader must name the map type. */
#include "../cranebpf_helpers.h"

struct {
	__uint(type, 3 /* BPF_MAP_TYPE_PROG_ARRAY */);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

SEC("xdp")
int uses_prog_array(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&jump_table, &k) ? XDP_PASS : XDP_DROP;
}
