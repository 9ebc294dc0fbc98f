/* bpf_perf_event_output to a BPF_MAP_TYPE_PERF_EVENT_ARRAY, for the
 * comparison with the kernel: each packet makes four calls and stores
 * their return codes in `results`, then passes.
 *
 *   results[0]: slot BPF_F_CURRENT_CPU (no reader has opened it: -ENOENT)
 *   results[1]: slot 1000, past the 4 slots (-E2BIG)
 *   results[2]: a flag bit beyond the index and the context length (-EINVAL)
 *   results[3]: slot 0 by index (-ENOENT unless the host opened it)
 *
 * The record is the packet's first 8 bytes and its length.
 */
#include "cranebpf_helpers.h"

#define BPF_MAP_TYPE_PERF_EVENT_ARRAY 4
#define BPF_F_CURRENT_CPU 0xffffffffULL

static long (*bpf_perf_event_output)(void *ctx, void *map, __u64 flags, void *data,
				     __u64 size) = (void *)25;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
	__uint(max_entries, 4);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} results SEC(".maps");

struct record {
	__u64 head;
	__u64 len;
};

static __always_inline void emit(struct xdp_md *ctx, struct record *r, __u32 i, __u64 flags)
{
	__u64 ret = bpf_perf_event_output(ctx, &events, flags, r, sizeof(*r));

	bpf_map_update_elem(&results, &i, &ret, BPF_ANY);
}

SEC("xdp")
int xdp_perf(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct record r = { 0, (__u64)(data_end - data) };

	if (data + 8 <= data_end)
		r.head = *(__u64 *)data;
	emit(ctx, &r, 0, BPF_F_CURRENT_CPU);
	emit(ctx, &r, 1, 1000);
	emit(ctx, &r, 2, 1ULL << 60);
	emit(ctx, &r, 3, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
