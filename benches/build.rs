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
    native_hooks();
}

/// The example socket filter and tc program, compiled natively from their
/// own source with `native/skb_shim.h` in place of the eBPF header, and the
/// per-packet drivers (`native/skb_native.c`): the native rows of the
/// `hooks` example.
fn native_hooks() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let shim = format!("{dir}/native/skb_shim.h");
    let sources = [
        "../examples/bpf/sockfilter.c",
        "../examples/bpf/tc_rewrite.c",
        "native/skb_native.c",
    ];
    for src in sources {
        println!("cargo:rerun-if-changed={src}");
    }
    println!("cargo:rerun-if-changed=native/skb_shim.h");
    println!("cargo:rerun-if-changed=../examples/bpf/net_types.h");
    cc::Build::new()
        .opt_level(2)
        .warnings(false)
        .flag("-include")
        .flag(&shim)
        .flag("-fno-strict-aliasing")
        .files(sources)
        .compile("cranebpf_native_hooks");
}
