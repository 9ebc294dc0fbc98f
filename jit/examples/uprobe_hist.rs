//! A host program with a uprobe-style tracer, in process: every call of
//! `handle_request` fires the clang-built `examples/bpf/uprobe_hist_*.o`
//! (the object for this architecture) with the call's arguments in a
//! `struct pt_regs`, as a uprobe at its entry would. The program reads the
//! request's name with `bpf_probe_read_user_str` (allowed only for the name
//! buffer), builds a log2 histogram of sizes, counts names, and sends big
//! requests to a ring buffer, which the host drains into a callback. At
//! the end the host prints the histogram as bpftrace would.
//!
//! ```sh
//! cargo run -p cranebpf --example uprobe_hist
//! ```

use cranebpf::trace::{log2_histogram, Tracer};
use cranebpf::EngineKind;
use cranebpf_runtime::elf::Object;
use cranebpf_runtime::kernel::ProbeMemory;
use std::ffi::CString;

/// The object built for this host's `struct pt_regs`.
fn object_path() -> String {
    let arch = if cfg!(target_arch = "x86_64") {
        "x86"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "riscv"
    };
    format!(
        "{}/../examples/bpf/uprobe_hist_{arch}.o",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The traced function: the probe fires at its entry.
fn handle_request(tracer: &Tracer, size: u64, name: &CString, readable: bool) -> u64 {
    let bytes = name.as_bytes_with_nul();
    let probe = if readable {
        ProbeMemory::new().allow(bytes)
    } else {
        ProbeMemory::new()
    };
    if let Err(f) = tracer
        .fire_args(&[size, bytes.as_ptr() as u64], &probe)
        .result
    {
        eprintln!("probe fault: {f}");
    }
    // The request's real work.
    size.wrapping_mul(2654435761) >> 7
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let obj = Object::parse(&std::fs::read(object_path())?)?;
    let tracer = Tracer::new(obj.load("trace_request")?, EngineKind::Jit)?;
    let names: Vec<CString> = ["GET /", "GET /index", "POST /upload", "GET /api"]
        .iter()
        .map(|s| CString::new(*s))
        .collect::<Result<_, _>>()?;
    let mut seed = 0x2545_f491u64;
    let mut work = 0u64;
    let mut big = 0;
    // The host's consumer: polls the ring buffer as a libbpf ring_buffer__poll loop would.
    let mut on_big = |rec: &[u8]| {
        let size = u64::from_le_bytes(rec[..8].try_into().unwrap_or_default());
        if big < 3 {
            let name = String::from_utf8_lossy(&rec[16..])
                .trim_end_matches('\0')
                .to_string();
            println!("big request: {size} bytes, {name}");
        }
        big += 1;
    };
    for i in 0..2000u64 {
        if i % 64 == 0 {
            tracer.drain_ringbuf("big", &mut on_big)?;
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let size = (seed % 64) << (seed >> 60);
        // Every 50th request's name is not in memory the tracer may read.
        work ^= handle_request(&tracer, size, &names[(seed % 4) as usize], i % 50 != 0);
    }
    tracer.drain_ringbuf("big", &mut on_big)?;
    println!("{big} big requests in the ring buffer\n");
    let sizes = tracer.map("sizes").ok_or("no sizes map")?;
    let buckets: Vec<u64> = (0..64u32)
        .map(|k| {
            sizes.lookup(&k.to_le_bytes()).map_or(0, |v| {
                u64::from_le_bytes(v[..8].try_into().unwrap_or_default())
            })
        })
        .collect();
    print!("{}", log2_histogram("@size", &buckets));
    println!("\n@requests[name]:");
    let by_name = tracer.map("by_name").ok_or("no by_name map")?;
    for (k, v) in by_name.entries() {
        let name = String::from_utf8_lossy(&k)
            .trim_end_matches('\0')
            .to_string();
        println!(
            "@requests[{name}]: {}",
            u64::from_le_bytes(v[..8].try_into()?)
        );
    }
    let bss = tracer
        .map(".bss")
        .ok_or("no .bss")?
        .lookup(&0u32.to_le_bytes())
        .unwrap_or_default();
    println!(
        "\nunreadable names: {}",
        u64::from_le_bytes(bss[..8].try_into()?)
    );
    eprintln!("(work checksum {work:#x})");
    Ok(())
}
