/* Tail-call edge cases, for the tests (program type cranebpf/mem: r1 points
 * to the buffer, r2 holds its length). The buffer is two u32 words:
 * `buf[0]` names the slot to tail-call, `buf[1]` counts the programs the
 * chain entered. The test fills the program array `progs`.
 *
 * `again`: counts itself in `buf[1]`, then tail-calls slot `buf[0]`; if the
 * tail call fails it returns bpf_tail_call's result.
 * `crash`: counts itself, then loads from 4096 bytes past the buffer: an
 * out-of-bounds fault inside a tail-call target.
 */
#include "cranebpf_helpers.h"

#define BPF_MAP_TYPE_PROG_ARRAY 3

static long (*bpf_tail_call)(void *ctx, void *prog_array_map, __u32 index) = (void *)12;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

SEC("cranebpf/mem")
int again(__u32 *buf, __u64 len)
{
	buf[1]++;
	return bpf_tail_call(buf, &progs, buf[0]);
}

SEC("cranebpf/mem")
int crash(__u32 *buf, __u64 len)
{
	buf[1]++;
	return *(volatile __u32 *)((char *)buf + 4096);
}

char _license[] SEC("license") = "GPL";
