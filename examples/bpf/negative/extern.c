/* Negative example: extern (kconfig) variables are resolved by libbpf from
 * the running kernel; cranebpf refuses them by name. */
#include "../cranebpf_helpers.h"

extern unsigned int LINUX_KERNEL_VERSION __attribute__((section(".kconfig")));

SEC("cranebpf/mem")
int reads_kconfig(__u8 *buf, __u64 len)
{
	return LINUX_KERNEL_VERSION;
}
