//! The disassembler: a filter as `tcpdump -d` prints it.
//!
//! One line per instruction, `(NNN) op       operand`; conditional jumps add
//! `jt T\tjf F` with absolute targets. Decimal operands print as signed
//! 32-bit numbers and hexadecimal ones (`#0x800`) as unsigned, like
//! libpcap's `bpf_image`. Ancillary loads (`ld [SKF_AD_OFF + n]`) print
//! by libpcap's names, as `tcpdump -d -i IFACE vlan` shows them
//! (`ldb [vlanp]`).

use crate::isa::cbpf::insn::{skf, AluOp, Cond, LoadSize, Op, Operand, RetVal, SockFilter};
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
        Op::LdAbs { size, k } => (ld(size), abs_operand(k)),
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

/// The operand of `ld [k]`: an ancillary load by libpcap's name
/// (`[vlanp]`, `[ifidx]`, ...), else the offset as a signed number.
fn abs_operand(k: u32) -> String {
    match k.checked_sub(skf::AD_OFF).and_then(ancillary_name) {
        Some(name) => format!("[{name}]"),
        None => format!("[{}]", k as i32),
    }
}

/// The name `tcpdump -d` (libpcap's `bpf_image`) gives the ancillary load
/// `SKF_AD_OFF + anc`.
pub fn ancillary_name(anc: u32) -> Option<&'static str> {
    Some(match anc {
        skf::AD_PROTOCOL => "proto",
        skf::AD_PKTTYPE => "type",
        skf::AD_IFINDEX => "ifidx",
        skf::AD_NLATTR => "nla",
        skf::AD_NLATTR_NEST => "nlan",
        skf::AD_MARK => "mark",
        skf::AD_QUEUE => "queue",
        skf::AD_HATYPE => "hatype",
        skf::AD_RXHASH => "rxhash",
        skf::AD_CPU => "cpu",
        skf::AD_ALU_XOR_X => "xor_x",
        skf::AD_VLAN_TAG => "vlan_tci",
        skf::AD_VLAN_TAG_PRESENT => "vlanp",
        skf::AD_PAY_OFFSET => "poff",
        skf::AD_RANDOM => "random",
        skf::AD_VLAN_TPID => "vlan_tpid",
        _ => return None,
    })
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

    /// `tcpdump -dd` and `tcpdump -d` of `ifindex 3 and inbound and vlan 7`
    /// compiled for a live Linux interface (`-i eth0`, tcpdump 4.99.3,
    /// libpcap 1.10.3), where libpcap emits ancillary loads.
    const ANC_DD: &str = "{ 0x20, 0, 0, 0xfffff008 },\n{ 0x15, 0, 16, 0x00000003 },\n\
        { 0x28, 0, 0, 0xfffff004 },\n{ 0x15, 14, 0, 0x00000004 },\n\
        { 0x30, 0, 0, 0xfffff030 },\n{ 0x15, 4, 0, 0x00000001 },\n\
        { 0x28, 0, 0, 0x0000000c },\n{ 0x15, 2, 0, 0x00008100 },\n\
        { 0x15, 1, 0, 0x000088a8 },\n{ 0x15, 0, 8, 0x00009100 },\n\
        { 0x30, 0, 0, 0xfffff030 },\n{ 0x15, 0, 2, 0x00000001 },\n\
        { 0x30, 0, 0, 0xfffff02c },\n{ 0x5, 0, 0, 0x00000001 },\n\
        { 0x28, 0, 0, 0x0000000e },\n{ 0x54, 0, 0, 0x00000fff },\n\
        { 0x15, 0, 1, 0x00000007 },\n{ 0x6, 0, 0, 0x00040000 },\n\
        { 0x6, 0, 0, 0x00000000 },\n";
    const ANC_D: &str = "(000) ld       [ifidx]
(001) jeq      #0x3             jt 2\tjf 18
(002) ldh      [type]
(003) jeq      #0x4             jt 18\tjf 4
(004) ldb      [vlanp]
(005) jeq      #0x1             jt 10\tjf 6
(006) ldh      [12]
(007) jeq      #0x8100          jt 10\tjf 8
(008) jeq      #0x88a8          jt 10\tjf 9
(009) jeq      #0x9100          jt 10\tjf 18
(010) ldb      [vlanp]
(011) jeq      #0x1             jt 12\tjf 14
(012) ldb      [vlan_tci]
(013) ja       15
(014) ldh      [14]
(015) and      #0xfff
(016) jeq      #0x7             jt 17\tjf 18
(017) ret      #262144
(018) ret      #0
";

    #[test]
    fn disasm_names_ancillary_loads_as_tcpdump_d() {
        assert_eq!(disassemble(&from_text(ANC_DD).unwrap()), ANC_D);
    }

    #[test]
    fn every_ancillary_offset_has_libpcaps_name_and_others_print_as_numbers() {
        use crate::isa::cbpf::insn::code::*;
        let names: Vec<_> = (0..64).step_by(4).filter_map(ancillary_name).collect();
        assert_eq!(names.len(), 16);
        assert_eq!(names[0], "proto");
        assert_eq!(names[15], "vlan_tpid");
        let f = [
            SockFilter::stmt(LD | W | ABS, skf::AD_OFF + 64),
            SockFilter::stmt(LD | H | ABS, skf::AD_OFF + skf::AD_RANDOM),
            SockFilter::stmt(LD | W | IND, skf::AD_OFF),
        ];
        assert_eq!(
            disassemble(&f),
            "(000) ld       [-4032]\n(001) ldh      [random]\n(002) ld       [x + -4096]\n"
        );
    }
}
