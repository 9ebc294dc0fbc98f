/* Negative example: CO-RE field relocations are not applied, so the loader
 * refuses them instead of running with clang's guessed offsets. */
#include "../cranebpf_helpers.h"

struct task { int pid; int tgid; } __attribute__((preserve_access_index));

SEC("cranebpf/mem")
int reads_core(struct task *t)
{
	return t->tgid;
}
