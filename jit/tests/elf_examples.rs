//! The clang-built example objects through the JIT (and the interpreter,
//! through the same `Vm` facade), checked against the independent Rust
//! models shared with `runtime/tests/elf`.

use cranebpf_testkit::{models, packets};

use cranebpf::{EngineKind, RunOptions, Vm};
use cranebpf_runtime::elf::{LoadedProgram, Object};
use std::path::PathBuf;

fn object(name: &str) -> Object {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/bpf")
        .join(name);
    Object::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn xdp(lp: &LoadedProgram, vm: &Vm, pkt: &mut Vec<u8>) -> u64 {
    lp.run_xdp(pkt, &RunOptions::default(), vm)
        .result
        .expect("no fault")
}

fn u64s(v: &[u8]) -> Vec<u64> {
    v.chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

const ENGINES: [EngineKind; 2] = [EngineKind::Jit, EngineKind::Interpreter];

#[test]
fn elf_firewall_jit_matches_model() {
    for engine in ENGINES {
        let obj = object("firewall.o");
        let lp = obj.load("xdp_firewall").unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), engine).unwrap();
        let mut model = models::Firewall::new();
        for (i, p) in packets::packets().into_iter().enumerate() {
            assert_eq!(
                xdp(&lp, &vm, &mut p.clone()),
                model.run(&p),
                "{engine:?}, packet {i}"
            );
        }
        let flows: Vec<(Vec<u8>, (u64, u64))> = obj
            .map("flows")
            .unwrap()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, (u64s(&v)[0], u64s(&v)[1])))
            .collect();
        assert_eq!(
            flows,
            model.flows.into_iter().collect::<Vec<_>>(),
            "{engine:?}"
        );
        let bss = obj
            .map(".bss")
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap();
        assert_eq!(u64s(&bss), vec![model.total_seen]);
    }
}

#[test]
fn elf_lb_jit_matches_model() {
    for engine in ENGINES {
        let obj = object("lb.o");
        let lp = obj.load("xdp_lb").unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), engine).unwrap();
        let mut model = models::Lb::default();
        for (i, p) in packets::packets().into_iter().enumerate() {
            let (mut got, mut want) = (p.clone(), p.clone());
            assert_eq!(
                xdp(&lp, &vm, &mut got),
                model.run(&mut want),
                "{engine:?}, packet {i}"
            );
            assert_eq!(got, want, "{engine:?}, packet {i}");
        }
        let hits: Vec<u64> = obj
            .map("backend_hits")
            .unwrap()
            .entries()
            .iter()
            .map(|(_, v)| u64s(v)[0])
            .collect();
        assert_eq!(hits, model.hits);
    }
}

#[test]
fn elf_hist_jit_matches_model() {
    for engine in ENGINES {
        let obj = object("hist.o");
        let opts = cranebpf_runtime::elf::LoadOptions {
            kernel: cranebpf_runtime::kernel::KernelOptions {
                printk: Some(std::sync::Arc::new(|_: &str| {})),
                ..Default::default()
            },
            ..Default::default()
        };
        let lp = obj.load_with("hist_u32", opts).unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), engine).unwrap();
        let samples: Vec<u32> = (0..500u32)
            .map(|i| i.wrapping_mul(2_654_435_761) >> (i % 29))
            .collect();
        let mut buf: Vec<u8> = samples.iter().flat_map(|v| v.to_le_bytes()).collect();
        let out = lp.run_mem(&mut buf, &RunOptions::default(), &vm);
        let (h, n, s, m) = models::hist(&buf);
        assert_eq!(out.result, Ok(n));
        let got: Vec<u64> = obj
            .map("hist")
            .unwrap()
            .entries()
            .iter()
            .map(|(_, v)| u64s(v)[0])
            .collect();
        assert_eq!(got, h);
        let rec = obj.map("events").unwrap().ringbuf_pop().unwrap().unwrap();
        assert_eq!(u64s(&rec[..16]), vec![n, s]);
        assert_eq!(u32::from_le_bytes(rec[16..20].try_into().unwrap()), m);
    }
}

/// Concurrent runs share the maps: per-protocol counters (atomic adds in
/// the C source) add up exactly across threads.
#[test]
fn elf_concurrent_runs_share_maps() {
    for engine in ENGINES {
        let obj = object("firewall.o");
        let lp = obj.load("xdp_firewall").unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), engine).unwrap();
        let threads = 4;
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    for p in packets::packets() {
                        let _ = xdp(&lp, &vm, &mut p.clone());
                    }
                });
            }
        });
        let mut model = models::Firewall::new();
        for p in packets::packets() {
            model.run(&p);
        }
        for (k, v) in obj.map("proto_stats").unwrap().entries() {
            let (p, b) = model.proto_stats.get(&k[0]).copied().unwrap_or((0, 0));
            assert_eq!(
                u64s(&v),
                vec![p * threads, b * threads],
                "{engine:?}, proto {}",
                k[0]
            );
        }
        let bss = obj
            .map(".bss")
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap();
        assert_eq!(u64s(&bss), vec![model.total_seen * threads]);
    }
}

#[test]
fn elf_vlan_adjust_jit_matches_model() {
    for engine in ENGINES {
        let obj = object("vlan.o");
        let push = obj.load("xdp_vlan_push").unwrap();
        let trim = obj.load("xdp_trim").unwrap();
        let vp = Vm::new(push.program(), push.helpers().clone(), engine).unwrap();
        let vt = Vm::new(trim.program(), trim.helpers().clone(), engine).unwrap();
        for (i, p) in packets::packets().into_iter().enumerate() {
            let mut got = p.clone();
            let (v, want) = models::vlan_push(&p);
            assert_eq!(
                (xdp(&push, &vp, &mut got), &got),
                (v, &want),
                "{engine:?} push, packet {i}"
            );
            let mut got = p.clone();
            let (v, want, _) = models::trim(&p);
            assert_eq!(
                (xdp(&trim, &vt, &mut got), &got),
                (v, &want),
                "{engine:?} trim, packet {i}"
            );
        }
    }
}

#[test]
fn elf_dispatch_tail_calls_match_model() {
    use cranebpf::ObjectVm;
    use cranebpf_runtime::elf::LoadOptions;
    for engine in ENGINES {
        let obj = object("dispatch.o");
        let set = obj
            .load_set("xdp_dispatch", LoadOptions::default())
            .unwrap();
        let vm = ObjectVm::new(set, engine).unwrap();
        let mut model = models::Dispatch::default();
        for (i, p) in packets::packets().into_iter().enumerate() {
            let before = model.tail_calls;
            let want = model.run(&p);
            let out = vm.run_xdp(&mut p.clone(), &RunOptions::default());
            assert_eq!(out.outcome.result, Ok(want), "{engine:?}, packet {i}");
            assert_eq!(
                out.tail_calls,
                model.tail_calls - before,
                "{engine:?}, packet {i}"
            );
            assert_eq!(
                vm.set().program(out.program).unwrap().name(),
                model.last,
                "{engine:?}, packet {i}"
            );
        }
        let hits: Vec<u64> = obj
            .map("hits")
            .unwrap()
            .entries()
            .iter()
            .map(|(_, v)| u64s(v)[0])
            .collect();
        assert_eq!(hits, model.hits, "{engine:?}");
        let bss = obj
            .map(".bss")
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap();
        assert_eq!(
            u64s(&bss),
            [model.dispatched, model.missed, model.tcp_bytes],
            "{engine:?}"
        );
    }
}

/// The socket filter on every engine, against the model and each other.
#[test]
fn elf_sockfilter_every_engine_matches_model() {
    use cranebpf_runtime::ctx::SkbMeta;
    let mut seen: Vec<Vec<(Result<u64, String>, SkbMeta)>> = Vec::new();
    for engine in ENGINES {
        let obj = object("sockfilter.o");
        let lp = obj.load("sock_filter").unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), engine).unwrap();
        let mut model = models::SockFilter::default();
        let mut results = Vec::new();
        for (i, frame) in packets::packets().iter().enumerate() {
            let mut p = frame.get(14..).unwrap_or(&[]).to_vec();
            let mut meta = SkbMeta::from_frame(frame);
            let (keep, cb0) = model.run(&p.clone(), meta.protocol);
            let out = lp.run_skb(&mut p, &mut meta, &RunOptions::default(), &vm);
            assert_eq!(out.outcome.result, Ok(keep), "{engine:?}, packet {i}");
            assert_eq!(meta.cb[0], cb0, "{engine:?}, packet {i}");
            results.push((out.outcome.result.map_err(|f| f.to_string()), meta));
        }
        let bss = obj
            .map(".bss")
            .unwrap()
            .lookup(&0u32.to_le_bytes())
            .unwrap();
        assert_eq!(u64s(&bss), vec![model.not_ipv4], "{engine:?}");
        seen.push(results);
    }
    assert_eq!(seen[0], seen[1], "interpreter and JIT agree");
}

/// Both tc programs on every engine: verdicts, packets, `__sk_buff`
/// fields, redirect targets and the verdict map agree with the model.
#[test]
fn elf_tc_rewrite_every_engine_matches_model() {
    use cranebpf_runtime::ctx::SkbMeta;
    for engine in ENGINES {
        let obj = object("tc_rewrite.o");
        let dnat = obj.load("tc_dnat").unwrap();
        let vm = Vm::new(dnat.program(), dnat.helpers().clone(), engine).unwrap();
        let mut counts = [0u64; 8];
        for (i, frame) in packets::packets().iter().enumerate() {
            let mut p = frame.clone();
            let mut meta = SkbMeta::from_frame(frame);
            let out = dnat.run_skb(&mut p, &mut meta, &RunOptions::default(), &vm);
            let (v, want, mark, prio, redirected) = models::tc_dnat(frame);
            assert_eq!(out.outcome.result, Ok(v), "{engine:?}, packet {i}");
            assert_eq!(p, want, "{engine:?}, packet {i}");
            assert_eq!(
                (meta.mark, meta.priority),
                (mark, prio),
                "{engine:?}, packet {i}"
            );
            assert_eq!(out.redirect.is_some(), redirected, "{engine:?}, packet {i}");
            counts[models::tc_verdict_key(v) as usize] += 1;
        }
        let map = obj.map("verdicts").unwrap();
        for (k, want) in counts.iter().enumerate() {
            let v = map.lookup(&(k as u32).to_le_bytes()).unwrap();
            assert_eq!(u64s(&v)[0], *want, "{engine:?}, verdict {k}");
        }
        let vlan = obj.load("tc_vlan").unwrap();
        let vm = Vm::new(vlan.program(), vlan.helpers().clone(), engine).unwrap();
        for (i, frame) in packets::packets()
            .iter()
            .enumerate()
            .filter(|(_, p)| p.len() >= 14)
        {
            let mut p = frame.clone();
            let mut meta = SkbMeta::from_frame(frame);
            let out = vlan.run_skb(&mut p, &mut meta, &RunOptions::default(), &vm);
            let (want, cb1, cb2) = models::tc_vlan(frame);
            assert_eq!(out.outcome.result, Ok(0), "{engine:?}, packet {i}");
            assert_eq!(
                (p, meta.cb[1], meta.cb[2]),
                (want, cb1, cb2),
                "{engine:?}, packet {i}"
            );
        }
    }
}
