/* Negative example: a BTF `values` initialiser on a map that is not a
 * program array (map-in-map) is refused and named. */
#include "../cranebpf_helpers.h"

#define __array(name, val) typeof(val) *name[]

struct inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} inner_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY); /* values initialiser on a plain array */
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps") = {
	.values = { [0] = &inner_map },
};

SEC("xdp")
int uses_outer(struct xdp_md *ctx)
{
	__u32 k = 0;
	return bpf_map_lookup_elem(&outer, &k) ? XDP_PASS : XDP_DROP;
}
