/* An embedder-defined program type (see runtime/tests/elf): the context is
 * `struct sample_ctx`, whose 32-bit `data`/`data_end` fields the loader
 * rewrites to 64-bit loads from the embedder's shadow layout, and helper
 * 0x10000 (`get_bonus`) is the embedder's own.
 *
 * Returns scale * (sum of the bytes in [data, data_end)) + get_bonus(). */
#include "cranebpf_helpers.h"

struct sample_ctx {
	__u32 data;
	__u32 data_end;
	__u32 scale;
};

static __u64 (*get_bonus)(void) = (void *)0x10000;

SEC("sample")
int weighted_sum(struct sample_ctx *ctx)
{
	__u8 *p = (__u8 *)(long)ctx->data;
	__u8 *end = (__u8 *)(long)ctx->data_end;
	__u64 sum = 0;

	for (; p < end; p++)
		sum += *p;
	return sum * ctx->scale + get_bonus();
}

char _license[] SEC("license") = "GPL";
