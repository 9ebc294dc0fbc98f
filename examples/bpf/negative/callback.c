/* Negative example: taking a function's address (a bpf_loop callback) needs
 * code-address relocations, which are refused. */
#include "../cranebpf_helpers.h"

static long (*bpf_loop)(__u32 nr_loops, void *callback_fn, void *callback_ctx, __u64 flags) = (void *)181;

static int step(__u32 index, void *ctx)
{
	*(__u64 *)ctx += index;
	return 0;
}

SEC("cranebpf/mem")
int loops(__u8 *buf, __u64 len)
{
	__u64 sum = 0;
	bpf_loop(8, step, &sum, 0);
	return sum;
}
