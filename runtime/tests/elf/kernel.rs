//! The same objects on the same packets in the running kernel, through
//! `bpftool` (`prog loadall` + `prog run`, i.e. `BPF_PROG_TEST_RUN`), compared
//! with the interpreter: verdicts, output packets and map contents.
//!
//! Needs root, `bpf()`, a bpffs mount (made under /tmp for the test) and
//! `bpftool` (Debian: `apt-get install -y bpftool`). When any is missing the
//! tests say so loudly on stderr and pass without comparing, unless
//! `CRANEBPF_REQUIRE_KERNEL=1` makes them required.
//!
//! Socket filters and tc programs run with a zeroed `struct __sk_buff` as
//! `ctx_in`; the kernel runs a socket filter from the network header and
//! returns the frame with its link-layer header zeroed, so the comparison
//! runs ours on the same view.

use super::{example_path, object, packets};
use cranebpf_runtime::elf::{LoadedProgram, Object};
use cranebpf_runtime::{Interpreter, RunOptions};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Says loudly that a comparison did not run; with
/// `CRANEBPF_REQUIRE_KERNEL=1` (CI) that is a failure instead.
fn skip(reason: &str) {
    let required = std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "CRANEBPF_REQUIRE_KERNEL=1 but the kernel comparison cannot run: {reason}"
    );
    eprintln!("\n*** KERNEL COMPARISON SKIPPED: {reason} ***\n");
}

/// A bpffs mounted under /tmp for one test, unmounted on drop.
struct Bpffs {
    dir: PathBuf,
}

impl Bpffs {
    fn mount() -> Option<Bpffs> {
        static N: AtomicUsize = AtomicUsize::new(0);
        match Command::new("bpftool").arg("version").output() {
            Ok(o) if o.status.success() => {}
            _ => {
                skip("bpftool is not installed (apt-get install -y bpftool)");
                return None;
            }
        }
        let dir = std::env::temp_dir().join(format!(
            "cranebpf-bpffs-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).ok()?;
        let ok = Command::new("mount")
            .args(["-t", "bpf", "bpf"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            skip("cannot mount a bpf filesystem (not root, or no bpffs)");
            return None;
        }
        Some(Bpffs { dir })
    }

    /// Loads every program of `obj` and pins programs and maps; `None` (after
    /// saying why) if the kernel refuses.
    fn load(&self, obj: &str) -> Option<()> {
        let out = Command::new("bpftool")
            .args(["prog", "loadall"])
            .arg(example_path(&format!("bpf/{obj}")))
            .arg(self.dir.join("progs"))
            .arg("pinmaps")
            .arg(self.dir.join("maps"))
            .output()
            .ok()?;
        if !out.status.success() {
            skip(&format!(
                "the kernel refused {obj} (bpf() unavailable?): {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            ));
            return None;
        }
        Some(())
    }

    /// `BPF_PROG_TEST_RUN` of a pinned program on one packet: (retval, packet out).
    fn run(&self, prog: &str, pkt: &[u8]) -> (u64, Vec<u8>) {
        let (inp, outp) = (
            self.dir.with_extension("in"),
            self.dir.with_extension("out"),
        );
        std::fs::write(&inp, pkt).unwrap();
        let out = bpftool(&[
            "prog".as_ref(),
            "run".as_ref(),
            "pinned".as_ref(),
            self.dir.join("progs").join(prog).as_os_str(),
            "data_in".as_ref(),
            inp.as_os_str(),
            "data_out".as_ref(),
            outp.as_os_str(),
            "repeat".as_ref(),
            "1".as_ref(),
        ]);
        let data = std::fs::read(&outp).unwrap_or_default();
        let _ = std::fs::remove_file(&inp);
        let _ = std::fs::remove_file(&outp);
        (out["retval"].as_u64().expect("retval"), data)
    }

    /// A pinned map's entries, per-CPU values summed as u64 words.
    fn dump(&self, map: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        let path = self.dir.join("maps").join(map);
        let v = bpftool(&[
            "map".as_ref(),
            "dump".as_ref(),
            "pinned".as_ref(),
            path.as_os_str(),
        ]);
        let mut out: Vec<(Vec<u8>, Vec<u8>)> = v
            .as_array()
            .expect("map dump is an array")
            .iter()
            .map(|e| {
                let key = hex_bytes(&e["key"]);
                let value = match e.get("values") {
                    Some(per_cpu) => {
                        let mut sum = Vec::<u64>::new();
                        for c in per_cpu.as_array().unwrap() {
                            let b = hex_bytes(&c["value"]);
                            for (i, w) in b.chunks_exact(8).enumerate() {
                                let w = u64::from_le_bytes(w.try_into().unwrap());
                                if sum.len() <= i {
                                    sum.push(0);
                                }
                                sum[i] += w;
                            }
                        }
                        sum.iter().flat_map(|w| w.to_le_bytes()).collect()
                    }
                    None => hex_bytes(&e["value"]),
                };
                (key, value)
            })
            .collect();
        out.sort();
        out
    }
}

impl Drop for Bpffs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn bpftool(args: &[&std::ffi::OsStr]) -> Value {
    let out = Command::new("bpftool")
        .arg("-j")
        .args(args)
        .output()
        .expect("bpftool runs");
    assert!(
        out.status.success(),
        "bpftool {args:?}: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).expect("bpftool prints JSON")
}

fn hex_bytes(v: &Value) -> Vec<u8> {
    v.as_array()
        .expect("hex array")
        .iter()
        .map(|b| u8::from_str_radix(b.as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect()
}

/// The interpreter's result for one packet: (r0, packet out).
fn interp(lp: &LoadedProgram, it: &Interpreter, pkt: &[u8]) -> (u64, Vec<u8>) {
    let mut p = pkt.to_vec();
    let out = lp.run_xdp(&mut p, &RunOptions::default(), it);
    (out.result.expect("no fault"), p)
}

/// Packets the kernel accepts in `BPF_PROG_TEST_RUN` (at least `ETH_HLEN`).
fn kernel_packets() -> Vec<Vec<u8>> {
    packets::packets()
        .into_iter()
        .filter(|p| p.len() >= 14)
        .collect()
}

fn compare_maps(fs: &Bpffs, obj: &Object, pairs: &[(&str, &str)]) {
    for (ours, theirs) in pairs {
        let mine = obj.map(ours).unwrap().entries();
        let kernel = fs.dump(theirs);
        // The kernel lists hash maps in its own order; both are sorted.
        assert_eq!(
            mine, kernel,
            "map {ours} differs from the kernel's {theirs}"
        );
    }
}

#[test]
fn kernel_firewall_agrees_with_interpreter() {
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("firewall.o").is_none() {
        return;
    }
    let obj = object("firewall.o");
    let lp = obj.load("xdp_firewall").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    for (i, p) in kernel_packets().iter().enumerate() {
        let (k, kp) = fs.run("xdp_firewall", p);
        let (c, cp) = interp(&lp, &it, p);
        assert_eq!(c, k, "packet {i}: verdict differs from the kernel's");
        assert_eq!(cp, kp, "packet {i}: output differs from the kernel's");
    }
    compare_maps(
        &fs,
        &obj,
        &[
            ("flows", "flows"),
            ("proto_stats", "proto_stats"),
            (".bss", "firewall_bss"),
            (".data", "firewall_data"),
        ],
    );
}

/// Each of `progs` gives the kernel's verdict and output packet on every
/// packet, under the interpreter.
fn programs_agree_per_packet(fs: &Bpffs, obj: &Object, progs: &[&str]) {
    for &prog in progs {
        let lp = obj.load(prog).unwrap();
        let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
        for (i, p) in kernel_packets().iter().enumerate() {
            let (k, kp) = fs.run(prog, p);
            let (c, cp) = interp(&lp, &it, p);
            assert_eq!(
                c, k,
                "{prog}, packet {i}: verdict differs from the kernel's"
            );
            assert_eq!(
                cp, kp,
                "{prog}, packet {i}: output differs from the kernel's"
            );
        }
    }
}

#[test]
fn kernel_lb_agrees_with_interpreter() {
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("lb.o").is_none() {
        return;
    }
    let obj = object("lb.o");
    programs_agree_per_packet(&fs, &obj, &["xdp_lb", "xdp_count"]);
    compare_maps(
        &fs,
        &obj,
        &[
            ("backend_hits", "backend_hits"),
            (".bss", "lb_bss"),
            (".rodata", "lb_rodata"),
        ],
    );
}

#[test]
fn kernel_vlan_agrees_with_interpreter() {
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("vlan.o").is_none() {
        return;
    }
    let obj = object("vlan.o");
    programs_agree_per_packet(&fs, &obj, &["xdp_vlan_push", "xdp_trim"]);
    compare_maps(&fs, &obj, &[(".bss", "vlan_bss")]);
}

#[test]
fn kernel_dispatch_tail_calls_agree_with_interpreter() {
    use cranebpf_runtime::elf::LoadOptions;
    let Some(fs) = Bpffs::mount() else { return };
    // libbpf fills the program array from its `values` initialiser.
    if fs.load("dispatch.o").is_none() {
        return;
    }
    let obj = object("dispatch.o");
    let set = obj
        .load_set("xdp_dispatch", LoadOptions::default())
        .unwrap();
    let it: Vec<Option<Interpreter>> = set
        .programs()
        .iter()
        .map(|p| {
            p.as_ref()
                .map(|p| Interpreter::new(p.program(), p.helpers().clone()).unwrap())
        })
        .collect();
    for (i, p) in kernel_packets().iter().enumerate() {
        let (k, kp) = fs.run("xdp_dispatch", p);
        let mut cp = p.clone();
        let out = set.run_xdp(&mut cp, &RunOptions::default(), &it);
        assert_eq!(
            (out.outcome.result.expect("no fault"), &cp),
            (k, &kp),
            "packet {i}: differs from the kernel"
        );
    }
    compare_maps(&fs, &obj, &[("hits", "hits"), (".bss", "dispatch_bss")]);
}

impl Bpffs {
    /// `BPF_PROG_TEST_RUN` of a pinned `__sk_buff` program with a zeroed
    /// `struct __sk_buff` as `ctx_in`: (retval, packet out, ctx out).
    fn run_skb(&self, prog: &str, pkt: &[u8]) -> (u64, Vec<u8>, Vec<u8>) {
        let files = ["in", "out", "ctxin", "ctxout"].map(|e| self.dir.with_extension(e));
        std::fs::write(&files[0], pkt).unwrap();
        std::fs::write(&files[2], [0u8; 192]).unwrap();
        let mut args: Vec<&std::ffi::OsStr> =
            vec!["prog".as_ref(), "run".as_ref(), "pinned".as_ref()];
        let path = self.dir.join("progs").join(prog);
        args.push(path.as_os_str());
        for (k, f) in ["data_in", "data_out", "ctx_in", "ctx_out"]
            .iter()
            .zip(&files)
        {
            args.push(k.as_ref());
            args.push(f.as_os_str());
        }
        args.extend(["repeat".as_ref(), "1".as_ref()] as [&std::ffi::OsStr; 2]);
        let out = bpftool(&args);
        let data = std::fs::read(&files[1]).unwrap_or_default();
        let ctx = std::fs::read(&files[3]).unwrap_or_default();
        for f in &files {
            let _ = std::fs::remove_file(f);
        }
        (out["retval"].as_u64().expect("retval"), data, ctx)
    }
}

/// Packets `BPF_PROG_TEST_RUN` accepts for `__sk_buff` programs: it also
/// refuses IPv4 frames too short for an IPv4 header and IPv6 frames too
/// short for an IPv6 header (`EINVAL`).
fn kernel_skb_packets() -> Vec<Vec<u8>> {
    kernel_packets()
        .into_iter()
        .filter(|p| match u16::from_be_bytes([p[12], p[13]]) {
            0x0800 => p.len() >= 14 + 20,
            0x86dd => p.len() >= 14 + 40,
            _ => true,
        })
        .collect()
}

/// The `__sk_buff` fields `BPF_PROG_TEST_RUN` copies back, from a ctx_out:
/// mark, priority, cb[0..5].
fn written_fields(ctx: &[u8]) -> Vec<u32> {
    let w = |o: usize| u32::from_le_bytes(ctx[o..o + 4].try_into().unwrap());
    let mut v = vec![w(8), w(32)];
    v.extend((0..5).map(|i| w(48 + 4 * i)));
    v
}

fn meta_fields(m: &cranebpf_runtime::ctx::SkbMeta) -> Vec<u32> {
    let mut v = vec![m.mark, m.priority];
    v.extend(m.cb);
    v
}

#[test]
fn kernel_sockfilter_agrees_with_interpreter() {
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("sockfilter.o").is_none() {
        return;
    }
    let obj = object("sockfilter.o");
    let lp = obj.load("sock_filter").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    for (i, frame) in kernel_skb_packets().iter().enumerate() {
        let (k, kp, kctx) = fs.run_skb("sock_filter", frame);
        // The kernel runs a socket filter from the network header, and
        // hands back the frame with the link-layer header zeroed.
        let (mut p, mut meta) = super::skb::socket_view(frame);
        let out = lp.run_skb(&mut p, &mut meta, &RunOptions::default(), &it);
        assert_eq!(
            out.outcome.result,
            Ok(k),
            "packet {i}: verdict differs from the kernel's"
        );
        assert_eq!(&kp[14..], &p[..], "packet {i}: output differs");
        assert_eq!(
            written_fields(&kctx),
            meta_fields(&meta),
            "packet {i}: __sk_buff"
        );
    }
    compare_maps(
        &fs,
        &obj,
        &[("proto_count", "proto_count"), (".bss", "sockfilt_bss")],
    );
}

#[test]
fn kernel_tc_rewrite_agrees_with_interpreter() {
    use cranebpf_runtime::ctx::SkbMeta;
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("tc_rewrite.o").is_none() {
        return;
    }
    let obj = object("tc_rewrite.o");
    for prog in ["tc_dnat", "tc_vlan"] {
        let lp = obj.load(prog).unwrap();
        let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
        for (i, frame) in kernel_skb_packets().iter().enumerate() {
            let (k, kp, kctx) = fs.run_skb(prog, frame);
            let mut p = frame.clone();
            let mut meta = SkbMeta::from_frame(frame);
            let out = lp.run_skb(&mut p, &mut meta, &RunOptions::default(), &it);
            assert_eq!(out.outcome.result, Ok(k), "{prog}, packet {i}: verdict");
            assert_eq!(p, kp, "{prog}, packet {i}: output");
            assert_eq!(
                written_fields(&kctx),
                meta_fields(&meta),
                "{prog}, packet {i}: __sk_buff"
            );
        }
    }
    compare_maps(&fs, &obj, &[("verdicts", "verdicts")]);
}

/// `bpf_perf_event_output` (examples/bpf/perf_out.c): the return codes of
/// its four calls per packet (-ENOENT for a slot nobody reads, -E2BIG past
/// the slots, -EINVAL for a flag beyond index and context length) equal the
/// kernel's; with slot 0 opened, ours also delivers the records.
#[test]
fn kernel_perf_event_output_return_codes_agree_with_interpreter() {
    let obj = object("perf_out.o");
    let lp = obj.load("xdp_perf").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let packets = kernel_packets();
    let Some(fs) = Bpffs::mount() else { return };
    if fs.load("perf_out.o").is_none() {
        return;
    }
    for (i, p) in packets.iter().enumerate() {
        let (k, _) = fs.run("xdp_perf", p);
        let (c, _) = interp(&lp, &it, p);
        assert_eq!(c, k, "packet {i}: verdict differs from the kernel's");
        compare_maps(&fs, &obj, &[("results", "results")]);
    }
    let results = obj.map("results").unwrap().entries();
    let codes: Vec<i64> = results
        .iter()
        .map(|(_, v)| i64::from_le_bytes(v[..8].try_into().unwrap()))
        .collect();
    assert_eq!(codes, [-2, -7, -22, -2]);
    // With slot 0 open (a reader attached), calls 0 and 3 deliver.
    let events = obj.map("events").unwrap();
    events.perf_open(0).unwrap();
    let p = &packets[0];
    interp(&lp, &it, p);
    let mut want = p[..8].to_vec();
    want.extend((p.len() as u64).to_le_bytes());
    assert_eq!(events.perf_pop().unwrap(), Some((0, want.clone())));
    assert_eq!(events.perf_pop().unwrap(), Some((0, want)));
    assert_eq!(events.perf_pop().unwrap(), None);
}
