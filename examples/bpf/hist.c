/* A non-packet program run over a memory buffer (cranebpf's `mem` program
 * type: r1 = buffer, r2 = length).
 *
 * The buffer holds little-endian u32 samples. The program builds a log2
 * histogram in `hist` (slot i counts samples v with floor(log2(v)) == i;
 * v == 0 goes to slot 0), keeps count/sum/max in global variables, emits
 * one summary record to the `events` ring buffer, prints a line with
 * bpf_trace_printk, and returns the number of samples.
 */
#include "cranebpf_helpers.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct summary {
	__u64 count;
	__u64 sum;
	__u32 max;
	__u32 runs;
};

__u64 total_count;
__u64 total_sum;
__u32 max_seen;
__u32 runs = 0;

static __noinline __u32 log2_u32(__u32 v)
{
	__u32 r = 0;
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) { r += 1; }
	return r;
}

SEC("cranebpf/mem")
int hist_u32(__u8 *buf, __u64 len)
{
	__u64 n = len / 4, sum = 0;
	__u32 max = 0;
	struct summary *s;

	for (__u64 i = 0; i < n; i++) {
		__u32 v = *(__u32 *)(buf + 4 * i);
		__u32 slot = log2_u32(v);
		__u64 *c = bpf_map_lookup_elem(&hist, &slot);
		if (c)
			__sync_fetch_and_add(c, 1);
		sum += v;
		if (v > max)
			max = v;
	}
	total_count += n;
	total_sum += sum;
	if (max > max_seen)
		max_seen = max;
	runs++;

	s = bpf_ringbuf_reserve(&events, sizeof(*s), 0);
	if (s) {
		s->count = n;
		s->sum = sum;
		s->max = max;
		s->runs = runs;
		bpf_ringbuf_submit(s, 0);
	}
	bpf_printk("hist: %u samples, max %u", (__u32)n, max);
	return n;
}

char _license[] SEC("license") = "GPL";
