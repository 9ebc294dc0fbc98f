/* Shared by every workload. Each workload is one entry function
 * `u64 NAME(u8 *p, u64 len)`: the conformance convention (r1 = input pointer,
 * r2 = input length, r0 = result). Compiled twice from the same source: with
 * clang -target bpf into raw .text bytecode (build.sh) and natively by the
 * `cc` crate (benches/build.rs). No globals or .rodata: the raw bytecode is
 * self-contained and position-independent. Helpers are declared with HELPER;
 * the one workload with a map (hashmap.c) is built as an ELF object. */
#ifndef CRANEBPF_BENCH_COMMON_H
#define CRANEBPF_BENCH_COMMON_H
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
#define ENTRY __attribute__((noinline))
/* A helper: in eBPF a call of helper `id`; natively an external function of
 * the same name (defined in Rust, benches/src/native_helpers.rs). */
#ifdef __bpf__
#define HELPER(id, ret, name, ...) static ret (*name)(__VA_ARGS__) = (void *)id;
#else
#define HELPER(id, ret, name, ...) ret name(__VA_ARGS__);
#endif
#endif
