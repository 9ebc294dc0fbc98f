//! Times the fixed costs around a program: one call of `mov r0, 1; exit`
//! through [`Vm::run`] and through a prebuilt [`cranebpf::RunContext`] on
//! each engine, and compile (and predecode) time for
//! straight-line programs of growing size.
//!
//! Run with `cargo run --release -p cranebpf --example percall`. Figures
//! are the best of several repetitions; they go in BENCHMARKS.md, never in
//! tests. `percall calls` times only the calls; `percall quick` leaves out the programs of 10 000 and 100 000
//! instructions.

use cranebpf::insn::{AluOp, Insn, JmpCond, Reg, Src, Width};
use cranebpf::{EngineKind, Helpers, Interpreter, JitProgram, Program, Vm};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Calls per timed batch: small, so that the best of many batches is one
/// no other process interrupted (the machine may be shared).
const CALLS: u32 = 20_000;

/// The best of `reps` timings of `f`.
fn best(reps: usize, mut f: impl FnMut()) -> Duration {
    (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// A program of about `n` instructions: ALU work over r0..r5 with a forward
/// conditional branch every 8 instructions, ending in `exit`.
fn program(n: usize) -> Vec<Insn> {
    let mut insns = Vec::with_capacity(n + 1);
    insns.push(Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Imm(1),
    });
    let regs = [Reg::R0, Reg::R3, Reg::R4, Reg::R5];
    while insns.len() + 1 < n {
        let i = insns.len();
        if i % 8 == 7 {
            insns.push(Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Gt,
                dst: Reg::R0,
                src: Src::Imm(1000),
                off: 1,
            });
            insns.push(Insn::Alu {
                w: Width::W64,
                op: AluOp::Sub,
                dst: Reg::R0,
                src: Src::Imm(3),
            });
        } else {
            let op = [AluOp::Add, AluOp::Xor, AluOp::Mul, AluOp::Or][i % 4];
            insns.push(Insn::Alu {
                w: if i % 3 == 0 { Width::W32 } else { Width::W64 },
                op,
                dst: regs[i % 4],
                src: Src::Reg(regs[(i + 1) % 4]),
            });
        }
    }
    insns.push(Insn::Exit);
    insns
}

fn per_call(engine: EngineKind) -> Result<f64, Box<dyn std::error::Error>> {
    let prog = Program::from_insns(&program(2))?;
    let vm = Vm::new(&prog, Helpers::new(), engine)?;
    let mut input: [u8; 0] = [];
    let d = best(200, || {
        for _ in 0..CALLS {
            let r = vm.run(black_box(&mut input));
            black_box(r.ok());
        }
    });
    Ok(d.as_secs_f64() * 1e9 / f64::from(CALLS))
}

/// One call through a prebuilt [`cranebpf::RunContext`].
fn per_call_context(engine: EngineKind) -> Result<f64, Box<dyn std::error::Error>> {
    let prog = Program::from_insns(&program(2))?;
    let vm = Vm::new(&prog, Helpers::new(), engine)?;
    let mut ctx = vm.context();
    let mut input: [u8; 0] = [];
    let d = best(200, || {
        for _ in 0..CALLS {
            let r = ctx.run(black_box(&mut input));
            black_box(r.ok());
        }
    });
    Ok(d.as_secs_f64() * 1e9 / f64::from(CALLS))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let two = Program::from_insns(&program(2))?;
    let t = Instant::now();
    let first = JitProgram::new(&two, Helpers::new())?;
    let first_compile = t.elapsed();
    drop(first);
    println!(
        "first compile in process, 2 insns: {:.1} us",
        first_compile.as_secs_f64() * 1e6
    );
    for engine in [EngineKind::Jit, EngineKind::Interpreter] {
        println!(
            "per call, `mov r0, 1; exit`, Vm::run, {engine:?}: {:.1} ns",
            per_call(engine)?
        );
        println!(
            "per call, `mov r0, 1; exit`, RunContext::run, {engine:?}: {:.1} ns",
            per_call_context(engine)?
        );
    }
    println!("| insns | JIT compile | per insn | interp predecode |");
    println!("|---|---|---|---|");
    // `percall quick` stops at 1 000 instructions; `percall calls` times
    // only the calls (for profiling).
    let mode = std::env::args().nth(1);
    if mode.as_deref() == Some("calls") {
        return Ok(());
    }
    let quick = mode.as_deref() == Some("quick");
    let sizes: &[usize] = if quick {
        &[2, 10, 50, 200, 1000]
    } else {
        &[2, 10, 50, 200, 1000, 10_000, 100_000]
    };
    for &n in sizes {
        let prog = Program::from_insns(&program(n))?;
        let reps = if n >= 10_000 { 1 } else { 11 };
        let jit = best(reps, || {
            black_box(JitProgram::new(&prog, Helpers::new()).ok());
        });
        let interp = best(reps, || {
            black_box(Interpreter::new(&prog, Helpers::new()).ok());
        });
        println!(
            "| {} | {:.1} us | {:.2} us | {:.1} us |",
            prog.insns().len(),
            jit.as_secs_f64() * 1e6,
            jit.as_secs_f64() * 1e6 / prog.insns().len() as f64,
            interp.as_secs_f64() * 1e6
        );
    }
    Ok(())
}
