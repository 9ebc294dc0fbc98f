//! What is particular to the interpreter's API: runs with a caller-built
//! memory map and arguments, helper-lent regions and user state, load-time
//! errors, and random programs that must never panic it. The hand-worked
//! semantics tests run on every engine in `jit/tests/hand_worked.rs`.

use cranebpf_runtime::*;
use cranebpf_testkit::build::*;

fn interp_with(insns: &[Insn], helpers: Helpers) -> Interpreter {
    let prog = Program::from_insns(insns).expect("test program loads");
    Interpreter::new(&prog, helpers).expect("interpreter accepts the test program")
}

fn interp(insns: &[Insn]) -> Interpreter {
    interp_with(insns, helpers())
}

fn fault(kind: FaultKind, pc: usize) -> Result<u64, Fault> {
    Err(Fault { kind, pc })
}

fn oob(addr: u64, size: u64, access: Access) -> FaultKind {
    FaultKind::OutOfBounds { addr, size, access }
}

use AluOp::*;
use Size::{B, DW, H, W};

#[test]
fn entry_registers() {
    // r0 and r6-r9 are 0, r1-r5 are the arguments.
    let prog = [
        alu64r(Add, 0, 6),
        alu64r(Add, 0, 7),
        alu64r(Add, 0, 8),
        alu64r(Add, 0, 9),
        alu64r(Add, 0, 3),
        alu64r(Add, 0, 4),
        alu64r(Add, 0, 5),
        EXIT,
    ];
    let i = interp(&prog);
    let mut mem = MemoryMap::new();
    let out = i.run_with(&mut mem, [0, 0, 100, 20, 3], &RunOptions::default(), None);
    assert_eq!(out.result, Ok(123));
    assert_eq!(out.insn_count, 8);
    assert!(
        mem.regions().is_empty(),
        "the stack region is removed after the run"
    );
}

#[test]
fn read_only_region_rejects_writes() {
    let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let start = data.as_ptr() as u64;
    let prog = [ldx(B, 0, 1, 7), st(B, 1, 0, 0), EXIT];
    let i = interp(&prog);
    let mut mem = MemoryMap::new();
    mem.add_ref(&data);
    let out = i.run_with(&mut mem, [start, 8, 0, 0, 0], &RunOptions::default(), None);
    assert_eq!(out.result, fault(oob(start, 1, Access::Write), 1));
    assert_eq!(out.insn_count, 2);
    assert_eq!(data, [1, 2, 3, 4, 5, 6, 7, 8]);
}

// ---------------------------------------------------------------------------
// Helpers that register regions.

#[test]
fn helper_registered_region_is_readable_until_removed() {
    // Memory owned by the test, lent to the program through a helper.
    let data: Vec<u64> = vec![0x1122_3344_5566_7788, 2];
    let start = data.as_ptr() as u64;
    let mut helpers = helpers();
    helpers.register(1, "get", move |ctx, _| {
        // SAFETY: `data` outlives every run below and is not accessed
        // through a Rust reference while a run is in progress.
        unsafe {
            ctx.mem.add_raw(Region {
                start,
                len: 16,
                writable: false,
            })
        };
        Ok(start)
    });
    helpers.register(2, "put", |ctx, a| {
        ctx.mem.remove_at(a[0]);
        Ok(0)
    });
    let read = [
        call(1),
        movr(6, 0),
        ldx(DW, 0, 6, 8),
        ldx(W, 3, 6, 0),
        alu64r(Add, 0, 3),
        EXIT,
    ];
    let i = interp_with(&read, helpers.clone());
    let mut mem = MemoryMap::new();
    let out = i.run_with(&mut mem, [0; 5], &RunOptions::default(), None);
    assert_eq!(out.result, Ok(2 + 0x5566_7788));
    // The helper's region stays in the map after the run; the stack does not.
    assert_eq!(mem.regions().len(), 1);

    let use_after_put = [
        call(1),
        movr(6, 0),
        ldx(B, 7, 6, 0),
        movr(1, 6),
        call(2),
        ldx(B, 0, 6, 0),
        EXIT,
    ];
    let i = interp_with(&use_after_put, helpers);
    let mut mem = MemoryMap::new();
    let out = i.run_with(&mut mem, [0; 5], &RunOptions::default(), None);
    assert_eq!(out.result, fault(oob(start, 1, Access::Read), 5));
    assert!(mem.regions().is_empty());
    assert_eq!(data[0], 0x1122_3344_5566_7788);
}

#[test]
fn helpers_receive_user_state() {
    let mut helpers = Helpers::new();
    helpers.register(3, "count", |ctx, _| {
        let n = ctx
            .user
            .as_mut()
            .and_then(|u| u.downcast_mut::<u64>())
            .ok_or_else(|| HelperError::new("no state"))?;
        *n += 1;
        Ok(*n)
    });
    let i = interp_with(&[call(3), call(3), EXIT], helpers);
    let mut n = 10u64;
    let mut mem = MemoryMap::new();
    let out = i.run_with(&mut mem, [0; 5], &RunOptions::default(), Some(&mut n));
    assert_eq!(out.result, Ok(12));
    assert_eq!(n, 12);
}

// ---------------------------------------------------------------------------
// Load-time errors.

#[test]
fn engine_errors_at_load() {
    let load = |insns: &[Insn]| {
        let prog = Program::from_insns(insns).expect("loads");
        Interpreter::new(&prog, helpers()).err()
    };
    assert_eq!(
        load(&[mov(0, 0), call(42), EXIT]),
        Some(EngineError::UnknownHelper { pc: 1, id: 42 })
    );
    assert_eq!(
        load(&[
            mov(0, 0),
            Insn::Call {
                kind: CallKind::Btf,
                imm: 3
            },
            EXIT
        ]),
        Some(EngineError::BtfCall { pc: 1, id: 3 })
    );
    assert_eq!(
        load(&[
            mov(0, 0),
            Insn::Lddw {
                dst: r(1),
                kind: LddwKind::MapByFd,
                imm: 1,
                next_imm: 0
            },
            EXIT
        ]),
        Some(EngineError::PseudoLddw {
            pc: 1,
            kind: LddwKind::MapByFd
        })
    );
    let e = EngineError::UnknownHelper { pc: 1, id: 42 };
    assert!(e.to_string().contains("pc 1"));
}

#[test]
fn interpreter_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Interpreter>();
}

// ---------------------------------------------------------------------------
// Robustness: random well-formed programs never panic the interpreter.

/// xorshift64*, so the sweep is reproducible from its printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn reg(&mut self) -> Reg {
        r(self.below(11) as u8)
    }
    /// A register that may be written: r10 never is (a validator rule).
    fn dst(&mut self) -> Reg {
        r(self.below(10) as u8)
    }
    fn imm(&mut self) -> i32 {
        self.pick(&[0, 1, -1, 2, 7, 8, 31, 32, 63, 64, i32::MIN, i32::MAX])
    }
    fn off(&mut self) -> i16 {
        self.below(96) as i16 - 16
    }
}

fn random_insn(g: &mut Rng) -> Insn {
    let w = g.pick(&[Width::W32, Width::W64]);
    let size = g.pick(&[B, H, W, DW]);
    let src = if g.below(2) == 0 {
        Src::Reg(g.reg())
    } else {
        Src::Imm(g.imm())
    };
    match g.below(16) {
        0..=3 => Insn::Alu {
            w,
            op: g.pick(&AluOp::ALL),
            dst: g.dst(),
            src,
        },
        4 => Insn::Neg { w, dst: g.dst() },
        5 => Insn::End {
            kind: g.pick(&[Endian::Le, Endian::Be, Endian::Swap]),
            dst: g.dst(),
            bits: g.pick(&[16, 32, 64]),
        },
        6 => lddw(g.below(10) as u8, g.next()),
        7 => Insn::Ldx {
            size,
            sx: size != DW && g.below(2) == 0,
            dst: g.dst(),
            src: {
                let any = g.reg();
                g.pick(&[r(1), r(10), any])
            },
            off: g.off() - 64 * (g.below(2) as i16),
        },
        8 => st(size, g.pick(&[1, 10]), g.off(), g.imm()),
        9 => Insn::Stx {
            size,
            dst: g.pick(&[r(1), r(10)]),
            src: g.reg(),
            off: g.off(),
        },
        10 => {
            let op = g.pick(&[
                AtomicOp::Add,
                AtomicOp::Or,
                AtomicOp::And,
                AtomicOp::Xor,
                AtomicOp::Xchg,
                AtomicOp::Cmpxchg,
            ]);
            let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) || g.below(2) == 0;
            atomic(
                g.pick(&[W, DW]),
                op,
                fetch,
                1,
                g.below(10) as u8,
                g.off() & !7,
            )
        }
        11 => Insn::Jmp {
            w,
            cond: g.pick(&JmpCond::ALL),
            dst: g.dst(),
            src,
            off: g.below(5) as i16 - 2,
        },
        12 => {
            let x = callx(g.below(10) as u8);
            g.pick(&[call(5), call(7), call(9), x])
        }
        13 => call_local(g.below(8) as i32 - 4),
        14 => {
            let size = g.pick(&[B, H, W]);
            if g.below(2) == 0 {
                ld_abs(size, g.imm())
            } else {
                ld_ind(size, g.below(10) as u8, g.imm())
            }
        }
        _ => EXIT,
    }
}

#[test]
fn random_programs_never_panic() {
    let seed = 0x5eed_1234_abcd_0001u64;
    println!("seed {seed:#x}");
    let mut g = Rng(seed);
    let mut ran = 0;
    for _ in 0..3000 {
        let n = 2 + g.below(14) as usize;
        let mut insns: Vec<Insn> = (0..n).map(|_| random_insn(&mut g)).collect();
        insns.push(EXIT);
        let Ok(prog) = Program::from_insns(&insns) else {
            continue;
        };
        let Ok(i) = Interpreter::new(&prog, helpers()) else {
            continue;
        };
        let mut input = vec![0u8; 64];
        let mut run_budget = |budget| {
            input.iter_mut().enumerate().for_each(|(k, b)| *b = k as u8);
            let args = [input.as_mut_ptr() as u64, 64, 0, 0, 0];
            let mut mem = MemoryMap::new();
            mem.add_mut(&mut input);
            i.run_with(&mut mem, args, &RunOptions { budget }, None)
        };
        let out = run_budget(Some(2000));
        assert!(out.insn_count <= 2000);
        // A normal exit after C instructions: budget C suffices, C - 1 does not.
        if let (Ok(_), c) = (&out.result, out.insn_count) {
            // (r0 may hold a stack address, which can differ between runs.)
            let again = run_budget(Some(c));
            assert!(again.result.is_ok(), "{insns:?}");
            assert_eq!(again.insn_count, c, "{insns:?}");
            let short = run_budget(Some(c - 1));
            assert!(
                matches!(
                    short.result,
                    Err(Fault {
                        kind: FaultKind::Budget { .. },
                        ..
                    })
                ),
                "{insns:?}"
            );
            assert!(short.insn_count < c);
        }
        ran += 1;
    }
    println!("{ran} programs ran");
    assert!(ran > 1000, "only {ran} programs ran");
}

#[test]
fn stack_region_is_removed_when_a_helper_panics() {
    let mut helpers = Helpers::new();
    helpers.register(1, "panics", |_, _| panic!("helper bug"));
    let i = interp_with(&[call(1), EXIT], helpers);
    let mut buf = [0u8; 4];
    let mut mem = MemoryMap::new();
    mem.add_mut(&mut buf);
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        i.run_with(&mut mem, [0; 5], &RunOptions::default(), None)
    }));
    assert!(res.is_err());
    assert_eq!(mem.regions().len(), 1, "only the input region is left");
}
