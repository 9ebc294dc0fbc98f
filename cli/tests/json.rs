//! `--output json` of `run`, `verify`, `filter`, `difftest` and `bench`:
//! each test runs the binary, parses stdout with serde_json (so nothing
//! else may be printed there) and checks the fields against values worked
//! out independently (the firewall model, tcpdump's counts, the text
//! output).

use cranebpf_testkit::{models, packets};
use serde_json::Value;
use std::process::Output;

#[path = "common/cli_run.rs"]
mod cli_run;
use cli_run::{cranebpf, example};

fn temp_file(name: &str, text: &str) -> String {
    cli_run::temp_file("json", name, text)
}

/// stdout as one JSON document of `command` at schema version 1.
fn doc(out: &Output, command: &str) -> Value {
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{text}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(v["schema_version"], 1, "{v}");
    assert_eq!(v["command"], command, "{v}");
    v
}

#[test]
fn run_json_gives_r0_instructions_and_faults_by_kind_and_pc() {
    let prog = temp_file("ok.s", "mov %r0, 7\nadd %r0, 35\nexit\n");
    let out = cranebpf(&["run", &prog, "--engine", "both", "--output", "json"]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "run");
    assert_eq!(v["mode"], "program");
    assert_eq!(v["agree"], true);
    let engines = v["engines"].as_array().expect("engines");
    assert_eq!(engines.len(), 2, "{v}");
    assert_eq!(engines[0]["engine"], "interpreter");
    assert_eq!(engines[1]["engine"], "jit");
    for e in engines {
        assert_eq!(e["r0"], 42, "{v}");
        assert_eq!(e["instructions"], 3, "{v}");
        assert!(e["fault"].is_null(), "{v}");
    }

    let bad = temp_file("oob.s", "mov %r0, 0\nldxdw %r0, [%r0+16]\nexit\n");
    let out = cranebpf(&["run", &bad, "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v = doc(&out, "run");
    let f = &v["engines"][0]["fault"];
    assert_eq!(f["kind"], "out_of_bounds", "{v}");
    assert_eq!(f["pc"], 1, "{v}");
    assert!(v["engines"][0]["r0"].is_null(), "{v}");
}

#[test]
fn json_errors_are_json_on_stdout_with_a_non_zero_exit() {
    let out = cranebpf(&["run", "/nonexistent/prog.s", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v = doc(&out, "run");
    let msg = v["error"]["message"].as_str().expect("a message");
    assert!(msg.contains("/nonexistent/prog.s"), "{msg}");
    // A command line clap refuses.
    let out = cranebpf(&["verify", "--no-such-flag", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v = doc(&out, "verify");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("--no-such-flag")),
        "{v}"
    );
}

#[test]
fn run_pcap_json_counts_verdicts_like_the_model_and_dumps_typed_maps() {
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/firewall.o"),
        "--section",
        "xdp",
        "--engine",
        "both",
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "run");
    assert_eq!(v["mode"], "pcap");
    assert_eq!(v["agree"], true, "{v}");
    assert_eq!(v["program_type"], "xdp", "{v}");
    let mut model = models::Firewall::new();
    let mut counts = [0u64; 5];
    let all = packets::packets();
    for p in &all {
        counts[model.run(p) as usize] += 1;
    }
    assert_eq!(v["packets"], all.len(), "{v}");
    let names = [
        "XDP_ABORTED",
        "XDP_DROP",
        "XDP_PASS",
        "XDP_TX",
        "XDP_REDIRECT",
    ];
    for e in v["engines"].as_array().expect("engines") {
        for (name, n) in names.iter().zip(counts) {
            assert_eq!(e["verdicts"][name], n, "{name}: {v}");
        }
        assert_eq!(e["faults"], 0);
    }
    let maps = v["maps"].as_array().expect("maps");
    let with_entries = maps
        .iter()
        .find(|m| !m["entries"].as_array().is_some_and(|e| e.is_empty()))
        .expect("a map with entries");
    let entry = &with_entries["entries"][0];
    assert!(entry["key"].as_str().is_some_and(|k| !k.is_empty()), "{v}");
    assert!(
        entry["value_typed"]
            .as_str()
            .is_some_and(|t| t.contains('=')),
        "BTF-typed value: {v}"
    );
}

#[test]
fn verify_json_counts_proven_accesses_and_lists_the_unproven() {
    let out = cranebpf(&[
        "verify",
        &example("examples/bpf/firewall.o"),
        "--strict",
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "verify");
    assert_eq!(v["accepted"], true);
    let p = &v["programs"][0];
    assert_eq!(p["name"], "xdp_firewall", "{v}");
    assert_eq!(p["mode"], "strict");
    assert_eq!(p["accesses_proven"], 29, "{v}");
    assert_eq!(p["accesses_total"], 29, "{v}");

    let prog = temp_file("verify_oob.s", "stdw [%r10-520], 1\nmov %r0, 0\nexit\n");
    let out = cranebpf(&["verify", &prog, "--strict", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v = doc(&out, "verify");
    assert_eq!(v["accepted"], false);
    let err = v["programs"][0]["error"].as_str().expect("why refused");
    assert!(err.contains("outside the frame"), "{err}");

    let out = cranebpf(&["verify", &prog, "--output", "json"]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "verify");
    let p = &v["programs"][0];
    assert_eq!(
        (p["accesses_proven"].as_u64(), p["accesses_total"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(p["unproven_accesses"][0]["pc"], 0, "{v}");
}

#[test]
fn filter_json_counts_matches_per_engine_as_tcpdump_does() {
    // tcpdump -r examples/pcap/mixed.pcap 'udp port 53' prints 29 packets.
    let out = cranebpf(&[
        "filter",
        "udp port 53",
        &example("examples/pcap/mixed.pcap"),
        "--engine",
        "all",
        "-d",
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "filter");
    assert_eq!(v["packets"], 240);
    assert_eq!(v["agree"], true);
    let names: Vec<&str> = v["engines"]
        .as_array()
        .expect("engines")
        .iter()
        .map(|e| {
            assert_eq!(e["matched"], 29, "{v}");
            e["engine"].as_str().unwrap_or("")
        })
        .collect();
    assert_eq!(names, ["jit", "interp", "libpcap"]);
    assert!(v["engines"][2]["prepare_ns"].is_null(), "libpcap: {v}");
    let d = v["disassembly"].as_array().expect("-d lines");
    assert_eq!(
        d.len(),
        v["filter_instructions"].as_u64().unwrap_or(0) as usize
    );
    assert_eq!(d[0], "(000) ldh      [12]", "{v}");
}

#[test]
fn difftest_json_summarises_each_engine_and_its_bug_classes() {
    let out = cranebpf(&[
        "difftest", "run", "--count", "40", "--seed", "1", "--output", "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "difftest");
    assert_eq!(
        (v["seed"].as_u64(), v["count"].as_u64()),
        (Some(1), Some(40))
    );
    assert_eq!(v["agree"], true);
    assert_eq!(v["reference"], "interp", "{v}");
    let e = &v["engines"][0];
    assert_eq!(e["programs"], 40, "{v}");
    let sum = ["exits", "faults", "budget", "load_errors"]
        .iter()
        .map(|k| e[k].as_u64().unwrap_or(0))
        .sum::<u64>();
    assert_eq!(sum, 40, "every case ends one way: {v}");

    let out = cranebpf(&[
        "difftest",
        "run",
        "--count",
        "300",
        "--seed",
        "1",
        "--target",
        "mutant-mov32",
        "--max-reports",
        "1",
        "--shrink-tries",
        "50",
        "--output",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v = doc(&out, "difftest");
    assert_eq!(v["agree"], false);
    let e = &v["engines"][0];
    assert!(e["divergences"].as_u64().is_some_and(|n| n > 0), "{v}");
    let first = &e["classes"][0]["first"];
    assert!(
        first["program"]
            .as_str()
            .is_some_and(|p| p.contains("exit")),
        "{v}"
    );
    assert!(first["instructions"].as_u64() <= first["original_instructions"].as_u64());

    let out = cranebpf(&["difftest", "case", "--seed", "3", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(doc(&out, "difftest")["error"]["message"].is_string());
}

#[cfg(not(feature = "bench"))]
#[test]
fn bench_json_without_the_feature_is_a_json_error() {
    let out = cranebpf(&["bench", "--quick", "--output", "json"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let v = doc(&out, "bench");
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert!(msg.contains("--features bench"), "{v}");
}

#[cfg(feature = "bench")]
#[test]
fn bench_json_gives_every_cell_with_its_figures() {
    let svg = temp_file("bench.svg", "");
    let out = cranebpf(&[
        "bench",
        "--quick",
        "--filter",
        "log2,v3",
        "--no-compile",
        "--svg",
        &svg,
        "--output",
        "json",
    ]);
    assert!(out.status.success(), "{out:?}");
    let v = doc(&out, "bench");
    assert!(v["compile"].is_null(), "{v}");
    let cells = v["run"].as_array().expect("run cells");
    assert!(!cells.is_empty());
    for c in cells {
        assert_eq!(c["cpu"], "v3", "{c}");
        assert!(
            c["workload"].as_str().is_some_and(|w| w.contains("log2")),
            "{c}"
        );
        if c["error"].is_null() {
            let (min, med, max) = (
                c["min_ns"].as_f64().unwrap_or(-1.0),
                c["median_ns"].as_f64().unwrap_or(-1.0),
                c["max_ns"].as_f64().unwrap_or(-1.0),
            );
            assert!(0.0 < min && min <= med && med <= max, "{c}");
        }
    }
    let jit = cells.iter().find(|c| c["engine"] == "cranebpf-jit");
    assert!(jit.is_some_and(|c| c["error"].is_null()), "{v}");
}

/// `cranebpf seccomp --syscalls` reads a JSON list of records (objects or
/// arrays) exactly as the text trace it was written from.
#[test]
fn seccomp_reads_a_json_trace_as_its_text_form() {
    let filter = example("examples/seccomp/docker-like.bpf");
    let trace = example("examples/seccomp/trace.txt");
    let text = std::fs::read_to_string(&trace).expect("the example trace");
    let mut records = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line
            .split('#')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let [nr, arch, args @ ..] = &fields[..] else {
            continue;
        };
        let nr: u64 = nr.parse().expect("a decimal number");
        // Alternate the two record forms; numbers as JSON numbers or strings.
        records.push(if i % 2 == 0 {
            serde_json::json!({ "nr": nr, "arch": arch, "args": args })
        } else {
            let mut a = vec![serde_json::json!(nr), serde_json::json!(arch)];
            a.extend(args.iter().map(|s| serde_json::json!(s)));
            Value::Array(a)
        });
    }
    let json = temp_file("trace.json", &Value::Array(records).to_string());
    let by_text = cranebpf(&[
        "seccomp",
        &filter,
        "--syscalls",
        &trace,
        "--engine",
        "interp",
    ]);
    let by_json = cranebpf(&[
        "seccomp",
        &filter,
        "--syscalls",
        &json,
        "--engine",
        "interp",
    ]);
    assert!(by_json.status.success(), "{by_json:?}");
    let records = |o: &Output| -> Vec<String> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with('#') || l.starts_with("summary"))
            .map(String::from)
            .collect()
    };
    assert_eq!(records(&by_json), records(&by_text));
    assert_eq!(records(&by_json).len(), 11, "10 records and the summary");

    let bad = temp_file("bad.json", r#"[{"nr": 39}, {"nr": 39, "arch": "sparc"}]"#);
    let out = cranebpf(&["seccomp", &filter, "--syscalls", &bad]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("record 1") && err.contains("`sparc` is not an architecture"),
        "{err}"
    );
}
