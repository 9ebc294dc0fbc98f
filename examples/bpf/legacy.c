/* Legacy `struct bpf_map_def` maps in the `maps` section (libbpf 1.0 dropped
 * them; cranebpf still loads them), run over a memory buffer: counts each
 * byte value of the buffer in `byte_counts` and the runs in `runs`. */
#include "cranebpf_helpers.h"

struct bpf_map_def SEC("maps") byte_counts = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 256,
};

struct bpf_map_def SEC("maps") runs = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 1,
};

SEC("cranebpf/mem")
int count_bytes(__u8 *buf, __u64 len)
{
	__u32 zero = 0;
	__u64 one = 1, *r;

	for (__u64 i = 0; i < len; i++) {
		__u32 k = buf[i];
		__u64 *c = bpf_map_lookup_elem(&byte_counts, &k);
		if (c)
			*c += 1;
	}
	r = bpf_map_lookup_elem(&runs, &zero);
	if (r)
		*r += 1;
	else
		bpf_map_update_elem(&runs, &zero, &one, BPF_NOEXIST);
	return len;
}

char _license[] SEC("license") = "GPL";
