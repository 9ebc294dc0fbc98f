//! The JIT's documented size limits (issue 17): a program past one is
//! refused with an error that names the limit and the program's size, and
//! a program at the limit compiles. Each test prints the error and the
//! process's peak RSS (`cargo test -p cranebpf --test limits -- --nocapture`).
//!
//! The limits: [`cranebpf::MAX_FUNCTIONS`] functions per program (the
//! JIT's own), and [`cranebpf_runtime::MAX_SLOTS`] instruction slots (the loader's,
//! which every engine shares). Compile time and memory are linear below
//! them (BENCHMARKS.md, "Compile-time scaling").

use cranebpf::insn::{AluOp, CallKind, Insn, Reg, Src, Width};
use cranebpf::{Helpers, Interpreter, JitOptions, JitProgram, Program, MAX_FUNCTIONS};
use cranebpf_runtime::engine::Prepared;
use cranebpf_runtime::MAX_SLOTS;
use cranebpf_runtime::{MemoryMap, RunOptions, Stack};

/// The process's peak resident set in MiB (Linux `VmHWM`; 0 elsewhere).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib / 1024)
}

/// `r0 op= imm` (64-bit).
fn alu_r0(op: AluOp, imm: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op,
        dst: Reg::R0,
        src: Src::Imm(imm),
    }
}

fn add_r0(imm: i32) -> Insn {
    alu_r0(AluOp::Add, imm)
}

/// A program of `k + 1` functions: the entry calls each of `k` functions
/// `r0 += 1; exit` once, so a run returns `k`.
fn functions(k: usize) -> Program {
    let mut v = Vec::with_capacity(3 * k + 2);
    v.push(alu_r0(AluOp::Mov, 0));
    for i in 0..k {
        // Call i sits at pc 1 + i; function i starts at 1 + k + 1 + 2i.
        let imm = (1 + k + 1 + 2 * i) as i32 - (1 + i as i32) - 1;
        v.push(Insn::Call {
            kind: CallKind::Local,
            imm,
        });
    }
    v.push(Insn::Exit);
    for _ in 0..k {
        v.push(add_r0(1));
        v.push(Insn::Exit);
    }
    Program::from_insns(&v).expect("the program loads")
}

/// Options without Cranelift's IR verifier, which only slows a debug
/// build down here.
fn opts() -> JitOptions {
    let mut o = JitOptions::default();
    o.verifier = false;
    o
}

fn run(p: &dyn Prepared) -> u64 {
    let mut stack = Stack::boxed();
    let mut mem = MemoryMap::new();
    let out = p.run(&mut *stack, &mut mem, [0; 5], &RunOptions::default(), None);
    out.result.expect("the run succeeds")
}

#[test]
fn a_program_over_the_function_limit_is_refused_naming_the_limit() {
    let p = functions(MAX_FUNCTIONS);
    let e = JitProgram::with_options(&p, Helpers::new(), &opts()).expect_err("over the limit");
    let l = e.limit().expect("a size limit");
    assert_eq!(
        (l.what, l.size, l.limit),
        ("functions", MAX_FUNCTIONS + 1, MAX_FUNCTIONS)
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{} functions", MAX_FUNCTIONS + 1))
            && msg.contains(&MAX_FUNCTIONS.to_string()),
        "{msg}"
    );
    println!("{msg}; peak RSS {} MiB", peak_rss_mib());
    // The interpreter has no such limit.
    let interp = Interpreter::new(&p, Helpers::new()).expect("the interpreter loads it");
    assert_eq!(run(&interp), MAX_FUNCTIONS as u64);
}

#[test]
fn a_program_at_the_function_limit_compiles() {
    let k = MAX_FUNCTIONS - 1;
    let jit = JitProgram::with_options(&functions(k), Helpers::new(), &opts())
        .expect("at the limit it compiles");
    assert_eq!(run(&jit), k as u64);
    println!(
        "{MAX_FUNCTIONS} functions compiled; peak RSS {} MiB",
        peak_rss_mib()
    );
}

#[test]
fn a_program_over_the_slot_limit_is_refused_at_load_naming_the_limit() {
    let insns: Vec<Insn> = (0..MAX_SLOTS)
        .map(|_| add_r0(1))
        .chain([Insn::Exit])
        .collect();
    let e = Program::from_insns(&insns).expect_err("over the slot limit");
    let msg = e.to_string();
    assert!(
        msg.contains(&(MAX_SLOTS + 1).to_string()) && msg.contains(&MAX_SLOTS.to_string()),
        "{msg}"
    );
    println!("{msg}; peak RSS {} MiB", peak_rss_mib());
}

/// `jeq r1, 5, +1; add r0, 1`, `n` times, then exit: with r1 = 0 a run
/// returns `n`, and the function has about two blocks per pair.
fn jeq_chain(n: usize) -> Program {
    let mut v = Vec::with_capacity(2 * n + 2);
    v.push(alu_r0(AluOp::Mov, 0));
    for _ in 0..n {
        v.push(Insn::Jmp {
            w: Width::W64,
            cond: cranebpf::insn::JmpCond::Eq,
            dst: Reg::R1,
            src: Src::Imm(5),
            off: 1,
        });
        v.push(add_r0(1));
    }
    v.push(Insn::Exit);
    Program::from_insns(&v).expect("the program loads")
}

/// Runs `p` once with r1 = 0 on a thread whose stack is `kib` KiB: the
/// compiled code's frame must fit in it (a frame that grew with the
/// function would overflow and abort the test process).
fn run_on_stack(p: &JitProgram, kib: usize) -> u64 {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(kib * 1024)
            .spawn_scoped(s, || run(p))
            .expect("thread starts")
            .join()
            .expect("the run returns")
    })
}

/// Past `FAST_TIER_MAX_BLOCKS` blocks a function is lowered with its
/// registers in a stack slot, so that its native frame does not grow with
/// it: here every function is lowered so (`registers_in_memory_above` 0),
/// and a 40 000-block chain runs on a 64 KiB stack. With SSA registers in
/// the single-pass allocator the frame takes a slot per value crossing a
/// block, hundreds of KiB here.
#[test]
fn a_function_of_many_blocks_keeps_a_small_frame() {
    let n = 20_000;
    let p = jeq_chain(n);
    let mut o = opts();
    o.fast_tier_above = 0;
    o.registers_in_memory_above = 0;
    let jit = JitProgram::with_options(&p, Helpers::new(), &o).expect("compiles");
    assert_eq!(run_on_stack(&jit, 64), n as u64);
    // The default options reach the same lowering by the block rule.
    let jit = JitProgram::with_options(&p, Helpers::new(), &opts()).expect("compiles");
    assert_eq!(run_on_stack(&jit, 64), n as u64);
    eprintln!("{n} pairs: peak RSS {} MiB", peak_rss_mib());
}
