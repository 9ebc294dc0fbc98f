//! ELF loading, maps, kernel helpers and XDP, end to end: the example
//! objects in `examples/bpf` (built by clang from the C sources beside them)
//! run under the interpreter over the packets of `examples/pcap/mixed.pcap`
//! and are checked against independent Rust models of the same programs.

mod kernel;
mod malformed;
mod skb;
mod tail;

use cranebpf_testkit::{models, packets};

use cranebpf_runtime::elf::{LoadOptions, LoadedProgram, Object};
use cranebpf_runtime::kernel::KernelOptions;
use cranebpf_runtime::maps::UpdateFlags;
use cranebpf_runtime::{Interpreter, RunOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub fn example_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(rel)
}

pub fn object(name: &str) -> Object {
    let bytes = std::fs::read(example_path(&format!("bpf/{name}"))).expect("example object");
    Object::parse(&bytes).expect("example object parses")
}

/// Runs `lp` on one packet under the interpreter; returns r0.
fn xdp_interp(lp: &LoadedProgram, it: &Interpreter, pkt: &mut Vec<u8>) -> u64 {
    let out = lp.run_xdp(pkt, &RunOptions::default(), it);
    out.result.expect("no fault")
}

fn u64s(v: &[u8]) -> Vec<u64> {
    v.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn pcap_is_generated_by_our_code() {
    let path = example_path("pcap/mixed.pcap");
    let want = packets::pcap_bytes();
    if std::env::var_os("CRANEBPF_BLESS").is_some() {
        std::fs::write(&path, &want).unwrap();
    }
    let have = std::fs::read(&path).expect("examples/pcap/mixed.pcap (CRANEBPF_BLESS=1 writes it)");
    assert!(
        have == want,
        "examples/pcap/mixed.pcap is stale: rerun with CRANEBPF_BLESS=1"
    );
    assert_eq!(packets::read_pcap(&have), packets::packets());
}

#[test]
fn firewall_matches_model_under_interpreter() {
    let obj = object("firewall.o");
    let lp = obj.load("xdp").unwrap();
    assert_eq!(lp.name(), "xdp_firewall");
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut model = models::Firewall::new();
    let mut verdicts = [0usize; 5];
    for (i, p) in packets::packets().into_iter().enumerate() {
        let mut pkt = p.clone();
        let got = xdp_interp(&lp, &it, &mut pkt);
        assert_eq!(got, model.run(&p), "packet {i}: {p:02x?}");
        assert_eq!(pkt, p, "the firewall never rewrites packets");
        verdicts[got as usize] += 1;
    }
    // The mix exercises every verdict the firewall can give.
    assert!(
        verdicts[0] > 0 && verdicts[1] > 0 && verdicts[2] > 0,
        "{verdicts:?}"
    );
    let flows: Vec<(Vec<u8>, (u64, u64))> = obj
        .map("flows")
        .unwrap()
        .entries()
        .into_iter()
        .map(|(k, v)| (k, (u64s(&v)[0], u64s(&v)[1])))
        .collect();
    assert_eq!(flows, model.flows.into_iter().collect::<Vec<_>>());
    for (k, v) in obj.map("proto_stats").unwrap().entries() {
        let want = model.proto_stats.get(&k[0]).copied().unwrap_or((0, 0));
        assert_eq!((u64s(&v)[0], u64s(&v)[1]), want, "proto {}", k[0]);
    }
    let bss = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(u64s(&bss), vec![model.total_seen]);
}

#[test]
fn firewall_unoptimised_spills_ctx_and_still_matches_model() {
    // At -O0 clang stores the context pointer to the stack and reloads it
    // before each field access.
    let obj = object("firewall_O0.o");
    let lp = obj.load("xdp_firewall").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut model = models::Firewall::new();
    for (i, p) in packets::packets().into_iter().enumerate() {
        assert_eq!(
            xdp_interp(&lp, &it, &mut p.clone()),
            model.run(&p),
            "packet {i}"
        );
    }
}

#[test]
fn firewall_rodata_set_by_embedder_before_load() {
    // Like a libbpf skeleton setting `rodata->blocked_port` before load.
    let obj = object("firewall.o");
    obj.map(".rodata")
        .unwrap()
        .update(&0u32.to_le_bytes(), &80u16.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    let lp = obj.load("xdp_firewall").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut model = models::Firewall::new();
    model.blocked_port = 80;
    for p in packets::packets() {
        assert_eq!(xdp_interp(&lp, &it, &mut p.clone()), model.run(&p));
    }
}

#[test]
fn lb_matches_model_under_interpreter() {
    let obj = object("lb.o");
    let names: Vec<&str> = obj.programs().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["xdp_lb", "xdp_count"]);
    // The backend table is .rodata, initialised by the C source.
    let table: Vec<u8> = (0..4).flat_map(models::backend_value).collect();
    assert_eq!(
        obj.map(".rodata").unwrap().lookup(&0u32.to_le_bytes()),
        Some(table)
    );
    let lp = obj.load("xdp_lb").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut model = models::Lb::default();
    let mut tx = 0;
    for (i, p) in packets::packets().into_iter().enumerate() {
        let (mut got_pkt, mut want_pkt) = (p.clone(), p.clone());
        let got = xdp_interp(&lp, &it, &mut got_pkt);
        assert_eq!(got, model.run(&mut want_pkt), "packet {i}");
        assert_eq!(got_pkt, want_pkt, "packet {i} rewritten differently");
        tx += usize::from(got == models::TX);
    }
    assert!(tx > 10, "only {tx} packets balanced");
    let hits: Vec<u64> = obj
        .map("backend_hits")
        .unwrap()
        .entries()
        .iter()
        .map(|(_, v)| u64s(v)[0])
        .collect();
    assert_eq!(hits, model.hits);

    // The second program of the object shares its maps.
    let count = obj.load("xdp_count").unwrap();
    let it = Interpreter::new(count.program(), count.helpers().clone()).unwrap();
    let mut bytes = 0;
    for p in packets::packets() {
        bytes += p.len() as u64;
        assert_eq!(xdp_interp(&count, &it, &mut p.clone()), models::PASS);
    }
    let seen = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(u64s(&seen), vec![packets::packets().len() as u64, bytes]);
}

#[test]
fn hist_matches_model_with_ringbuf_and_printk() {
    let obj = object("hist.o");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    let opts = LoadOptions {
        kernel: KernelOptions {
            printk: Some(Arc::new(move |l: &str| {
                sink.lock().unwrap().push(l.to_string())
            })),
            ..KernelOptions::default()
        },
        ..LoadOptions::default()
    };
    let lp = obj.load_with("hist_u32", opts).unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let bufs: Vec<Vec<u32>> = vec![
        vec![0, 1, 2, 3, 4, 1000, 65536, u32::MAX],
        (0..100).map(|i| i * i * 37).collect(),
        vec![],
    ];
    let mut total = [0u64; 32];
    let (mut count, mut sum, mut max) = (0, 0, 0);
    for (run, b) in bufs.iter().enumerate() {
        let mut bytes: Vec<u8> = b.iter().flat_map(|v| v.to_le_bytes()).collect();
        let out = lp.run_mem(&mut bytes, &RunOptions::default(), &it);
        let (h, n, s, m) = models::hist(&bytes);
        assert_eq!(out.result, Ok(n));
        for i in 0..32 {
            total[i] += h[i];
        }
        (count, sum, max) = (count + n, sum + s, max.max(m));
        // One summary record per run: count, sum, max, runs.
        let rec = obj
            .map("events")
            .unwrap()
            .ringbuf_pop()
            .unwrap()
            .expect("a record");
        let mut want = n.to_le_bytes().to_vec();
        want.extend_from_slice(&s.to_le_bytes());
        want.extend_from_slice(&m.to_le_bytes());
        want.extend_from_slice(&(run as u32 + 1).to_le_bytes());
        assert_eq!(rec, want);
        assert_eq!(
            lines.lock().unwrap().last().unwrap(),
            &format!("hist: {n} samples, max {m}")
        );
    }
    assert_eq!(obj.map("events").unwrap().ringbuf_pop().unwrap(), None);
    let got: Vec<u64> = obj
        .map("hist")
        .unwrap()
        .entries()
        .iter()
        .map(|(_, v)| u64s(v)[0])
        .collect();
    assert_eq!(got, total);
    let bss = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    // .bss (clang's layout, see `llvm-readelf -s hist.o`): runs (u32) at
    // 0, total_count at 8, total_sum at 16, max_seen (u32) at 24.
    assert_eq!(u32::from_le_bytes(bss[0..4].try_into().unwrap()), 3);
    assert_eq!(u64s(&bss[8..24]), vec![count, sum]);
    assert_eq!(u32::from_le_bytes(bss[24..28].try_into().unwrap()), max);
}

#[test]
fn legacy_maps_section_is_loaded() {
    let obj = object("legacy.o");
    let defs: Vec<(String, u32, u32, u32)> = obj
        .maps()
        .iter()
        .map(|m| {
            (
                m.name().to_string(),
                m.def().key_size,
                m.def().value_size,
                m.def().max_entries,
            )
        })
        .collect();
    assert_eq!(
        defs,
        [
            ("byte_counts".to_string(), 4, 8, 256),
            ("runs".to_string(), 4, 8, 1)
        ]
    );
    let lp = obj.load("count_bytes").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut want = [0u64; 256];
    for text in ["hello, world", "eBPF", ""] {
        let mut buf = text.as_bytes().to_vec();
        let out = lp.run_mem(&mut buf, &RunOptions::default(), &it);
        assert_eq!(out.result, Ok(text.len() as u64));
        for b in text.bytes() {
            want[b as usize] += 1;
        }
    }
    let got: Vec<u64> = obj
        .map("byte_counts")
        .unwrap()
        .entries()
        .iter()
        .map(|(_, v)| u64s(v)[0])
        .collect();
    assert_eq!(got, want);
    assert_eq!(
        obj.map("runs").unwrap().lookup(&0u32.to_le_bytes()),
        Some(3u64.to_le_bytes().to_vec())
    );
}

#[test]
fn vlan_adjust_head_and_tail_match_model() {
    let obj = object("vlan.o");
    let push = obj.load("xdp_vlan_push").unwrap();
    let trim = obj.load("xdp_trim").unwrap();
    let (ip, it) = (
        Interpreter::new(push.program(), push.helpers().clone()).unwrap(),
        Interpreter::new(trim.program(), trim.helpers().clone()).unwrap(),
    );
    let mut trimmed = 0;
    for (i, p) in packets::packets().into_iter().enumerate() {
        let mut got = p.clone();
        let (v, want) = models::vlan_push(&p);
        assert_eq!(
            (xdp_interp(&push, &ip, &mut got), &got),
            (v, &want),
            "push, packet {i}"
        );
        let mut got = p.clone();
        let (v, want, n) = models::trim(&p);
        assert_eq!(
            (xdp_interp(&trim, &it, &mut got), &got),
            (v, &want),
            "trim, packet {i}"
        );
        trimmed += n;
    }
    let bss = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(u64s(&bss), vec![trimmed]);
}

#[test]
fn embedder_program_type_with_own_ctx_and_helper() {
    use cranebpf_runtime::ctx::{CtxField, CtxLayout, ProgramType};
    use cranebpf_runtime::{Helpers, MemoryMap};
    let obj = object("custom.o");
    // The type: `struct sample_ctx { u32 data, data_end, scale; }` seen
    // through a shadow `{ u64 data; u64 data_end; u32 scale; }`.
    let prog_type = ProgramType::custom(
        "sample",
        CtxLayout {
            name: "sample_ctx",
            size: 12,
            fields: vec![
                CtxField::pointer("data", 0, 0),
                CtxField::pointer("data_end", 4, 8),
                CtxField::u32("scale", 8, 16),
            ],
            refused: vec![],
            narrow_reads: false,
            shadow_size: 24,
            ctx_offset: 0,
        },
    );
    // Without a type the section is unknown: a clear error.
    let e = obj.load("weighted_sum").unwrap_err();
    assert!(
        e.to_string().contains("program type of section \"sample\""),
        "{e}"
    );
    // Without the embedder's helper the call is refused at load.
    let e = obj
        .load_with(
            "weighted_sum",
            LoadOptions {
                prog_type: Some(prog_type.clone()),
                ..LoadOptions::default()
            },
        )
        .unwrap_err();
    assert!(e.to_string().contains("helper 65536"), "{e}");
    let mut extra = Helpers::new();
    extra.register(0x10000, "get_bonus", |_, _| Ok(1000));
    let lp = obj
        .load_with(
            "weighted_sum",
            LoadOptions {
                prog_type: Some(prog_type),
                extra_helpers: extra,
                ..LoadOptions::default()
            },
        )
        .unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let data: Vec<u8> = (1..=100).collect();
    let mut shadow = Vec::new();
    shadow.extend_from_slice(&(data.as_ptr() as u64).to_le_bytes());
    shadow.extend_from_slice(&(data.as_ptr() as u64 + data.len() as u64).to_le_bytes());
    shadow.extend_from_slice(&3u32.to_le_bytes());
    shadow.extend_from_slice(&[0; 4]);
    let mut mem = MemoryMap::new();
    mem.add_ref(&data);
    let out = lp.run_with_ctx(&shadow, &mut mem, &RunOptions::default(), &it);
    assert_eq!(out.result, Ok(5050 * 3 + 1000));
    assert_eq!(mem.regions().len(), 1, "the driver removed its regions");
}

#[test]
fn reused_map_is_shared_between_objects_and_embedder() {
    // Two independent loads of the firewall share one `proto_stats`.
    let shared = object("firewall.o").map("proto_stats").unwrap().clone();
    let mut a = object("firewall.o");
    let mut b = object("firewall.o");
    a.reuse_map("proto_stats", shared.clone()).unwrap();
    b.reuse_map("proto_stats", shared.clone()).unwrap();
    assert!(a.reuse_map(".bss", shared.clone()).is_err());
    assert!(a.reuse_map("flows", shared.clone()).is_err()); // definitions differ
    let mut model = models::Firewall::new();
    for obj in [&a, &b] {
        let lp = obj.load("xdp_firewall").unwrap();
        let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
        for p in packets::packets() {
            xdp_interp(&lp, &it, &mut p.clone());
            model.run(&p);
        }
    }
    for (k, v) in shared.entries() {
        let want = model.proto_stats.get(&k[0]).copied().unwrap_or((0, 0));
        assert_eq!((u64s(&v)[0], u64s(&v)[1]), want, "proto {}", k[0]);
    }
}
