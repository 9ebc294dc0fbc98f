//! `--output text|json` and progress bars: how the long-running and
//! scriptable subcommands (`run`, `verify`, `filter`, `difftest`, `bench`)
//! print.
//!
//! In JSON mode a command prints exactly one JSON document on stdout (an
//! [`Envelope`]: `schema_version`, `command`, then the command's fields, or
//! `error` on failure, with a non-zero exit status) and nothing else there;
//! notes and warnings still go to stderr. The schema is documented, with
//! an example per command, in `docs/json.md`; [`SCHEMA_VERSION`] changes
//! when a field is removed or changes meaning (new fields may appear
//! without it).
//!
//! [`progress`] gives a bar on stderr for long runs, only in text mode and
//! only when stderr is a terminal.

use clap::{Args, ValueEnum};
use cranebpf::{Fault, FaultKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use serde::Serialize;
use std::io::IsTerminal;

/// The version of the JSON schema of `docs/json.md`.
pub const SCHEMA_VERSION: u32 = 1;

/// How a command prints its results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people (the default).
    #[default]
    Text,
    /// One JSON document on stdout (schema: docs/json.md).
    Json,
}

/// The `--output` option, flattened into each subcommand that has it.
#[derive(Args, Clone, Copy, Debug, Default)]
pub struct OutputArg {
    /// Print text for people, or one JSON document for scripts and CI
    /// (schema: docs/json.md); in JSON mode errors are JSON too.
    #[arg(long = "output", value_enum, global = true, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
}

impl OutputArg {
    /// Whether the command prints JSON.
    pub fn json(self) -> bool {
        self.output == OutputFormat::Json
    }
}

/// The document every JSON-mode command prints: the schema version, the
/// command, and the command's own fields beside them.
#[derive(Serialize)]
pub struct Envelope<'a, T: Serialize> {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The subcommand: `run`, `verify`, `filter`, `difftest` or `bench`.
    pub command: &'a str,
    /// The command's fields.
    #[serde(flatten)]
    pub body: &'a T,
}

/// Why a command failed, in JSON mode.
#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorJson<'a>,
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    message: &'a str,
}

/// Prints `body` as the JSON document of `command` on stdout.
pub fn print_json<T: Serialize>(command: &str, body: &T) {
    let doc = Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        body,
    };
    match serde_json::to_string_pretty(&doc) {
        Ok(s) => emit(&s),
        // Only a map with non-string keys could fail; ours have none.
        Err(e) => print_error(command, &format!("cannot print JSON: {e}")),
    }
}

/// Prints the JSON document of a failed `command`:
/// `{"schema_version":1,"command":…,"error":{"message":…}}`.
pub fn print_error(command: &str, message: &str) {
    let body = ErrorBody {
        error: ErrorJson { message },
    };
    let doc = Envelope {
        schema_version: SCHEMA_VERSION,
        command,
        body: &body,
    };
    // Strings only: serialising cannot fail.
    if let Ok(s) = serde_json::to_string_pretty(&doc) {
        emit(&s);
    }
}

/// Writes the document and a newline to stdout; a closed pipe (`| head`)
/// is not an error worth a panic.
fn emit(doc: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{doc}").and_then(|()| out.flush());
}

/// A fault, in JSON: the pc, a stable kind name and the message.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct FaultJson {
    /// Slot index of the faulting instruction.
    pub pc: usize,
    /// `out_of_bounds`, `misaligned`, `budget`, `call_depth`,
    /// `unknown_helper`, `helper`, `proof_violation` (or `other`).
    pub kind: &'static str,
    /// The fault as the text output shows it.
    pub message: String,
}

impl From<&Fault> for FaultJson {
    fn from(f: &Fault) -> FaultJson {
        FaultJson {
            pc: f.pc,
            kind: fault_kind(&f.kind),
            message: f.to_string(),
        }
    }
}

/// The stable name of a fault kind.
fn fault_kind(k: &FaultKind) -> &'static str {
    match k {
        FaultKind::OutOfBounds { .. } => "out_of_bounds",
        FaultKind::Misaligned { .. } => "misaligned",
        FaultKind::Budget { .. } => "budget",
        FaultKind::CallDepth { .. } => "call_depth",
        FaultKind::UnknownHelper { .. } => "unknown_helper",
        FaultKind::Helper { .. } => "helper",
        FaultKind::ProofViolation { .. } => "proof_violation",
        _ => "other",
    }
}

/// Runs of at least this many steps (packets, programs) get a bar.
pub const PROGRESS_MIN: u64 = 20_000;

/// A progress bar of `len` steps on stderr, labelled `what`: drawn only in
/// text mode, when stderr is a terminal and `len` is at least
/// [`PROGRESS_MIN`]; otherwise hidden (its methods do nothing).
pub fn progress(len: u64, what: &str, out: OutputArg) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    if out.json() || len < PROGRESS_MIN || !std::io::stderr().is_terminal() {
        return bar;
    }
    let template = format!("{what} {{wide_bar}} {{pos}}/{{len}} ({{rate}}, eta {{eta}})");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        // indicatif's own {per_sec} prints four decimals.
        bar.set_style(
            style.with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_fmt(format_args!("{:.0}/s", s.per_sec()));
            }),
        );
    }
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar
}

/// Steps between progress-bar updates in per-packet loops, so the bar
/// costs nothing measurable per packet.
pub const PROGRESS_CHUNK: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_document_has_the_version_the_command_and_the_message() {
        let body = ErrorBody {
            error: ErrorJson { message: "a \"b\"" },
        };
        let doc = Envelope {
            schema_version: SCHEMA_VERSION,
            command: "run",
            body: &body,
        };
        let v: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&doc).unwrap()).expect("valid JSON");
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["command"], "run");
        assert_eq!(v["error"]["message"], "a \"b\"");
    }

    #[test]
    fn a_short_run_or_json_mode_gets_no_bar() {
        assert!(progress(10, "x", OutputArg::default()).is_hidden());
        let json = OutputArg {
            output: OutputFormat::Json,
        };
        assert!(progress(PROGRESS_MIN * 10, "x", json).is_hidden());
    }
}
