//! Times loading and compiling programs of many small functions.
//!
//! Builds programs of 1, 10, 100, 1 000 and 5 000 functions of 10
//! instructions each (the entry function calls every other function once,
//! by bpf-to-bpf `call`), then times, for each: `Program` construction
//! (decode and validate), `Interpreter::new` (predecode) and
//! `JitProgram::new` (lowering and Cranelift compilation). Load and compile
//! time should grow linearly with the number of functions.
//!
//! Run with `cargo run --release -p cranebpf --example compile_functions`.

use cranebpf::insn::{AluOp, CallKind, Insn, Reg, Src, Width};
use cranebpf::{Helpers, Interpreter, JitProgram, Program, Vm};
use std::time::{Duration, Instant};

/// Instructions in each called function, `exit` included.
const FUNCTION_LEN: usize = 10;

/// A program whose entry function calls `n - 1` functions of
/// [`FUNCTION_LEN`] instructions each (`n` functions in all).
fn program(n: usize) -> Vec<Insn> {
    let callees = n - 1;
    let entry_len = callees + 2; // the calls, `mov r0, 0`, `exit`
    let mut insns = Vec::with_capacity(entry_len + callees * FUNCTION_LEN);
    for i in 0..callees {
        let pc = i;
        let target = entry_len + i * FUNCTION_LEN;
        insns.push(Insn::Call {
            kind: CallKind::Local,
            imm: (target as i64 - pc as i64 - 1) as i32,
        });
    }
    insns.push(alu(AluOp::Mov, 0));
    insns.push(Insn::Exit);
    for i in 0..callees {
        insns.push(alu(AluOp::Mov, i as i32));
        for k in 0..FUNCTION_LEN - 2 {
            let op = [AluOp::Add, AluOp::Xor, AluOp::Mul, AluOp::Sub][k % 4];
            insns.push(alu(op, k as i32 + 1));
        }
        insns.push(Insn::Exit);
    }
    insns
}

/// `op r0, imm` (64-bit).
fn alu(op: AluOp, imm: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op,
        dst: Reg::R0,
        src: Src::Imm(imm),
    }
}

/// The fastest of `reps` runs of `f`.
fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> Duration {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{:>9} {:>8} {:>12} {:>12} {:>12} {:>12}",
        "functions", "insns", "program", "interp load", "jit compile", "jit/function"
    );
    for n in [1usize, 10, 100, 1_000, 5_000] {
        let insns = program(n);
        let reps = if n >= 1_000 { 1 } else { 3 };
        let prog = Program::from_insns(&insns)?;
        assert_eq!(prog.functions().len(), n);
        let load = best(reps, || Program::from_insns(&insns));
        let interp = best(reps, || Interpreter::new(&prog, Helpers::new()));
        let jit = best(reps, || JitProgram::new(&prog, Helpers::new()));
        // Check once that both engines agree on the result.
        let want = Interpreter::new(&prog, Helpers::new())?.run(&mut [])?;
        let got = Vm::jit(&prog, Helpers::new())?.run(&mut [])?;
        assert_eq!(got, want);
        println!(
            "{:>9} {:>8} {:>12?} {:>12?} {:>12?} {:>12?}",
            n,
            insns.len(),
            load,
            interp,
            jit,
            jit / n as u32
        );
    }
    Ok(())
}
