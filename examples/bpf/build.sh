#!/bin/sh
# Rebuilds the example eBPF objects from their C sources.
# Needs clang 19 (Debian: apt-get install -y clang-19). The objects are
# committed; CI rebuilds them and checks they are unchanged.
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
for src in firewall.c lb.c hist.c legacy.c vlan.c custom.c dispatch.c tailcalls.c \
	sockfilter.c tc_rewrite.c perf_out.c; do
	"$CLANG" -target bpf -O2 -g -mcpu=v3 -Wall -Werror \
		-fdebug-prefix-map="$PWD"=. -c "$src" -o "${src%.c}.o"
done
# The uprobe tracer, once per host architecture (struct pt_regs differs).
for arch in x86 arm64 riscv; do
	"$CLANG" -target bpf -O2 -g -mcpu=v3 -Wall -Werror -D__TARGET_ARCH_$arch \
		-fdebug-prefix-map="$PWD"=. -c uprobe_hist.c -o "uprobe_hist_$arch.o"
done
# The firewall unoptimised: clang spills the context pointer to the stack,
# which the context rewriting must follow.
"$CLANG" -target bpf -O0 -g -mcpu=v3 -Wall -Werror \
	-fdebug-prefix-map="$PWD"=. -c firewall.c -o firewall_O0.o
# Hostile-use tests' objects: a program faulting on every packet, and the
# eight-thread shared-map program (outside the verifier's corpus).
for src in hostile/*.c; do
	"$CLANG" -target bpf -O2 -g -mcpu=v3 -Wall -Werror \
		-fdebug-prefix-map="$PWD"=. -c "$src" -o "${src%.c}.o"
done
# Objects the loader must refuse, each with a clear error.
for src in negative/*.c; do
	"$CLANG" -target bpf -O2 -g -mcpu=v3 -Wall -Wno-unused-function \
		-fdebug-prefix-map="$PWD"=. -c "$src" -o "${src%.c}.o"
done
