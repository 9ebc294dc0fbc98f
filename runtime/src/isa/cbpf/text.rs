//! Reading filters: raw bytes (`struct sock_filter[]`) and the text
//! `tcpdump -dd` (C initialisers) and `tcpdump -ddd` (a count, then one
//! `code jt jf k` line per instruction, in decimal) print.

use crate::isa::cbpf::insn::SockFilter;
use std::fmt;

/// Why bytes or text are not a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The byte length is not a multiple of 8.
    TruncatedBytes {
        /// The length.
        len: usize,
    },
    /// A line is not an instruction.
    BadLine {
        /// Line number, from 1.
        line: usize,
        /// What was expected.
        expected: &'static str,
    },
    /// A field does not fit its width or is not a number.
    BadField {
        /// Line number, from 1.
        line: usize,
        /// `code`, `jt`, `jf` or `k`.
        field: &'static str,
        /// The text.
        text: String,
    },
    /// `-ddd` text whose first line's count differs from its instructions.
    CountMismatch {
        /// The first line's count.
        declared: usize,
        /// Instructions found.
        found: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TruncatedBytes { len } => write!(
                f,
                "{len} bytes is not a whole number of 8-byte sock_filter instructions"
            ),
            ParseError::BadLine { line, expected } => {
                write!(f, "line {line}: expected {expected}")
            }
            ParseError::BadField { line, field, text } => {
                write!(f, "line {line}: `{text}` is not a valid {field}")
            }
            ParseError::CountMismatch { declared, found } => write!(
                f,
                "the first line says {declared} instructions but {found} follow"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads `struct sock_filter` instructions from their bytes (8 each,
/// little-endian), as `seccomp_export_bpf` writes them.
pub fn from_bytes(bytes: &[u8]) -> Result<Vec<SockFilter>, ParseError> {
    if bytes.len() % 8 != 0 {
        return Err(ParseError::TruncatedBytes { len: bytes.len() });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            SockFilter::from_bytes(b)
        })
        .collect())
}

/// Reads the output of `tcpdump -dd` (lines `{ 0x28, 0, 0, 0x0000000c },`)
/// or of `tcpdump -ddd` (a count line, then `40 0 0 12` lines). Blank lines
/// and lines starting with `#` or `//` are skipped. Which form it is follows
/// from the first instruction line: a `{` means `-dd`.
pub fn from_text(text: &str) -> Result<Vec<SockFilter>, ParseError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#') && !l.starts_with("//"))
        .collect();
    match lines.first() {
        Some((_, l)) if l.starts_with('{') => lines.iter().map(|&(n, l)| parse_dd(n, l)).collect(),
        Some(&(n, count)) => parse_ddd(n, count, &lines[1..]),
        None => Ok(Vec::new()),
    }
}

/// One `-dd` line: `{ code, jt, jf, k },`.
fn parse_dd(line: usize, l: &str) -> Result<SockFilter, ParseError> {
    let inner = l
        .strip_prefix('{')
        .and_then(|r| r.trim_end_matches(',').trim_end().strip_suffix('}'))
        .ok_or(ParseError::BadLine {
            line,
            expected: "`{ code, jt, jf, k },`",
        })?;
    let fields: Vec<&str> = inner.split(',').map(str::trim).collect();
    fields_to_filter(line, &fields, "`{ code, jt, jf, k },`")
}

/// `-ddd`: the count line, then `code jt jf k` lines.
fn parse_ddd(
    count_line: usize,
    count: &str,
    rest: &[(usize, &str)],
) -> Result<Vec<SockFilter>, ParseError> {
    let declared: usize = count.parse().map_err(|_| ParseError::BadLine {
        line: count_line,
        expected: "the instruction count (tcpdump -ddd) or `{` (tcpdump -dd)",
    })?;
    let out = rest
        .iter()
        .map(|&(n, l)| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            fields_to_filter(n, &fields, "`code jt jf k`")
        })
        .collect::<Result<Vec<_>, _>>()?;
    if out.len() != declared {
        return Err(ParseError::CountMismatch {
            declared,
            found: out.len(),
        });
    }
    Ok(out)
}

/// Four fields, decimal or `0x` hex, each in its width.
fn fields_to_filter(
    line: usize,
    fields: &[&str],
    expected: &'static str,
) -> Result<SockFilter, ParseError> {
    let [code, jt, jf, k] = fields else {
        return Err(ParseError::BadLine { line, expected });
    };
    let num = |field: &'static str, text: &str, max: u64| {
        let v = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse::<u64>().ok(),
        };
        v.filter(|&v| v <= max).ok_or_else(|| ParseError::BadField {
            line,
            field,
            text: text.to_string(),
        })
    };
    Ok(SockFilter {
        code: num("code", code, u16::MAX as u64)? as u16,
        jt: num("jt", jt, u8::MAX as u64)? as u8,
        jf: num("jf", jf, u8::MAX as u64)? as u8,
        k: num("k", k, u32::MAX as u64)? as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: [SockFilter; 4] = [
        SockFilter::new(0x28, 0, 0, 12),
        SockFilter::new(0x15, 0, 1, 0x800),
        SockFilter::new(0x06, 0, 0, 65535),
        SockFilter::new(0x06, 0, 0, 0),
    ];

    #[test]
    fn text_reads_tcpdump_dd() {
        let t = "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n\
                 { 0x6, 0, 0, 0x0000ffff },\n{ 0x6, 0, 0, 0x00000000 },\n";
        assert_eq!(from_text(t).unwrap(), IP);
    }

    #[test]
    fn text_reads_tcpdump_ddd() {
        let t = "4\n40 0 0 12\n21 0 1 2048\n6 0 0 65535\n6 0 0 0\n";
        assert_eq!(from_text(t).unwrap(), IP);
    }

    #[test]
    fn text_errors_name_the_line() {
        assert_eq!(
            from_text("2\n40 0 0 12\n").unwrap_err(),
            ParseError::CountMismatch {
                declared: 2,
                found: 1
            }
        );
        assert_eq!(
            from_text("1\n40 0 256 12\n").unwrap_err().to_string(),
            "line 2: `256` is not a valid jf"
        );
        assert_eq!(
            from_text("{ 0x28, 0, 0 },").unwrap_err().to_string(),
            "line 1: expected `{ code, jt, jf, k },`"
        );
    }

    #[test]
    fn bytes_need_whole_instructions() {
        let bytes: Vec<u8> = IP.iter().flat_map(|f| f.to_bytes()).collect();
        assert_eq!(from_bytes(&bytes).unwrap(), IP);
        assert_eq!(
            from_bytes(&bytes[..7]).unwrap_err(),
            ParseError::TruncatedBytes { len: 7 }
        );
    }
}
