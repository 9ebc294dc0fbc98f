/* A uprobe-style tracer in the manner of bcc's and libbpf-tools' histogram
 * tools: attached at the entry of the host's
 * `handle_request(u64 size, const char *name)`, it builds a log2
 * histogram of `size` (bucket 0 for 0, bucket k for [2^(k-1), 2^k), as
 * bpftrace's hist()), counts requests per name read with
 * bpf_probe_read_user_str, counts names it could not read, and sends an
 * event for every request of 4 KiB or more to the `big` ring buffer.
 */
#include "cranebpf_helpers.h"
#include "tracing.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} sizes SEC(".maps");

struct name_key {
	char name[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct name_key);
	__type(value, __u64);
} by_name SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} big SEC(".maps");

struct big_event {
	__u64 size;
	__u32 pid;
	__u32 pad;
	char name[16];
};

__u64 unreadable_names;

static __always_inline __u32 bucket(__u64 v)
{
	__u32 k = 0;
	/* floor(log2(v)) + 1 for v > 0 */
	for (int i = 0; i < 64 && v; i++) {
		v >>= 1;
		k++;
	}
	return k;
}

SEC("uprobe//proc/self/exe:handle_request")
int trace_request(struct pt_regs *ctx)
{
	__u64 size = PT_REGS_PARM1(ctx);
	const char *name = (const char *)PT_REGS_PARM2(ctx);
	__u32 k = bucket(size);
	__u64 *c = bpf_map_lookup_elem(&sizes, &k);
	if (c)
		__sync_fetch_and_add(c, 1);

	struct name_key key = {};
	if (bpf_probe_read_user_str(key.name, sizeof(key.name), name) < 0) {
		__sync_fetch_and_add(&unreadable_names, 1);
	} else {
		__u64 one = 1, *n = bpf_map_lookup_elem(&by_name, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&by_name, &key, &one, BPF_NOEXIST);
	}
	if (size >= 4096) {
		struct big_event *e = bpf_ringbuf_reserve(&big, sizeof(*e), 0);
		if (e) {
			e->size = size;
			e->pid = bpf_get_current_pid_tgid() >> 32;
			e->pad = 0;
			__builtin_memcpy(e->name, key.name, sizeof(e->name));
			bpf_ringbuf_submit(e, 0);
		}
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
