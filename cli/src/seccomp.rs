//! `cranebpf seccomp FILTER --syscalls TRACE [--engine jit|interp|both]`:
//! evaluates a seccomp filter (raw `sock_filter` bytes as
//! `seccomp_export_bpf` writes them, or `tcpdump -dd`/`-ddd` text) for each
//! system call record of a trace and prints the action per record and a
//! summary with the time per evaluation.
//!
//! A trace is text, one record per line: `NR ARCH [ARG...]`, with up to six
//! arguments; ARCH is `x86_64`, `aarch64`, `i386`, `riscv64`, `native` or
//! an `AUDIT_ARCH_*` number. Numbers are decimal or `0x` hex; `#` starts a
//! comment. A trace that starts with `[` is a JSON list of records instead,
//! each an object `{"nr": 1, "arch": "x86_64", "args": [1, "0x10"],
//! "instruction_pointer": 4096}` (arch defaults to `native`, args and
//! instruction_pointer to 0) or an array in the text order
//! `[1, "x86_64", 1, "0x10"]`; numbers may be JSON numbers or strings. With `--engine both` the engines are compared record by record
//! (a difference exits with status 3).

use crate::input::{read_capped, read_text, MAX_PROGRAM_BYTES};
use crate::CliError;
use clap::{Args, ValueEnum};
use cranebpf::filter::text;
use cranebpf::seccomp::{host_audit_arch, SeccompAction, SeccompData, SeccompFilter};
use cranebpf::EngineKind;
use cranebpf_runtime::seccomp::{
    AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_RISCV64, AUDIT_ARCH_X86_64,
};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `cranebpf seccomp` arguments.
#[derive(Args)]
pub struct SeccompArgs {
    /// The filter: raw struct sock_filter bytes, or tcpdump -dd/-ddd text.
    filter: PathBuf,
    /// The system call records (see `cranebpf seccomp --help`).
    #[arg(long, value_name = "TRACE")]
    syscalls: PathBuf,
    /// Which engines evaluate the filter; `both` compares them.
    #[arg(long, value_enum, default_value = "jit")]
    engine: Engines,
    /// Evaluate the trace this many times (for steadier timings).
    #[arg(long, default_value_t = 1)]
    repeat: u32,
    /// Print only the summary, not each record.
    #[arg(short, long)]
    quiet: bool,
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
}

/// One engine's results and timing.
struct Pass {
    name: &'static str,
    results: Vec<u32>,
    elapsed: Duration,
    prepare: Duration,
}

/// Runs the subcommand.
pub fn run(a: SeccompArgs) -> Result<ExitCode, CliError> {
    let filters = read_filter(&a.filter)?;
    let records = read_trace(&a.syscalls)?;
    let kinds = match a.engine {
        Engines::Jit => vec![EngineKind::Jit],
        Engines::Interp => vec![EngineKind::Interpreter],
        Engines::Both => vec![EngineKind::Jit, EngineKind::Interpreter],
    };
    let mut passes = Vec::new();
    for kind in kinds {
        passes.push(evaluate(&filters, kind, &records, a.repeat.max(1))?);
    }
    if !a.quiet {
        for (i, (r, ret)) in records.iter().zip(&passes[0].results).enumerate() {
            println!(
                "#{} nr={} arch={} args={} -> {}",
                i + 1,
                r.nr,
                arch_name(r.arch),
                args_text(&r.args),
                SeccompAction::from_ret(*ret)
            );
        }
    }
    summary(filters.len(), &records, &passes, a.repeat.max(1));
    Ok(compare(&passes))
}

/// Raw bytes, or text if the file reads as tcpdump -dd/-ddd.
fn read_filter(path: &Path) -> Result<Vec<cranebpf::filter::SockFilter>, CliError> {
    let bytes = read_capped(path, MAX_PROGRAM_BYTES, "a seccomp filter")?;
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

/// The records of a trace file.
fn read_trace(path: &Path) -> Result<Vec<SeccompData>, CliError> {
    let t = read_text(path)?;
    if t.trim_start().starts_with('[') {
        return read_json_trace(&t).map_err(|e| CliError(format!("{}: {e}", path.display())));
    }
    let mut out = Vec::new();
    for (n, line) in t.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let rec = parse_record(line)
            .map_err(|e| CliError(format!("{}: line {}: {e}", path.display(), n + 1)))?;
        out.push(rec);
    }
    Ok(out)
}

/// A JSON trace: a list of records, objects or arrays (module docs).
fn read_json_trace(t: &str) -> Result<Vec<SeccompData>, String> {
    let v: serde_json::Value =
        serde_json::from_str(t).map_err(|e| format!("not a JSON trace: {e}"))?;
    let list = v.as_array().ok_or("a JSON trace is a list of records")?;
    list.iter()
        .enumerate()
        .map(|(i, r)| json_record(r).map_err(|e| format!("record {i} ({r}): {e}")))
        .collect()
}

/// One JSON record, read through the text form's rules.
fn json_record(r: &serde_json::Value) -> Result<SeccompData, String> {
    use serde_json::Value;
    let text = |v: &Value| match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => Ok(s.clone()),
        other => Err(format!("`{other}` is not a number or a string")),
    };
    let fields: Vec<String> = match r {
        Value::Array(a) => a.iter().map(text).collect::<Result<_, _>>()?,
        Value::Object(o) => {
            let known = ["nr", "arch", "args", "instruction_pointer"];
            if let Some(k) = o.keys().find(|k| !known.contains(&k.as_str())) {
                return Err(format!("unknown field `{k}` (known: {})", known.join(", ")));
            }
            let nr = o.get("nr").ok_or("no `nr`")?;
            let mut f = vec![text(nr)?];
            f.push(o.get("arch").map_or(Ok("native".into()), text)?);
            match o.get("args") {
                None => {}
                Some(Value::Array(a)) => {
                    for x in a {
                        f.push(text(x)?);
                    }
                }
                Some(other) => return Err(format!("`args` is `{other}`, not a list")),
            }
            let mut data = parse_fields(&f)?;
            if let Some(ip) = o.get("instruction_pointer") {
                let t = text(ip)?;
                data.instruction_pointer =
                    number(&t).ok_or_else(|| format!("`{t}` is not a number"))?;
            }
            return Ok(data);
        }
        other => return Err(format!("`{other}` is not an object or a list")),
    };
    parse_fields(&fields)
}

/// `NR ARCH [ARG...]`.
fn parse_record(line: &str) -> Result<SeccompData, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    parse_fields(&fields)
}

/// The fields of a record: `NR ARCH [ARG...]`.
fn parse_fields<S: AsRef<str>>(fields: &[S]) -> Result<SeccompData, String> {
    let fields: Vec<&str> = fields.iter().map(AsRef::as_ref).collect();
    let [nr, arch, args @ ..] = &fields[..] else {
        return Err("expected `NR ARCH [ARG...]`".into());
    };
    if args.len() > 6 {
        return Err(format!("{} arguments (at most 6)", args.len()));
    }
    let nr = number(nr).and_then(|v| {
        i32::try_from(v as i64)
            .ok()
            .or_else(|| u32::try_from(v).ok().map(|u| u as i32))
    });
    let nr = nr.ok_or_else(|| format!("`{}` is not a system call number", fields[0]))?;
    let arch = match *arch {
        "x86_64" => AUDIT_ARCH_X86_64,
        "aarch64" => AUDIT_ARCH_AARCH64,
        "i386" => AUDIT_ARCH_I386,
        "riscv64" => AUDIT_ARCH_RISCV64,
        "native" => host_audit_arch(),
        a => number(a)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| format!("`{a}` is not an architecture (x86_64, aarch64, i386, riscv64, native or a number)"))?,
    };
    let mut data = SeccompData::new(nr, [0; 6]);
    data.arch = arch;
    for (slot, a) in data.args.iter_mut().zip(args) {
        *slot = number(a).ok_or_else(|| format!("`{a}` is not a number"))?;
    }
    Ok(data)
}

/// Decimal or `0x` hex, as u64.
fn number(s: &str) -> Option<u64> {
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn arch_name(arch: u32) -> String {
    match arch {
        AUDIT_ARCH_X86_64 => "x86_64".into(),
        AUDIT_ARCH_AARCH64 => "aarch64".into(),
        AUDIT_ARCH_I386 => "i386".into(),
        AUDIT_ARCH_RISCV64 => "riscv64".into(),
        a => format!("{a:#x}"),
    }
}

fn args_text(args: &[u64; 6]) -> String {
    let used = args.iter().rposition(|&a| a != 0).map_or(0, |i| i + 1);
    let parts: Vec<String> = args[..used].iter().map(|a| format!("{a:#x}")).collect();
    format!("[{}]", parts.join(","))
}

/// One engine over every record, `repeat` times.
fn evaluate(
    filters: &[cranebpf::filter::SockFilter],
    kind: EngineKind,
    records: &[SeccompData],
    repeat: u32,
) -> Result<Pass, CliError> {
    let t = Instant::now();
    let mut f = SeccompFilter::new(filters.to_vec(), kind)?;
    let prepare = t.elapsed();
    let mut results = Vec::with_capacity(records.len());
    let start = Instant::now();
    for _ in 0..repeat {
        results.clear();
        f.evaluate_batch_raw(records, &mut results)
            .map_err(|e| CliError(format!("engine fault (a cranebpf bug): {e}")))?;
    }
    Ok(Pass {
        name: match kind {
            EngineKind::Jit => "jit",
            EngineKind::Interpreter => "interp",
        },
        results,
        elapsed: start.elapsed(),
        prepare,
    })
}

/// Actions by count, and the time per evaluation of each engine.
fn summary(insns: usize, records: &[SeccompData], passes: &[Pass], repeat: u32) {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &passes[0].results {
        *counts
            .entry(SeccompAction::from_ret(*r).name())
            .or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "summary: {} records ({insns} cBPF instructions): {}",
        records.len(),
        counts.join(", ")
    );
    let evals = records.len() as f64 * repeat as f64;
    for p in passes {
        let ns = if evals > 0.0 {
            p.elapsed.as_secs_f64() * 1e9 / evals
        } else {
            0.0
        };
        println!(
            "{:<7} {ns:.1} ns per evaluated system call, prepared in {:.1} us",
            format!("{}:", p.name),
            p.prepare.as_secs_f64() * 1e6
        );
    }
}

/// Exit 3 if the engines disagree on any record.
fn compare(passes: &[Pass]) -> ExitCode {
    let mut differ = false;
    for p in &passes[1..] {
        for (i, (a, b)) in passes[0].results.iter().zip(&p.results).enumerate() {
            if a != b {
                differ = true;
                println!(
                    "DIFFERENCE at record {}: {} {a:#x}, {} {b:#x}",
                    i + 1,
                    passes[0].name,
                    p.name
                );
            }
        }
    }
    if differ {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
