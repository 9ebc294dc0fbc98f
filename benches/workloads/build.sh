#!/bin/sh
# Regenerates the committed bytecode: every workload for -mcpu=v2, v3 and v4.
# Raw workloads: the .text section (little-endian eBPF slots, entry at slot
# 0), checked to need no relocation. ELF workloads (those with maps): the
# object itself, loaded by cranebpf's ELF loader.
# Needs clang-19, llvm-objcopy-19 and llvm-readelf-19 (Debian: apt install
# clang-19 llvm-19). Deterministic: check.sh rebuilds and compares (CI).
set -eu
cd "$(dirname "$0")"
CLANG=${CLANG:-clang-19}
OBJCOPY=${OBJCOPY:-llvm-objcopy-19}
READELF=${READELF:-llvm-readelf-19}
RAW="log2 primes memcpy strcmp switch crc32 packet helpers calls"
ELF="hashmap"
mkdir -p bin
for cpu in v2 v3 v4; do
  for src in $RAW; do
    obj=$(mktemp)
    "$CLANG" -target bpf -mcpu=$cpu -O2 -fno-builtin -c "$src.c" -o "$obj"
    # Self-contained: no relocations, no data sections.
    if "$READELF" -r "$obj" | grep -q "Relocation section"; then
      echo "$src ($cpu): has relocations" >&2; rm -f "$obj"; exit 1
    fi
    "$OBJCOPY" -O binary --only-section=.text "$obj" "bin/$src-$cpu.bin"
    rm -f "$obj"
  done
  for src in $ELF; do
    "$CLANG" -target bpf -mcpu=$cpu -O2 -fno-builtin -c "$src.c" -o "bin/$src-$cpu.o"
  done
done
