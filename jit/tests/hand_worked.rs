//! The hand-worked tests, each on every engine: expected values from
//! RFC 9669 and the engine contract in the runtime's `interp` module docs,
//! worked out by hand, checked on the interpreter, the JIT and (where the
//! run cannot fault on memory) the JIT without bounds checks, which must all
//! agree on r0, the fault and the instruction count
//! (`cranebpf_testkit::engines`).

use cranebpf_runtime::*;
use cranebpf_testkit::build::*;
use cranebpf_testkit::engines::{fault, outcome, r0, run};
use AluOp::*;
use Size::{B, DW, H, W};

fn oob(addr: u64, size: u64, access: Access) -> FaultKind {
    FaultKind::OutOfBounds { addr, size, access }
}

// ---------------------------------------------------------------------------
// ALU pitfalls (spec-notes §3), on every engine.

#[test]
fn mov32_minus_one_zero_extends() {
    assert_eq!(
        r0(&[lddw(0, u64::MAX), alu32(Mov, 0, -1), EXIT]),
        0xffff_ffff
    );
    assert_eq!(r0(&[mov(0, -1), EXIT]), u64::MAX);
    assert_eq!(r0(&[mov(0, i32::MIN), EXIT]), 0xffff_ffff_8000_0000);
}

#[test]
fn div_mod_by_zero_both_widths() {
    let dst = 0xdead_beef_0000_0007;
    let prog = |op, w32: bool| {
        let f = if w32 { alu32r } else { alu64r };
        [lddw(0, dst), mov(1, 0), f(op, 0, 1), EXIT]
    };
    assert_eq!(r0(&prog(Div, false)), 0);
    assert_eq!(r0(&prog(Div, true)), 0);
    assert_eq!(r0(&prog(Sdiv, false)), 0);
    assert_eq!(r0(&prog(Sdiv, true)), 0);
    assert_eq!(r0(&prog(Mod, false)), dst);
    assert_eq!(r0(&prog(Smod, false)), dst);
    // mod32 by zero keeps the low half and zeroes the upper half.
    assert_eq!(r0(&prog(Mod, true)), 7);
    assert_eq!(r0(&prog(Smod, true)), 7);
    // Immediate zero divisors have the same defined result.
    assert_eq!(r0(&[lddw(0, dst), alu64(Div, 0, 0), EXIT]), 0);
    assert_eq!(r0(&[lddw(0, dst), alu32(Mod, 0, 0), EXIT]), 7);
}

#[test]
fn div32_high_divisor_acts_as_zero() {
    assert_eq!(
        r0(&[mov(0, 12), lddw(1, 0x1_0000_0000), alu32r(Div, 0, 1), EXIT]),
        0
    );
    assert_eq!(
        r0(&[mov(0, 12), lddw(1, 0x1_0000_0004), alu32r(Div, 0, 1), EXIT]),
        3
    );
}

#[test]
fn sdiv_smod_intmin_by_minus_one() {
    let min = 0x8000_0000_0000_0000;
    assert_eq!(r0(&[lddw(0, min), alu64(Sdiv, 0, -1), EXIT]), min);
    assert_eq!(r0(&[lddw(0, min), alu64(Smod, 0, -1), EXIT]), 0);
    assert_eq!(
        r0(&[mov(0, 0), alu32(Mov, 0, i32::MIN), alu32(Sdiv, 0, -1), EXIT]),
        0x8000_0000
    );
    assert_eq!(r0(&[alu32(Mov, 0, i32::MIN), alu32(Smod, 0, -1), EXIT]), 0);
    // The register forms (a native idiv would raise #DE on MIN / -1).
    assert_eq!(
        r0(&[lddw(0, min), mov(1, -1), alu64r(Sdiv, 0, 1), EXIT]),
        min
    );
    assert_eq!(r0(&[lddw(0, min), mov(1, -1), alu64r(Smod, 0, 1), EXIT]), 0);
}

#[test]
fn smod_sign_of_dividend() {
    assert_eq!(r0(&[mov(0, -13), alu64(Smod, 0, 4), EXIT]), (-1i64) as u64);
    assert_eq!(r0(&[mov(0, 13), alu64(Smod, 0, -4), EXIT]), 1);
    assert_eq!(
        r0(&[mov(0, -13), alu32(Smod, 0, 4), EXIT]),
        0xffff_ffff // -1 as 32 bits, zero-extended
    );
}

#[test]
fn div64_by_imm_minus_one_is_unsigned_by_u64_max() {
    assert_eq!(r0(&[lddw(0, u64::MAX), alu64(Div, 0, -1), EXIT]), 1);
    assert_eq!(r0(&[lddw(0, u64::MAX - 1), alu64(Div, 0, -1), EXIT]), 0);
    assert_eq!(r0(&[mov(0, 5), alu64(Mod, 0, -1), EXIT]), 5);
}

#[test]
fn shifts_mask_count_including_negative_imm() {
    assert_eq!(r0(&[mov(0, 1), alu64(Lsh, 0, 68), EXIT]), 16);
    assert_eq!(r0(&[mov(0, 0x100), alu64(Rsh, 0, -60), EXIT]), 0x10);
    assert_eq!(r0(&[mov(0, 1), alu32(Lsh, 0, 36), EXIT]), 16);
    assert_eq!(r0(&[mov(0, 1), mov(1, 68), alu64r(Lsh, 0, 1), EXIT]), 16);
}

#[test]
fn arsh32_sign_of_low_half_then_zero_extend() {
    assert_eq!(
        r0(&[alu32(Mov, 0, i32::MIN), alu32(Arsh, 0, 48), EXIT]),
        0xffff_8000
    );
    assert_eq!(
        r0(&[lddw(0, 0x8000_0000_0000_0000), alu64(Arsh, 0, 63), EXIT]),
        u64::MAX
    );
}

#[test]
fn neg_intmin_and_zero_extension() {
    let neg = |w, dst| Insn::Neg { w, dst: r(dst) };
    assert_eq!(
        r0(&[lddw(0, 0x8000_0000_0000_0000), neg(Width::W64, 0), EXIT]),
        0x8000_0000_0000_0000
    );
    assert_eq!(
        r0(&[lddw(0, 0xffff_ffff_8000_0000), neg(Width::W32, 0), EXIT]),
        0x8000_0000
    );
    assert_eq!(r0(&[mov(0, 1), neg(Width::W32, 0), EXIT]), 0xffff_ffff);
}

#[test]
fn movsx() {
    let movsx = |w, bits| Insn::MovSx {
        w,
        dst: r(0),
        src: r(1),
        bits,
    };
    assert_eq!(r0(&[mov(1, 0x80), movsx(Width::W32, 8), EXIT]), 0xffff_ff80);
    assert_eq!(
        r0(&[mov(1, 0x80), movsx(Width::W64, 8), EXIT]),
        0xffff_ffff_ffff_ff80
    );
    assert_eq!(
        r0(&[lddw(1, 0x1_8000_0000), movsx(Width::W64, 32), EXIT]),
        0xffff_ffff_8000_0000
    );
}

#[test]
fn byte_order() {
    let end = |kind, bits| Insn::End {
        kind,
        dst: r(0),
        bits,
    };
    let v = 0x1122_3344_aabb_1234u64;
    assert_eq!(r0(&[lddw(0, v), end(Endian::Be, 16), EXIT]), 0x3412);
    assert_eq!(r0(&[lddw(0, v), end(Endian::Be, 32), EXIT]), 0x3412_bbaa);
    assert_eq!(
        r0(&[lddw(0, v), end(Endian::Be, 64), EXIT]),
        0x3412_bbaa_4433_2211
    );
    assert_eq!(r0(&[lddw(0, v), end(Endian::Le, 16), EXIT]), 0x1234);
    assert_eq!(r0(&[lddw(0, v), end(Endian::Le, 32), EXIT]), 0xaabb_1234);
    assert_eq!(r0(&[lddw(0, v), end(Endian::Le, 64), EXIT]), v);
    assert_eq!(r0(&[lddw(0, v), end(Endian::Swap, 16), EXIT]), 0x3412);
    assert_eq!(
        r0(&[lddw(0, v), end(Endian::Swap, 64), EXIT]),
        0x3412_bbaa_4433_2211
    );
}

/// `if cond { r0 = 1 } else { r0 = 0 }` as a program.
fn branch(w: Width, cond: JmpCond, a: u64, src: Src) -> u64 {
    r0(&[
        lddw(1, a),
        mov(0, 1),
        jmp(w, cond, 1, src, 1),
        mov(0, 0),
        EXIT,
    ])
}

#[test]
fn jmp32_signed_compares_and_jset() {
    use JmpCond::*;
    // 0x7fff_ffff_ffff_ffff: positive in 64 bits, -1 in its low 32 bits.
    let v = 0x7fff_ffff_ffff_ffff;
    assert_eq!(branch(Width::W32, Slt, v, Src::Imm(0)), 1);
    assert_eq!(branch(Width::W64, Slt, v, Src::Imm(0)), 0);
    // JMP sign-extends the imm: jeq 0xffff_ffff_8000_0000, 0x80000000 is taken.
    assert_eq!(
        branch(Width::W64, Eq, 0xffff_ffff_8000_0000, Src::Imm(i32::MIN)),
        1
    );
    assert_eq!(branch(Width::W64, Eq, 0x8000_0000, Src::Imm(i32::MIN)), 0);
    assert_eq!(branch(Width::W32, Eq, 0x8000_0000, Src::Imm(i32::MIN)), 1);
    assert_eq!(branch(Width::W64, Set, 0b1010, Src::Imm(0b0100)), 0);
    assert_eq!(branch(Width::W64, Set, 0b1010, Src::Imm(0b0010)), 1);
    assert_eq!(branch(Width::W32, Set, 0x1_0000_0000, Src::Imm(-1)), 0);
    assert_eq!(branch(Width::W64, Set, 0x1_0000_0000, Src::Imm(-1)), 1);
}

#[test]
fn ja32_wide_jump() {
    let prog = [mov(0, 1), Insn::Ja { off: 1, wide: true }, mov(0, 2), EXIT];
    assert_eq!(r0(&prog), 1);
    assert_eq!(r0(&[mov(0, 1), ja(1), mov(0, 2), EXIT]), 1);
}

// ---------------------------------------------------------------------------
// Loads and stores.

#[test]
fn stores_and_loads_every_width() {
    let mut input = [0u8; 16];
    let prog = [
        lddw(2, 0x0807_0605_0403_0201),
        stx(DW, 1, 2, 8),
        stx(B, 1, 2, 0),
        stx(H, 1, 2, 1),
        stx(W, 1, 2, 3),
        ldx(W, 0, 1, 0), // 01 01 02 01
        ldx(H, 3, 1, 8), // 01 02
        alu64r(Add, 0, 3),
        ldx(B, 3, 1, 15), // 08
        alu64r(Add, 0, 3),
        ldx(DW, 3, 1, 8),
        alu64r(Xor, 0, 3),
        EXIT,
    ];
    let expect = (0x0102_0101u64 + 0x0201 + 0x08) ^ 0x0807_0605_0403_0201;
    assert_eq!(run(&prog, &mut input), Ok(expect));
    assert_eq!(input, [1, 1, 2, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
}

#[test]
fn st_immediate_every_width_and_dw_sign_extends() {
    let mut input = [0u8; 16];
    let prog = [
        st(DW, 1, 8, -1),
        st(B, 1, 0, 0x1ff), // low byte only
        st(H, 1, 1, -2),    // fe ff
        st(W, 1, 3, 0x0102_0304),
        mov(0, 0),
        EXIT,
    ];
    assert_eq!(run(&prog, &mut input), Ok(0));
    assert_eq!(
        input,
        [0xff, 0xfe, 0xff, 4, 3, 2, 1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
}

#[test]
fn sign_extending_loads() {
    let mut input = [0x80, 0x80, 0xff, 0xff, 0xff, 0x7f, 0, 0];
    let one = |size, off| run(&[ldxs(size, 0, 1, off), EXIT], &mut input.clone());
    assert_eq!(one(B, 0), Ok(0xffff_ffff_ffff_ff80));
    assert_eq!(one(H, 0), Ok(0xffff_ffff_ffff_8080));
    assert_eq!(one(W, 2), Ok(0x7fff_ffff));
    assert_eq!(one(W, 0), Ok(0xffff_ffff_ffff_8080));
    assert_eq!(run(&[ldx(H, 0, 1, 0), EXIT], &mut input), Ok(0x8080));
}

#[test]
fn load_into_its_own_base_register() {
    let mut input = [0x34, 0x12];
    assert_eq!(
        run(&[ldx(H, 1, 1, 0), movr(0, 1), EXIT], &mut input),
        Ok(0x1234)
    );
}

#[test]
fn stack_is_zeroed_per_run_and_frames_are_512_apart() {
    // Reads [r10-8] (must be 0), then writes it.
    let prog = [ldx(DW, 0, 10, -8), st(DW, 10, -8, 42), EXIT];
    // (Every engine runs on one stack, so each run sees the previous one's
    // store unless it zeroes the stack.)
    assert_eq!(run(&prog, &mut []), Ok(0));
    assert_eq!(run(&prog, &mut []), Ok(0));
    // A callee's r10 is 512 below its caller's.
    let prog = [
        movr(6, 10),
        call_local(3),
        alu64r(Sub, 6, 0),
        movr(0, 6),
        EXIT,
        movr(0, 10),
        EXIT,
    ];
    assert_eq!(r0(&prog), 512);
}

// ---------------------------------------------------------------------------
// Atomics.

#[test]
fn atomics_dw() {
    use AtomicOp::*;
    let start = 0x0000_0001_0000_00f0u64;
    let cases: [(AtomicOp, bool, u64, u64, u64); 8] = [
        // (op, fetch, operand, expected memory, expected operand register)
        (Add, false, 0x10, 0x0000_0001_0000_0100, 0x10),
        (Add, true, 0x10, 0x0000_0001_0000_0100, start),
        (Or, true, 0x0f, 0x0000_0001_0000_00ff, start),
        (And, false, 0xff, 0xf0, 0xff),
        (And, true, 0x30, 0x30, start),
        (Xor, true, 0x1_0000_0000, 0xf0, start),
        (Xchg, true, 7, 7, start),
        (Xor, false, 0xf0, 0x0000_0001_0000_0000, 0xf0),
    ];
    for (op, fetch, operand, mem, reg) in cases {
        let mut input = start.to_le_bytes();
        let prog = [
            lddw(2, operand),
            atomic(DW, op, fetch, 1, 2, 0),
            movr(0, 2),
            EXIT,
        ];
        assert_eq!(run(&prog, &mut input), Ok(reg), "{op:?} fetch={fetch}");
        assert_eq!(u64::from_le_bytes(input), mem, "{op:?} fetch={fetch}");
    }
}

#[test]
fn atomics_w_touch_four_bytes_and_zero_extend() {
    use AtomicOp::*;
    // Memory: a 32-bit 0xffff_fff0 followed by a sentinel word.
    let cases: [(AtomicOp, bool, u64, u32, u64); 5] = [
        (Add, true, 0x20, 0x10, 0xffff_fff0), // wraps in 32 bits
        (
            Add,
            false,
            0xffff_ffff_0000_0020,
            0x10,
            0xffff_ffff_0000_0020,
        ),
        (Or, true, 0x0f, 0xffff_ffff, 0xffff_fff0),
        (Xor, true, 0xf0, 0xffff_ff00, 0xffff_fff0),
        (Xchg, true, 0xaaaa_aaaa_1234_5678, 0x1234_5678, 0xffff_fff0),
    ];
    for (op, fetch, operand, mem, reg) in cases {
        let mut input = [0xf0, 0xff, 0xff, 0xff, 0xaa, 0xbb, 0xcc, 0xdd];
        let prog = [
            lddw(2, operand),
            atomic(W, op, fetch, 1, 2, 0),
            movr(0, 2),
            EXIT,
        ];
        assert_eq!(run(&prog, &mut input), Ok(reg), "{op:?} fetch={fetch}");
        let word = u32::from_le_bytes([input[0], input[1], input[2], input[3]]);
        assert_eq!(word, mem, "{op:?}");
        assert_eq!(
            input[4..],
            [0xaa, 0xbb, 0xcc, 0xdd],
            "{op:?} touched 8 bytes"
        );
    }
}

#[test]
fn cmpxchg_dw_success_and_failure() {
    let prog = |r0v: u64| {
        [
            lddw(0, r0v),
            mov(2, 99),
            atomic(DW, AtomicOp::Cmpxchg, true, 1, 2, 0),
            EXIT,
        ]
    };
    let mut input = 5u64.to_le_bytes();
    assert_eq!(run(&prog(5), &mut input), Ok(5));
    assert_eq!(u64::from_le_bytes(input), 99);
    // Failure: memory unchanged, r0 still receives the old value.
    let mut input = 5u64.to_le_bytes();
    assert_eq!(run(&prog(6), &mut input), Ok(5));
    assert_eq!(u64::from_le_bytes(input), 5);
}

#[test]
fn cmpxchg_w_compares_low_half_of_r0() {
    let prog = [
        lddw(0, 0xffff_ffff_0000_0005),
        lddw(2, 0x7777_7777_0000_0063),
        atomic(W, AtomicOp::Cmpxchg, true, 1, 2, 0),
        EXIT,
    ];
    let mut input = [5, 0, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa];
    // Equal in 32 bits: stores the low half of r2; r0 = old, zero-extended.
    assert_eq!(run(&prog, &mut input), Ok(5));
    assert_eq!(input, [0x63, 0, 0, 0, 0xaa, 0xaa, 0xaa, 0xaa]);
}

// ---------------------------------------------------------------------------
// Out-of-bounds and misaligned accesses: exact faults, input untouched.

fn assert_faults_untouched(prog: &[Insn], kind: impl Fn(u64) -> FaultKind, pc: usize) {
    let mut input: [u8; 16] = std::array::from_fn(|i| i as u8 * 3);
    let before = input;
    let base = input.as_ptr() as u64;
    assert_eq!(run(prog, &mut input), fault(kind(base), pc));
    assert_eq!(input, before, "input changed by a faulting program");
}

#[test]
fn out_of_bounds_loads() {
    use Access::Read;
    for (size, bytes) in [(B, 1u64), (H, 2), (W, 4), (DW, 8)] {
        let off = 16 - bytes as i16 + 1; // one byte past the end
        assert_faults_untouched(
            &[ldx(size, 0, 1, off), EXIT],
            |b| oob(b + off as u64, bytes, Read),
            0,
        );
        assert_faults_untouched(
            &[mov(0, 0), ldx(size, 0, 1, -1), EXIT],
            |b| oob(b.wrapping_sub(1), bytes, Read),
            1,
        );
        assert_faults_untouched(
            &[lddw(3, u64::MAX), ldx(size, 0, 3, 0), EXIT],
            |_| oob(u64::MAX, bytes, Read),
            2,
        );
    }
    // In bounds at the very end works.
    let mut input = [0u8; 16];
    input[15] = 9;
    assert_eq!(run(&[ldx(B, 0, 1, 15), EXIT], &mut input), Ok(9));
}

#[test]
fn out_of_bounds_stores() {
    use Access::Write;
    for (size, bytes) in [(B, 1u64), (H, 2), (W, 4), (DW, 8)] {
        let off = 16 - bytes as i16 + 1;
        assert_faults_untouched(
            &[mov(2, -1), stx(size, 1, 2, off), EXIT],
            |b| oob(b + off as u64, bytes, Write),
            1,
        );
        assert_faults_untouched(
            &[st(size, 1, -1, -1), EXIT],
            |b| oob(b.wrapping_sub(1), bytes, Write),
            0,
        );
        assert_faults_untouched(
            &[lddw(3, u64::MAX), st(size, 3, 0, 1), EXIT],
            |_| oob(u64::MAX, bytes, Write),
            2,
        );
    }
}

#[test]
fn out_of_bounds_and_misaligned_atomics() {
    use Access::ReadWrite;
    for (size, bytes) in [(W, 4u64), (DW, 8)] {
        for op in [AtomicOp::Add, AtomicOp::Xchg, AtomicOp::Cmpxchg] {
            let fetch = op != AtomicOp::Add;
            let past = 16 - bytes as i16 + 1;
            assert_faults_untouched(
                &[mov(2, 1), atomic(size, op, fetch, 1, 2, past), EXIT],
                |b| oob(b + past as u64, bytes, ReadWrite),
                1,
            );
            assert_faults_untouched(
                &[
                    mov(2, 1),
                    atomic(size, op, fetch, 1, 2, -(bytes as i16)),
                    EXIT,
                ],
                |b| oob(b.wrapping_sub(bytes), bytes, ReadWrite),
                1,
            );
            assert_faults_untouched(
                &[lddw(3, u64::MAX), atomic(size, op, fetch, 3, 2, 0), EXIT],
                |_| oob(u64::MAX, bytes, ReadWrite),
                2,
            );
        }
    }
    // Misaligned: an in-bounds address that is never a multiple of the size.
    let mut input = [0u8; 32];
    let before = input;
    let base = input.as_ptr() as u64;
    let odd = (8 - base % 8) as i16 % 8 + 1; // base + odd == 1 (mod 8)
    for (size, bytes) in [(W, 4u64), (DW, 8)] {
        let prog = [
            mov(2, 1),
            atomic(size, AtomicOp::Add, false, 1, 2, odd),
            EXIT,
        ];
        assert_eq!(
            run(&prog, &mut input),
            fault(
                FaultKind::Misaligned {
                    addr: base + odd as u64,
                    size: bytes
                },
                1
            )
        );
        assert_eq!(input, before);
    }
}

#[test]
fn stack_bounds() {
    // Store r10 into the input so the test learns the stack's address, then
    // touch one byte just above the top, then one byte below the bottom.
    let mut input = [0u8; 8];
    let prog = [stx(DW, 1, 10, 0), ldx(B, 0, 10, 0), EXIT];
    let res = run(&prog, &mut input);
    let top = u64::from_le_bytes(input);
    assert_eq!(res, fault(oob(top, 1, Access::Read), 1));
    assert_eq!(top % 8, 0, "stack is 8-byte aligned");
    let prog = [
        stx(DW, 1, 10, 0),
        mov(2, 1),
        atomic(DW, AtomicOp::Add, false, 10, 2, -8), // the highest stack word: fine
        atomic(W, AtomicOp::Add, false, 10, 2, 0),   // just above the top
        EXIT,
    ];
    let res = run(&prog, &mut input);
    let top = u64::from_le_bytes(input);
    assert_eq!(res, fault(oob(top, 4, Access::ReadWrite), 3));

    let bottom = -(STACK_SIZE as i64);
    let prog = [
        stx(DW, 1, 10, 0),
        movr(3, 10),
        alu64(Add, 3, bottom as i32),
        st(B, 3, 0, 1),  // the lowest stack byte: fine
        st(B, 3, -1, 1), // one below: fault
        EXIT,
    ];
    let res = run(&prog, &mut input);
    let top = u64::from_le_bytes(input);
    assert_eq!(
        res,
        fault(oob(top - STACK_SIZE as u64 - 1, 1, Access::Write), 4)
    );
}

/// Issue 17, frames are isolated: an access through r10 plus a constant
/// outside `[r10 - 512, r10)` faults out of bounds at `r10 + off` on every
/// engine (`sem::frame_access_ok`), even where the stack region holds the
/// bytes: before the rule, depth 0 read `[r10 - 520]` as 0 and a callee
/// wrote its caller's frame through `r10 + 8`.
#[test]
fn r10_accesses_outside_the_frame_fault() {
    let mut input = [0u8; 8];
    // Depth 0, just below the frame: the stack holds 3.5 KiB more.
    let prog = [stx(DW, 1, 10, 0), ldx(DW, 0, 10, -520), EXIT];
    let res = run(&prog, &mut input);
    let top = u64::from_le_bytes(input);
    assert_eq!(res, fault(oob(top - 520, 8, Access::Read), 1));
    // Far below, a byte: still the rule, not the stack's end.
    let prog = [stx(DW, 1, 10, 0), st(B, 10, -4096, 1), EXIT];
    let res = run(&prog, &mut input);
    let top = u64::from_le_bytes(input);
    assert_eq!(res, fault(oob(top - 4096, 1, Access::Write), 1));
    // The frame's own edges are fine.
    let prog = [
        st(DW, 10, -512, 5),
        st(B, 10, -1, 2),
        ldx(DW, 0, 10, -512),
        ldx(B, 2, 10, -1),
        alu64r(Add, 0, 2),
        EXIT,
    ];
    assert_eq!(r0(&prog), 7);
    // A callee writes its caller's frame through r10 + 8: it faults, and
    // the caller's slot keeps its value.
    let prog = [
        st(DW, 10, -8, 11), // 0: caller's local
        call_local(2),      // 1
        ldx(DW, 0, 10, -8), // 2: read back (not reached)
        EXIT,               // 3
        st(DW, 10, 8, 99),  // 4: callee: [its r10 + 8] = the caller's [r10 - 504]
        EXIT,               // 5
    ];
    assert!(matches!(
        run(&prog, &mut []),
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                size: 8,
                access: Access::Write,
                ..
            },
            pc: 4
        })
    ));
    // A caller reads a returned callee's dead locals at [r10 - 520].
    let prog = [
        call_local(2),        // 0
        ldx(DW, 0, 10, -520), // 1: the callee's [r10 - 8]
        EXIT,                 // 2
        st(DW, 10, -8, 42),   // 3: callee
        EXIT,                 // 4
    ];
    assert!(matches!(
        run(&prog, &mut []),
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                size: 8,
                access: Access::Read,
                ..
            },
            pc: 1
        })
    ));
    // Atomics too, before the alignment check.
    let prog = [
        mov(2, 1),
        atomic(DW, AtomicOp::Add, false, 10, 2, -516),
        EXIT,
    ];
    assert!(matches!(
        run(&prog, &mut []),
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                size: 8,
                access: Access::ReadWrite,
                ..
            },
            pc: 1
        })
    ));
}

// ---------------------------------------------------------------------------
// Budget and instruction counts (rule in runtime::budget).

/// 0: mov r0, 0 | 1: add r0, 1 | 2: jlt r0, 3, -2 | 3: exit.
/// Blocks: [0] (1), [1, 2] (2), [3] (1). Run: 1 + 3 * 2 + 1 = 8 instructions.
fn counting_loop() -> [Insn; 4] {
    [
        mov(0, 0),
        alu64(Add, 0, 1),
        jmp(Width::W64, JmpCond::Lt, 0, Src::Imm(3), -2),
        EXIT,
    ]
}

#[test]
fn budget_exact_counts_for_a_loop() {
    let p = counting_loop();
    let out = outcome(&p, &mut [], None);
    assert_eq!((out.result, out.insn_count), (Ok(3), 8));
    let out = outcome(&p, &mut [], Some(8));
    assert_eq!((out.result, out.insn_count), (Ok(3), 8));
    // Budget 7: the exit block (1) would make 8 > 7: fault at pc 3, count 7.
    let out = outcome(&p, &mut [], Some(7));
    let budget = |b| FaultKind::Budget { budget: b };
    assert_eq!((out.result, out.insn_count), (fault(budget(7), 3), 7));
    // Budget 6: after 1 + 2 + 2 = 5, the third loop block (2) would make 7.
    let out = outcome(&p, &mut [], Some(6));
    assert_eq!((out.result, out.insn_count), (fault(budget(6), 1), 5));
    // Budget 5: same point, 5 + 2 = 7 > 5.
    let out = outcome(&p, &mut [], Some(5));
    assert_eq!((out.result, out.insn_count), (fault(budget(5), 1), 5));
    // Budget 0: the first block is refused.
    let out = outcome(&p, &mut [], Some(0));
    assert_eq!((out.result, out.insn_count), (fault(budget(0), 0), 0));
}

#[test]
fn count_after_a_fault_mid_block() {
    // One block of 4 (lddw counts once): the load at pc 3 is its 3rd instruction.
    let p = [mov(0, 0), lddw(1, 0), ldx(B, 0, 1, 0), EXIT];
    let out = outcome(&p, &mut [], None);
    assert_eq!(out.result, fault(oob(0, 1, Access::Read), 3));
    assert_eq!(out.insn_count, 3);
    // A budget of 3 refuses the whole block of 4 up front.
    let out = outcome(&p, &mut [], Some(3));
    assert_eq!(out.result, fault(FaultKind::Budget { budget: 3 }, 0));
    assert_eq!(out.insn_count, 0);
}

#[test]
fn helper_call_counts_one_and_ends_a_block() {
    // Blocks: [0, 1] (mov, call), [2, 3] (add, exit).
    let p = [mov(1, 4), call(5), alu64(Add, 0, 1), EXIT];
    let out = outcome(&p, &mut [], None);
    assert_eq!((out.result, out.insn_count), (Ok(5), 4));
    let out = outcome(&p, &mut [], Some(3));
    assert_eq!(
        (out.result, out.insn_count),
        (fault(FaultKind::Budget { budget: 3 }, 2), 2)
    );
}

// ---------------------------------------------------------------------------
// Local calls.

/// Recursion `n + 1` calls deep; returns `n`.
/// 0: mov r1, n | 1: call +1 (-> 3) | 2: exit
/// 3: jne r1, 0, +2 (-> 6) | 4: mov r0, 0 | 5: exit
/// 6: sub r1, 1 | 7: call -5 (-> 3) | 8: add r0, 1 | 9: exit
/// Blocks: [0,1] [2] [3] [4,5] [6,7] [8,9].
fn recursion(n: i32) -> [Insn; 10] {
    [
        mov(1, n),
        call_local(1),
        EXIT,
        jmp(Width::W64, JmpCond::Ne, 1, Src::Imm(0), 2),
        mov(0, 0),
        EXIT,
        alu64(Sub, 1, 1),
        call_local(-5),
        alu64(Add, 0, 1),
        EXIT,
    ]
}

#[test]
fn call_depth_seven_nested_calls_ok() {
    // Calls at depths 0..6 reach depth 7. Count: 2 + 6 * 3 (levels that recurse:
    // [3] + [6,7]) + 3 (deepest: [3] + [4,5]) + 6 * 2 ([8,9] on the way back) + 1.
    let out = outcome(&recursion(6), &mut [], None);
    assert_eq!((out.result, out.insn_count), (Ok(6), 36));
}

#[test]
fn call_depth_eighth_nested_call_faults() {
    // The 8th nested call is made at depth 7, at pc 7. Count: 2 + 7 * 3 = 23
    // (the call is the 2nd of its block [6,7], which was charged whole).
    let out = outcome(&recursion(7), &mut [], None);
    assert_eq!(out.result, fault(FaultKind::CallDepth { limit: 8 }, 7));
    assert_eq!(out.insn_count, 23);
}

#[test]
fn local_call_preserves_r6_to_r9_and_not_r1_to_r5() {
    let prog = [
        mov(6, 6),
        mov(7, 7),
        mov(8, 8),
        mov(9, 9),
        mov(1, 100),
        st(DW, 10, -8, 1000), // the caller's frame
        call_local(8),        // -> 15
        // r0 = r6 + r7 + r8 + r9 + [r10-8] + r1 (the callee's r1)
        alu64r(Add, 0, 6),
        alu64r(Add, 0, 7),
        alu64r(Add, 0, 8),
        alu64r(Add, 0, 9),
        ldx(DW, 2, 10, -8),
        alu64r(Add, 0, 2),
        alu64r(Add, 0, 1),
        EXIT,
        // callee: clobbers r6-r9, r1 and its own frame slot
        mov(6, 60000),
        mov(7, 70000),
        mov(8, 80000),
        mov(9, 90000),
        st(DW, 10, -8, 5555),
        mov(1, 20000),
        mov(0, 0),
        EXIT,
    ];
    assert_eq!(r0(&prog), 6 + 7 + 8 + 9 + 1000 + 20000);
}

#[test]
fn helper_call_leaves_r1_to_r5_unchanged() {
    let prog = [
        mov(1, 1),
        mov(2, 20),
        mov(3, 300),
        mov(4, 4000),
        mov(5, 50000),
        call(7), // r0 = 54321
        alu64r(Add, 0, 1),
        alu64r(Add, 0, 2),
        alu64r(Add, 0, 3),
        alu64r(Add, 0, 4),
        alu64r(Add, 0, 5),
        EXIT,
    ];
    assert_eq!(r0(&prog), 2 * 54321);
}

#[test]
fn callx_calls_the_helper_in_the_register() {
    assert_eq!(r0(&[mov(1, 5), mov(8, 5), callx(8), EXIT]), 5);
    assert_eq!(
        r0(&[mov(1, 3), mov(2, 4), mov(8, 7), callx(8), EXIT]),
        3 + 4
    );
}

#[test]
fn callx_unknown_helper_faults() {
    let unknown = |id| FaultKind::UnknownHelper { id };
    assert_eq!(
        run(&[mov(8, 6), callx(8), EXIT], &mut []),
        fault(unknown(6), 1)
    );
    assert_eq!(
        run(&[lddw(8, 0x1_0000_0005), callx(8), EXIT], &mut []),
        fault(unknown(0x1_0000_0005), 2)
    );
}

#[test]
fn helper_error_faults_at_the_call() {
    let p = [mov(0, 1), call(9), EXIT];
    let out = outcome(&p, &mut [], None);
    assert_eq!(
        out.result,
        fault(
            FaultKind::Helper {
                id: 9,
                error: HelperError::new("nope")
            },
            1
        )
    );
    assert_eq!(out.insn_count, 2);
    assert_eq!(
        run(&[mov(8, 9), callx(8), EXIT], &mut []),
        fault(
            FaultKind::Helper {
                id: 9,
                error: HelperError::new("nope")
            },
            1
        )
    );
}

// ---------------------------------------------------------------------------
// Legacy packet loads.

#[test]
fn ld_abs_and_ld_ind_in_bounds() {
    let mut pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    assert_eq!(run(&[ld_abs(W, 0), EXIT], &mut pkt), Ok(0x1234_5678));
    assert_eq!(run(&[ld_abs(H, 3), EXIT], &mut pkt), Ok(0x789a));
    assert_eq!(run(&[ld_abs(B, 4), EXIT], &mut pkt), Ok(0x9a));
    assert_eq!(
        run(&[mov(3, 1), ld_ind(H, 3, 2), EXIT], &mut pkt),
        Ok(0x789a)
    );
    assert_eq!(
        run(&[mov(3, -1), ld_ind(B, 3, 1), EXIT], &mut pkt),
        Ok(0x12)
    );
    // The instruction only writes r0.
    assert_eq!(
        run(
            &[mov(3, 1), ld_ind(B, 3, 0), alu64r(Add, 0, 3), EXIT],
            &mut pkt
        ),
        Ok(0x35)
    );
}

#[test]
fn ld_abs_and_ld_ind_out_of_bounds_end_with_zero() {
    let mut pkt = [0x12, 0x34, 0x56, 0x78, 0x9a];
    let tail = |i: Insn| vec![mov(0, 7), i, mov(0, 99), EXIT];
    assert_eq!(run(&tail(ld_abs(W, 2)), &mut pkt), Ok(0));
    assert_eq!(run(&tail(ld_abs(B, 5)), &mut pkt), Ok(0));
    assert_eq!(run(&tail(ld_abs(B, -1)), &mut pkt), Ok(0));
    assert_eq!(
        run(&[mov(3, 4), ld_ind(H, 3, 0), mov(0, 99), EXIT], &mut pkt),
        Ok(0)
    );
    assert_eq!(
        run(
            &[lddw(3, u64::MAX), ld_ind(W, 3, 0), mov(0, 99), EXIT],
            &mut pkt
        ),
        Ok(0)
    );
    // No packet at all (empty input).
    assert_eq!(run(&tail(ld_abs(B, 0)), &mut []), Ok(0));
    // Count: [mov, ldabs] is one block; the run ends after it.
    let out = outcome(&tail(ld_abs(W, 2)), &mut pkt, None);
    assert_eq!((out.result, out.insn_count), (Ok(0), 2));
}

#[test]
fn run_passes_input_pointer_and_length() {
    let prog = [movr(0, 1), alu64r(Add, 0, 2), EXIT];
    assert_eq!(run(&prog, &mut []), Ok(0));
    let mut input = [7u8; 3];
    let expect = input.as_ptr() as u64 + 3;
    assert_eq!(run(&prog, &mut input), Ok(expect));
}

// ---------------------------------------------------------------------------
// One expectation per test, through `every_engine!`: r0 or the fault, and
// the instruction count, from instructions or assembly text.

cranebpf_testkit::every_engine! {
    /// 0xffff_ffff as a 32-bit mov, zero-extended; 3 instructions (lddw once).
    mov32_clears_the_upper_half {
        program: [lddw(0, u64::MAX), alu32(Mov, 0, -1), EXIT],
        result: Ok(0xffff_ffff),
        count: 3,
    }

    /// The same from assembly text.
    mov32_clears_the_upper_half_from_assembly {
        program: "lddw %r0, -1\nmov32 %r0, -1\nexit",
        result: Ok(0xffff_ffff),
        count: 3,
    }

    /// A 32-bit load of the input's first word, little-endian.
    ldxw_reads_the_input {
        program: "ldxw %r0, [%r1]\nexit",
        input: [0x78, 0x56, 0x34, 0x12],
        result: Ok(0x1234_5678),
        count: 2,
    }

    /// The counting loop (8 instructions) under a budget of 7: the exit
    /// block would make 8.
    budget_stops_before_the_exit_block {
        program: [
            mov(0, 0),
            alu64(Add, 0, 1),
            jmp(Width::W64, JmpCond::Lt, 0, Src::Imm(3), -2),
            EXIT,
        ],
        budget: 7,
        result: fault(FaultKind::Budget { budget: 7 }, 3),
        count: 7,
    }

    /// A read of address 0 faults at its pc after 3 instructions.
    null_load_faults {
        program: [mov(0, 0), lddw(1, 0), ldx(B, 0, 1, 0), EXIT],
        result: fault(oob(0, 1, Access::Read), 3),
        count: 3,
    }

    /// A helper's error is a fault at the call.
    failing_helper_faults_at_the_call {
        program: [mov(0, 1), call(9), EXIT],
        result: fault(FaultKind::Helper { id: 9, error: HelperError::new("nope") }, 1),
        count: 2,
    }
}

#[test]
fn the_engine_list_runs_unchecked_only_without_memory_faults() {
    use cranebpf_testkit::engines::run_in;
    let ok = run_in(&prog(&[mov(0, 1), EXIT]), &helpers(), &mut [], None);
    // interp, interp-fast, jit, jit-elide, jit-elide-audit,
    // jit-fast-tier, jit-registers-in-memory, jit-unchecked.
    assert_eq!(ok.engines, 8);
    let oob = run_in(
        &prog(&[lddw(1, 0), ldx(B, 0, 1, 0), EXIT]),
        &helpers(),
        &mut [],
        None,
    );
    assert_eq!(oob.engines, 7);
}
