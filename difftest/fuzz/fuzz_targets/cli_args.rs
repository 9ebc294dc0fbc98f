//! The command line's argument parser, through the library view of
//! `cli/src/main.rs` (its `fuzzing` module): arbitrary argument vectors
//! never panic the parser, its value parsers (budgets, program types, enum
//! values) or its error and help rendering, and the `--mem` hex reader
//! round-trips what it accepts. Nothing is run and no file is read.
//!
//! Layout: the arguments after the program name, separated by NUL bytes
//! (at most 32; non-UTF-8 bytes stay as they are, as a shell passes them).
#![no_main]

use cranebpf_cli::fuzzing::parse_args;
use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

fuzz_target!(|data: &[u8]| {
    let mut args = vec![OsString::from("cranebpf")];
    args.extend(
        data.split(|&b| b == 0)
            .take(32)
            .map(|a| OsString::from_vec(a.to_vec())),
    );
    let _ = parse_args(&args);
});
