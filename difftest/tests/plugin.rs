//! The bpf_conformance plugin binary honours its contract: program hex on
//! stdin, memory hex as the first argument, r0 in hex on stdout, errors on
//! stderr with a non-zero status.

use std::io::Write;
use std::process::{Command, Stdio};

fn plugin(args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cranebpf-conformance-plugin"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn plugin");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

// ldxh %r0, [%r1+2]; exit
const LDXH: &str = "69 10 02 00 00 00 00 00 95 00 00 00 00 00 00 00";

#[test]
fn plugin_reads_memory_and_prints_r0_hex() {
    for engine in ["--interpreter", "--jit"] {
        let (ok, out, err) = plugin(&[engine, "aa bb cc dd"], LDXH);
        assert!(ok, "{engine}: {err}");
        assert_eq!(out.trim(), "ddcc", "{engine}");
    }
}

#[test]
fn plugin_calls_helper_5_and_reports_faults() {
    // mov r1, 7; call 5; exit  -> 7
    let (ok, out, _) = plugin(
        &["--jit"],
        "b7 01 00 00 07 00 00 00 85 00 00 00 05 00 00 00 95 00 00 00 00 00 00 00",
    );
    assert!(ok);
    assert_eq!(out.trim(), "7");
    // ldxh past the end of a 2-byte input faults cleanly.
    let (ok, out, err) = plugin(&["aa bb"], LDXH);
    assert!(!ok);
    assert!(out.is_empty());
    assert!(err.contains("out-of-bounds"), "{err}");
    // A non-zero unused field is a load error.
    let (ok, _, err) = plugin(&[], "04 10 00 00 01 00 00 00 95 00 00 00 00 00 00 00");
    assert!(!ok);
    assert!(err.contains("pc 0"), "{err}");
}
