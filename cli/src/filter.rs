//! `cranebpf filter EXPRESSION CAPTURE [-w OUT] [--engine E] [--cbpf FILE]`:
//! runs a tcpdump filter over a capture with cranebpf's engines (and, on
//! request, libpcap's own interpreter), prints the match count and the
//! packets per second, and with `-w` writes the matching packets as
//! `tcpdump -r CAPTURE -w OUT EXPRESSION` does.
//!
//! The expression is compiled by libpcap itself (for the capture's link
//! type, optimised, as tcpdump does); `--cbpf FILE` reads a filter from
//! `tcpdump -dd`/`-ddd` text or raw `sock_filter` bytes instead. The filter
//! is checked and translated to eBPF (`cranebpf::filter`). Several engines
//! are compared packet by packet; a difference is reported and exits with
//! status 3.

use crate::input::{read_capped, MAX_PCAP_BYTES, MAX_PROGRAM_BYTES};
use crate::libpcap::{self, LibpcapFilter};
use crate::output::{print_json, progress, OutputArg, PROGRESS_CHUNK};
use crate::CliError;
use clap::{Args, ValueEnum};
use cranebpf::filter::{disassemble, text, PacketFilter, SockFilter};
use cranebpf::EngineKind;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `cranebpf filter` arguments.
#[derive(Args)]
pub struct FilterArgs {
    /// The tcpdump expression and the capture (pcap or pcapng), or only the
    /// capture with --cbpf.
    #[arg(value_name = "EXPRESSION CAPTURE", num_args = 1..=2, required = true)]
    args: Vec<String>,
    /// Read the filter from this file (tcpdump -dd or -ddd text, or raw
    /// struct sock_filter bytes) instead of compiling an expression.
    #[arg(long, value_name = "FILE")]
    cbpf: Option<PathBuf>,
    /// Write the matching packets to this pcap file.
    #[arg(short = 'w', value_name = "OUT")]
    write: Option<PathBuf>,
    /// Which engines run the filter; several are compared.
    #[arg(long, value_enum, default_value = "jit")]
    engine: Engines,
    /// Pass over the capture this many times (for steadier packets/s).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Print the filter as `tcpdump -d` does, then the results.
    #[arg(short = 'd', long)]
    print: bool,
    #[command(flatten)]
    pub out: OutputArg,
}

/// `--engine`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Engines {
    /// The Cranelift JIT.
    Jit,
    /// The reference interpreter.
    Interp,
    /// Both, compared.
    Both,
    /// libpcap's `bpf_filter` interpreter.
    Libpcap,
    /// The JIT, the interpreter and libpcap, compared.
    All,
}

/// A capture in memory.
pub(crate) struct Capture {
    linktype: u32,
    snaplen: u32,
    packets: Vec<Packet>,
}

struct Packet {
    timestamp: Duration,
    wire_len: u32,
    data: Vec<u8>,
}

/// One engine's pass: verdicts (the filter's result per packet) and timing.
struct Pass {
    name: &'static str,
    verdicts: Vec<u32>,
    elapsed: Duration,
    prepare: Option<Duration>,
}

/// Runs the subcommand.
pub fn run(a: FilterArgs) -> Result<ExitCode, CliError> {
    let (expression, capture_path) = match (&a.cbpf, &a.args[..]) {
        (None, [e, c]) => (Some(e.as_str()), c),
        (Some(_), [c]) => (None, c),
        (None, _) => {
            return Err(CliError(
                "expected EXPRESSION CAPTURE (or --cbpf FILE CAPTURE)".into(),
            ))
        }
        (Some(_), _) => return Err(CliError("with --cbpf give only the CAPTURE".into())),
    };
    let capture = read_capture(Path::new(capture_path))?;
    let filters = match (&a.cbpf, expression) {
        (Some(path), _) => read_cbpf(path)?,
        (None, Some(e)) => libpcap::compile(e, capture.linktype).map_err(CliError)?,
        (None, None) => unreachable_args()?,
    };
    if a.print && !a.out.json() {
        print!("{}", disassemble(&filters));
    }
    let repeat = a.repeat.max(1);
    let mut passes = Vec::new();
    for engine in engines(a.engine) {
        passes.push(match engine {
            Some(kind) => run_cranebpf(&filters, kind, &capture, repeat, a.out)?,
            None => run_libpcap(&filters, &capture, repeat, a.out)?,
        });
    }
    if let Some(out) = &a.write {
        write_matches(out, &capture, &passes[0].verdicts)?;
    }
    let diffs = differences(&passes);
    if a.out.json() {
        print_json(
            "filter",
            &filter_json(&a, &filters, &capture, &passes, &diffs),
        );
    } else {
        report(&filters, &capture, &passes, repeat);
        for d in &diffs {
            println!(
                "DIFFERENCE at packet {}: {} returned {}, {} returned {}",
                d.packet, d.engine_a, d.verdict_a, d.engine_b, d.verdict_b
            );
        }
    }
    Ok(if diffs.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

fn unreachable_args() -> Result<Vec<SockFilter>, CliError> {
    Err(CliError(
        "no filter: give an EXPRESSION or --cbpf FILE".into(),
    ))
}

/// The engines of `--engine`, cranebpf's by kind and libpcap as `None`.
fn engines(e: Engines) -> Vec<Option<EngineKind>> {
    match e {
        Engines::Jit => vec![Some(EngineKind::Jit)],
        Engines::Interp => vec![Some(EngineKind::Interpreter)],
        Engines::Both => vec![Some(EngineKind::Jit), Some(EngineKind::Interpreter)],
        Engines::Libpcap => vec![None],
        Engines::All => vec![Some(EngineKind::Jit), Some(EngineKind::Interpreter), None],
    }
}

/// `--cbpf FILE`: tcpdump -dd/-ddd text, or raw bytes if it is not text.
fn read_cbpf(path: &Path) -> Result<Vec<SockFilter>, CliError> {
    let bytes = read_capped(path, MAX_PROGRAM_BYTES, "a cBPF filter (--cbpf)")?;
    let parsed = match std::str::from_utf8(&bytes) {
        Ok(t)
            if t.trim_start()
                .starts_with(|c: char| c == '{' || c.is_ascii_digit()) =>
        {
            text::from_text(t)
        }
        _ => text::from_bytes(&bytes),
    };
    parsed.map_err(|e| CliError(format!("{}: {e}", path.display())))
}

/// Reads a pcap or pcapng file (the link type of the first interface).
pub(crate) fn read_capture(path: &Path) -> Result<Capture, CliError> {
    let bytes = read_capped(path, MAX_PCAP_BYTES, "a packet capture")?;
    let bad = |e: pcap_file::PcapError| CliError(format!("{}: {e}", path.display()));
    let mut c = Capture {
        linktype: 1,
        snaplen: 65535,
        packets: Vec::new(),
    };
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = pcap_file::pcapng::PcapNgReader::new(&bytes[..]).map_err(bad)?;
        let mut first_if = true;
        while let Some(block) = r.next_block() {
            match block.map_err(bad)? {
                pcap_file::pcapng::Block::InterfaceDescription(i) if first_if => {
                    first_if = false;
                    c.linktype = u32::from(i.linktype);
                }
                pcap_file::pcapng::Block::EnhancedPacket(p) => c.packets.push(Packet {
                    timestamp: p.timestamp,
                    wire_len: p.original_len,
                    data: p.data.into_owned(),
                }),
                _ => {}
            }
        }
    } else {
        let mut r = pcap_file::pcap::PcapReader::new(&bytes[..]).map_err(bad)?;
        let h = r.header();
        c.linktype = u32::from(h.datalink);
        c.snaplen = h.snaplen;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(bad)?;
            c.packets.push(Packet {
                timestamp: p.timestamp,
                wire_len: p.orig_len,
                data: p.data.into_owned(),
            });
        }
    }
    Ok(c)
}

/// One engine of cranebpf over the capture.
fn run_cranebpf(
    filters: &[SockFilter],
    kind: EngineKind,
    capture: &Capture,
    repeat: u32,
    out: OutputArg,
) -> Result<Pass, CliError> {
    let name = match kind {
        EngineKind::Jit => "jit",
        EngineKind::Interpreter => "interp",
    };
    let t = Instant::now();
    let mut f = PacketFilter::new(filters.to_vec(), kind)?;
    let prepare = t.elapsed();
    let mut verdicts = Vec::with_capacity(capture.packets.len());
    let bar = progress(capture.packets.len() as u64 * u64::from(repeat), name, out);
    let start = Instant::now();
    for _ in 0..repeat {
        verdicts.clear();
        // One batch call per progress chunk: the filter's own batch path.
        for ps in capture.packets.chunks(PROGRESS_CHUNK) {
            f.run_batch(ps.iter().map(|p| (&p.data[..], p.wire_len)), &mut verdicts)
                .map_err(|e| CliError(format!("engine fault (a cranebpf bug): {e}")))?;
            bar.inc(ps.len() as u64);
        }
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    Ok(Pass {
        name,
        verdicts,
        elapsed,
        prepare: Some(prepare),
    })
}

/// libpcap's `bpf_filter` over the capture.
fn run_libpcap(
    filters: &[SockFilter],
    capture: &Capture,
    repeat: u32,
    out: OutputArg,
) -> Result<Pass, CliError> {
    let f = LibpcapFilter::new(filters)
        .ok_or_else(|| CliError("libpcap's bpf_validate refuses this filter".into()))?;
    let mut verdicts = vec![0; capture.packets.len()];
    let bar = progress(
        capture.packets.len() as u64 * u64::from(repeat),
        "libpcap",
        out,
    );
    let start = Instant::now();
    for _ in 0..repeat {
        for (vs, ps) in verdicts
            .chunks_mut(PROGRESS_CHUNK)
            .zip(capture.packets.chunks(PROGRESS_CHUNK))
        {
            for (v, p) in vs.iter_mut().zip(ps) {
                *v = f.run(&p.data, p.wire_len);
            }
            bar.inc(ps.len() as u64);
        }
    }
    let elapsed = start.elapsed();
    bar.finish_and_clear();
    Ok(Pass {
        name: "libpcap",
        verdicts,
        elapsed,
        prepare: None,
    })
}

/// The counts and speeds, one line per engine.
fn report(filters: &[SockFilter], capture: &Capture, passes: &[Pass], repeat: u32) {
    let n = capture.packets.len();
    println!(
        "filter: {} cBPF instructions; capture: {n} packets",
        filters.len()
    );
    let runs = n as f64 * repeat as f64;
    for p in passes {
        let matched = p.verdicts.iter().filter(|&&v| v != 0).count();
        let secs = p.elapsed.as_secs_f64();
        let (pps, ns) = if runs > 0.0 && secs > 0.0 {
            (runs / secs, secs * 1e9 / runs)
        } else {
            (0.0, 0.0)
        };
        let prep = p
            .prepare
            .map(|d| format!(", prepared in {:.1} us", d.as_secs_f64() * 1e6))
            .unwrap_or_default();
        println!(
            "{:<8} {matched} matched of {n}; {:.2} Mpackets/s ({ns:.1} ns/packet){prep}",
            format!("{}:", p.name),
            pps / 1e6
        );
    }
}

/// A packet on which two engines disagree.
#[derive(serde::Serialize)]
struct Difference {
    /// 1-based, as tcpdump numbers packets.
    packet: usize,
    engine_a: &'static str,
    verdict_a: u32,
    engine_b: &'static str,
    verdict_b: u32,
}

/// Every packet on which an engine disagrees with the first one.
fn differences(passes: &[Pass]) -> Vec<Difference> {
    let mut d = Vec::new();
    let Some((first, rest)) = passes.split_first() else {
        return d;
    };
    for p in rest {
        for (i, (a, b)) in first.verdicts.iter().zip(&p.verdicts).enumerate() {
            if a != b {
                d.push(Difference {
                    packet: i + 1,
                    engine_a: first.name,
                    verdict_a: *a,
                    engine_b: p.name,
                    verdict_b: *b,
                });
            }
        }
    }
    d
}

/// `cranebpf filter --output json` (docs/json.md).
#[derive(serde::Serialize)]
struct FilterJson<'a> {
    filter_instructions: usize,
    /// The filter as `tcpdump -d` prints it, one line per instruction
    /// (with -d; else null).
    disassembly: Option<Vec<String>>,
    linktype: u32,
    packets: usize,
    repeat: u32,
    engines: Vec<PassJson>,
    agree: bool,
    differences: &'a [Difference],
    /// With -w: where the matching packets went, and how many.
    written: Option<WrittenJson>,
}

#[derive(serde::Serialize)]
struct PassJson {
    engine: &'static str,
    matched: usize,
    elapsed_ns: u128,
    ns_per_packet: f64,
    packets_per_second: f64,
    /// Checking, translating and compiling (cranebpf engines only).
    prepare_ns: Option<u128>,
}

#[derive(serde::Serialize)]
struct WrittenJson {
    path: String,
    packets: usize,
}

fn filter_json<'a>(
    a: &FilterArgs,
    filters: &[SockFilter],
    capture: &Capture,
    passes: &[Pass],
    diffs: &'a [Difference],
) -> FilterJson<'a> {
    let repeat = a.repeat.max(1);
    let runs = capture.packets.len() as f64 * f64::from(repeat);
    let matched = |p: &Pass| p.verdicts.iter().filter(|&&v| v != 0).count();
    let engines = passes
        .iter()
        .map(|p| {
            let secs = p.elapsed.as_secs_f64();
            let ok = runs > 0.0 && secs > 0.0;
            PassJson {
                engine: p.name,
                matched: matched(p),
                elapsed_ns: p.elapsed.as_nanos(),
                ns_per_packet: if ok { secs * 1e9 / runs } else { 0.0 },
                packets_per_second: if ok { runs / secs } else { 0.0 },
                prepare_ns: p.prepare.map(|d| d.as_nanos()),
            }
        })
        .collect();
    FilterJson {
        filter_instructions: filters.len(),
        disassembly: a
            .print
            .then(|| disassemble(filters).lines().map(String::from).collect()),
        linktype: capture.linktype,
        packets: capture.packets.len(),
        repeat,
        engines,
        agree: diffs.is_empty(),
        differences: diffs,
        written: a.write.as_ref().map(|p| WrittenJson {
            path: p.display().to_string(),
            packets: passes.first().map_or(0, matched),
        }),
    }
}

/// `-w`: the packets with a nonzero verdict, as a pcap of the same link
/// type, snapshot length and timestamps.
fn write_matches(out: &Path, capture: &Capture, verdicts: &[u32]) -> Result<(), CliError> {
    let file =
        std::fs::File::create(out).map_err(|e| CliError(format!("{}: {e}", out.display())))?;
    let header = pcap_file::pcap::PcapHeader {
        datalink: pcap_file::DataLink::from(capture.linktype),
        snaplen: capture.snaplen,
        ..pcap_file::pcap::PcapHeader::default()
    };
    let bad = |e: pcap_file::PcapError| CliError(format!("{}: {e}", out.display()));
    let mut w = pcap_file::pcap::PcapWriter::with_header(std::io::BufWriter::new(file), header)
        .map_err(bad)?;
    for (p, v) in capture.packets.iter().zip(verdicts) {
        if *v != 0 {
            w.write_packet(&pcap_file::pcap::PcapPacket {
                timestamp: p.timestamp,
                orig_len: p.wire_len,
                data: Cow::Borrowed(&p.data),
            })
            .map_err(bad)?;
        }
    }
    Ok(())
}
