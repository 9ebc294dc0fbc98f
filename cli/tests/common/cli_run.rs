//! Running the built `cranebpf` binary from a test: the example files, the
//! command, and scratch files (shared by `cli.rs` and `json.rs`).

use std::path::PathBuf;
use std::process::{Command, Output};

/// An example file, by path from the repository root.
pub fn example(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
        .display()
        .to_string()
}

/// Runs `cranebpf ARGS` from the temporary folder.
pub fn cranebpf(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cranebpf"))
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("runs the CLI")
}

/// A file in the temporary folder holding `text`, unique to this test
/// binary (`tag`) and process.
pub fn temp_file(tag: &str, name: &str, text: &str) -> String {
    let path = std::env::temp_dir().join(format!("cranebpf-{tag}-{}-{name}", std::process::id()));
    std::fs::write(&path, text).expect("writes a temporary file");
    path.display().to_string()
}
