//! The `cranebpf` binary end to end: each test runs it from the system's
//! temporary folder (not the checkout), with files passed by absolute path.

use cranebpf_testkit::{models, packets};

use std::process::Output;

#[path = "common/cli_run.rs"]
mod cli_run;
use cli_run::{cranebpf, example};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A file in the temporary folder holding `text`, unique to this test.
fn temp_file(name: &str, text: &str) -> String {
    cli_run::temp_file("cli", name, text)
}

/// The command failed with status 2 and one `error: ...` line (no panic)
/// containing every one of `words`.
fn assert_one_error(out: &Output, words: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(!err.contains("panicked"), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].starts_with("error: "), "{err}");
    for w in words {
        assert!(lines[0].contains(w), "{w:?} not in {err}");
    }
}

#[test]
fn runs_the_main_job() {
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/firewall.o"),
        "--section",
        "xdp",
        "--engine",
        "both",
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let mut model = models::Firewall::new();
    let mut counts = [0usize; 5];
    for p in packets::packets() {
        counts[model.run(&p) as usize] += 1;
    }
    let names = [
        "XDP_ABORTED",
        "XDP_DROP",
        "XDP_PASS",
        "XDP_TX",
        "XDP_REDIRECT",
    ];
    for (name, n) in names.iter().zip(counts) {
        assert!(
            text.contains(&format!("  {name:<17} {n}\n")),
            "{name} {n} not in:\n{text}"
        );
    }
    assert!(text.contains("packets/s"), "{text}");
    assert!(text.contains("engines agree"), "{text}");
    let flows = format!(
        "flows (hash, key 16 B, value 16 B, max 1024): {} entries",
        model.flows.len()
    );
    assert!(text.contains(&flows), "{text}");
}

#[test]
fn runs_a_tail_calling_object_over_a_pcap() {
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/dispatch.o"),
        "--section",
        "xdp",
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "--engine",
        "both",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("program xdp_dispatch (xdp program, section xdp)"),
        "{text}"
    );
    assert!(text.contains("engines agree"), "{text}");
    let mut model = models::Dispatch::default();
    let mut counts = [0usize; 3];
    for p in packets::packets() {
        counts[model.run(&p) as usize] += 1;
    }
    for (name, n) in ["XDP_ABORTED", "XDP_DROP", "XDP_PASS"].iter().zip(counts) {
        assert!(
            text.lines()
                .any(|l| l.split_whitespace().eq([*name, &n.to_string()])),
            "{name} {n}:\n{text}"
        );
    }
}

#[test]
fn runs_the_readme_checksum_on_both_engines() {
    let out = cranebpf(&[
        "run",
        &example("examples/checksum.s"),
        "--engine",
        "both",
        "--mem",
        "45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    assert!(text.contains("engines agree"), "{text}");
}

/// The CLI's `disasm --native --target` and `clif --target`. Only where the
/// test binary runs natively: under qemu-user (no binfmt_misc) it cannot
/// start the CLI, a binary of the emulated architecture.
#[cfg(target_arch = "x86_64")]
#[test]
fn disasm_native_for_every_target() {
    let checksum = example("examples/checksum.s");
    for target in ["x86_64", "aarch64", "riscv64"] {
        for cmd in [&["disasm", "--native"][..], &["clif"][..]] {
            let out = cranebpf(&[cmd, &["--target", target, &checksum]].concat());
            let text = stdout(&out);
            assert!(out.status.success(), "{cmd:?} {target}: {out:?}");
            assert!(text.contains("function u0:0"), "{cmd:?} {target}");
            if cmd[0] == "disasm" {
                assert!(text.contains("ret"), "{target}: no ret in\n{text}");
            }
        }
    }
    let out = cranebpf(&["disasm", "--native", "--target", "sparc64", &checksum]);
    assert_one_error(&out, &["sparc64"]);
}

#[test]
fn asm_then_disasm_round_trips() {
    let src = temp_file("round.s", "mov %r0, 7\nexit\n");
    let bin = format!("{src}.bin");
    let out = cranebpf(&["asm", &src, "-o", &bin]);
    assert!(out.status.success(), "{out:?}");
    let out = cranebpf(&["disasm", &bin]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("exit"), "{}", stdout(&out));
}

#[test]
fn difftest_runs_in_process_from_any_folder() {
    let out = cranebpf(&[
        "difftest",
        "run",
        "--count",
        "50",
        "--seed",
        "1",
        "--no-progress",
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("50"), "{}", stdout(&out));
    let out = cranebpf(&["difftest", "case", "--seed", "3"]);
    assert!(out.status.success(), "{out:?}");
    assert!(stdout(&out).contains("# case seed 3"), "{}", stdout(&out));
}

#[test]
fn difftest_reports_a_planted_bug() {
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
        "--no-progress",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
}

#[test]
fn every_subcommand_has_help() {
    for cmd in [
        &["--help"][..],
        &["run", "--help"],
        &["asm", "--help"],
        &["disasm", "--help"],
        &["clif", "--help"],
        &["difftest", "--help"],
        &["difftest", "run", "--help"],
        &["difftest", "case", "--help"],
        &["difftest", "repro", "--help"],
        &["bench", "--help"],
    ] {
        let out = cranebpf(cmd);
        assert!(out.status.success(), "{cmd:?}: {out:?}");
        assert!(stdout(&out).contains("Usage"), "{cmd:?}: {}", stdout(&out));
    }
}

#[cfg(not(feature = "bench"))]
#[test]
fn bench_without_the_feature_says_how_to_enable_it() {
    let out = cranebpf(&["bench", "--quick"]);
    assert_one_error(&out, &["--features peers", "--features bench"]);
}

#[cfg(feature = "bench")]
#[test]
fn bench_runs_in_process_from_any_folder() {
    let svg = temp_file("bench.svg", "");
    let out = cranebpf(&[
        "bench",
        "--quick",
        "--filter",
        "log2,v3",
        "--no-compile",
        "--svg",
        &svg,
    ]);
    assert!(out.status.success(), "{}\n{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("## Run time"), "{}", stdout(&out));
    let chart = std::fs::read_to_string(&svg).unwrap_or_default();
    assert!(chart.contains("<svg"), "{chart}");
}

// Issue 17: command-line findings.

#[test]
fn mem_with_non_ascii_is_an_error_not_a_panic() {
    let prog = example("examples/checksum.s");
    for bad in ["aé0", "€€"] {
        let out = cranebpf(&["run", &prog, "--mem", bad]);
        assert_one_error(&out, &["--mem", "not a hex digit"]);
    }
}

#[test]
fn mem_with_signs_is_refused() {
    let prog = example("examples/checksum.s");
    let out = cranebpf(&["run", &prog, "--mem", "+1+2"]);
    assert_one_error(&out, &["--mem", "`+`"]);
}

#[test]
fn an_elf_object_without_pcap_says_what_to_pass() {
    let obj = example("examples/bpf/firewall.o");
    for cmd in ["run", "disasm"] {
        let out = cranebpf(&[cmd, &obj]);
        assert_one_error(&out, &["ELF object", "--pcap"]);
    }
}

#[test]
fn a_self_loop_stops_at_the_default_budget() {
    let prog = temp_file("loop.s", "mov %r0, 0\nloop:\nja loop\nexit\n");
    let out = cranebpf(&["run", &prog]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stdout(&out).contains("instruction budget of 100000000 exhausted"),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("default budget") && stderr(&out).contains("--budget unlimited"),
        "{}",
        stderr(&out)
    );
    let out = cranebpf(&["run", &prog, "--budget", "1000", "--engine", "both"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(stdout(&out).contains("budget of 1000"), "{}", stdout(&out));
    assert!(stdout(&out).contains("engines agree"), "{}", stdout(&out));
}

#[test]
fn budget_unlimited_is_accepted_and_junk_is_not() {
    let prog = example("examples/checksum.s");
    let out = cranebpf(&["run", &prog, "--budget", "unlimited"]);
    assert!(out.status.success(), "{out:?}");
    let out = cranebpf(&["run", &prog, "--budget", "lots"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("unlimited"), "{}", stderr(&out));
}

#[cfg(unix)]
#[test]
fn endless_inputs_are_refused_at_their_caps() {
    let checksum = example("examples/checksum.s");
    let firewall = example("examples/bpf/firewall.o");
    let cases: [(&[&str], &str); 4] = [
        (&["run", "/dev/zero"], "16 MiB"),
        (&["asm", "/dev/zero"], "16 MiB"),
        (&["run", &checksum, "--mem-file", "/dev/zero"], "64 MiB"),
        (&["run", &firewall, "--pcap", "/dev/zero"], "256 MiB"),
    ];
    for (args, cap) in cases {
        let out = cranebpf(args);
        assert_one_error(&out, &["/dev/zero", "larger than", cap]);
    }
}

#[test]
fn pcap_faults_agree_across_engines_whatever_their_addresses() {
    // Every packet faults out of bounds at the same pc; each engine runs on
    // its own copy of the packet, so the addresses differ but the engines
    // agree (issue 17: this was a false ENGINES DIFFER, exit 3).
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/hostile/unchecked.o"),
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "--engine",
        "both",
    ]);
    let text = stdout(&out);
    assert!(text.contains("engines agree"), "{text}\n{}", stderr(&out));
    assert!(text.contains("first fault: packet 0"), "{text}");
    assert!(text.contains("OutOfBounds"), "{text}");
}

#[test]
fn misaligned_atomics_agree_across_engines() {
    // An atomic add one byte into an 8-byte input: misaligned on both
    // engines, at different host addresses (issue 17: a false ENGINES DIFFER).
    for (size, insn) in [
        ("dw", "lock add [%r1+1], %r2"),
        ("w", "lock add32 [%r1+1], %r2"),
    ] {
        let prog = temp_file(
            &format!("misaligned_{size}.s"),
            &format!("mov %r2, 1\n{insn}\nmov %r0, 0\nexit\n"),
        );
        let out = cranebpf(&[
            "run",
            &prog,
            "--mem",
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
            "--engine",
            "both",
        ]);
        let text = stdout(&out);
        assert!(text.contains("misaligned"), "{text}\n{}", stderr(&out));
        assert!(text.contains("engines agree"), "{text}");
        assert_ne!(out.status.code(), Some(3), "{text}");
    }
}

#[test]
fn a_capture_with_a_16_mib_packet_names_the_packet_limit() {
    // A well-formed classic pcap with one 16 MiB packet: refused with a
    // message about the packet, not "Error reading bytes" as for a
    // truncated file.
    let len: u32 = 16 << 20;
    let mut pcap = Vec::new();
    pcap.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    pcap.extend_from_slice(&2u16.to_le_bytes());
    pcap.extend_from_slice(&4u16.to_le_bytes());
    pcap.extend_from_slice(&[0; 8]);
    pcap.extend_from_slice(&u32::MAX.to_le_bytes()); // snaplen
    pcap.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    pcap.extend_from_slice(&[0; 8]); // timestamp
    pcap.extend_from_slice(&len.to_le_bytes());
    pcap.extend_from_slice(&len.to_le_bytes());
    pcap.resize(pcap.len() + len as usize, 0);
    let path = std::env::temp_dir().join(format!("cranebpf-cli-{}-big.pcap", std::process::id()));
    std::fs::write(&path, &pcap).unwrap();
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/firewall.o"),
        "--pcap",
        path.to_str().unwrap(),
    ]);
    let _ = std::fs::remove_file(&path);
    assert_one_error(&out, &["packet 0", "16777216 bytes", "larger than 1 MiB"]);
}

#[test]
fn runs_a_tc_program_over_a_pcap_and_writes_what_passes() {
    let written = std::env::temp_dir().join(format!("cranebpf-cli-{}-tc.pcap", std::process::id()));
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/tc_rewrite.o"),
        "--section",
        "tc_dnat",
        "--engine",
        "both",
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "-w",
        &written.display().to_string(),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let results: Vec<_> = packets::packets()
        .iter()
        .map(|p| models::tc_dnat(p))
        .collect();
    for (name, v) in [("TC_ACT_OK", 0), ("TC_ACT_SHOT", 2), ("TC_ACT_REDIRECT", 7)] {
        let n = results.iter().filter(|r| r.0 == v).count();
        assert!(
            text.contains(&format!("  {name:<17} {n}\n")),
            "{name} {n} not in:\n{text}"
        );
    }
    assert!(text.contains("engines agree"), "{text}");
    let want: Vec<Vec<u8>> = results
        .into_iter()
        .filter(|r| r.0 != 2)
        .map(|r| r.1)
        .collect();
    let have = packets::read_pcap(&std::fs::read(&written).expect("-w wrote the file"));
    let _ = std::fs::remove_file(&written);
    assert_eq!(have, want);
}

#[test]
fn runs_a_socket_filter_and_refuses_unknown_types() {
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/sockfilter.o"),
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let mut model = models::SockFilter::default();
    let dropped = packets::packets()
        .iter()
        .filter(|f| {
            let meta = cranebpf_runtime::ctx::SkbMeta::from_frame(f);
            model.run(f.get(14..).unwrap_or(&[]), meta.protocol).0 == 0
        })
        .count();
    assert!(
        text.contains(&format!("  {:<17} {dropped}\n", "dropped")),
        "{text}"
    );
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/sockfilter.o"),
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "--type",
        "nonsense",
    ]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(stderr(&out).contains("unknown program type `nonsense`"));
}

#[test]
fn filter_counts_matches_on_every_engine_and_writes_them() {
    // tcpdump -r examples/pcap/mixed.pcap 'udp port 53' prints 29 packets.
    let pcap = example("examples/pcap/mixed.pcap");
    let out_path =
        std::env::temp_dir().join(format!("cranebpf-cli-{}-dns.pcap", std::process::id()));
    let out_str = out_path.display().to_string();
    let out = cranebpf(&[
        "filter",
        "udp port 53",
        &pcap,
        "--engine",
        "all",
        "-w",
        &out_str,
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    for engine in ["jit:", "interp:", "libpcap:"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(engine))
            .unwrap_or_else(|| panic!("{text}"));
        assert!(line.contains("29 matched of 240"), "{text}");
    }
    let written = std::fs::read(&out_path).expect("-w wrote a file");
    let mut r = pcap_file::pcap::PcapReader::new(&written[..]).expect("a pcap");
    let mut n = 0;
    while let Some(p) = r.next_packet() {
        p.expect("a packet");
        n += 1;
    }
    assert_eq!(n, 29);
    let _ = std::fs::remove_file(out_path);
}

#[test]
fn filter_reads_tcpdump_ddd_and_prints_tcpdump_d() {
    let pcap = example("examples/pcap/mixed.pcap");
    // tcpdump -ddd ip
    let ddd = temp_file(
        "ip.ddd",
        "4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n",
    );
    let out = cranebpf(&["filter", "--cbpf", &ddd, &pcap, "-d", "--engine", "both"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.starts_with("(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n"),
        "{text}"
    );
    let by_expr = stdout(&cranebpf(&["filter", "ip", &pcap]));
    let count = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("jit:"))
            .map(|l| l.split(" matched").next().unwrap_or("").to_string())
    };
    assert_eq!(count(&text), count(&by_expr), "{text}\n{by_expr}");
}

#[test]
fn filter_errors_name_the_cause() {
    let pcap = example("examples/pcap/mixed.pcap");
    let out = cranebpf(&["filter", "tcp port eighty", &pcap]);
    assert_one_error(&out, &["libpcap cannot compile", "eighty"]);
    let bad = temp_file("bad.dd", "{ 0x15, 0, 9, 0x00000800 },\n{ 0x6, 0, 0, 0 },\n");
    let out = cranebpf(&["filter", "--cbpf", &bad, &pcap]);
    assert_one_error(&out, &["cBPF instruction 0", "jump to instruction 10"]);
}

#[test]
fn seccomp_prints_each_action_and_a_summary() {
    let filter = example("examples/seccomp/docker-like.bpf");
    let trace = example("examples/seccomp/trace.txt");
    let out = cranebpf(&["seccomp", &filter, "--syscalls", &trace, "--engine", "both"]);
    assert!(out.status.success(), "{out:?}");
    let text = stdout(&out);
    assert!(
        text.contains("#5 nr=101 arch=x86_64 args=[] -> ERRNO(1)"),
        "{text}"
    );
    assert!(
        text.contains("#10 nr=39 arch=i386 args=[] -> KILL_THREAD"),
        "{text}"
    );
    assert!(text.contains("summary: 10 records"), "{text}");
    assert!(text.contains("ALLOW 6, ERRNO 3, KILL_THREAD 1"), "{text}");
    let bad = temp_file("bad.trace", "39 x86_64\n39 sparc\n");
    let out = cranebpf(&["seccomp", &filter, "--syscalls", &bad]);
    assert_one_error(&out, &["line 2", "`sparc` is not an architecture"]);
}

#[test]
fn stats_prints_prepare_first_result_and_per_call_after_the_outcome() {
    let prog = temp_file("stats.s", "mov %r0, 7\nexit\n");
    for engine in ["jit", "interp"] {
        let out = cranebpf(&["run", &prog, "--engine", engine, "--stats"]);
        let text = stdout(&out);
        assert!(out.status.success(), "{text}{}", stderr(&out));
        assert!(text.starts_with("r0 = 0x7 (7)\n"), "{text}");
        for line in [
            "stats: prepare ",
            "stats: first result ",
            "stats: per call ",
        ] {
            assert!(text.contains(line), "{line} not in:\n{text}");
        }
    }
}

#[test]
fn stats_with_a_capture_prints_per_packet_figures() {
    let out = cranebpf(&[
        "run",
        &example("examples/bpf/firewall.o"),
        "--section",
        "xdp",
        "--pcap",
        &example("examples/pcap/mixed.pcap"),
        "--stats",
    ]);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}{}", stderr(&out));
    assert!(text.contains("stats (jit): prepare "), "{text}");
    assert!(text.contains(", per packet "), "{text}");
}

#[test]
fn verify_strict_accepts_the_firewall_with_every_access_proven() {
    let out = cranebpf(&["verify", &example("examples/bpf/firewall.o"), "--strict"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("xdp_firewall: accepted (strict)"), "{text}");
    assert!(text.contains("memory accesses proven: 29/29"), "{text}");
}

#[test]
fn verify_strict_refuses_with_pc_and_reason_and_elide_lists_the_unproven() {
    let prog = temp_file("verify_oob.s", "stdw [%r10-520], 1\nmov %r0, 0\nexit\n");
    let out = cranebpf(&["verify", &prog, "--strict"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("REFUSED") && text.contains("pc 0: stdw [%r10-520], 1"),
        "{text}"
    );
    assert!(text.contains("outside the frame"), "{text}");
    let out = cranebpf(&["verify", &prog, "--log"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("memory accesses proven: 0/1"), "{text}");
    assert!(text.contains("pc 0: unproven:"), "{text}");
    assert!(text.contains("0: stdw [%r10-520], 1"), "the log: {text}");
}
