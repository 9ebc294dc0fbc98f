//! `cranebpf run OBJECT.o --section SEC --pcap FILE [--type T] [-w OUT]
//! [--engine jit|interp|both]`: runs a packet program of a clang-built eBPF
//! object over every packet of a pcap file and prints the verdict counts,
//! the maps' contents and the packets per second.
//!
//! The program type comes from the section name, as libbpf guesses it, or
//! from `--type`: XDP and tc programs see each frame from its Ethernet
//! header; a socket filter sees it from the network header, as a
//! `SOCK_DGRAM` packet socket (and `BPF_PROG_TEST_RUN`) passes it, with
//! `protocol` set from the EtherType. `-w` writes the packets the program
//! lets through, as it left them (a socket filter's truncated to the bytes
//! it keeps, behind the original Ethernet header), to a new pcap file.
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
use crate::output::{print_json, progress, OutputArg, PROGRESS_CHUNK};
use cranebpf::{ChainOutcome, EngineKind, FaultKind, ObjectVm, RunOptions};
use cranebpf_runtime::ctx::{Driver, ProgramType, SkbKind, SkbMeta, TcAction};
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

/// A packet program's verdict on one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Xdp(XdpAction),
    /// A socket filter's byte count, and the packet's length.
    Keep(u64, usize),
    Tc(TcAction),
}

impl Verdict {
    /// The row it counts under in the summary.
    fn label(self) -> &'static str {
        match self {
            Verdict::Xdp(a) => a.name(),
            Verdict::Keep(0, _) => "dropped",
            Verdict::Keep(n, len) if n as usize >= len => "kept whole",
            Verdict::Keep(..) => "truncated",
            Verdict::Tc(TcAction::Other(_)) => "other",
            Verdict::Tc(a) => a.name(),
        }
    }

    /// Whether the packet goes on (and into `-w`'s file).
    fn passes(self) -> bool {
        match self {
            Verdict::Xdp(a) => matches!(a, XdpAction::Pass | XdpAction::Tx | XdpAction::Redirect),
            Verdict::Keep(n, _) => n > 0,
            Verdict::Tc(a) => !matches!(a, TcAction::Shot | TcAction::Stolen | TcAction::Trap),
        }
    }
}

/// The rows of the summary for a program type, in order.
fn labels(driver: Driver) -> Vec<&'static str> {
    match driver {
        Driver::Skb(SkbKind::SocketFilter) => vec!["dropped", "truncated", "kept whole"],
        Driver::Skb(SkbKind::SchedCls) => {
            let mut v: Vec<_> = TcAction::ALL.iter().map(|a| a.name()).collect();
            v.push("other");
            v
        }
        _ => XdpAction::ALL.iter().map(|a| a.name()).collect(),
    }
}

/// A fault as printed, compared between engines without host addresses:
/// each engine runs on its own copy of the packet, so absolute addresses
/// always differ (issue 17: every fault was a false "ENGINES DIFFER").
#[derive(Clone, Debug)]
struct FaultText {
    /// The full text, addresses included.
    text: String,
    /// Program, pc and the fault's layout-free fields.
    key: String,
}

impl FaultText {
    fn new(prog: &str, pc: usize, kind: &FaultKind) -> FaultText {
        let class = crate::run::fault_class(kind);
        FaultText {
            text: format!("fault in {prog} at pc {pc}: {kind:?}"),
            key: format!("fault in {prog} at pc {pc}: {class}"),
        }
    }
}

impl PartialEq for FaultText {
    fn eq(&self, other: &FaultText) -> bool {
        self.key == other.key
    }
}

impl std::fmt::Display for FaultText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// What one engine did over the whole capture.
struct Report {
    engine: &'static str,
    driver: Driver,
    /// Verdict (or the fault's text) and output frame, per packet.
    results: Vec<(Result<Verdict, FaultText>, Vec<u8>)>,
    /// The engine's runs alone, from the first packet to the last (the
    /// capture's parsing, the packet copies and the verdicts excluded).
    elapsed: Duration,
    /// Preparing every program (compiling, or predecoding).
    prepare: Duration,
    /// From before preparing to the first packet's verdict.
    first_result: Duration,
    maps: Vec<Map>,
}

/// Key and value types of the object's maps, from its BTF, by map name.
type Types = HashMap<String, MapTypes>;

/// The largest packet in a capture: 1 MiB (a kernel XDP frame is at most a
/// page, an skb a few hundred KiB).
pub const MAX_PACKET_BYTES: usize = 1 << 20;

/// Reads every packet of a pcap (or pcapng) file of at most
/// [`MAX_PCAP_BYTES`], each at most [`MAX_PACKET_BYTES`]. The file is parsed
/// in memory, so a packet's size is only limited by those caps (a reader's
/// buffer once refused a 16 MiB packet as "Error reading bytes").
pub(crate) fn read_packets(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    let bytes = read_capped(path, MAX_PCAP_BYTES, "a packet capture (--pcap)").map_err(|e| e.0)?;
    let bad = |e: pcap_file::PcapError| match e {
        pcap_file::PcapError::IncompleteBuffer => format!("{}: truncated capture", path.display()),
        e => format!("{}: {e}", path.display()),
    };
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut keep = |data: &[u8]| {
        if data.len() > MAX_PACKET_BYTES {
            return Err(format!(
                "{}: packet {} is {} bytes, larger than {} MiB, the limit for one packet",
                path.display(),
                out.len(),
                data.len(),
                MAX_PACKET_BYTES >> 20
            ));
        }
        out.push(data.to_vec());
        Ok(())
    };
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let (mut rest, mut parser) = pcap_file::pcapng::PcapNgParser::new(&bytes).map_err(bad)?;
        while !rest.is_empty() {
            let (next, block) = parser.next_block(rest).map_err(bad)?;
            match block {
                pcap_file::pcapng::Block::EnhancedPacket(p) => keep(&p.data)?,
                pcap_file::pcapng::Block::SimplePacket(p) => keep(&p.data)?,
                _ => {}
            }
            rest = next;
        }
    } else {
        let (mut rest, parser) = pcap_file::pcap::PcapParser::new(&bytes).map_err(bad)?;
        while !rest.is_empty() {
            let (next, p) = parser.next_packet(rest).map_err(bad)?;
            keep(&p.data)?;
            rest = next;
        }
    }
    Ok(out)
}

/// Whether a program type runs on packets.
fn is_packet_type(t: &ProgramType) -> bool {
    matches!(t.driver, Driver::Xdp | Driver::Skb(_))
}

/// Loads the program of `object` named by `section` (a function or section
/// name; default: the first packet program), with the programs it may
/// tail-call, as `prog_type` if given, and the types of its maps.
fn load(
    object: &Path,
    section: Option<&str>,
    prog_type: Option<&ProgramType>,
) -> Result<(ProgramSet, Types), String> {
    let bytes = read_program_file(object).map_err(|e| e.0)?;
    let obj = Object::parse(&bytes).map_err(|e| format!("{}: {e}", object.display()))?;
    let name = match section {
        Some(s) => s.to_string(),
        None => obj
            .programs()
            .iter()
            .find(|p| {
                prog_type.is_some()
                    || ProgramType::for_section(&p.section).is_some_and(|t| is_packet_type(&t))
            })
            .map(|p| p.name.clone())
            .ok_or_else(|| {
                format!(
                    "{}: no XDP, socket or tc program (use --section)",
                    object.display()
                )
            })?,
    };
    let opts = LoadOptions {
        prog_type: prog_type.cloned(),
        ..LoadOptions::default()
    };
    let set = obj
        .load_set(&name, opts)
        .map_err(|e| format!("{}: {e}", object.display()))?;
    let lp = set.entry();
    if !is_packet_type(lp.prog_type()) {
        return Err(format!(
            "{}: program {} (section {}) is a {} program; --pcap needs xdp, socket or tc (see --type)",
            object.display(),
            lp.name(),
            lp.section(),
            lp.prog_type().name
        ));
    }
    let types = set
        .maps()
        .iter()
        .filter_map(|m| Some((m.name().to_string(), obj.map_types(m.name())?.clone())))
        .collect();
    Ok((set, types))
}

/// The verdict of a program of kind `driver` whose r0 is `r0`, on a packet
/// of `len` bytes.
fn verdict(driver: Driver, r0: u64, len: usize) -> Verdict {
    match driver {
        Driver::Skb(SkbKind::SocketFilter) => Verdict::Keep(u64::from(r0 as u32), len),
        Driver::Skb(SkbKind::SchedCls) => Verdict::Tc(TcAction::from_r0(r0)),
        _ => Verdict::Xdp(XdpAction::from_r0(r0)),
    }
}

/// The packet one frame gives the program: the whole frame, or for a socket
/// filter the bytes from the network header (a socket sees no Ethernet
/// header), with the `__sk_buff` fields of a socket filter or tc run.
fn packet_of(driver: Driver, frame: &[u8]) -> (Vec<u8>, Option<SkbMeta>) {
    match driver {
        Driver::Skb(SkbKind::SocketFilter) => (
            frame.get(14..).unwrap_or(&[]).to_vec(),
            Some(SkbMeta::from_frame(frame)),
        ),
        Driver::Skb(_) => (frame.to_vec(), Some(SkbMeta::from_frame(frame))),
        _ => (frame.to_vec(), None),
    }
}

/// Runs one packet through `vm`: the engine's part of a packet, all that
/// the engine-only packets/s counts.
fn run_packet(
    vm: &ObjectVm,
    p: &mut Vec<u8>,
    meta: Option<&mut SkbMeta>,
    opts: &RunOptions,
) -> ChainOutcome {
    match meta {
        Some(m) => vm.run_skb(p, m, opts).0,
        None => vm.run_xdp(p, opts),
    }
}

/// The verdict (or the fault) of one run, and the frame as it leaves (what
/// `-w` writes if it passes).
fn verdict_of(
    vm: &ObjectVm,
    driver: Driver,
    frame: &[u8],
    (p, len): (Vec<u8>, usize),
    out: ChainOutcome,
) -> (Result<Verdict, FaultText>, Vec<u8>) {
    let prog = vm.set().program(out.program).map_or("?", |p| p.name());
    let v = out
        .outcome
        .result
        .map(|r0| verdict(driver, r0, len))
        .map_err(|f| FaultText::new(prog, f.pc, &f.kind));
    if let (Driver::Skb(SkbKind::SocketFilter), Ok(Verdict::Keep(n, _))) = (driver, &v) {
        let mut f = frame[..frame.len().min(14)].to_vec();
        f.extend_from_slice(&p[..(*n as usize).min(len)]);
        return (v, f);
    }
    (v, p)
}

/// Runs every packet through a fresh [`ObjectVm`]. The packets are copied
/// out of the capture before the clock starts and the verdicts are read
/// after it stops, so `elapsed` is the engine's own time (driver included:
/// frame, context and maps), not the capture loop's.
fn run_engine(
    set: &ProgramSet,
    engine: EngineKind,
    packets: &[Vec<u8>],
    opts: &RunOptions,
    out: OutputArg,
) -> Result<Report, String> {
    let name = if engine == EngineKind::Jit {
        "jit"
    } else {
        "interpreter"
    };
    let bar = progress(packets.len() as u64, name, out);
    let t0 = Instant::now();
    let vm =
        ObjectVm::new(set.clone(), engine).map_err(|e| format!("{}: {e}", set.entry().name()))?;
    let driver = set.entry().prog_type().driver;
    let prepare = t0.elapsed();
    let mut inputs: Vec<(Vec<u8>, Option<SkbMeta>)> =
        packets.iter().map(|f| packet_of(driver, f)).collect();
    let lens: Vec<usize> = inputs.iter().map(|(p, _)| p.len()).collect();
    let mut outs = Vec::with_capacity(packets.len());
    let mut first_result = prepare;
    let start = Instant::now();
    for (i, (p, meta)) in inputs.iter_mut().enumerate() {
        outs.push(run_packet(&vm, p, meta.as_mut(), opts));
        if i == 0 {
            first_result = t0.elapsed();
        }
        if i % PROGRESS_CHUNK == 0 {
            bar.set_position(i as u64);
        }
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    let results = packets
        .iter()
        .zip(inputs)
        .zip(lens)
        .zip(outs)
        .map(|(((frame, (p, _)), len), out)| verdict_of(&vm, driver, frame, (p, len), out))
        .collect();
    Ok(Report {
        driver,
        engine: name,
        results,
        elapsed,
        prepare,
        first_result,
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
        MapType::PerfEventArray => "perf_event_array",
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
        // Streamed: a 256 MiB array is never copied whole.
        let (mut total, mut nonzero) = (0usize, 0usize);
        let mut shown: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let array = matches!(d.map_type, MapType::Array | MapType::PerCpuArray);
        m.visit_entries(|k, v| {
            total += 1;
            if !array || v.iter().any(|&b| b != 0) {
                nonzero += 1;
                if shown.len() < limit {
                    shown.push((k.to_vec(), v.to_vec()));
                }
            }
        });
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
                total,
                if nonzero < total {
                    format!(", {nonzero} non-zero")
                } else {
                    String::new()
                }
            ),
        };
        let t = types.get(m.name());
        for (k, v) in &shown {
            let _ = writeln!(s, "    {} => {}", show(t, true, k), show(t, false, v));
        }
        if nonzero > limit {
            let _ = writeln!(s, "    ... {} more", nonzero - limit);
        }
    }
    s
}

/// The `--stats` lines of one engine's report.
fn stats_lines(r: &Report, packets: usize) -> String {
    let per = r
        .elapsed
        .checked_div(packets.max(1) as u32)
        .unwrap_or_default();
    format!(
        "stats ({}): prepare {}, first verdict {}, per packet {}\n",
        r.engine,
        crate::stats::human(r.prepare),
        crate::stats::human(r.first_result),
        crate::stats::human(per)
    )
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
        "engine {}: {packets} packets in {:.3} ms ({pps:.0} packets/s in the engine, capture parsing and copies excluded)",
        r.engine,
        secs * 1e3
    );
    let _ = writeln!(s, "verdicts:");
    for label in labels(r.driver) {
        let n = r
            .results
            .iter()
            .filter(|(v, _)| v.as_ref().ok().map(|v| v.label()) == Some(label))
            .count();
        let _ = writeln!(s, "  {label:<17} {n}");
    }
    let faults: Vec<(usize, &FaultText)> = r
        .results
        .iter()
        .enumerate()
        .filter_map(|(i, (v, _))| v.as_ref().err().map(|e| (i, e)))
        .collect();
    let _ = writeln!(s, "  {:<17} {}", "faults", faults.len());
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
        if !m.same_entries(n) {
            d.push(format!("map {} differs", m.name()));
        }
    }
    d
}

/// Writes the frames of `r` that passed to a new pcap file at `path`.
fn write_passed(r: &Report, path: &Path) -> Result<usize, String> {
    use pcap_file::pcap::{PcapPacket, PcapWriter};
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let file = std::fs::File::create(path).map_err(|e| err(&e))?;
    let mut w = PcapWriter::new(std::io::BufWriter::new(file)).map_err(|e| err(&e))?;
    let mut n = 0;
    for (i, (v, frame)) in r.results.iter().enumerate() {
        if v.as_ref().is_ok_and(|v| v.passes()) {
            let ts = Duration::from_micros(i as u64);
            w.write_packet(&PcapPacket::new(ts, frame.len() as u32, frame))
                .map_err(|e| err(&e))?;
            n += 1;
        }
    }
    Ok(n)
}

/// What `cranebpf run --pcap` was asked to do.
pub struct PcapRun<'a> {
    /// The ELF object.
    pub object: &'a Path,
    /// The program, by function or section name.
    pub section: Option<&'a str>,
    /// The capture.
    pub pcap: &'a Path,
    /// The engines.
    pub engine: EngineChoice,
    /// The per-packet instruction budget.
    pub budget: Option<u64>,
    /// The program type, overriding the section's.
    pub prog_type: Option<ProgramType>,
    /// Where to write the packets that pass.
    pub write: Option<&'a Path>,
    /// Whether to print prepare time, time to first result and per-packet
    /// time.
    pub stats: bool,
    /// Text or JSON; progress bars on a terminal in text mode.
    pub out: OutputArg,
}

/// Runs the command and returns its report and whether the engines agreed.
pub fn run(args: &PcapRun<'_>) -> Result<(String, bool), String> {
    let (object, section, pcap, engine) = (args.object, args.section, args.pcap, args.engine);
    let stats = args.stats;
    let packets = read_packets(pcap)?;
    let opts = RunOptions {
        budget: args.budget,
    };
    let (set, types) = load(object, section, args.prog_type.as_ref())?;
    if args.out.json() {
        return run_json(args, &set, &types, &packets, &opts);
    }
    let lp = set.entry();
    let mut out = format!(
        "program {} ({} program, section {}) of {}: {} packets from {}\n",
        lp.name(),
        lp.prog_type().name,
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
            let r = run_engine(&set, e, &packets, &opts, args.out)?;
            out.push_str(&summary(&r, &types, packets.len()));
            write_report(&r, args.write, &mut out)?;
            if stats {
                out.push_str(&stats_lines(&r, packets.len()));
            }
            Ok((out, true))
        }
        EngineChoice::Both => {
            let a = run_engine(&set, EngineKind::Interpreter, &packets, &opts, args.out)?;
            // A second, independent load: the JIT gets its own maps.
            let (set2, _) = load(object, section, args.prog_type.as_ref())?;
            let b = run_engine(&set2, EngineKind::Jit, &packets, &opts, args.out)?;
            out.push_str(&summary(&b, &types, packets.len()));
            write_report(&b, args.write, &mut out)?;
            let secs = a.elapsed.as_secs_f64();
            let _ = writeln!(
                out,
                "engine interpreter: {} packets in {:.3} ms ({:.0} packets/s)",
                packets.len(),
                secs * 1e3,
                packets.len() as f64 / secs.max(1e-9)
            );
            if stats {
                out.push_str(&stats_lines(&b, packets.len()));
                out.push_str(&stats_lines(&a, packets.len()));
            }
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

/// With `-w`: writes the passing packets and says how many.
fn write_report(r: &Report, path: Option<&Path>, out: &mut String) -> Result<(), String> {
    if let Some(path) = path {
        let n = write_passed(r, path)?;
        let _ = writeln!(out, "wrote {n} packets to {}", path.display());
    }
    Ok(())
}

/// `cranebpf run --pcap --output json` (docs/json.md): the engines' runs,
/// printed as one document; the same work as the text report.
fn run_json(
    args: &PcapRun<'_>,
    set: &ProgramSet,
    types: &Types,
    packets: &[Vec<u8>],
    opts: &RunOptions,
) -> Result<(String, bool), String> {
    let mut reports = Vec::new();
    if matches!(args.engine, EngineChoice::Interp | EngineChoice::Both) {
        reports.push(run_engine(
            set,
            EngineKind::Interpreter,
            packets,
            opts,
            args.out,
        )?);
    }
    if matches!(args.engine, EngineChoice::Jit | EngineChoice::Both) {
        // Both: a second, independent load, so the JIT gets its own maps.
        let (set2, _) = load(args.object, args.section, args.prog_type.as_ref())?;
        let set = if args.engine == EngineChoice::Both {
            &set2
        } else {
            set
        };
        reports.push(run_engine(set, EngineKind::Jit, packets, opts, args.out)?);
    }
    let differences = match &reports[..] {
        [a, b] => compare(a, b),
        _ => Vec::new(),
    };
    let last = reports.last().ok_or("no engine ran")?;
    let written = match args.write {
        Some(path) => Some(WrittenJson {
            path: path.display().to_string(),
            packets: write_passed(last, path)?,
        }),
        None => None,
    };
    let lp = set.entry();
    let doc = PcapJson {
        mode: "pcap",
        object: args.object.display().to_string(),
        program: lp.name().to_string(),
        section: lp.section().to_string(),
        program_type: lp.prog_type().name.to_string(),
        capture: args.pcap.display().to_string(),
        packets: packets.len(),
        engines: reports.iter().map(|r| engine_json(r, args.stats)).collect(),
        maps: maps_json(&last.maps, types),
        agree: differences.is_empty(),
        differences,
        written,
    };
    print_json("run", &doc);
    Ok((String::new(), doc.agree))
}

/// `run --pcap` in JSON.
#[derive(serde::Serialize)]
struct PcapJson {
    mode: &'static str,
    object: String,
    program: String,
    section: String,
    program_type: String,
    capture: String,
    packets: usize,
    /// The interpreter first, then the JIT.
    engines: Vec<PcapEngineJson>,
    /// The maps after the run (of the JIT's load with both engines).
    maps: Vec<MapJson>,
    agree: bool,
    differences: Vec<String>,
    written: Option<WrittenJson>,
}

#[derive(serde::Serialize)]
struct WrittenJson {
    path: String,
    packets: usize,
}

/// One engine over the capture.
#[derive(serde::Serialize)]
struct PcapEngineJson {
    engine: &'static str,
    /// Verdict label (`XDP_PASS`, `TC_ACT_OK`, `kept whole`, …) to count,
    /// every label of the program type present; faults apart.
    verdicts: std::collections::BTreeMap<&'static str, usize>,
    faults: usize,
    first_fault: Option<FirstFault>,
    elapsed_ns: u128,
    packets_per_second: f64,
    /// With --stats.
    prepare_ns: Option<u128>,
    first_result_ns: Option<u128>,
}

#[derive(serde::Serialize)]
struct FirstFault {
    packet: usize,
    message: String,
}

/// A map's contents: arrays list their non-zero entries.
#[derive(serde::Serialize)]
struct MapJson {
    name: String,
    #[serde(rename = "type")]
    map_type: &'static str,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    /// Entries the map holds (ring buffer: records waiting).
    len: usize,
    entries: Vec<EntryJson>,
}

/// A key and value as hex bytes, and as bpftool shows them from the
/// object's BTF (null without BTF).
#[derive(serde::Serialize)]
struct EntryJson {
    key: String,
    value: String,
    key_typed: Option<String>,
    value_typed: Option<String>,
}

fn engine_json(r: &Report, stats: bool) -> PcapEngineJson {
    let mut verdicts: std::collections::BTreeMap<&'static str, usize> =
        labels(r.driver).into_iter().map(|l| (l, 0)).collect();
    let mut faults = 0;
    let mut first_fault = None;
    for (i, (v, _)) in r.results.iter().enumerate() {
        match v {
            Ok(v) => *verdicts.entry(v.label()).or_default() += 1,
            Err(e) => {
                faults += 1;
                first_fault.get_or_insert_with(|| FirstFault {
                    packet: i,
                    message: e.to_string(),
                });
            }
        }
    }
    let secs = r.elapsed.as_secs_f64();
    PcapEngineJson {
        engine: r.engine,
        verdicts,
        faults,
        first_fault,
        elapsed_ns: r.elapsed.as_nanos(),
        packets_per_second: if secs > 0.0 {
            r.results.len() as f64 / secs
        } else {
            0.0
        },
        prepare_ns: stats.then(|| r.prepare.as_nanos()),
        first_result_ns: stats.then(|| r.first_result.as_nanos()),
    }
}

fn maps_json(maps: &[Map], types: &Types) -> Vec<MapJson> {
    maps.iter()
        .map(|m| {
            let d = m.def();
            let t = types.get(m.name());
            let entries = m
                .entries()
                .into_iter()
                .filter(|(_, v)| {
                    !matches!(d.map_type, MapType::Array | MapType::PerCpuArray)
                        || v.iter().any(|&b| b != 0)
                })
                .map(|(k, v)| EntryJson {
                    key_typed: t.map(|t| t.key.format(&k)),
                    value_typed: t.map(|t| t.value.format(&v)),
                    key: to_hex(&k),
                    value: to_hex(&v),
                })
                .collect();
            MapJson {
                name: m.name().to_string(),
                map_type: type_name(d.map_type),
                key_size: d.key_size,
                value_size: d.value_size,
                max_entries: d.max_entries,
                len: m.len(),
                entries,
            }
        })
        .collect()
}
