//! The disassembler: a filter as `tcpdump -d` prints it.
//!
//! One line per instruction, `(NNN) op       operand`; conditional jumps add
//! `jt T\tjf F` with absolute targets. Decimal operands print as signed
//! 32-bit numbers and hexadecimal ones (`#0x800`) as unsigned, like
//! libpcap's `bpf_image`.

use crate::isa::cbpf::insn::{AluOp, Cond, LoadSize, Op, Operand, RetVal, SockFilter};
use std::fmt::Write as _;

/// The `tcpdump -d` text of `filters`, one line per instruction, each
/// ending in a newline. Unknown codes print as `unimp 0xCODE`.
pub fn disassemble(filters: &[SockFilter]) -> String {
    let mut out = String::new();
    for (i, f) in filters.iter().enumerate() {
        out.push_str(&line(i, *f));
        out.push('\n');
    }
    out
}

/// One instruction's line, without the newline.
pub fn line(i: usize, f: SockFilter) -> String {
    let Some(op) = Op::decode(f) else {
        return format!("({i:03}) {:<8} {:#x}", "unimp", f.code);
    };
    let (mnemonic, operand) = parts(i, op);
    match op {
        Op::Jmp { jt, jf, .. } => format!(
            "({i:03}) {mnemonic:<8} {operand:<16} jt {}\tjf {}",
            i + 1 + jt as usize,
            i + 1 + jf as usize
        ),
        _ => format!("({i:03}) {mnemonic:<8} {operand}"),
    }
}

/// The mnemonic and operand text of one instruction.
fn parts(i: usize, op: Op) -> (&'static str, String) {
    let signed = |k: u32| k as i32;
    let ld = |size: LoadSize| match size {
        LoadSize::W => "ld",
        LoadSize::H => "ldh",
        LoadSize::B => "ldb",
    };
    match op {
        Op::LdImm { k } => ("ld", format!("#{k:#x}")),
        Op::LdMem { k } => ("ld", format!("M[{k}]")),
        Op::LdLen => ("ld", "#pktlen".into()),
        Op::LdAbs { size, k } => (ld(size), format!("[{}]", signed(k))),
        Op::LdInd { size, k } => (ld(size), format!("[x + {}]", signed(k))),
        Op::LdxImm { k } => ("ldx", format!("#{k:#x}")),
        Op::LdxMem { k } => ("ldx", format!("M[{k}]")),
        Op::LdxLen => ("ldx", "#pktlen".into()),
        Op::LdxMsh { k } => ("ldxb", format!("4*([{}]&0xf)", signed(k))),
        Op::St { k } => ("st", format!("M[{k}]")),
        Op::Stx { k } => ("stx", format!("M[{k}]")),
        Op::Alu { op, src } => alu_parts(op, src),
        Op::Neg => ("neg", String::new()),
        Op::Ja { k } => ("ja", format!("{}", i as u64 + 1 + k as u64)),
        Op::Jmp { cond, src, .. } => {
            let m = match cond {
                Cond::Eq => "jeq",
                Cond::Gt => "jgt",
                Cond::Ge => "jge",
                Cond::Set => "jset",
            };
            let operand = match src {
                Operand::K(k) => format!("#{k:#x}"),
                Operand::X => "x".into(),
            };
            (m, operand)
        }
        Op::Ret { val: RetVal::K(k) } => ("ret", format!("#{}", signed(k))),
        Op::Ret { val: RetVal::A } => ("ret", String::new()),
        Op::Tax => ("tax", String::new()),
        Op::Txa => ("txa", String::new()),
    }
}

/// ALU mnemonics; `and`, `or`, `xor` print k in hex, the others in decimal.
fn alu_parts(op: AluOp, src: Operand) -> (&'static str, String) {
    let (m, hex) = match op {
        AluOp::Add => ("add", false),
        AluOp::Sub => ("sub", false),
        AluOp::Mul => ("mul", false),
        AluOp::Div => ("div", false),
        AluOp::Mod => ("mod", false),
        AluOp::And => ("and", true),
        AluOp::Or => ("or", true),
        AluOp::Xor => ("xor", true),
        AluOp::Lsh => ("lsh", false),
        AluOp::Rsh => ("rsh", false),
    };
    let mut s = String::new();
    match src {
        Operand::X => s.push('x'),
        Operand::K(k) if hex => {
            let _ = write!(s, "#{k:#x}");
        }
        Operand::K(k) => {
            let _ = write!(s, "#{}", k as i32);
        }
    }
    (m, s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::cbpf::text::from_text;

    /// `tcpdump -dd` and `tcpdump -d` of
    /// `tcp[tcpflags] & tcp-syn != 0 or ip[2:2] > 576 or len <= 128`
    /// over an Ethernet capture (libpcap 1.10.3).
    const DD: &str = "{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 9, 0x00000800 },\n\
        { 0x30, 0, 0, 0x00000017 },\n{ 0x15, 0, 5, 0x00000006 },\n\
        { 0x28, 0, 0, 0x00000014 },\n{ 0x45, 3, 0, 0x00001fff },\n\
        { 0xb1, 0, 0, 0x0000000e },\n{ 0x50, 0, 0, 0x0000001b },\n\
        { 0x45, 5, 0, 0x00000002 },\n{ 0x28, 0, 0, 0x00000010 },\n\
        { 0x25, 3, 0, 0x00000240 },\n{ 0x80, 0, 0, 0x00000000 },\n\
        { 0x25, 0, 1, 0x00000080 },\n{ 0x6, 0, 0, 0x00000000 },\n\
        { 0x6, 0, 0, 0x0000ffff },\n";
    const D: &str = "(000) ldh      [12]
(001) jeq      #0x800           jt 2\tjf 11
(002) ldb      [23]
(003) jeq      #0x6             jt 4\tjf 9
(004) ldh      [20]
(005) jset     #0x1fff          jt 9\tjf 6
(006) ldxb     4*([14]&0xf)
(007) ldb      [x + 27]
(008) jset     #0x2             jt 14\tjf 9
(009) ldh      [16]
(010) jgt      #0x240           jt 14\tjf 11
(011) ld       #pktlen
(012) jgt      #0x80            jt 13\tjf 14
(013) ret      #0
(014) ret      #65535
";

    #[test]
    fn disasm_prints_as_tcpdump_d() {
        assert_eq!(disassemble(&from_text(DD).unwrap()), D);
    }

    #[test]
    fn disasm_prints_the_other_forms_as_tcpdump_does() {
        use crate::isa::cbpf::insn::code::*;
        let f = [
            SockFilter::stmt(ALU | ADD | K, 4_000_000_000),
            SockFilter::stmt(ALU | NEG, 0),
            SockFilter::stmt(ALU | MUL | X, 0),
            SockFilter::stmt(ALU | XOR | K, 3),
            SockFilter::stmt(MISC | TAX, 0),
            SockFilter::stmt(LD | IMM, 5),
            SockFilter::stmt(ST, 11),
            SockFilter::stmt(LD | W | IND, 14),
            SockFilter::stmt(JMP | JA, 1),
            SockFilter::stmt(RET | A, 0),
            SockFilter::stmt(0xffff, 0),
        ];
        let want = "(000) add      #-294967296
(001) neg      \n(002) mul      x
(003) xor      #0x3
(004) tax      \n(005) ld       #0x5
(006) st       M[11]
(007) ld       [x + 14]
(008) ja       10
(009) ret      \n(010) unimp    0xffff
";
        assert_eq!(disassemble(&f), want);
    }
}
