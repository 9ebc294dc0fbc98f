//! `cranebpf run OBJECT.o --section SEC --pcap FILE [--engine jit|interp|both]`:
//! runs an XDP program of a clang-built eBPF object over every packet of a
//! pcap file and prints the verdict counts, the maps' contents and the
//! packets per second.
//!
//! The program may tail-call the object's other programs (of the same
//! type) through program arrays: the object is loaded as a
//! [`ProgramSet`] and each packet runs the whole chain.
//!
//! With `--engine both` the object is loaded twice (each engine gets its own
//! maps, since XDP programs are stateful), both engines run every packet,
//! and any difference in a verdict, an output packet or a map is reported
//! (exit status 3).

use crate::input::{read_capped, read_program_file, to_hex, MAX_PCAP_BYTES};
use cranebpf::{EngineKind, ObjectVm, RunOptions};
use cranebpf_runtime::elf::{LoadOptions, MapTypes, Object, ProgramSet};
use cranebpf_runtime::kernel::XdpAction;
use cranebpf_runtime::maps::{Map, MapType};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// Which engines run the packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineChoice {
    /// The reference interpreter.
    Interp,
    /// The Cranelift JIT.
    Jit,
    /// Both, compared.
    Both,
}

/// What one engine did over the whole capture.
struct Report {
    engine: &'static str,
    /// Verdict (or the fault's text) and output packet, per packet.
    results: Vec<(Result<XdpAction, String>, Vec<u8>)>,
    elapsed: Duration,
    maps: Vec<Map>,
}

/// Key and value types of the object's maps, from its BTF, by map name.
type Types = HashMap<String, MapTypes>;

/// Reads every packet of a pcap (or pcapng) file of at most
/// [`MAX_PCAP_BYTES`].
fn read_packets(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let bytes = read_capped(path, MAX_PCAP_BYTES, "a packet capture (--pcap)").map_err(|e| e.0)?;
    let bad = |e: pcap_file::PcapError| format!("{}: {e}", path.display());
    let mut out = Vec::new();
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).map_err(bad)?;
        while let Some(block) = r.next_block() {
            match block.map_err(bad)? {
                pcap_file::pcapng::Block::EnhancedPacket(p) => out.push(p.data.into_owned()),
                pcap_file::pcapng::Block::SimplePacket(p) => out.push(p.data.into_owned()),
                _ => {}
            }
        }
    } else {
        let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).map_err(bad)?;
        while let Some(p) = r.next_packet() {
            out.push(p.map_err(bad)?.data.into_owned());
        }
    }
    Ok(out)
}

/// Loads the program of `object` named by `section` (a function or section
/// name; default: the first XDP program), with the programs it may
/// tail-call, and the types of its maps.
fn load(object: &Path, section: Option<&str>) -> Result<(ProgramSet, Types), String> {
    let bytes = read_program_file(object).map_err(|e| e.0)?;
    let obj = Object::parse(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
    let name = match section {
        Some(s) => s.to_string(),
        None => obj
            .programs()
            .iter()
            .find(|p| p.section == "xdp" || p.section.starts_with("xdp"))
            .map(|p| p.name.clone())
            .ok_or_else(|| format!("{}: no XDP program (use --section)", object.display()))?,
    };
    let set = obj
        .load_set(&name, LoadOptions::default())
        .map_err(|e| format!("{}: {e}", object.display()))?;
    let lp = set.entry();
    if lp.prog_type().name != "xdp" {
        return Err(format!(
            "{}: program {} (section {}) is not an XDP program; --pcap needs one",
            object.display(),
            lp.name(),
            lp.section()
        ));
    }
    let types = set
        .maps()
        .iter()
        .filter_map(|m| Some((m.name().to_string(), obj.map_types(m.name())?.clone())))
        .collect();
    Ok((set, types))
}

fn run_engine(
    set: &ProgramSet,
    engine: EngineKind,
    packets: &[Vec<u8>],
    opts: &RunOptions,
) -> Result<Report, String> {
    let vm =
        ObjectVm::new(set.clone(), engine).map_err(|e| format!("{}: {e}", set.entry().name()))?;
    let mut results = Vec::with_capacity(packets.len());
    let start = Instant::now();
    for p in packets {
        let mut pkt = p.clone();
        let out = vm.run_xdp(&mut pkt, opts);
        let prog = set.program(out.program).map_or("?", |p| p.name());
        let verdict = out
            .outcome
            .result
            .map(XdpAction::from_r0)
            .map_err(|f| format!("fault in {prog} at pc {}: {:?}", f.pc, f.kind));
        results.push((verdict, pkt));
    }
    Ok(Report {
        engine: if engine == EngineKind::Jit {
            "jit"
        } else {
            "interpreter"
        },
        results,
        elapsed: start.elapsed(),
        maps: set.maps().to_vec(),
    })
}

fn type_name(t: MapType) -> &'static str {
    match t {
        MapType::Hash => "hash",
        MapType::Array => "array",
        MapType::PerCpuHash => "percpu_hash",
        MapType::PerCpuArray => "percpu_array",
        MapType::LruHash => "lru_hash",
        MapType::LruPerCpuHash => "lru_percpu_hash",
        MapType::RingBuf => "ringbuf",
        MapType::ProgArray => "prog_array",
        _ => "map",
    }
}

/// One key or value: typed by the map's BTF when the object has it
/// (`{ packets = 1, bytes = 85 }`, as bpftool shows it), else hex bytes.
fn show(types: Option<&MapTypes>, key: bool, bytes: &[u8]) -> String {
    match types {
        Some(t) if key => t.key.format(bytes),
        Some(t) => t.value.format(bytes),
        None => to_hex(bytes),
    }
}

/// Map contents for people: arrays show their non-zero entries; at most
/// `limit` entries per map.
fn format_maps(maps: &[Map], types: &Types, limit: usize) -> String {
    let mut s = String::new();
    for m in maps {
        let d = m.def();
        let entries = m.entries();
        let shown: Vec<_> = entries
            .iter()
            .filter(|(_, v)| {
                !matches!(d.map_type, MapType::Array | MapType::PerCpuArray)
                    || v.iter().any(|&b| b != 0)
            })
            .collect();
        let _ = match d.map_type {
            MapType::RingBuf => writeln!(
                s,
                "  {} (ringbuf, {} bytes): {} records waiting",
                m.name(),
                d.max_entries,
                m.len()
            ),
            _ => writeln!(
                s,
                "  {} ({}, key {} B, value {} B, max {}): {} entries{}",
                m.name(),
                type_name(d.map_type),
                d.key_size,
                d.value_size,
                d.max_entries,
                entries.len(),
                if shown.len() < entries.len() {
                    format!(", {} non-zero", shown.len())
                } else {
                    String::new()
                }
            ),
        };
        let t = types.get(m.name());
        for (k, v) in shown.iter().take(limit) {
            let _ = writeln!(s, "    {} => {}", show(t, true, k), show(t, false, v));
        }
        if shown.len() > limit {
            let _ = writeln!(s, "    ... {} more", shown.len() - limit);
        }
    }
    s
}

fn summary(r: &Report, types: &Types, packets: usize) -> String {
    let mut s = String::new();
    let secs = r.elapsed.as_secs_f64();
    let pps = if secs > 0.0 {
        packets as f64 / secs
    } else {
        f64::INFINITY
    };
    let _ = writeln!(
        s,
        "engine {}: {packets} packets in {:.3} ms ({pps:.0} packets/s)",
        r.engine,
        secs * 1e3
    );
    let _ = writeln!(s, "verdicts:");
    for a in XdpAction::ALL {
        let n = r
            .results
            .iter()
            .filter(|(v, _)| v.as_ref().ok() == Some(&a))
            .count();
        let _ = writeln!(s, "  {:<13} {n}", a.name());
    }
    let faults: Vec<(usize, &String)> = r
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, (v, _))| v.as_ref().err().map(|e| (i, e)))
        .collect();
    let _ = writeln!(s, "  {:<13} {}", "faults", faults.len());
    if let Some((i, e)) = faults.first() {
        let _ = writeln!(s, "  first fault: packet {i}: {e}");
    }
    let _ = writeln!(s, "maps:");
    s.push_str(&format_maps(&r.maps, types, 16));
    s
}

/// Differences between two engines' reports (empty if they agree).
fn compare(a: &Report, b: &Report) -> Vec<String> {
    let mut d = Vec::new();
    for (i, (x, y)) in a.results.iter().zip(&b.results).enumerate() {
        if x.0 != y.0 {
            d.push(format!(
                "packet {i}: {} says {:?}, {} says {:?}",
                a.engine, x.0, b.engine, y.0
            ));
        } else if x.1 != y.1 {
            d.push(format!("packet {i}: output packets differ"));
        }
    }
    for (m, n) in a.maps.iter().zip(&b.maps) {
        if m.entries() != n.entries() {
            d.push(format!("map {} differs", m.name()));
        }
    }
    d
}

/// Runs the command and returns its report and whether the engines agreed.
pub fn run(
    object: &Path,
    section: Option<&str>,
    pcap: &Path,
    engine: EngineChoice,
    budget: Option<u64>,
) -> Result<(String, bool), String> {
    let packets = read_packets(pcap)?;
    let opts = RunOptions { budget };
    let (set, types) = load(object, section)?;
    let lp = set.entry();
    let mut out = format!(
        "program {} (section {}) of {}: {} packets from {}\n",
        lp.name(),
        lp.section(),
        object.display(),
        packets.len(),
        pcap.display()
    );
    match engine {
        EngineChoice::Interp | EngineChoice::Jit => {
            let e = if engine == EngineChoice::Jit {
                EngineKind::Jit
            } else {
                EngineKind::Interpreter
            };
            out.push_str(&summary(
                &run_engine(&set, e, &packets, &opts)?,
                &types,
                packets.len(),
            ));
            Ok((out, true))
        }
        EngineChoice::Both => {
            let a = run_engine(&set, EngineKind::Interpreter, &packets, &opts)?;
            // A second, independent load: the JIT gets its own maps.
            let (set2, _) = load(object, section)?;
            let b = run_engine(&set2, EngineKind::Jit, &packets, &opts)?;
            out.push_str(&summary(&b, &types, packets.len()));
            let secs = a.elapsed.as_secs_f64();
            let _ = writeln!(
                out,
                "engine interpreter: {} packets in {:.3} ms ({:.0} packets/s)",
                packets.len(),
                secs * 1e3,
                packets.len() as f64 / secs.max(1e-9)
            );
            let diffs = compare(&a, &b);
            if diffs.is_empty() {
                out.push_str("engines agree: interpreter and JIT (verdicts, packets, maps)\n");
                Ok((out, true))
            } else {
                out.push_str("ENGINES DIFFER:\n");
                for d in diffs.iter().take(20) {
                    let _ = writeln!(out, "  {d}");
                }
                Ok((out, false))
            }
        }
    }
}
