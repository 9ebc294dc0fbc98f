/* Shared by every workload. Each workload is one entry function
 * `u64 NAME(u8 *p, u64 len)`: the conformance convention (r1 = input pointer,
 * r2 = input length, r0 = result). Compiled twice from the same source: with
 * clang -target bpf into raw .text bytecode (build.sh) and natively by the
 * `cc` crate (benches/build.rs). No helpers, maps, globals or .rodata: the
 * bytecode is self-contained and position-independent. */
#ifndef CRANEBPF_BENCH_COMMON_H
#define CRANEBPF_BENCH_COMMON_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
#define ENTRY __attribute__((noinline))
#endif
