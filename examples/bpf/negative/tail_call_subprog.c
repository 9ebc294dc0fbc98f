/* Negative example: bpf_tail_call from a subprogram (call depth > 0) is
 * refused at load; only the entry function may tail-call. */
#include "../cranebpf_helpers.h"

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

struct {
	__uint(type, 3 /* BPF_MAP_TYPE_PROG_ARRAY */);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jump_table SEC(".maps");

static __noinline int jump(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump_table, 0);
	return XDP_PASS;
}

SEC("xdp")
int tail_from_subprog(struct xdp_md *ctx)
{
	return jump(ctx);
}
