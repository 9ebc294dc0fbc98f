//! Runs on the reused per-thread stack see a zeroed stack, whatever the
//! previous run on the thread left in it, on both engines.

use cranebpf::asm::assemble;
use cranebpf::{EngineKind, Helpers, Program, Vm};

fn vm(src: &str, engine: EngineKind) -> Vm {
    let prog = Program::from_insns(&assemble(src).expect("assembles")).expect("loads");
    Vm::new(&prog, Helpers::new(), engine).expect("prepares")
}

const ENGINES: [EngineKind; 2] = [EngineKind::Interpreter, EngineKind::Jit];

#[test]
fn a_frame_read_after_a_dirty_run_sees_zero() {
    for e in ENGINES {
        let dirty = vm(
            "stdw [%r10-8], -1\nstdw [%r10-512], -1\nmov %r0, 0\nexit",
            e,
        );
        let read = vm("ldxdw %r0, [%r10-8]\nexit", e);
        let deep = vm("ldxdw %r0, [%r10-512]\nexit", e);
        for _ in 0..3 {
            assert_eq!(dirty.run(&mut []), Ok(0), "{e:?}");
            assert_eq!(read.run(&mut []), Ok(0), "{e:?}");
            assert_eq!(dirty.run(&mut []), Ok(0), "{e:?}");
            assert_eq!(deep.run(&mut []), Ok(0), "{e:?}");
        }
    }
}

#[test]
fn a_computed_stack_address_sees_a_whole_zeroed_stack() {
    // r3 = -4096 + 8, reached through register arithmetic, so the analysis
    // cannot bound the access: the whole stack is zeroed for these.
    let write = "mov %r3, -4088\nmov %r2, %r10\nadd %r2, %r3\nstdw [%r2-8], -1\nmov %r0, 0\nexit";
    let read = "mov %r3, -4088\nmov %r2, %r10\nadd %r2, %r3\nldxdw %r0, [%r2-8]\nexit";
    for e in ENGINES {
        let w = vm(write, e);
        let r = vm(read, e);
        for _ in 0..3 {
            assert_eq!(w.run(&mut []), Ok(0), "{e:?}");
            assert_eq!(r.run(&mut []), Ok(0), "{e:?}");
        }
    }
}

#[test]
fn runs_with_input_reuse_the_region_storage_and_stay_correct() {
    for e in ENGINES {
        let v = vm("ldxb %r0, [%r1+1]\nexit", e);
        for i in 0..10u8 {
            let mut input = [0, i, 0];
            assert_eq!(v.run(&mut input), Ok(u64::from(i)), "{e:?}");
        }
        // An out-of-bounds access still faults: the previous run's input
        // region is gone from the map.
        let oob = vm("ldxb %r0, [%r1+5]\nexit", e);
        assert!(oob.run(&mut [1, 2]).is_err(), "{e:?}");
    }
}
