//! Properties of loading: decoding plus the structural validator never panic,
//! and the validator agrees with a naive model of its documented rules.

use cranebpf_runtime::{
    validate, CallKind, Function, Insn, LoadError, Program, RawInsn, Rule, ValidateError, MAX_SLOTS,
};
use proptest::prelude::*;

/// Every opcode the decoder knows (RFC 9669 plus `callx`), and 0x00, which
/// only appears as the second slot of an LDDW.
const OPCODES: &[u8] = &[
    // ALU (32-bit): add sub mul div or and lsh rsh (K, X), neg, mod xor mov arsh (K, X), le, be.
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c,
    0x84, 0x94, 0x9c, 0xa4, 0xac, 0xb4, 0xbc, 0xc4, 0xcc, 0xd4, 0xdc,
    // ALU64: the same, and bswap.
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x57, 0x5f, 0x67, 0x6f, 0x77, 0x7f,
    0x87, 0x97, 0x9f, 0xa7, 0xaf, 0xb7, 0xbf, 0xc7, 0xcf, 0xd7,
    // JMP: ja, conditionals (K, X), call, callx, exit.
    0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x55, 0x5d, 0x65, 0x6d, 0x75, 0x7d, 0x85,
    0x8d, 0x95, 0xa5, 0xad, 0xb5, 0xbd, 0xc5, 0xcd, 0xd5, 0xdd,
    // JMP32: ja32, conditionals (K, X).
    0x06, 0x16, 0x1e, 0x26, 0x2e, 0x36, 0x3e, 0x46, 0x4e, 0x56, 0x5e, 0x66, 0x6e, 0x76, 0x7e, 0xa6,
    0xae, 0xb6, 0xbe, 0xc6, 0xce, 0xd6, 0xde, // LD: lddw, legacy ABS and IND.
    0x18, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, // LDX: MEM and MEMSX.
    0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91, // ST, STX, atomics.
    0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, // LDDW second slot.
    0x00,
];

/// A register field: mostly valid (r0..r10, r10 often), sometimes not.
fn reg() -> impl Strategy<Value = u8> {
    prop_oneof![24 => 0u8..=10, 6 => Just(10u8), 1 => 0u8..16]
}

/// An offset: mostly small (jump targets near by; 1 for sdiv/smod; 8, 16,
/// 32 for movsx), sometimes anything.
fn off() -> impl Strategy<Value = i16> {
    prop_oneof![
        3 => Just(0i16),
        4 => -4i16..=4,
        1 => prop::sample::select(vec![8i16, 16, 32]),
        1 => any::<i16>(),
    ]
}

/// An immediate: mostly zero or small (call and ja32 targets, helper ids,
/// byte-order widths, atomic operations), sometimes anything.
fn imm() -> impl Strategy<Value = i32> {
    prop_oneof![
        3 => Just(0i32),
        3 => -4i32..=4,
        2 => prop::sample::select(vec![
            16i32, 32, 64, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1
        ]),
        1 => any::<i32>(),
    ]
}

/// A slot with a known opcode and random fields; `src` is sometimes 0..=6
/// so that lddw sub-types and the three call kinds show up.
fn slot() -> impl Strategy<Value = RawInsn> {
    (
        prop::sample::select(OPCODES),
        reg(),
        prop_oneof![3 => Just(0u8), 3 => reg(), 2 => 0u8..=2, 1 => 0u8..=6],
        off(),
        imm(),
    )
        .prop_map(|(opcode, dst, src, off, imm)| RawInsn {
            opcode,
            dst,
            src,
            off,
            imm,
        })
}

/// Which fields the instruction with this opcode uses: `(dst, src, off, imm)`.
fn used_fields(opcode: u8) -> (bool, bool, bool, bool) {
    let x = opcode & 0x08 != 0;
    match opcode {
        0x84 | 0x87 | 0x8d => (true, false, false, false),
        0xd4 | 0xdc | 0xd7 => (true, false, false, true),
        0x05 => (false, false, true, false),
        0x06 | 0x20 | 0x28 | 0x30 | 0x00 => (false, false, false, true),
        0x85 => (false, true, false, true),
        0x95 => (false, false, false, false),
        0x18 => (true, true, false, true),
        0x40 | 0x48 | 0x50 => (false, true, false, true),
        // ALU, ALU64: only div, mod (sdiv, smod) and mov (movsx) use the offset.
        _ if matches!(opcode & 0x07, 0x04 | 0x07) => {
            let off = matches!(opcode & 0xf0, 0x30 | 0x90) || matches!(opcode, 0xbc | 0xbf);
            (true, x, off, !x)
        }
        // JMP, JMP32 conditionals.
        _ if matches!(opcode & 0x07, 0x05 | 0x06) => (true, x, true, !x),
        // LDX, STX (MEM), ST, atomics.
        _ if opcode & 0x07 == 0x01 => (true, true, true, false),
        _ if opcode & 0x07 == 0x02 => (true, false, true, true),
        0xc3 | 0xdb => (true, true, true, true),
        _ => (true, true, true, false),
    }
}

/// Zeroes the fields `raw`'s opcode does not use, so that it has a fair
/// chance to decode.
fn clean(raw: RawInsn) -> RawInsn {
    let (dst, src, off, imm) = used_fields(raw.opcode);
    RawInsn {
        opcode: raw.opcode,
        dst: if dst { raw.dst } else { 0 },
        src: if src { raw.src } else { 0 },
        off: if off { raw.off } else { 0 },
        imm: if imm { raw.imm } else { 0 },
    }
}

/// Programs of slots from [`slot`]. Most slots have their unused fields
/// zeroed and most LDDWs get a second slot, so that a good share of the
/// programs decode and reach the validator; the rest stay raw.
fn program() -> impl Strategy<Value = Vec<RawInsn>> {
    let entry = (
        slot(),
        prop::bool::weighted(0.95),
        prop::bool::weighted(0.9),
        imm(),
    );
    (
        prop::collection::vec(entry, 0..16),
        prop::bool::weighted(0.5),
    )
        .prop_map(|(entries, add_exit)| {
            let mut out = Vec::new();
            for (raw, tidy, pair, next_imm) in entries {
                out.push(if tidy { clean(raw) } else { raw });
                if raw.opcode == 0x18 && pair {
                    out.push(RawInsn {
                        imm: next_imm,
                        ..RawInsn::default()
                    });
                }
            }
            if add_exit {
                out.push(RawInsn {
                    opcode: 0x95,
                    ..RawInsn::default()
                });
            }
            out
        })
}

/// A naive model of the rules in the validator's module docs, written
/// independently of it (quadratic, no shared helpers): the functions of a
/// decoded program, or `None` if some rule is broken.
fn model(insns: &[(usize, Insn)], n: usize) -> Option<Vec<Function>> {
    if n == 0 || n > MAX_SLOTS {
        return None;
    }
    let names_insn = |t: i64| insns.iter().any(|&(q, _)| q as i64 == t);
    let mut entries = vec![0usize];
    for &(pc, insn) in insns {
        if let Insn::Call {
            kind: CallKind::Local,
            imm,
        } = insn
        {
            let t = pc as i64 + 1 + imm as i64;
            if !names_insn(t) {
                return None;
            }
            if !entries.contains(&(t as usize)) {
                entries.push(t as usize);
            }
        }
    }
    entries.sort();
    let function_of = |pc: usize| -> Function {
        let start = entries
            .iter()
            .copied()
            .filter(|&e| e <= pc)
            .max()
            .unwrap_or(0);
        let end = entries
            .iter()
            .copied()
            .filter(|&e| e > pc)
            .min()
            .unwrap_or(n);
        Function { start, end }
    };
    for &(pc, insn) in insns {
        let here = function_of(pc);
        if insn.written_reg().map(|r| r.num()) == Some(10) {
            return None;
        }
        if let Some(o) = insn.jump_offset() {
            let t = pc as i64 + 1 + o;
            if !names_insn(t) || function_of(t as usize) != here {
                return None;
            }
        }
        if pc + insn.slots() == here.end && !matches!(insn, Insn::Exit | Insn::Ja { .. }) {
            return None;
        }
    }
    Some(entries.iter().map(|&e| function_of(e)).collect())
}

/// Loads `slots` and compares the outcome with [`model`].
fn check_against_model(slots: Vec<RawInsn>) -> Result<(), TestCaseError> {
    let n = slots.len();
    let decoded = cranebpf_runtime::decode_all(&slots);
    match (Program::from_slots(slots), decoded) {
        (Ok(p), Ok(insns)) => {
            prop_assert_eq!(p.insns(), &insns[..]);
            prop_assert_eq!(Some(p.functions().to_vec()), model(&insns, n));
        }
        (Err(LoadError::Validate(e)), Ok(insns)) => {
            prop_assert_eq!(model(&insns, n), None, "validator said {}", e);
            prop_assert!(e.pc < n || e.rule == Rule::Empty, "{}", e);
        }
        (Err(LoadError::Decode(_)), Err(_)) => {}
        (r, d) => prop_assert!(false, "load {:?} but decode {:?}", r, d),
    }
    Ok(())
}

/// One operation of a well-formed function body (see [`well_formed`]).
#[derive(Clone, Debug)]
enum Op {
    Mov(u8),
    Lddw(u8),
    /// Jump (conditional or not) to the op with this index, modulo the
    /// function's length.
    Jump {
        cond: bool,
        wide: bool,
        to: usize,
    },
    /// Local call of the function with this index, modulo their number.
    Call(usize),
    Exit,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u8..10).prop_map(Op::Mov),
        1 => (0u8..10).prop_map(Op::Lddw),
        2 => (any::<bool>(), any::<bool>(), any::<usize>())
            .prop_map(|(cond, wide, to)| Op::Jump { cond, wide, to }),
        2 => any::<usize>().prop_map(Op::Call),
        1 => Just(Op::Exit),
    ]
}

/// Lays out functions (bodies; the last op of each is made an `exit` or an
/// unconditional jump) and encodes them. Every rule holds by construction.
fn lay_out(funcs: &[(Vec<Op>, Option<usize>)]) -> Vec<RawInsn> {
    use cranebpf_runtime::{encode_all, AluOp, JmpCond, LddwKind, Reg, Src, Width};
    let bodies: Vec<Vec<Op>> = funcs
        .iter()
        .map(|(body, ja)| {
            let mut b = body.clone();
            b.push(match ja {
                Some(to) => Op::Jump {
                    cond: false,
                    wide: false,
                    to: *to,
                },
                None => Op::Exit,
            });
            b
        })
        .collect();
    // The pc of every op.
    let mut pcs: Vec<Vec<usize>> = Vec::new();
    let mut pc = 0;
    for b in &bodies {
        let mut v = Vec::new();
        for op in b {
            v.push(pc);
            pc += if matches!(op, Op::Lddw(_)) { 2 } else { 1 };
        }
        pcs.push(v);
    }
    let reg = |r: u8| Reg::new(r).unwrap_or(Reg::R0);
    let mut insns = Vec::new();
    for (f, b) in bodies.iter().enumerate() {
        for (k, op) in b.iter().enumerate() {
            let here = pcs[f][k] as i64;
            insns.push(match *op {
                Op::Mov(r) => Insn::Alu {
                    w: Width::W64,
                    op: AluOp::Mov,
                    dst: reg(r),
                    src: Src::Imm(1),
                },
                Op::Lddw(r) => Insn::Lddw {
                    dst: reg(r),
                    kind: LddwKind::Imm64,
                    imm: 1,
                    next_imm: 2,
                },
                Op::Jump { cond, wide, to } => {
                    let off = pcs[f][to % b.len()] as i64 - here - 1;
                    if cond {
                        Insn::Jmp {
                            w: Width::W32,
                            cond: JmpCond::Gt,
                            dst: Reg::R1,
                            src: Src::Reg(Reg::R10),
                            off: off as i16,
                        }
                    } else {
                        Insn::Ja {
                            off: off as i32,
                            wide,
                        }
                    }
                }
                Op::Call(g) => Insn::Call {
                    kind: CallKind::Local,
                    imm: (pcs[g % bodies.len()][0] as i64 - here - 1) as i32,
                },
                Op::Exit => Insn::Exit,
            });
        }
    }
    encode_all(&insns)
}

fn well_formed() -> impl Strategy<Value = Vec<RawInsn>> {
    let func = (
        prop::collection::vec(op(), 0..6),
        prop::option::of(any::<usize>()),
    );
    prop::collection::vec(func, 1..5).prop_map(|funcs| lay_out(&funcs))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Any bytes, of any length: an error or a program, never a panic; the
    /// outcome agrees with the model.
    #[test]
    fn from_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        match Program::from_bytes(&bytes) {
            Ok(p) => prop_assert_eq!(p.to_bytes(), &bytes[..]),
            Err(LoadError::Decode(e)) => prop_assert!(e.pc <= bytes.len() / 8),
            Err(LoadError::Validate(e)) => {
                prop_assert!(e.pc < bytes.len() / 8 || e.rule == Rule::Empty, "{}", e)
            }
            Err(e) => prop_assert!(false, "unexpected error {}", e),
        }
        if let Ok(slots) = cranebpf_runtime::slots_from_bytes(&bytes) {
            check_against_model(slots)?;
        }
    }

    /// Slots with valid opcodes and random fields: never a panic, and the
    /// validator agrees with the model.
    #[test]
    fn from_slots_never_panics(slots in program()) {
        check_against_model(slots)?;
    }

    /// Programs that keep every rule load, with one function per distinct
    /// call target; after changing one field of one slot, the validator
    /// still agrees with the model.
    #[test]
    fn well_formed_programs_load_and_mutants_agree_with_the_model(
        slots in well_formed(),
        which in any::<usize>(),
        field in 0u8..4,
        value in -6i32..=10,
    ) {
        let p = Program::from_slots(slots.clone());
        prop_assert!(p.is_ok(), "{:?}", p);
        check_against_model(slots.clone())?;
        let mut mutant = slots;
        let k = which % mutant.len();
        let s = &mut mutant[k];
        match field {
            0 => s.dst = value.rem_euclid(11) as u8,
            1 => s.src = value.rem_euclid(3) as u8,
            2 => s.off = value as i16,
            _ => s.imm = value,
        }
        check_against_model(mutant)?;
    }

    /// `validate` is public: inconsistent arguments give errors, not panics.
    #[test]
    fn validate_never_panics_on_inconsistent_arguments(
        slots in program(),
        shift in 0usize..3,
        nslots in 0usize..20,
    ) {
        if let Ok(insns) = cranebpf_runtime::decode_all(&slots) {
            let moved: Vec<_> = insns.iter().map(|&(pc, i)| (pc + shift, i)).collect();
            let r = validate(&moved, nslots);
            if shift > 0 {
                // Nothing starts at pc 0: the layout rule fails there, unless
                // the size rule fails first.
                prop_assert!(
                    matches!(
                        r,
                        Err(ValidateError {
                            pc: 0,
                            rule: Rule::Layout { .. } | Rule::Empty,
                            ..
                        })
                    ),
                    "{:?}",
                    r
                );
            }
            let _ = validate(&insns[..insns.len() / 2], nslots);
        }
    }
}

#[test]
fn empty_bytes_are_an_empty_program() {
    let e = Program::from_bytes(&[]);
    assert!(
        matches!(
            e,
            Err(LoadError::Validate(ValidateError {
                pc: 0,
                rule: Rule::Empty,
                ..
            }))
        ),
        "{e:?}"
    );
}

#[test]
fn oversized_programs_are_rejected_before_decoding() {
    // Every slot is an unknown opcode, yet the size rule is what fails.
    let slots = vec![
        RawInsn {
            opcode: 0xff,
            ..RawInsn::default()
        };
        MAX_SLOTS + 1
    ];
    let e = Program::from_slots(slots);
    assert!(
        matches!(
            e,
            Err(LoadError::Validate(ValidateError {
                pc: MAX_SLOTS,
                rule: Rule::TooLong {
                    slots: 1_000_001,
                    max: 1_000_000
                },
                ..
            }))
        ),
        "{e:?}"
    );
}

#[test]
fn local_call_program_loads_with_two_functions() {
    // The shape of the conformance test call_local: the caller, then func1.
    use cranebpf_runtime::{AluOp, Reg, Src, Width};
    let mov = |dst, imm| Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst,
        src: Src::Imm(imm),
    };
    let prog = [
        mov(Reg::R1, 1), // 0
        Insn::Call {
            kind: CallKind::Local,
            imm: 1,
        }, // 1: -> 3
        Insn::Exit,      // 2
        mov(Reg::R0, 0), // 3: func1
        Insn::Exit,      // 4
    ];
    let p = Program::from_insns(&prog).expect("valid program");
    assert_eq!(
        p.functions(),
        &[Function { start: 0, end: 3 }, Function { start: 3, end: 5 }]
    );
    // Without the caller's exit, and the call now targeting pc 2, the caller
    // 0..2 ends with the call and would fall into func1.
    let bad = [
        prog[0],
        Insn::Call {
            kind: CallKind::Local,
            imm: 0,
        },
        prog[3],
        prog[4],
    ];
    let e = Program::from_insns(&bad).expect_err("falls through");
    assert_eq!(
        e.to_string(),
        "invalid program: pc 1: the last instruction of function 0..2 is not exit or ja; \
         control would fall into the next function"
    );
}

#[test]
fn opcode_list_is_exactly_the_decoders() {
    use cranebpf_runtime::{decode_at, DecodeReason};
    // Opcode 0x00 is listed only as an LDDW second slot.
    for opcode in 1..=255u8 {
        let slots = [
            RawInsn {
                opcode,
                ..RawInsn::default()
            },
            RawInsn::default(),
        ];
        let known = !matches!(
            decode_at(&slots, 0),
            Err(e) if matches!(e.reason, DecodeReason::UnknownOpcode { .. })
        );
        assert_eq!(known, OPCODES.contains(&opcode), "opcode {opcode:#04x}");
    }
}
