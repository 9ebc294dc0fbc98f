#!/bin/sh
# Regenerates the committed bytecode: every workload for -mcpu=v2, v3 and v4,
# raw .text section (little-endian eBPF slots, entry at slot 0).
# Needs clang-19 and llvm-objcopy-19 (Debian: apt install clang-19 llvm-19).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
mkdir -p bin
for src in log2 primes memcpy strcmp switch crc32 packet; do
  for cpu in v2 v3 v4; do
    obj=$(mktemp)
    "$CLANG" -target bpf -mcpu=$cpu -O2 -fno-builtin -c "$src.c" -o "$obj"
    # Self-contained: no relocations, no data sections.
    if llvm-readelf-19 -r "$obj" | grep -q "Relocation section"; then
      echo "$src ($cpu): has relocations" >&2; exit 1
    fi
    "$OBJCOPY" -O binary --only-section=.text "$obj" "bin/$src-$cpu.bin"
    rm -f "$obj"
  done
done
