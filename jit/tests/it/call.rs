//! Helpers, callx, local calls, call depth and budget counts.

use crate::harness::*;
use cranebpf::insn::*;
use cranebpf::{Fault, FaultKind, HelperError, RunOptions, Vm, VmError};
use cranebpf_testkit::build::{call, call_local};

fn jeq(dst: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp {
        w: Width::W64,
        cond: JmpCond::Eq,
        dst: r(dst),
        src: Src::Imm(imm),
        off,
    }
}

#[test]
fn helper_call_keeps_r1_to_r5() {
    // r0 = sum(1..5) = 15; then r0 += r1 + r5 (unchanged: 1 and 5).
    let p = prog(&[
        mov(1, 1),
        mov(2, 2),
        mov(3, 3),
        mov(4, 4),
        mov(5, 5),
        call(7),
        alur(Width::W64, AluOp::Add, 0, 1),
        alur(Width::W64, AluOp::Add, 0, 5),
        EXIT,
    ]);
    assert_eq!(check(&p, &[]), Ok(21));
}

#[test]
fn helper_errors_and_unknown_ids() {
    let p = prog(&[mov(0, 1), call(9), EXIT]);
    assert_eq!(
        check(&p, &[]),
        Err(Fault {
            kind: FaultKind::Helper {
                id: 9,
                error: HelperError::new("nope")
            },
            pc: 1
        })
    );
    // callx with an unregistered id faults at run time.
    let p = prog(&[lddw(3, 1 << 40), Insn::Callx { reg: r(3) }, EXIT]);
    assert_eq!(
        check(&p, &[]),
        Err(Fault {
            kind: FaultKind::UnknownHelper { id: 1 << 40 },
            pc: 2
        })
    );
    let p = prog(&[mov(1, 77), mov(3, 5), Insn::Callx { reg: r(3) }, EXIT]);
    assert_eq!(check(&p, &[]), Ok(77));
    // A static call to an unregistered id is refused at load by both engines.
    let p = prog(&[call(1234), EXIT]);
    let i = Vm::interpreter(&p, helpers()).err();
    let j = Vm::jit(&p, helpers()).err();
    match (i, j) {
        (Some(VmError::Engine(a)), Some(VmError::Engine(b))) => assert_eq!(a, b),
        other => panic!("expected the same engine error, got {other:?}"),
    }
}

#[test]
fn panicking_helper_is_a_fault_in_jit_code() {
    let mut h = helpers();
    h.register(11, "panics", |_, _| panic!("helper bug"));
    let p = prog(&[call(11), EXIT]);
    let vm = Vm::jit(&p, h).unwrap();
    let res = vm.run(&mut []);
    assert!(
        matches!(
            res,
            Err(Fault {
                kind: FaultKind::Helper { id: 11, .. },
                pc: 0
            })
        ),
        "{res:?}"
    );
    // The program is still usable afterwards.
    assert!(vm.run(&mut []).is_err());
}

/// `f(r6)`: returns 42 if r6 == 0, else calls itself with r6 - 1.
/// The entry calls `f` once with r6 = n, so there are n + 1 nested calls.
fn recursion(n: i32) -> cranebpf::Program {
    prog(&[
        mov(6, n),                         // 0
        call_local(1),                     // 1 -> 3
        EXIT,                              // 2
        jeq(6, 0, 3),                      // 3 -> 7
        alu(Width::W64, AluOp::Sub, 6, 1), // 4
        call_local(-3),                    // 5 -> 3
        EXIT,                              // 6
        mov(0, 42),                        // 7
        EXIT,                              // 8
    ])
}

#[test]
fn call_depth_seven_nested_calls_succeed_eighth_faults() {
    assert_eq!(check(&recursion(6), &[]), Ok(42));
    assert_eq!(
        check(&recursion(7), &[]),
        Err(Fault {
            kind: FaultKind::CallDepth { limit: 8 },
            pc: 5
        })
    );
}

#[test]
fn local_call_r6_to_r9_preserved_r1_to_r5_from_callee_and_frames_distinct() {
    let p = prog(&[
        mov(6, 6),
        mov(9, 9),
        mov(1, 100),
        Insn::St {
            size: Size::DW,
            dst: r(10),
            off: -8,
            imm: 11,
        },
        call_local(6), // 4 -> 11
        alur(Width::W64, AluOp::Add, 0, 6),
        alur(Width::W64, AluOp::Add, 0, 9),
        alur(Width::W64, AluOp::Add, 0, 1),
        Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: r(2),
            src: r(10),
            off: -8,
        },
        alur(Width::W64, AluOp::Add, 0, 2),
        EXIT, // 10
        mov(6, 1000),
        mov(9, 1000),                      // 11, 12: clobber callee-saved
        alu(Width::W64, AluOp::Add, 1, 1), // r1 = 101
        Insn::St {
            size: Size::DW,
            dst: r(10),
            off: -8,
            imm: 5000,
        }, // own frame
        mov(0, 1),
        EXIT,
    ]);
    assert_eq!(check(&p, &[]), Ok(1 + 6 + 9 + 101 + 11));
}

#[test]
fn budget_counts_are_exact() {
    // 0: mov r0, 0 | 1: add r0, 1 | 2: jlt r0, 3, -2 | 3: exit
    // Blocks: [0] (1), [1, 2] (2), [3] (1); run: 1 + 3 * 2 + 1 = 8.
    let p = prog(&[
        mov(0, 0),
        alu(Width::W64, AluOp::Add, 0, 1),
        Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Lt,
            dst: r(0),
            src: Src::Imm(3),
            off: -2,
        },
        EXIT,
    ]);
    let h = helpers();
    let (i, j) = engines(&p, &h);
    for vm in [&i, &j] {
        let o = run_on(vm, &mut [], None);
        assert_eq!((o.result, o.insn_count), (Ok(3), 8));
        let o = run_on(vm, &mut [], Some(8));
        assert_eq!((o.result, o.insn_count), (Ok(3), 8));
        // Budget 5: charged 1, 3, 5; the next loop block needs 2 more.
        let o = run_on(vm, &mut [], Some(5));
        assert_eq!(
            o.result,
            Err(Fault {
                kind: FaultKind::Budget { budget: 5 },
                pc: 1
            })
        );
        assert_eq!(o.insn_count, 5);
        let o = run_on(vm, &mut [], Some(0));
        assert_eq!(
            (o.result, o.insn_count),
            (
                Err(Fault {
                    kind: FaultKind::Budget { budget: 0 },
                    pc: 0
                }),
                0
            )
        );
    }
    // A fault in the middle of a block counts the charge before it plus its position.
    // 0: mov | 1: mov | 2: ldxb r0, [r2+0] (r2 = 0: out of bounds) | 3: exit
    let p = prog(&[
        mov(0, 0),
        mov(2, 0),
        Insn::Ldx {
            size: Size::B,
            sx: false,
            dst: r(0),
            src: r(2),
            off: 0,
        },
        mov(0, 1),
        EXIT,
    ]);
    let (i, j) = engines(&p, &h);
    for vm in [&i, &j] {
        let o = vm.run_with(
            &mut cranebpf::MemoryMap::new(),
            [0; 5],
            &RunOptions::default(),
            None,
        );
        assert_eq!(o.insn_count, 3);
    }
}

#[test]
fn compiled_program_is_reusable_and_shareable() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Vm>();
    let p = prog(&[
        Insn::Ldx {
            size: Size::B,
            sx: false,
            dst: r(0),
            src: r(1),
            off: 0,
        },
        EXIT,
    ]);
    let vm = std::sync::Arc::new(Vm::jit(&p, helpers()).unwrap());
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let vm = vm.clone();
            std::thread::spawn(move || {
                for k in 0..200u8 {
                    let v = t.wrapping_mul(50).wrapping_add(k);
                    assert_eq!(vm.run(&mut [v]), Ok(u64::from(v)));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread ran");
    }
}

#[test]
fn helpers_reach_user_state_in_both_engines() {
    let mut h = helpers();
    h.register(17, "count", |ctx, a| {
        let n = ctx
            .user
            .as_deref_mut()
            .and_then(|u| u.downcast_mut::<u64>())
            .ok_or_else(|| HelperError::new("no user state"))?;
        *n += a[0];
        Ok(*n)
    });
    let p = prog(&[mov(1, 3), call(17), mov(1, 4), call(17), EXIT]);
    let (i, j) = engines(&p, &h);
    for vm in [&i, &j] {
        let mut state = 10u64;
        let out = vm.run_with(
            &mut cranebpf::MemoryMap::new(),
            [0; 5],
            &RunOptions::default(),
            Some(&mut state),
        );
        assert_eq!(out.result, Ok(17), "{:?}", vm.engine());
        assert_eq!(state, 17);
        // Without user state the helper fails, at the first call.
        let out = vm.run_with(
            &mut cranebpf::MemoryMap::new(),
            [0; 5],
            &RunOptions::default(),
            None,
        );
        assert_eq!(
            out.result,
            Err(Fault {
                kind: FaultKind::Helper {
                    id: 17,
                    error: HelperError::new("no user state")
                },
                pc: 1
            })
        );
    }
}

#[test]
fn jit_options_other_settings_agree() {
    let p = recursion(3);
    for opt_level in ["none", "speed", "speed_and_size"] {
        for verifier in [false, true] {
            let mut opts = cranebpf::JitOptions::default();
            opts.verifier = verifier;
            opts.opt_level = opt_level.to_string();
            let vm = Vm::jit_with(&p, helpers(), &opts).expect("compiles");
            assert_eq!(vm.run(&mut []), Ok(42));
        }
    }
    let mut bad = cranebpf::JitOptions::default();
    bad.verifier = true;
    bad.opt_level = "fastest".to_string();
    assert!(matches!(
        Vm::jit_with(&p, helpers(), &bad),
        Err(VmError::Jit(_))
    ));
}

#[test]
fn infinite_loop_stops_at_the_budget() {
    // 0: mov r0, 0 | 1: add r0, 1 | 2: ja -2   (blocks [0], [1, 2])
    let p = prog(&[
        mov(0, 0),
        alu(Width::W64, AluOp::Add, 0, 1),
        Insn::Ja {
            off: -2,
            wide: false,
        },
    ]);
    let (i, j) = engines(&p, &helpers());
    for budget in [0, 1, 2, 3, 1000, 1001] {
        let (o, _) = both(&i, &j, &[], Some(budget), "infinite loop");
        // 1 + 2k <= budget: the count is the largest such value.
        let expect = if budget == 0 {
            0
        } else {
            1 + (budget - 1) / 2 * 2
        };
        assert_eq!(o.insn_count, expect, "budget {budget}");
        let pc = if budget == 0 { 0 } else { 1 };
        assert_eq!(
            o.result,
            Err(Fault {
                kind: FaultKind::Budget { budget },
                pc
            })
        );
    }
}
