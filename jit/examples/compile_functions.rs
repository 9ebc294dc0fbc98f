//! Times loading and compiling programs of many small functions.
//!
//! Builds programs of 1, 10, 100, 1 000 and 5 000 functions of 10
//! instructions each, in two shapes (the entry function calls every other
//! function once by bpf-to-bpf `call`; or each function calls the next),
//! then times, for each: `Program` construction
//! (decode and validate), `Interpreter::new` (predecode), lowering every
//! function to Cranelift IR (cranebpf's own part of the JIT) and
//! `JitProgram::new` (lowering and Cranelift compilation). Load and compile
//! time should grow linearly with the number of functions.
//!
//! Run with `cargo run --release -p cranebpf --example compile_functions`.

use cranebpf::insn::{AluOp, CallKind, Insn, Reg, Src, Width};
use cranebpf::{Helpers, Interpreter, JitProgram, Program, Vm};
use cranebpf_lower::{function_signature, lower_function, ModuleFreeEnv};
use cranelift_codegen::ir;
use cranelift_codegen::isa::CallConv;
use std::time::{Duration, Instant};

/// Instructions in each called function, `exit` included.
const FUNCTION_LEN: usize = 10;

/// How the functions call each other.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// The entry function calls every other function once.
    FanOut,
    /// Each function calls the next (the run stops at the call-depth
    /// limit, in both engines alike).
    Chain,
}

/// A program of `n` functions of [`FUNCTION_LEN`] instructions each
/// (`exit` included; for [`Shape::FanOut`] the entry function holds the
/// `n - 1` calls instead).
fn program(n: usize, shape: Shape) -> Vec<Insn> {
    let mut insns = Vec::with_capacity(n * FUNCTION_LEN + n);
    let call_to = |pc: usize, target: usize| Insn::Call {
        kind: CallKind::Local,
        imm: (target as i64 - pc as i64 - 1) as i32,
    };
    let body_start = match shape {
        Shape::FanOut => {
            let entry_len = n + 1; // n - 1 calls, `mov r0, 0`, `exit`
            for i in 1..n {
                insns.push(call_to(insns.len(), entry_len + (i - 1) * FUNCTION_LEN));
            }
            insns.push(alu(AluOp::Mov, 0));
            insns.push(Insn::Exit);
            1
        }
        Shape::Chain => 0,
    };
    for i in body_start..n {
        let start = insns.len();
        insns.push(alu(AluOp::Mov, i as i32));
        for k in 0..FUNCTION_LEN - 3 {
            let op = [AluOp::Add, AluOp::Xor, AluOp::Mul, AluOp::Sub][k % 4];
            insns.push(alu(op, k as i32 + 1));
        }
        match shape {
            Shape::Chain if i + 1 < n => {
                let next = start + FUNCTION_LEN;
                insns.push(call_to(insns.len(), next));
            }
            _ => insns.push(alu(AluOp::Add, 1)),
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

/// Lowers every function to Cranelift IR, without compiling it: the
/// part of JIT compilation that is cranebpf's own.
fn lower_all(prog: &Program) -> Result<usize, cranebpf_lower::LowerError> {
    let mut env = ModuleFreeEnv::default();
    let mut insts = 0;
    for i in 0..prog.functions().len() {
        let mut func = ir::Function::with_name_signature(
            ir::UserFuncName::user(0, i as u32),
            function_signature(),
        );
        lower_function(prog, i, &mut env, CallConv::SystemV, &mut func)?;
        insts += func.dfg.num_insts();
    }
    Ok(insts)
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
    for shape in [Shape::FanOut, Shape::Chain] {
        println!("{shape:?}:");
        table(shape)?;
    }
    Ok(())
}

/// Times each size for one shape and prints a row per size.
fn table(shape: Shape) -> Result<(), Box<dyn std::error::Error>> {
    println!(
        "{:>9} {:>8} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "functions", "insns", "program", "interp load", "lower", "jit compile", "jit/function"
    );
    for n in [1usize, 10, 100, 1_000, 5_000] {
        let insns = program(n, shape);
        let reps = if n >= 1_000 { 1 } else { 3 };
        let prog = Program::from_insns(&insns)?;
        assert_eq!(prog.functions().len(), n);
        let load = best(reps, || Program::from_insns(&insns));
        let interp = best(reps, || Interpreter::new(&prog, Helpers::new()));
        let lower = best(reps, || lower_all(&prog));
        let jit = best(reps, || JitProgram::new(&prog, Helpers::new()));
        // Check once that both engines agree on the result.
        let want = Interpreter::new(&prog, Helpers::new())?.run(&mut []);
        let got = Vm::jit(&prog, Helpers::new())?.run(&mut []);
        assert_eq!(got, want);
        println!(
            "{:>9} {:>8} {:>12?} {:>12?} {:>12?} {:>12?} {:>12?}",
            n,
            insns.len(),
            load,
            interp,
            lower,
            jit,
            jit / n as u32
        );
    }
    Ok(())
}
