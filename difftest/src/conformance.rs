//! Reader for bpf_conformance `.data` files.
//!
//! The reading rules are those of the upstream runner, as written down in
//! `shared/conformance/README.md`:
//!
//! - Everything after `#` on a line is dropped; empty lines are skipped.
//! - A line containing `--` starts a section: `asm`, `result`, `mem`, `raw`,
//!   `error`. `-- c` (C source) and `-- no register offset` are ignored, with
//!   their contents. Any other directive means the file is skipped
//!   ([`TestFile::skipped_reason`]).
//! - `-- result`: the last line counts; hex if it contains `0x`, else decimal.
//! - `-- mem`: whitespace-separated hex bytes.
//! - `-- raw` comes in two formats, told apart by content: one `0x…` u64 per
//!   slot (`lddw.data`: `opcode | dst<<8 | src<<12 | off<<16 | imm<<32`), or
//!   eight whitespace-separated hex bytes per slot (`negative/unused-*`).
//!   Either overrides `-- asm`.
//! - `-- error`: free text; the program is expected to be rejected.

use cranebpf_runtime::asm::assemble_to_bytes;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One parsed `.data` file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TestFile {
    /// The file name (e.g. `add.data`), or whatever [`parse`] was given.
    pub name: String,
    /// The `-- asm` section with comments removed. Blank and comment-only
    /// lines stay as empty lines, so line `n` of this text is line
    /// `asm_line + n` of the file.
    pub asm: Option<String>,
    /// The 1-based file line of the `-- asm` header (0 if there is none).
    pub asm_line: usize,
    /// A `-- raw` section written as one u64 per slot (`lddw.data` style).
    pub raw: Option<Vec<u64>>,
    /// A `-- raw` section written as eight hex bytes per line (`negative/unused-*` style).
    pub raw_bytes: Option<Vec<u8>>,
    /// The `-- mem` bytes (empty if there is no such section).
    pub mem: Vec<u8>,
    /// The expected r0.
    pub result: Option<u64>,
    /// The `-- error` text (possibly empty): the program must be rejected.
    pub error: Option<String>,
    /// Set when the file uses a directive we do not know: the test is skipped.
    pub skipped_reason: Option<String>,
}

impl TestFile {
    /// Whether the file holds a program at all (`-- asm` or `-- raw`).
    pub fn has_program(&self) -> bool {
        self.asm.is_some() || self.raw.is_some() || self.raw_bytes.is_some()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    None,
    Asm,
    Result,
    Mem,
    Raw,
    Error,
    Ignored,
}

/// Parses the text of one `.data` file. `name` is recorded in the result and
/// used in error messages.
///
/// A file with an unknown directive parses successfully, with
/// [`TestFile::skipped_reason`] set. Malformed `result`, `mem` or `raw`
/// contents are errors.
pub fn parse(name: &str, text: &str) -> Result<TestFile, String> {
    let mut file = TestFile {
        name: name.to_string(),
        ..TestFile::default()
    };
    let mut section = Section::None;
    let mut asm = None::<String>;
    let mut raw_lines: Option<Vec<(usize, String)>> = None;
    let mut result_line: Option<(usize, String)> = None;
    let mut mem = String::new();
    let mut error = None::<String>;
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            if section == Section::Asm {
                if let Some(a) = asm.as_mut() {
                    a.push('\n');
                }
            }
            continue;
        }
        if let Some(pos) = line.find("--") {
            let directive = line[pos + 2..].trim();
            section = match directive {
                "asm" => {
                    if asm.is_none() {
                        file.asm_line = lineno;
                    }
                    asm.get_or_insert_with(String::new);
                    Section::Asm
                }
                "result" => Section::Result,
                "mem" => Section::Mem,
                "raw" => {
                    raw_lines.get_or_insert_with(Vec::new);
                    Section::Raw
                }
                "error" => {
                    error.get_or_insert_with(String::new);
                    Section::Error
                }
                "c" | "no register offset" => Section::Ignored,
                other => {
                    file.skipped_reason =
                        Some(format!("{name}:{lineno}: unknown directive '-- {other}'"));
                    return Ok(file);
                }
            };
            continue;
        }
        match section {
            // Like the upstream runner, content outside a known section is ignored.
            Section::None | Section::Ignored => {}
            Section::Asm => {
                if let Some(a) = asm.as_mut() {
                    a.push_str(line);
                    a.push('\n');
                }
            }
            Section::Result => result_line = Some((lineno, line.to_string())),
            Section::Mem => {
                mem.push_str(line);
                mem.push(' ');
            }
            Section::Raw => {
                if let Some(r) = raw_lines.as_mut() {
                    r.push((lineno, line.to_string()));
                }
            }
            Section::Error => {
                if let Some(e) = error.as_mut() {
                    if !e.is_empty() {
                        e.push('\n');
                    }
                    e.push_str(line);
                }
            }
        }
    }

    file.asm = asm;
    file.error = error;
    if let Some((lineno, r)) = result_line {
        file.result =
            Some(parse_result(&r).ok_or_else(|| format!("{name}:{lineno}: invalid result '{r}'"))?);
    }
    file.mem = mem
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).map_err(|_| format!("{name}: invalid mem byte '{b}'")))
        .collect::<Result<_, _>>()?;
    if let Some(lines) = raw_lines {
        parse_raw(name, &lines, &mut file)?;
    }
    Ok(file)
}

/// `0x…` anywhere in the text means hex; otherwise decimal (a leading `-`
/// wraps to two's complement).
fn parse_result(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(pos) = s.find("0x") {
        let (neg, rest) = match s[..pos].trim() {
            "" => (false, &s[pos + 2..]),
            "-" => (true, &s[pos + 2..]),
            _ => return None,
        };
        let v = u64::from_str_radix(rest, 16).ok()?;
        Some(if neg { v.wrapping_neg() } else { v })
    } else if let Some(rest) = s.strip_prefix('-') {
        rest.parse::<u64>().ok().map(u64::wrapping_neg)
    } else {
        s.parse::<u64>().ok()
    }
}

/// Tells the two `-- raw` formats apart: a line made of eight two-digit hex
/// tokens is a byte line; a single `0x…` token is a u64 slot.
fn parse_raw(name: &str, lines: &[(usize, String)], file: &mut TestFile) -> Result<(), String> {
    let is_byte_line = |l: &str| {
        let toks: Vec<&str> = l.split_whitespace().collect();
        toks.len() == 8
            && toks
                .iter()
                .all(|t| t.len() == 2 && t.chars().all(|c| c.is_ascii_hexdigit()))
    };
    if !lines.is_empty() && lines.iter().all(|(_, l)| is_byte_line(l)) {
        let mut bytes = Vec::with_capacity(lines.len() * 8);
        for (lineno, l) in lines {
            for t in l.split_whitespace() {
                bytes.push(
                    u8::from_str_radix(t, 16)
                        .map_err(|_| format!("{name}:{lineno}: invalid raw byte '{t}'"))?,
                );
            }
        }
        file.raw_bytes = Some(bytes);
        return Ok(());
    }
    let mut slots = Vec::with_capacity(lines.len());
    for (lineno, l) in lines {
        let digits = l
            .strip_prefix("0x")
            .or_else(|| l.strip_prefix("0X"))
            .ok_or_else(|| format!("{name}:{lineno}: invalid raw slot '{l}' (expected 0x…)"))?;
        slots.push(
            u64::from_str_radix(digits, 16)
                .map_err(|_| format!("{name}:{lineno}: invalid raw slot '{l}'"))?,
        );
    }
    file.raw = Some(slots);
    Ok(())
}

/// Reads and parses every `*.data` file directly in `dir`, sorted by name.
pub fn load_dir(dir: impl AsRef<Path>) -> Result<Vec<TestFile>, String> {
    let dir = dir.as_ref();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut paths = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "data") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            let name = p
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            parse(&name, &text)
        })
        .collect()
}

/// The bytecode of a test: `-- raw` if present, else the assembled `-- asm`.
pub fn program_bytes(file: &TestFile) -> Result<Vec<u8>, String> {
    if let Some(bytes) = &file.raw_bytes {
        return Ok(bytes.clone());
    }
    if let Some(slots) = &file.raw {
        return Ok(slots.iter().flat_map(|s| s.to_le_bytes()).collect());
    }
    match &file.asm {
        Some(text) => assemble_to_bytes(text)
            .map_err(|e| format!("{}:{}: {}", file.name, file.asm_line + e.line, e.message)),
        None => Err(format!("{}: no -- asm or -- raw section", file.name)),
    }
}

/// The conformance data directory: `$CRANEBPF_CONFORMANCE_DIR` if set, else
/// `shared/conformance` next to the workspace (`<workspace>/../shared/conformance`).
/// It may not exist: tests use [`suite_or_skip`].
pub fn conformance_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CRANEBPF_CONFORMANCE_DIR") {
        return PathBuf::from(dir);
    }
    default_dir()
}

fn default_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..")
        .join("shared")
        .join("conformance")
}

/// The variable that makes a missing suite a test failure (CI sets it).
pub const REQUIRE_VAR: &str = "CRANEBPF_REQUIRE_CONFORMANCE";

/// Where the upstream suite comes from, for the skip banner.
pub const SUITE_URL: &str = "https://github.com/Alan-Jowett/bpf_conformance";

/// The one place tests find the bpf_conformance suite: its directory
/// ([`conformance_dir`]) if it exists. If not, a test that needs it is
/// skipped: this prints a banner to stderr saying so and how to enable it,
/// and returns `None` (the test returns and passes), unless
/// `CRANEBPF_REQUIRE_CONFORMANCE=1`, which makes it a failure (a panic
/// naming the directory). `test` names the test for the banner.
pub fn suite_or_skip(test: &str) -> Option<PathBuf> {
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1");
    match locate(conformance_dir(), required) {
        Ok(found) => found,
        Err(message) => panic!("{test}: {message}"),
    }
}

/// [`suite_or_skip`] with its inputs explicit: `Ok(Some(dir))` if `dir` is
/// a directory, `Ok(None)` after the banner if not, `Err` if `required`.
pub fn locate(dir: PathBuf, required: bool) -> Result<Option<PathBuf>, String> {
    if dir.is_dir() {
        return Ok(Some(dir));
    }
    let banner = format!(
        "bpf_conformance suite not found at {}; set CRANEBPF_CONFORMANCE_DIR to its \
         tests/ directory or clone {SUITE_URL} (its tests/ folder) to {}",
        dir.display(),
        default_dir().display()
    );
    if required {
        return Err(format!("{REQUIRE_VAR}=1 and the {banner}"));
    }
    // Straight to the process's stderr, not `eprintln!`: the test harness
    // captures the macros' output of a passing test, and this must be seen.
    let rule = "=".repeat(70);
    let _ = writeln!(
        std::io::stderr(),
        "\n{rule}\nSKIPPED: {banner}; {REQUIRE_VAR}=1 makes this a failure\n{rule}"
    );
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_suite_is_skipped_or_required() {
        let missing = std::env::temp_dir().join("cranebpf-no-such-conformance-dir");
        assert_eq!(locate(missing.clone(), false), Ok(None));
        let err = locate(missing, true).unwrap_err();
        assert!(err.contains("cranebpf-no-such-conformance-dir"), "{err}");
        assert!(err.contains(REQUIRE_VAR), "{err}");
        let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        assert_eq!(locate(here.clone(), true), Ok(Some(here)));
    }

    #[test]
    fn sections_comments_and_result_formats() {
        let f = parse(
            "t",
            "# header\n-- asm\nmov %r0, 1 # one\n\nexit\n-- mem\n00 ff\n0a\n-- result\n0x10\n",
        )
        .unwrap();
        assert_eq!(f.asm.as_deref(), Some("mov %r0, 1\n\nexit\n"));
        assert_eq!(f.asm_line, 2);
        let g = parse("t", "-- asm\n# c\nmov %r0, 1\nnop\n").unwrap();
        assert_eq!(
            program_bytes(&g).unwrap_err(),
            "t:4: invalid mnemonic 'nop'"
        );
        assert_eq!(f.mem, vec![0x00, 0xff, 0x0a]);
        assert_eq!(f.result, Some(16));
        let f = parse("t", "-- asm\nexit\n-- result\n10\n").unwrap();
        assert_eq!(f.result, Some(10));
        let f = parse("t", "-- result\n-1\n").unwrap();
        assert_eq!(f.result, Some(u64::MAX));
    }

    #[test]
    fn ignored_and_unknown_directives() {
        let f = parse("t", "-- c\nint x--;\n-- asm\nexit\n").unwrap();
        // `int x--;` contains `--`, so it starts an (unknown) section: skipped.
        assert!(f.skipped_reason.is_some());
        let f = parse(
            "t",
            "-- asm\nexit\n-- result\n0x2\n-- no register offset\ncall instruction\n",
        )
        .unwrap();
        assert_eq!(f.asm.as_deref(), Some("exit\n"));
        assert_eq!(f.result, Some(2));
        assert!(f.skipped_reason.is_none());
    }

    #[test]
    fn raw_formats_are_told_apart() {
        let f = parse("t", "-- raw\n0x0000000000000095\n").unwrap();
        assert_eq!(f.raw, Some(vec![0x95]));
        assert_eq!(program_bytes(&f).unwrap(), vec![0x95, 0, 0, 0, 0, 0, 0, 0]);
        let f = parse("t", "-- raw\n95 00 00 00 00 00 00 01\n-- error\n").unwrap();
        assert_eq!(f.raw_bytes, Some(vec![0x95, 0, 0, 0, 0, 0, 0, 1]));
        assert_eq!(f.error.as_deref(), Some(""));
    }

    #[test]
    fn raw_overrides_asm_and_missing_program_is_an_error() {
        let f = parse("t", "-- asm\nmov %r0, 1\nexit\n-- raw\n0x95\n").unwrap();
        assert_eq!(program_bytes(&f).unwrap(), vec![0x95, 0, 0, 0, 0, 0, 0, 0]);
        let f = parse("t", "-- result\n0x0\n").unwrap();
        assert!(program_bytes(&f).is_err());
    }

    #[test]
    fn malformed_values_are_errors() {
        assert!(parse("t", "-- result\nzz\n").is_err());
        assert!(parse("t", "-- mem\n1g\n").is_err());
        assert!(parse("t", "-- raw\nnope\n").is_err());
        // Content before the first section is ignored, as upstream does.
        assert!(parse("t", "stray\n-- asm\nexit\n").unwrap().asm.is_some());
    }
}
