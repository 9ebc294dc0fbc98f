/* Sixteen program arrays of 64M slots each in a 3 KB object: each is
 * within the per-map limit, together they are 4 GiB. The loader must
 * refuse the map that goes past the object's map budget, by name, before
 * allocating it (issue 17). */
#include "../cranebpf_helpers.h"

#define BPF_MAP_TYPE_PROG_ARRAY 3
#define ARR(n)                                           \
	struct {                                         \
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY);   \
		__uint(key_size, sizeof(__u32));         \
		__uint(value_size, sizeof(__u32));       \
		__uint(max_entries, 1 << 26);            \
	} arr##n SEC(".maps");

ARR(0) ARR(1) ARR(2) ARR(3) ARR(4) ARR(5) ARR(6) ARR(7)
ARR(8) ARR(9) ARR(10) ARR(11) ARR(12) ARR(13) ARR(14) ARR(15)

SEC("xdp")
int entry(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
