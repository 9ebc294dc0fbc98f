//! Compiles the C workloads natively (same source as the committed eBPF
//! bytecode) so every benchmark has the native figure beside it.

fn main() {
    let names = [
        "log2", "primes", "memcpy", "strcmp", "switch", "crc32", "packet", "helpers", "calls",
        "hashmap",
    ];
    let mut build = cc::Build::new();
    build
        .opt_level(2)
        .flag_if_supported("-fno-builtin")
        .warnings(false);
    for n in names {
        let path = format!("workloads/{n}.c");
        println!("cargo:rerun-if-changed={path}");
        build.file(path);
    }
    println!("cargo:rerun-if-changed=workloads/common.h");
    build.compile("cranebpf_bench_native");
}
