/* An XDP program that reads past the packet without checking data_end (the
 * kernel's verifier would refuse it; cranebpf runs it and faults). Every
 * packet faults the same way on every engine: `cranebpf run --engine both`
 * must report agreement, not the packets' host addresses. */
#include "../cranebpf_helpers.h"

SEC("xdp")
int unchecked(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;

	/* 1 GiB past the packet: outside every region. (At data + 4000 the
	 * interpreter once read another region of its own run, where the JIT
	 * faulted: the layout-dependent any-region rule of issue 17.) */
	return *(volatile __u32 *)(data + (1 << 30)) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
