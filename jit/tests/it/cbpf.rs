//! Classic BPF translated to eBPF, hand-worked, on both engines: each
//! filter runs on the interpreter and the JIT, which must agree, and the
//! result is the one worked out by hand from the kernel's semantics.

use cranebpf::filter::{FilterError, PacketFilter, PacketMeta, SockFilter};
use cranebpf::seccomp::{SeccompAction, SeccompData, SeccompFilter};
use cranebpf::EngineKind;
use cranebpf_runtime::isa::cbpf::insn::code::*;
use cranebpf_runtime::isa::cbpf::insn::skf;

fn stmt(code: u16, k: u32) -> SockFilter {
    SockFilter::stmt(code, k)
}

fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
    SockFilter::jump(code, k, jt, jf)
}

/// Runs `filters` on both engines over `packet` with `meta`; they must agree.
fn run_meta(filters: &[SockFilter], packet: &[u8], meta: PacketMeta) -> u32 {
    let mut results = Vec::new();
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let mut f = PacketFilter::new(filters.to_vec(), engine).unwrap();
        results.push(f.run(packet, &meta).unwrap());
    }
    assert_eq!(results[0], results[1], "interpreter and JIT disagree");
    results[0]
}

fn run(filters: &[SockFilter], packet: &[u8]) -> u32 {
    run_meta(filters, packet, PacketMeta::with_len(packet.len() as u32))
}

/// `A = value of filters...; ret a`.
fn ret_a(mut body: Vec<SockFilter>) -> Vec<SockFilter> {
    body.push(stmt(RET | A, 0));
    body
}

const PKT: [u8; 8] = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0];

#[test]
fn cbpf_ld_abs_reads_big_endian_sizes() {
    assert_eq!(run(&ret_a(vec![stmt(LD | W | ABS, 1)]), &PKT), 0x3456_789a);
    assert_eq!(run(&ret_a(vec![stmt(LD | H | ABS, 6)]), &PKT), 0xdef0);
    assert_eq!(run(&ret_a(vec![stmt(LD | B | ABS, 7)]), &PKT), 0xf0);
}

#[test]
fn cbpf_ld_abs_past_the_packet_returns_zero() {
    // ld [5] needs bytes 5..9 of 8: the filter ends with 0, not with `ret #7`.
    let f = [stmt(LD | W | ABS, 5), stmt(RET | K, 7)];
    assert_eq!(run(&f, &PKT), 0);
    let f = [stmt(LD | B | ABS, 0x8000_0000), stmt(RET | K, 7)];
    assert_eq!(run(&f, &PKT), 0);
}

#[test]
fn cbpf_ld_ind_adds_x_without_wrapping() {
    let f = ret_a(vec![stmt(LDX | IMM, 2), stmt(LD | H | IND, 3)]);
    assert_eq!(run(&f, &PKT), 0xbcde);
    // X + k = 2^32 + 1 is past any packet (a 32-bit sum would read byte 1).
    let f = [
        stmt(LDX | IMM, 0xffff_ffff),
        stmt(LD | B | IND, 2),
        stmt(RET | K, 7),
    ];
    assert_eq!(run(&f, &PKT), 0);
    let f = [
        stmt(LDX | IMM, 1),
        stmt(LD | B | IND, 0xffff_ffff),
        stmt(RET | K, 7),
    ];
    assert_eq!(run(&f, &PKT), 0);
}

#[test]
fn cbpf_ldx_msh_is_the_ip_header_length_and_keeps_a() {
    // A = 9; X = 4 * (0x45 & 0xf) = 20; A = A + X = 29.
    let pkt = [0u8, 0x45, 0, 0];
    let f = ret_a(vec![
        stmt(LD | IMM, 9),
        stmt(LDX | B | MSH, 1),
        stmt(ALU | ADD | X, 0),
    ]);
    assert_eq!(run(&f, &pkt), 29);
    let f = [stmt(LDX | B | MSH, 4), stmt(RET | K, 7)];
    assert_eq!(run(&f, &pkt), 0, "msh past the packet returns 0");
}

#[test]
fn cbpf_pktlen_is_the_wire_length() {
    let meta = PacketMeta::with_len(1500);
    assert_eq!(
        run_meta(&ret_a(vec![stmt(LD | W | LEN, 0)]), &PKT, meta),
        1500
    );
    let f = ret_a(vec![stmt(LDX | W | LEN, 0), stmt(MISC | TXA, 0)]);
    assert_eq!(run_meta(&f, &PKT, meta), 1500);
}

#[test]
fn cbpf_ancillary_loads_read_the_metadata() {
    let meta = PacketMeta {
        len: 8,
        protocol: 0x86dd,
        vlan_tag: 0x0123,
        vlan_tag_present: 1,
        ifindex: 7,
        ..PacketMeta::default()
    };
    let anc = |n: u32| ret_a(vec![stmt(LD | H | ABS, skf::AD_OFF + n)]);
    assert_eq!(run_meta(&anc(skf::AD_PROTOCOL), &PKT, meta), 0x86dd);
    assert_eq!(run_meta(&anc(skf::AD_VLAN_TAG), &PKT, meta), 0x0123);
    assert_eq!(run_meta(&anc(skf::AD_VLAN_TAG_PRESENT), &PKT, meta), 1);
    assert_eq!(run_meta(&anc(skf::AD_IFINDEX), &PKT, meta), 7);
    // SKF_AD_ALU_XOR_X: A ^= X.
    let f = ret_a(vec![
        stmt(LD | IMM, 0xff00),
        stmt(LDX | IMM, 0x0ff0),
        stmt(LD | W | ABS, skf::AD_OFF + skf::AD_ALU_XOR_X),
    ]);
    assert_eq!(run(&f, &PKT), 0xf0f0);
}

#[test]
fn cbpf_unsupported_ancillary_loads_are_refused_by_name() {
    for (n, what) in [
        (skf::AD_RANDOM, "SKF_AD_RANDOM"),
        (skf::AD_PAY_OFFSET, "SKF_AD_PAY_OFFSET"),
        (skf::AD_NLATTR, "SKF_AD_NLATTR"),
    ] {
        let f = vec![
            stmt(RET | K, 0),
            stmt(LD | W | ABS, skf::AD_OFF + n),
            stmt(RET | A, 0),
        ];
        let e = PacketFilter::new(f, EngineKind::Interpreter).unwrap_err();
        assert!(matches!(e, FilterError::Translate(_)), "{e}");
        let msg = e.to_string();
        assert!(
            msg.starts_with("cBPF instruction 1: ") && msg.contains(what),
            "{msg}"
        );
    }
    let f = vec![stmt(LD | B | ABS, skf::NET_OFF + 9), stmt(RET | A, 0)];
    let msg = PacketFilter::new(f, EngineKind::Jit)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("SKF_NET_OFF"), "{msg}");
}

#[test]
fn cbpf_alu_is_32_bit() {
    let alu =
        |a: u32, code: u16, k: u32| run(&ret_a(vec![stmt(LD | IMM, a), stmt(ALU | code, k)]), &PKT);
    assert_eq!(alu(0xffff_ffff, ADD | K, 2), 1);
    assert_eq!(alu(1, SUB | K, 2), 0xffff_ffff);
    assert_eq!(alu(0x1000_0000, MUL | K, 0x10), 0);
    assert_eq!(
        alu(0xffff_fffe, DIV | K, 0x8000_0000),
        1,
        "unsigned division"
    );
    assert_eq!(alu(17, MOD | K, 5), 2);
    assert_eq!(alu(0xf0f0, AND | K, 0xff00), 0xf000);
    assert_eq!(alu(0xf0f0, OR | K, 0x0f00), 0xfff0);
    assert_eq!(alu(0xf0f0, XOR | K, 0xffff), 0x0f0f);
    assert_eq!(alu(1, LSH | K, 31), 0x8000_0000);
    assert_eq!(alu(0x8000_0000, RSH | K, 31), 1, "logical shift");
    assert_eq!(
        run(&ret_a(vec![stmt(LD | IMM, 1), stmt(ALU | NEG, 0)]), &PKT),
        0xffff_ffff
    );
}

#[test]
fn cbpf_division_by_x_zero_returns_zero() {
    for op in [DIV, MOD] {
        let f = [stmt(LD | IMM, 10), stmt(ALU | op | X, 0), stmt(RET | K, 99)];
        assert_eq!(run(&f, &PKT), 0, "op {op:#x}");
    }
    let f = ret_a(vec![
        stmt(LD | IMM, 10),
        stmt(LDX | IMM, 3),
        stmt(ALU | DIV | X, 0),
    ]);
    assert_eq!(run(&f, &PKT), 3);
}

#[test]
fn cbpf_shift_by_x_takes_x_mod_32() {
    let f = ret_a(vec![
        stmt(LD | IMM, 1),
        stmt(LDX | IMM, 33),
        stmt(ALU | LSH | X, 0),
    ]);
    assert_eq!(run(&f, &PKT), 2);
}

#[test]
fn cbpf_tax_and_txa_move_the_right_way() {
    // tax: X = A (A = 5, X = 5, A = 1, A = A + X = 6).
    let f = ret_a(vec![
        stmt(LD | IMM, 5),
        stmt(MISC | TAX, 0),
        stmt(LD | IMM, 1),
        stmt(ALU | ADD | X, 0),
    ]);
    assert_eq!(run(&f, &PKT), 6);
    // txa: A = X.
    let f = ret_a(vec![
        stmt(LD | IMM, 5),
        stmt(LDX | IMM, 8),
        stmt(MISC | TXA, 0),
    ]);
    assert_eq!(run(&f, &PKT), 8);
}

#[test]
fn cbpf_scratch_memory_holds_words() {
    let f = ret_a(vec![
        stmt(LD | IMM, 0xdead_beef),
        stmt(ST, 15),
        stmt(LDX | IMM, 7),
        stmt(STX, 0),
        stmt(LD | IMM, 0),
        stmt(LDX | MEM, 15),
        stmt(LD | MEM, 0),
        stmt(ALU | ADD | X, 0),
    ]);
    assert_eq!(run(&f, &PKT), 0xdead_bef6);
}

#[test]
fn cbpf_jumps_compare_unsigned_32_bit() {
    // A = 0x8000_0000 > 1 unsigned: jgt is taken.
    let j = |a: u32, code: u16, k: u32| {
        run(
            &[
                stmt(LD | IMM, a),
                jump(JMP | code, k, 1, 0),
                stmt(RET | K, 0),
                stmt(RET | K, 1),
            ],
            &PKT,
        )
    };
    assert_eq!(j(0x8000_0000, JGT | K, 1), 1);
    assert_eq!(j(1, JGT | K, 0x8000_0000), 0);
    assert_eq!(j(0x8000_0000, JGE | K, 0x8000_0000), 1);
    assert_eq!(j(0xffff_ffff, JEQ | K, 0xffff_ffff), 1);
    assert_eq!(j(6, JSET | K, 1), 0);
    assert_eq!(j(6, JSET | K, 2), 1);
    // jt = 0 with jf taken, and X operands.
    let f = [
        stmt(LD | IMM, 3),
        stmt(LDX | IMM, 3),
        jump(JMP | JEQ | X, 0, 0, 1),
        stmt(RET | K, 10),
        stmt(RET | K, 20),
    ];
    assert_eq!(run(&f, &PKT), 10);
    let f = [stmt(JMP | JA, 1), stmt(RET | K, 10), stmt(RET | K, 20)];
    assert_eq!(run(&f, &PKT), 20);
}

#[test]
fn cbpf_a_and_x_start_at_zero() {
    let f = ret_a(vec![stmt(ALU | ADD | X, 0), stmt(ALU | ADD | K, 1)]);
    assert_eq!(run(&f, &PKT), 1);
}

#[test]
fn seccomp_loads_read_seccomp_data_words() {
    // A = args[1] low word + nr; ret ERRNO(A & 0xffff).
    let f = vec![
        stmt(LD | W | ABS, 24),
        stmt(MISC | TAX, 0),
        stmt(LD | W | ABS, 0),
        stmt(ALU | ADD | X, 0),
        stmt(ALU | AND | K, 0xffff),
        stmt(ALU | OR | K, 0x0005_0000),
        stmt(RET | A, 0),
    ];
    let data = SeccompData::new(3, [0, 0x1_0000_0004, 0, 0, 0, 0]);
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let mut s = SeccompFilter::new(f.clone(), engine).unwrap();
        assert_eq!(
            s.evaluate(&data).unwrap(),
            SeccompAction::Errno { errno: 7 }
        );
    }
    // #pktlen is sizeof(struct seccomp_data).
    let f = vec![stmt(LD | W | LEN, 0), stmt(RET | A, 0)];
    let mut s = SeccompFilter::new(f, EngineKind::Jit).unwrap();
    assert_eq!(s.evaluate_raw(&data).unwrap(), 64);
}

#[test]
fn seccomp_refuses_packet_loads() {
    let f = vec![stmt(LD | B | ABS, 0), stmt(RET | A, 0)];
    let msg = SeccompFilter::new(f, EngineKind::Jit)
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "cBPF instruction 0: opcode 0x0030 is not allowed in a seccomp filter (only `ld [k]` reads seccomp_data)"
    );
}
