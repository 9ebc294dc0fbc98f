//! Loads, stores, atomics and bounds checks at region edges: same fault in
//! both engines, memory untouched, process alive.

use crate::harness::*;
use cranebpf::insn::*;
use cranebpf::{
    Access, Fault, FaultKind, HelperCtx, HelperError, MemoryMap, RunOptions, Vm, STACK_SIZE,
};
use cranebpf_testkit::build::{atomic, ldx, st, stx};

/// Runs the JIT alone on `buf` and returns the outcome (for address checks
/// against the real buffer).
fn jit_fault(p: &cranebpf::Program, buf: &mut [u8]) -> Result<u64, Fault> {
    Vm::jit(p, helpers()).expect("compiles").run(buf)
}

#[test]
fn ldx_stx_all_widths_and_sign_extension() {
    let mem: Vec<u8> = (0x80..0x90).collect();
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        for sx in [false, true] {
            if sx && size == Size::DW {
                continue;
            }
            let p = prog(&[
                Insn::Ldx {
                    size,
                    sx,
                    dst: r(0),
                    src: r(1),
                    off: 3,
                },
                stx(size, 1, 0, 8),
                st(size, 1, 0, -2),
                EXIT,
            ]);
            check(&p, &mem).expect("in bounds");
        }
    }
    // LDXSH of 0xfffe is -2.
    expect_r0(
        &[
            Insn::Ldx {
                size: Size::H,
                sx: true,
                dst: r(0),
                src: r(1),
                off: 0,
            },
            EXIT,
        ],
        &[0xfe, 0xff],
        -2i64 as u64,
    );
    // ST DW sign-extends its imm.
    expect_r0(
        &[st(Size::DW, 10, -8, -1), ldx(Size::DW, 0, 10, -8), EXIT],
        &[],
        u64::MAX,
    );
}

#[test]
fn input_one_past_end_and_before_start_fault() {
    let mut buf = [1u8; 8];
    let start = buf.as_ptr() as u64;
    // Last valid word is at +4; +5 reaches one byte past the end.
    let p = prog(&[ldx(Size::W, 0, 1, 4), ldx(Size::W, 0, 1, 5), EXIT]);
    assert!(check(&p, &buf).is_err());
    assert_eq!(
        jit_fault(&p, &mut buf),
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                addr: start + 5,
                size: 4,
                access: Access::Read
            },
            pc: 1
        })
    );
    let p = prog(&[st(Size::B, 1, -1, 7), EXIT]);
    let mem = [9u8; 8];
    let (out, after) = check_with(&p, &helpers(), &mem, "before start");
    assert!(matches!(
        out.result,
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                size: 1,
                access: Access::Write,
                ..
            },
            pc: 0
        })
    ));
    assert_eq!(after, mem, "a faulting store writes nothing");
}

#[test]
fn wrapping_addresses_fault() {
    for (base, size) in [
        (u64::MAX, Size::B),
        (u64::MAX - 3, Size::DW),
        (u64::MAX - 7, Size::DW),
        (0, Size::W),
    ] {
        let p = prog(&[lddw(2, base), ldx(size, 0, 2, 0), EXIT]);
        let out = check(&p, &[0; 16]);
        assert_eq!(
            out,
            Err(Fault {
                kind: FaultKind::OutOfBounds {
                    addr: base,
                    size: size.bytes(),
                    access: Access::Read
                },
                pc: 2
            })
        );
        let p = prog(&[lddw(2, base), stx(size, 2, 2, 0), EXIT]);
        assert!(check(&p, &[0; 16]).is_err());
    }
}

/// The program saves r10 into the input, then touches `r10 + off`; the
/// fault address must be exactly that, per engine. Through r10 plus a
/// constant only the current frame is reachable (the frame rule), even
/// where the stack goes on below it.
#[test]
fn stack_edges() {
    let cases: [(i16, Size, bool); 7] = [
        (0, Size::B, false),                        // one past the top
        (-1, Size::W, false),                       // straddles the top
        (-(STACK_SIZE as i16) - 1, Size::B, false), // one below the stack
        (-(STACK_SIZE as i16), Size::DW, false),    // first byte of the stack: not this frame
        (-600, Size::DW, false),                    // below this frame, inside the stack
        (-512, Size::DW, true),                     // first byte of this frame
        (-1, Size::B, true),                        // last byte of this frame
    ];
    for (off, size, ok) in cases {
        let p = prog(&[
            stx(Size::DW, 1, 10, 0),
            ldx(size, 0, 10, off),
            mov(0, 1),
            EXIT,
        ]);
        for vm in [
            Vm::interpreter(&p, helpers()).unwrap(),
            Vm::jit(&p, helpers()).unwrap(),
        ] {
            let mut buf = [0u8; 8];
            let res = vm.run(&mut buf);
            let fp = u64::from_le_bytes(buf);
            let addr = fp.wrapping_add(off as i64 as u64);
            if ok {
                assert_eq!(res, Ok(1), "{:?} off {off}", vm.engine());
            } else {
                assert_eq!(
                    res,
                    Err(Fault {
                        kind: FaultKind::OutOfBounds {
                            addr,
                            size: size.bytes(),
                            access: Access::Read
                        },
                        pc: 1
                    }),
                    "{:?} off {off}",
                    vm.engine()
                );
            }
        }
    }
}

#[test]
fn read_only_input_rejects_writes_and_atomics() {
    let data = [5u8; 16];
    let progs = [
        prog(&[ldx(Size::DW, 0, 1, 8), EXIT]),
        prog(&[st(Size::W, 1, 0, 1), EXIT]),
        prog(&[
            mov(2, 1),
            atomic(Size::W, AtomicOp::Add, false, 1, 2, 0),
            EXIT,
        ]),
    ];
    let expected_access = [None, Some(Access::Write), Some(Access::ReadWrite)];
    for (p, acc) in progs.iter().zip(expected_access) {
        let (i, j) = engines(p, &helpers());
        let mut results = Vec::new();
        for vm in [&i, &j] {
            let mut mem = MemoryMap::new();
            let reg = mem.add_ref(&data);
            let out = vm.run_with(
                &mut mem,
                [reg.start, reg.len, 0, 0, 0],
                &RunOptions::default(),
                None,
            );
            results.push(out.clone());
            match acc {
                None => assert_eq!(out.result, Ok(0x0505_0505_0505_0505)),
                Some(access) => assert_eq!(
                    out.result,
                    Err(Fault {
                        kind: FaultKind::OutOfBounds {
                            addr: reg.start,
                            size: 4,
                            access
                        },
                        pc: usize::from(access == Access::ReadWrite)
                    })
                ),
            }
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(data, [5u8; 16]);
    }
}

/// A helper-returned pointer into an embedder region: in-bounds accesses
/// go through the out-of-line `MemoryMap::check`, one past its end faults.
#[test]
fn helper_returned_pointer_region() {
    let mut h = helpers();
    // Helper 13 returns the start of the last region of the map.
    h.register(13, "last_region", |ctx: &mut HelperCtx<'_, '_>, _| {
        ctx.mem
            .regions()
            .last()
            .map(|r| r.start)
            .ok_or_else(|| HelperError::new("no region"))
    });
    let p = prog(&[
        Insn::Call {
            kind: CallKind::Helper,
            imm: 13,
        },
        mov(3, 0x55),
        stx(Size::B, 0, 3, 31),  // last byte: fine
        ldx(Size::DW, 4, 0, 24), // last word: fine
        ldx(Size::B, 4, 0, 32),  // one past the end
        EXIT,
    ]);
    let (i, j) = engines(&p, &h);
    let mut outs = Vec::new();
    for vm in [&i, &j] {
        let mut extra = [0u8; 32];
        let start = extra.as_ptr() as u64;
        let mut mem = MemoryMap::new();
        mem.add_mut(&mut extra);
        let out = vm.run_with(&mut mem, [0; 5], &RunOptions::default(), None);
        assert_eq!(
            out.result,
            Err(Fault {
                kind: FaultKind::OutOfBounds {
                    addr: start + 32,
                    size: 1,
                    access: Access::Read
                },
                pc: 4
            }),
            "{:?}",
            vm.engine()
        );
        drop(mem);
        assert_eq!(extra[31], 0x55);
        outs.push(out.insn_count);
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn atomics_sweep_matches_interpreter() {
    let h = helpers();
    let ops = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::Xchg,
        AtomicOp::Cmpxchg,
    ];
    for size in [Size::W, Size::DW] {
        for op in ops {
            for fetch in [false, true] {
                if matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) && !fetch {
                    continue;
                }
                let p = prog(&[
                    ldx(Size::DW, 0, 1, 8),  // r0 = expected (cmpxchg)
                    ldx(Size::DW, 2, 1, 16), // r2 = operand
                    atomic(size, op, fetch, 1, 2, 0),
                    alur(Width::W64, AluOp::Xor, 0, 2),
                    EXIT,
                ]);
                for (m, x, e) in [
                    (5u64, 10u64, 5u64),
                    (0xffff_ffff_0000_0001, 0x1_0000_0002, 1),
                    (7, 9, 8),
                ] {
                    let mut mem = m.to_le_bytes().to_vec();
                    mem.extend_from_slice(&e.to_le_bytes());
                    mem.extend_from_slice(&x.to_le_bytes());
                    check_with(&p, &h, &mem, &format!("{op:?} {size:?} fetch={fetch}"));
                }
            }
        }
    }
    // Hand-worked: fetch-add returns the old value; cmpxchg stores on match.
    let p = prog(&[
        mov(2, 10),
        atomic(Size::DW, AtomicOp::Add, true, 1, 2, 0),
        mov(0, 15),
        mov(3, 99),
        atomic(Size::W, AtomicOp::Cmpxchg, true, 1, 3, 0),
        ldx(Size::DW, 4, 1, 0),
        alur(Width::W64, AluOp::Add, 0, 2), // 15 (old) + 5 (fetched)
        alur(Width::W64, AluOp::Add, 0, 4), // + 99 (stored)
        EXIT,
    ]);
    assert_eq!(check(&p, &5u64.to_le_bytes()), Ok(15 + 5 + 99));
}

#[test]
fn misaligned_atomics_fault() {
    for (size, off) in [(Size::W, 2i16), (Size::DW, 4), (Size::DW, 1)] {
        let p = prog(&[
            mov(2, 1),
            atomic(size, AtomicOp::Add, false, 1, 2, off),
            EXIT,
        ]);
        let mut buf = [0u8; 16];
        let start = buf.as_ptr() as u64;
        // The interpreter's Vec and ours are both at least 8-aligned.
        assert!(check(&p, &buf).is_err());
        assert_eq!(
            jit_fault(&p, &mut buf),
            Err(Fault {
                kind: FaultKind::Misaligned {
                    addr: start + off as u64,
                    size: size.bytes()
                },
                pc: 1
            })
        );
        // On the stack too.
        let p = prog(&[
            mov(2, 1),
            st(Size::DW, 10, -16, 0),
            atomic(size, AtomicOp::Add, false, 10, 2, -16 + off),
            EXIT,
        ]);
        assert!(matches!(
            check(&p, &[]),
            Err(Fault {
                kind: FaultKind::Misaligned { .. },
                pc: 2
            })
        ));
    }
}

#[test]
fn ld_abs_ind_big_endian_and_out_of_packet_ends_with_zero() {
    let pkt = [0x12u8, 0x34, 0x56, 0x78, 0x9a];
    let abs = |size, imm| Insn::LdAbs { size, imm };
    expect_r0(&[abs(Size::H, 0), EXIT], &pkt, 0x1234);
    expect_r0(&[abs(Size::W, 1), EXIT], &pkt, 0x3456_789a);
    expect_r0(&[abs(Size::B, 4), EXIT], &pkt, 0x9a);
    // Past the end: the program ends normally with r0 = 0.
    expect_r0(&[mov(0, 7), abs(Size::W, 2), mov(0, 1), EXIT], &pkt, 0);
    expect_r0(&[abs(Size::B, -1), mov(0, 1), EXIT], &pkt, 0);
    expect_r0(
        &[
            mov(3, 3),
            Insn::LdInd {
                size: Size::H,
                src: r(3),
                imm: 0,
            },
            EXIT,
        ],
        &pkt,
        0x789a,
    );
    expect_r0(
        &[
            mov(3, -1),
            Insn::LdInd {
                size: Size::H,
                src: r(3),
                imm: 1,
            },
            EXIT,
        ],
        &pkt,
        0x1234,
    );
    expect_r0(
        &[
            lddw(3, u64::MAX),
            Insn::LdInd {
                size: Size::B,
                src: r(3),
                imm: 0,
            },
            mov(0, 1),
            EXIT,
        ],
        &pkt,
        0,
    );
    // No packet at all.
    expect_r0(&[mov(0, 3), abs(Size::B, 0), EXIT], &[], 0);
}

/// A helper that removes the input region from the map: later accesses to
/// it fault in both engines (the JIT turns its inline input check off), and
/// packet loads fault too (the packet bounds pass, the map check does not).
#[test]
fn helper_removing_the_input_region() {
    let mut h = helpers();
    h.register(15, "drop_input", |ctx: &mut HelperCtx<'_, '_>, a| {
        ctx.mem.remove_at(a[0]);
        Ok(0)
    });
    let before = prog(&[
        ldx(Size::B, 0, 1, 0),
        Insn::Call {
            kind: CallKind::Helper,
            imm: 15,
        },
        ldx(Size::B, 0, 1, 0),
        EXIT,
    ]);
    let packet = prog(&[
        Insn::Call {
            kind: CallKind::Helper,
            imm: 15,
        },
        Insn::LdAbs {
            size: Size::B,
            imm: 0,
        },
        EXIT,
    ]);
    for p in [before, packet] {
        let (out, _) = check_with(&p, &h, &[1, 2, 3, 4], "drop input");
        assert!(
            matches!(
                out.result,
                Err(Fault {
                    kind: FaultKind::OutOfBounds {
                        size: 1,
                        access: Access::Read,
                        ..
                    },
                    ..
                })
            ),
            "{:?}",
            out.result
        );
    }
}
