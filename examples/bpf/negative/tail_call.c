/* Negative example: bpf_tail_call (helper 12) is refused at load. */
#include "../cranebpf_helpers.h"

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} not_progs SEC(".maps");

SEC("xdp")
int calls_tail(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &not_progs, 0);
	return XDP_PASS;
}
