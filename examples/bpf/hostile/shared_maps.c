/* Eight threads run this one program at once over shared maps (the
 * concurrency test in jit/tests/concurrent_maps.rs and benches/benches/concurrent.rs). The
 * input is { u32 thread; u32 seq; }. Each run:
 * - adds 1 atomically to totals[0] (array) and percpu[0] (per-CPU array);
 * - writes pairs[key] (hash) as { x, x } under one update, or deletes it,
 *   then looks it up: a value must never be torn (a != b) -> totals[1];
 * - updates recent[seq % 64] (LRU hash of 8 entries: constant eviction);
 * - outputs one ring buffer record { thread, seq }; a full ring counts in
 *   totals[2], so records output + full = runs.
 * The host checks the totals are exact and every record arrives once. */
#include "../cranebpf_helpers.h"

struct pair {
	__u64 a;
	__u64 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 4);
} totals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1);
} percpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct pair);
	__uint(max_entries, 16);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, __u32);
	__type(value, struct pair);
	__uint(max_entries, 8);
} recent SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} events SEC(".maps");

static __always_inline void bump(__u32 index)
{
	__u64 *t = bpf_map_lookup_elem(&totals, &index);

	if (t)
		__sync_fetch_and_add(t, 1);
}

SEC("cranebpf/mem")
int hammer(__u8 *buf, __u64 len)
{
	__u32 zero = 0;

	if (len < 8)
		return 1;
	__u32 thread = *(__u32 *)buf;
	__u32 seq = *(__u32 *)(buf + 4);

	bump(0);
	__u64 *p = bpf_map_lookup_elem(&percpu, &zero);
	if (p)
		__sync_fetch_and_add(p, 1);

	__u32 key = (seq + thread) % 16;
	struct pair v = { (__u64)seq << 8 | thread, (__u64)seq << 8 | thread };
	if (seq % 4 == 3)
		bpf_map_delete_elem(&pairs, &key);
	else
		bpf_map_update_elem(&pairs, &key, &v, BPF_ANY);
	struct pair *got = bpf_map_lookup_elem(&pairs, &key);
	if (got) {
		struct pair copy = *got;
		if (copy.a != copy.b)
			bump(1);
	}

	__u32 slot = seq % 64;
	bpf_map_update_elem(&recent, &slot, &v, BPF_ANY);

	__u64 rec[2] = { thread, seq };
	if (bpf_ringbuf_output(&events, rec, sizeof(rec), 0) != 0)
		bump(2);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
