//! The assembler: text to [`Insn`]s, in two passes (labels, then instructions).

use crate::isa::insn::*;
use std::collections::HashMap;
use std::fmt;

/// An assembly error: the 1-based source line and what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsmError {
    /// 1-based line number in the assembled text.
    pub line: usize,
    /// What is wrong, e.g. `invalid register '%r50'`.
    pub message: String,
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for AsmError {}

/// Assembles a program. See the [module docs](crate::isa::asm) for the syntax.
///
/// Fails on the first error, which names its line. A text without any
/// instruction is an error too: it is not a program.
pub fn assemble(text: &str) -> Result<Vec<Insn>, AsmError> {
    // Pass 1: split lines into labels and instruction lines; assign slot pcs.
    let mut labels: HashMap<&str, (usize, usize)> = HashMap::new();
    let mut lines: Vec<Line<'_>> = Vec::new();
    let mut first_exit = None;
    let mut pc = 0usize;
    let mut last_line = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        last_line = line;
        let err = |message: String| AsmError { line, message };
        let mut rest = raw.split('#').next().unwrap_or("").trim();
        // Any number of `label:` prefixes, then at most one instruction.
        while let Some((name, after)) = split_label(rest) {
            if !is_ident(name) {
                return Err(err(format!("invalid label name '{name}'")));
            }
            if labels.insert(name, (pc, line)).is_some() {
                return Err(err(format!("label '{name}' is defined twice")));
            }
            rest = after.trim();
        }
        if rest.is_empty() {
            continue;
        }
        let (mnemonic, operands) = match rest.split_once(char::is_whitespace) {
            Some((m, o)) => (m, o.trim()),
            None => (rest, ""),
        };
        let slots = if mnemonic == "lddw" { 2 } else { 1 };
        if mnemonic == "exit" && first_exit.is_none() {
            first_exit = Some(pc);
        }
        lines.push(Line {
            line,
            pc,
            mnemonic,
            operands,
        });
        pc += slots;
    }
    if lines.is_empty() {
        return Err(AsmError {
            line: last_line.max(1),
            message: "the program has no instructions".into(),
        });
    }
    let labels: HashMap<&str, usize> = labels.into_iter().map(|(k, (pc, _))| (k, pc)).collect();
    let ctx = Labels { labels, first_exit };

    // Pass 2: parse each instruction with every label known.
    let mut out = Vec::with_capacity(lines.len());
    for l in &lines {
        let insn = parse_insn(l, &ctx).map_err(|message| AsmError {
            line: l.line,
            message,
        })?;
        out.push(insn);
    }
    Ok(out)
}

/// Assembles a program and encodes it as little-endian bytecode.
pub fn assemble_to_bytes(text: &str) -> Result<Vec<u8>, AsmError> {
    let insns = assemble(text)?;
    Ok(slots_to_bytes(&crate::isa::encode::encode_all(&insns)))
}

/// One instruction line after pass 1.
struct Line<'a> {
    line: usize,
    pc: usize,
    mnemonic: &'a str,
    operands: &'a str,
}

/// Label definitions, plus the implicit `exit` label.
struct Labels<'a> {
    labels: HashMap<&'a str, usize>,
    first_exit: Option<usize>,
}

impl Labels<'_> {
    fn get(&self, name: &str) -> Option<usize> {
        match self.labels.get(name) {
            Some(&pc) => Some(pc),
            None if name == "exit" => self.first_exit,
            None => None,
        }
    }
}

/// Splits `name: rest` when the line starts with a label definition.
fn split_label(s: &str) -> Option<(&str, &str)> {
    let (head, tail) = s.split_once(':')?;
    let head = head.trim_end();
    // A label is a single word; anything else (e.g. an operand) is not ours.
    if head.is_empty() || head.contains(char::is_whitespace) {
        return None;
    }
    Some((head, tail))
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_' || c == '.')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

type PResult<T> = Result<T, String>;

/// Splits the operand text on commas. An empty text has no operands.
fn operands(s: &str) -> Vec<&str> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(',').map(str::trim).collect()
    }
}

fn expect_count(mnemonic: &str, ops: &[&str], n: usize) -> PResult<()> {
    if ops.len() != n {
        let plural = if n == 1 { "" } else { "s" };
        return Err(format!(
            "invalid number of operands for {mnemonic}: expected {n} operand{plural}, found {}",
            ops.len()
        ));
    }
    if let Some(empty) = ops.iter().position(|o| o.is_empty()) {
        return Err(format!("operand {} of {mnemonic} is empty", empty + 1));
    }
    Ok(())
}

/// Parses `%r0`..`%r10`.
fn reg(s: &str) -> PResult<Reg> {
    s.strip_prefix("%r")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) && n.len() <= 2)
        .and_then(|n| n.parse::<u8>().ok())
        .and_then(Reg::new)
        .ok_or_else(|| format!("invalid register '{s}' (expected %r0..%r10)"))
}

/// A parsed integer literal: its value and whether it was written in hex.
struct Int {
    value: i128,
    hex: bool,
}

/// Parses `[+|-](decimal | 0x hex)`.
fn int(s: &str) -> PResult<Int> {
    let bad = || format!("invalid number '{s}'");
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (digits, radix, hex) = match body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        Some(h) => (h, 16, true),
        None => (body, 10, false),
    };
    // `from_str_radix` accepts a sign of its own; we allow exactly one.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) || digits.len() > 30 {
        return Err(bad());
    }
    let magnitude = i128::from_str_radix(digits, radix).map_err(|_| bad())?;
    Ok(Int {
        value: if neg { -magnitude } else { magnitude },
        hex,
    })
}

/// A 32-bit immediate: decimal must fit `i32`; hex may also be a `u32` pattern.
fn imm32(s: &str) -> PResult<i32> {
    let Int { value, hex } = int(s)?;
    let max = if hex {
        u32::MAX as i128
    } else {
        i32::MAX as i128
    };
    if value < i32::MIN as i128 || value > max {
        let range = if hex {
            "-0x80000000..=0xffffffff"
        } else {
            "-2147483648..=2147483647"
        };
        return Err(format!("immediate '{s}' is out of 32-bit range ({range})"));
    }
    Ok(value as u32 as i32)
}

/// A 64-bit immediate (for `lddw`): anything in `i64::MIN..=u64::MAX`.
fn imm64(s: &str) -> PResult<u64> {
    let v = int(s)?.value;
    if v < i64::MIN as i128 || v > u64::MAX as i128 {
        return Err(format!("immediate '{s}' is out of 64-bit range"));
    }
    Ok(v as u64)
}

/// A signed 16-bit offset.
fn off16(s: &str, value: i128) -> PResult<i16> {
    i16::try_from(value)
        .map_err(|_| format!("offset '{s}' is out of 16-bit range (-32768..=32767)"))
}

/// Parses a memory operand `[%rX]`, `[%rX+off]` or `[%rX-off]`.
fn mem(s: &str) -> PResult<(Reg, i16)> {
    let inner = s
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| format!("expected a memory operand like [%r1+8], found '{s}'"))?
        .trim();
    match inner.find(['+', '-']) {
        None => Ok((reg(inner)?, 0)),
        Some(i) => {
            let base = reg(inner[..i].trim())?;
            let off_text: String = inner[i..].chars().filter(|c| !c.is_whitespace()).collect();
            let value = int(&off_text)?.value;
            Ok((base, off16(&off_text, value)?))
        }
    }
}

/// Either a register or a 32-bit immediate.
fn reg_or_imm(s: &str) -> PResult<Src> {
    if s.starts_with('%') {
        Ok(Src::Reg(reg(s)?))
    } else {
        Ok(Src::Imm(imm32(s)?))
    }
}

/// A jump target relative to the instruction at `pc`: `+N`, `-N`, `N` or a label.
fn target(s: &str, pc: usize, labels: &Labels<'_>) -> PResult<i128> {
    if s.starts_with(['+', '-']) || s.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(int(s)?.value);
    }
    let to = labels
        .get(s)
        .ok_or_else(|| format!("unknown label '{s}'"))?;
    Ok(to as i128 - (pc as i128 + 1))
}

fn target16(s: &str, pc: usize, labels: &Labels<'_>) -> PResult<i16> {
    let v = target(s, pc, labels)?;
    i16::try_from(v).map_err(|_| format!("jump offset {v} to '{s}' is out of 16-bit range"))
}

fn target32(s: &str, pc: usize, labels: &Labels<'_>) -> PResult<i32> {
    let v = target(s, pc, labels)?;
    i32::try_from(v).map_err(|_| format!("jump offset {v} to '{s}' is out of 32-bit range"))
}

/// Strips a width suffix: `32` gives `W32`; none (or `64`) gives `W64`.
fn width(m: &str) -> (&str, Width) {
    if let Some(base) = m.strip_suffix("32") {
        (base, Width::W32)
    } else if let Some(base) = m.strip_suffix("64") {
        (base, Width::W64)
    } else {
        (m, Width::W64)
    }
}

fn size_of(suffix: &str) -> Option<Size> {
    Some(match suffix {
        "b" => Size::B,
        "h" => Size::H,
        "w" => Size::W,
        "dw" => Size::DW,
        _ => return None,
    })
}

const LDDW_KINDS: [(&str, LddwKind); 7] = [
    ("imm64", LddwKind::Imm64),
    ("map_by_fd", LddwKind::MapByFd),
    ("map_value_by_fd", LddwKind::MapValueByFd),
    ("var_addr", LddwKind::VarAddr),
    ("code_addr", LddwKind::CodeAddr),
    ("map_by_idx", LddwKind::MapByIdx),
    ("map_value_by_idx", LddwKind::MapValueByIdx),
];

/// The name `lddw` uses for a sub-type (its optional third operand).
pub(crate) fn lddw_kind_name(kind: LddwKind) -> &'static str {
    LDDW_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("imm64", |(n, _)| n)
}

/// A family parser: `Ok(None)` when the mnemonic is not of its family.
type Family = fn(&Line<'_>, &[&str], &Labels<'_>) -> PResult<Option<Insn>>;

/// Tries the mnemonic families in a fixed order; the first that claims the
/// mnemonic parses the instruction.
fn parse_insn(l: &Line<'_>, labels: &Labels<'_>) -> PResult<Insn> {
    let m = l.mnemonic;
    if m == "lock" {
        return parse_lock(l.operands);
    }
    let ops = operands(l.operands);
    let ops = ops.as_slice();
    const FAMILIES: [Family; 7] = [
        parse_fixed,
        parse_endian,
        parse_movsx,
        parse_load,
        parse_store,
        parse_alu,
        parse_jmp,
    ];
    for family in FAMILIES {
        if let Some(insn) = family(l, ops, labels)? {
            return Ok(insn);
        }
    }
    Err(format!("invalid mnemonic '{m}'"))
}

/// Fixed mnemonics: `exit`, `lddw`, `ja`, `ja32`, `callx`, `call`.
fn parse_fixed(l: &Line<'_>, ops: &[&str], labels: &Labels<'_>) -> PResult<Option<Insn>> {
    let count = |n| expect_count(l.mnemonic, ops, n);
    let insn = match l.mnemonic {
        "exit" => {
            count(0)?;
            Insn::Exit
        }
        "lddw" => parse_lddw(l.mnemonic, ops)?,
        "ja" => {
            count(1)?;
            Insn::Ja {
                off: target16(ops[0], l.pc, labels)? as i32,
                wide: false,
            }
        }
        "ja32" => {
            count(1)?;
            Insn::Ja {
                off: target32(ops[0], l.pc, labels)?,
                wide: true,
            }
        }
        "callx" => {
            count(1)?;
            Insn::Callx { reg: reg(ops[0])? }
        }
        "call" => parse_call(l, ops, labels)?,
        _ => return Ok(None),
    };
    Ok(Some(insn))
}

/// `lddw %rd, imm64[, sub-type]`.
fn parse_lddw(m: &str, ops: &[&str]) -> PResult<Insn> {
    let count = |n| expect_count(m, ops, n);
    if ops.len() == 3 {
        count(3)?;
    } else {
        count(2)?;
    }
    let dst = reg(ops[0])?;
    let v = imm64(ops[1])?;
    let kind = match ops.get(2) {
        None => LddwKind::Imm64,
        Some(name) => LDDW_KINDS
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, k)| *k)
            .ok_or_else(|| format!("unknown lddw sub-type '{name}'"))?,
    };
    Ok(Insn::Lddw {
        dst,
        kind,
        imm: v as u32 as i32,
        next_imm: (v >> 32) as u32 as i32,
    })
}

/// `call %rX`, `call local TARGET`, `call btf ID`, `call HELPER`.
fn parse_call(l: &Line<'_>, ops: &[&str], labels: &Labels<'_>) -> PResult<Insn> {
    expect_count(l.mnemonic, ops, 1)?;
    let op = ops[0];
    if op.starts_with('%') {
        return Ok(Insn::Callx { reg: reg(op)? });
    }
    if let Some(t) = op.strip_prefix("local") {
        let t = t.trim();
        if !t.is_empty()
            && op
                .as_bytes()
                .get(5)
                .is_some_and(|b| b.is_ascii_whitespace())
        {
            return Ok(Insn::Call {
                kind: CallKind::Local,
                imm: target32(t, l.pc, labels)?,
            });
        }
    }
    if let Some(t) = op.strip_prefix("btf") {
        let t = t.trim();
        if !t.is_empty()
            && op
                .as_bytes()
                .get(3)
                .is_some_and(|b| b.is_ascii_whitespace())
        {
            return Ok(Insn::Call {
                kind: CallKind::Btf,
                imm: imm32(t)?,
            });
        }
    }
    Ok(Insn::Call {
        kind: CallKind::Helper,
        imm: imm32(op)?,
    })
}

/// Byte order: le/be/bswap/swap + 16/32/64.
fn parse_endian(l: &Line<'_>, ops: &[&str], _: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    for (prefix, kind) in [
        ("le", Endian::Le),
        ("be", Endian::Be),
        ("bswap", Endian::Swap),
        ("swap", Endian::Swap),
    ] {
        if let Some(bits) = m.strip_prefix(prefix) {
            let bits = match bits {
                "16" => 16,
                "32" => 32,
                "64" => 64,
                _ => continue,
            };
            expect_count(m, ops, 1)?;
            return Ok(Some(Insn::End {
                kind,
                dst: reg(ops[0])?,
                bits,
            }));
        }
    }
    Ok(None)
}

/// Sign-extending moves: movsx{8,16}32 and movsx{8,16,32}64.
fn parse_movsx(l: &Line<'_>, ops: &[&str], _: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    let Some(rest) = m.strip_prefix("movsx") else {
        return Ok(None);
    };
    let (w, bits) = match rest {
        "832" => (Width::W32, 8),
        "1632" => (Width::W32, 16),
        "864" => (Width::W64, 8),
        "1664" => (Width::W64, 16),
        "3264" => (Width::W64, 32),
        _ => return Err(format!("invalid mnemonic '{m}'")),
    };
    expect_count(m, ops, 2)?;
    Ok(Some(Insn::MovSx {
        w,
        dst: reg(ops[0])?,
        src: reg(ops[1])?,
        bits,
    }))
}

/// Loads: ldabs{b,h,w}, ldind{b,h,w}, ldx[s]{b,h,w,dw}.
fn parse_load(l: &Line<'_>, ops: &[&str], _: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    let count = |n| expect_count(m, ops, n);
    if let Some(rest) = m.strip_prefix("ldabs") {
        if let Some(size @ (Size::B | Size::H | Size::W)) = size_of(rest) {
            count(1)?;
            return Ok(Some(Insn::LdAbs {
                size,
                imm: imm32(ops[0])?,
            }));
        }
    }
    if let Some(rest) = m.strip_prefix("ldind") {
        if let Some(size @ (Size::B | Size::H | Size::W)) = size_of(rest) {
            count(2)?;
            return Ok(Some(Insn::LdInd {
                size,
                src: reg(ops[0])?,
                imm: imm32(ops[1])?,
            }));
        }
    }
    if let Some(rest) = m.strip_prefix("ldx") {
        let (sx, size) = match rest.strip_prefix('s').and_then(size_of) {
            Some(size @ (Size::B | Size::H | Size::W)) => (true, Some(size)),
            _ => (false, size_of(rest)),
        };
        if let Some(size) = size {
            count(2)?;
            let dst = reg(ops[0])?;
            let (src, off) = mem(ops[1])?;
            return Ok(Some(Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            }));
        }
    }
    Ok(None)
}

/// Stores: stx{b,h,w,dw} (register source), st{b,h,w,dw} (immediate).
fn parse_store(l: &Line<'_>, ops: &[&str], _: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    let count = |n| expect_count(m, ops, n);
    if let Some(size) = m.strip_prefix("stx").and_then(size_of) {
        count(2)?;
        let (dst, off) = mem(ops[0])?;
        return Ok(Some(Insn::Stx {
            size,
            dst,
            src: reg(ops[1])?,
            off,
        }));
    }
    if let Some(size) = m.strip_prefix("st").and_then(size_of) {
        count(2)?;
        let (dst, off) = mem(ops[0])?;
        return Ok(Some(Insn::St {
            size,
            dst,
            off,
            imm: imm32(ops[1])?,
        }));
    }
    Ok(None)
}

/// Width-suffixed ALU: neg[32] and the binary ops, e.g. add, add32.
fn parse_alu(l: &Line<'_>, ops: &[&str], _: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    let count = |n| expect_count(m, ops, n);
    let (base, w) = width(m);
    if base == "neg" {
        count(1)?;
        return Ok(Some(Insn::Neg {
            w,
            dst: reg(ops[0])?,
        }));
    }
    if let Some(&op) = AluOp::ALL.iter().find(|o| o.mnemonic() == base) {
        count(2)?;
        return Ok(Some(Insn::Alu {
            w,
            op,
            dst: reg(ops[0])?,
            src: reg_or_imm(ops[1])?,
        }));
    }
    Ok(None)
}

/// Conditional jumps, e.g. jeq, jeq32. They take no `64` suffix.
fn parse_jmp(l: &Line<'_>, ops: &[&str], labels: &Labels<'_>) -> PResult<Option<Insn>> {
    let m = l.mnemonic;
    if m.ends_with("64") {
        return Ok(None);
    }
    let (base, w) = width(m);
    let Some(&cond) = JmpCond::ALL.iter().find(|c| c.mnemonic() == base) else {
        return Ok(None);
    };
    expect_count(m, ops, 3)?;
    Ok(Some(Insn::Jmp {
        w,
        cond,
        dst: reg(ops[0])?,
        src: reg_or_imm(ops[1])?,
        off: target16(ops[2], l.pc, labels)?,
    }))
}

/// `lock [fetch] add|and|or|xor[32] [..], %rs`, `lock xchg[32] ..`, `lock cmpxchg[32] ..`.
fn parse_lock(text: &str) -> PResult<Insn> {
    const USAGE: &str = "invalid number of operands for lock \
        (expected: lock [fetch] OP[32] [%rX+off], %rY)";
    let mut words = text.splitn(2, char::is_whitespace);
    let mut op_word = words.next().unwrap_or("");
    let mut rest = words.next().unwrap_or("").trim();
    let mut fetch = false;
    if op_word == "fetch" {
        fetch = true;
        let mut words = rest.splitn(2, char::is_whitespace);
        op_word = words.next().unwrap_or("");
        rest = words.next().unwrap_or("").trim();
    }
    if op_word.is_empty() {
        return Err(USAGE.into());
    }
    let (base, w) = width(op_word);
    let size = if w == Width::W32 { Size::W } else { Size::DW };
    let op = match base {
        "add" => AtomicOp::Add,
        "and" => AtomicOp::And,
        "or" => AtomicOp::Or,
        "xor" => AtomicOp::Xor,
        "xchg" => AtomicOp::Xchg,
        "cmpxchg" => AtomicOp::Cmpxchg,
        _ => return Err(format!("invalid atomic operation '{op_word}'")),
    };
    // xchg and cmpxchg always fetch; `fetch` is accepted but redundant.
    if matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) {
        fetch = true;
    }
    let ops = operands(rest);
    if ops.len() != 2 || ops.iter().any(|o| o.is_empty()) {
        return Err(USAGE.into());
    }
    let (dst, off) = mem(ops[0])?;
    Ok(Insn::Atomic {
        size,
        op,
        fetch,
        dst,
        src: reg(ops[1])?,
        off,
    })
}
