//! An engine in another process, through the bpf_conformance plugin
//! protocol (which uBPF, rbpf and llvmbpf implement, and cranebpf's own
//! `cranebpf-conformance-plugin`): the program's bytes as hex on standard
//! input, the input memory as hex in the first argument (then the plugin's
//! own options), r0 as hex on standard output; a failed run exits non-zero
//! with its reason on standard error. Bytes are written as bpf_conformance
//! writes them, two hex digits each separated by spaces: uBPF's plugin
//! reads them space by space, and takes its first argument as the memory
//! only if it does not start with `--`.
//!
//! [`PluginEngine`] runs one process per case. What the process does is
//! that engine's result for the case, and the run goes on: a non-zero exit
//! is a fault with its message, a crash (a signal) is a fault "crashed",
//! a process that outlives its timeout is killed and is a fault "timed
//! out", and output that is not one hex number is a fault "garbage". Such
//! faults compare equal to the reference's faults (plugins give no fault
//! detail) and differ from its results.
//!
//! The protocol reports r0 only, so the harness wraps each case
//! ([`crate::profile::with_digest`]) to fold the final input into r0, and
//! generates inside the plugin's profile: no helpers (the protocol has
//! none beyond the suite's own), an address space of its own.

use cranebpf_runtime::engine::profile::{HelperSupport, MemoryModel};
use cranebpf_runtime::engine::{
    opaque_fault, Capabilities, Engine, PrepareError, Prepared, Profile,
};
use cranebpf_runtime::{Helpers, MemoryMap, Program, RunOptions, RunOutcome, Stack};
use std::any::Any;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A bpf_conformance plugin as an [`Engine`].
#[derive(Clone, Debug)]
pub struct PluginEngine {
    name: String,
    path: PathBuf,
    args: Vec<String>,
    timeout: Duration,
}

impl PluginEngine {
    /// The plugin at `path`, given `args` after the memory argument, each
    /// run killed after `timeout`.
    pub fn new(path: impl Into<PathBuf>, args: Vec<String>, timeout: Duration) -> PluginEngine {
        let path = path.into();
        PluginEngine {
            name: format!("plugin:{}", path.display()),
            path,
            args,
            timeout,
        }
    }
}

impl Engine for PluginEngine {
    fn name(&self) -> &str {
        &self.name
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::EXACT;
        c.counts_instructions = false;
        c.uses_given_stack = false;
        c.fault_detail = false;
        c.reports_memory = false;
        let mut p = Profile::FULL;
        p.helpers = HelperSupport::None;
        p.memory = MemoryModel::Translated;
        c.profile = p;
        c
    }

    fn prepare(
        &self,
        program: &Program,
        _helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(PluginProgram {
            engine: self.clone(),
            program_hex: format!("{}\n", crate::case::hex(&program.to_bytes())),
        }))
    }
}

struct PluginProgram {
    engine: PluginEngine,
    program_hex: String,
}

impl Prepared for PluginProgram {
    fn run(
        &self,
        _stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        _opts: &RunOptions,
        _user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let input = mem
            .input_region(args[0])
            .and_then(|r| mem.read_bytes(r.start, r.len).ok())
            .unwrap_or_default();
        RunOutcome {
            result: self.spawn(&input).map_err(opaque_fault),
            insn_count: 0,
        }
    }
}

impl PluginProgram {
    /// Runs the plugin once on `input`: r0, or what went wrong.
    fn spawn(&self, input: &[u8]) -> Result<u64, String> {
        let e = &self.engine;
        let mut child = Command::new(&e.path)
            .arg(crate::case::hex(input))
            .args(&e.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", e.path.display()))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A plugin that exits without reading gives EPIPE: its exit
            // status says what happened.
            let _ = stdin.write_all(self.program_hex.as_bytes());
        }
        let status = wait_with_timeout(&mut child, e.timeout)?;
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        if let Some(mut s) = child.stderr.take() {
            let _ = s.read_to_string(&mut err);
        }
        if !status.success() {
            return Err(match status.code() {
                Some(code) => format!(
                    "exit status {code}: {}",
                    err.lines().next().unwrap_or("").trim()
                ),
                None => format!("crashed ({status})"),
            });
        }
        parse_r0(&out)
    }
}

/// Waits for `child`, killing it after `timeout`.
fn wait_with_timeout(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Result<std::process::ExitStatus, String> {
    let start = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if start.elapsed() >= timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} ms", timeout.as_millis()));
            }
            Ok(None) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            Err(err) => return Err(format!("cannot wait for the plugin: {err}")),
        }
    }
}

/// r0 from a plugin's standard output: one hex number, optionally `0x`.
fn parse_r0(out: &str) -> Result<u64, String> {
    let t = out.trim();
    let digits = t.strip_prefix("0x").unwrap_or(t);
    if digits.is_empty() || digits.len() > 16 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("garbage on standard output: `{}`", short(t)));
    }
    u64::from_str_radix(digits, 16)
        .map_err(|_| format!("garbage on standard output: `{}`", short(t)))
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r0_parses_and_garbage_does_not() {
        assert_eq!(parse_r0("ff\n"), Ok(255));
        assert_eq!(parse_r0("0x10"), Ok(16));
        assert!(parse_r0("").is_err());
        assert!(parse_r0("hello").is_err());
        assert!(parse_r0("+1").is_err());
        assert!(parse_r0("1 2").is_err());
    }
}
