//! The uprobe-style tracer example (`examples/bpf/uprobe_hist.c`, the
//! object for this architecture) fired in process on every engine: the
//! size histogram, the per-name counts, the names it may not read (probe
//! reads outside the allowed memory fail with -EFAULT) and the ring buffer
//! records, against values computed here.

use cranebpf::trace::Tracer;
use cranebpf::EngineKind;
use cranebpf_runtime::elf::Object;
use cranebpf_runtime::kernel::ProbeMemory;
use std::collections::BTreeMap;
use std::ffi::CString;

fn object() -> Object {
    let arch = if cfg!(target_arch = "x86_64") {
        "x86"
    } else if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "riscv"
    };
    let path = format!(
        "{}/../examples/bpf/uprobe_hist_{arch}.o",
        env!("CARGO_MANIFEST_DIR")
    );
    Object::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn bucket(v: u64) -> usize {
    64 - v.leading_zeros() as usize
}

#[test]
fn uprobe_hist_every_engine_matches_expectations() {
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let obj = object();
        let tracer = Tracer::new(obj.load("trace_request").unwrap(), engine)
            .unwrap()
            .with_pid_tgid(4242 << 32 | 4243);
        let names: Vec<CString> = ["a", "bb", "a-much-longer-name-than-16"]
            .iter()
            .map(|s| CString::new(*s).unwrap())
            .collect();
        let mut hist = [0u64; 64];
        let mut by_name: BTreeMap<Vec<u8>, u64> = BTreeMap::new();
        let (mut unreadable, mut big) = (0, Vec::new());
        for i in 0..300u64 {
            let size = (i * 7919) % 9000 + if i % 10 == 0 { 0 } else { 1 } * i;
            let name = &names[(i % 3) as usize];
            let bytes = name.as_bytes_with_nul();
            let readable = i % 7 != 0;
            let probe = if readable {
                ProbeMemory::new().allow(bytes)
            } else {
                ProbeMemory::new()
            };
            let out = tracer.fire_args(&[size, bytes.as_ptr() as u64], &probe);
            assert_eq!(out.result, Ok(0), "{engine:?}, request {i}");
            hist[bucket(size)] += 1;
            // The key: at most 15 bytes of the name, NUL-padded to 16.
            let mut key = [0u8; 16];
            let n = name.as_bytes().len().min(15);
            key[..n].copy_from_slice(&name.as_bytes()[..n]);
            if readable {
                *by_name.entry(key.to_vec()).or_default() += 1;
            } else {
                unreadable += 1;
                key = [0; 16];
            }
            if size >= 4096 {
                big.push((size, key));
            }
            tracer
                .drain_ringbuf("big", |rec| {
                    let s = u64::from_le_bytes(rec[..8].try_into().unwrap());
                    let pid = u32::from_le_bytes(rec[8..12].try_into().unwrap());
                    assert_eq!(
                        pid, 4242,
                        "{engine:?}: the tgid half of bpf_get_current_pid_tgid"
                    );
                    let k: [u8; 16] = rec[16..32].try_into().unwrap();
                    let want = big.remove(0);
                    assert_eq!((s, k), want, "{engine:?}, request {i}");
                })
                .unwrap();
        }
        assert!(big.is_empty());
        let sizes = tracer.map("sizes").unwrap();
        for (k, want) in hist.iter().enumerate() {
            let v = sizes.lookup(&(k as u32).to_le_bytes()).unwrap();
            assert_eq!(
                u64::from_le_bytes(v[..8].try_into().unwrap()),
                *want,
                "{engine:?}, bucket {k}"
            );
        }
        let got: BTreeMap<Vec<u8>, u64> = tracer
            .map("by_name")
            .unwrap()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, u64::from_le_bytes(v[..8].try_into().unwrap())))
            .collect();
        assert_eq!(got, by_name, "{engine:?}");
        let bss = tracer
            .map(".bss")
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap();
        assert_eq!(
            u64::from_le_bytes(bss[..8].try_into().unwrap()),
            unreadable,
            "{engine:?}"
        );
    }
}
