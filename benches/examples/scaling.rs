//! Compile-time scaling: times `JitProgram::new` on generated programs of
//! one shape at growing sizes and prints µs per instruction (wall, and
//! this thread's CPU time) and peak RSS, so that superlinear growth shows as a rising µs/insn column.
//!
//! ```text
//! cargo run --release -p cranebpf-benches --example scaling -- [SHAPE..] [--max N] [--cap SECS] [--opt LEVEL]
//! ```
//!
//! Shapes (default: all): `straight` (adds), `jeq-chain` (`jeq r1, 5, +1;
//! add r0, 1` blocks), `calls` (helper calls), `ldabs`, `back-targets`
//! (every other instruction the target of a backward jump), `big-loop`
//! (one loop around the whole body), `fn-chain` (the entry calls N/3
//! two-instruction functions). Sizes are 1k, 10k, 100k, 1M instructions
//! (up to `--max`); a shape stops growing once one size took more than
//! `--cap` seconds (default 30). `--opt` sets Cranelift's `opt_level`
//! (`none`, `speed` (the default), `speed_and_size`), `--sizes a,b,..`
//! replaces the sizes, `--regalloc` the
//! allocator (`backtracking`, `single_pass`), `--tier-above N` the size
//! rule's threshold (`JitOptions::fast_tier_above`), `--run KIB` runs
//! each compiled program once on a thread with a stack of KIB KiB. Peak RSS is the process's high-water mark,
//! reset before each compile (Linux `/proc/self/clear_refs`), so it
//! includes the generated program itself.
//!
//! `--small` instead times the fixed cost: programs of 2, 10, 50 and 200
//! instructions (ALU work with a forward branch every 8; up to `--max`), the
//! median of 101 compiles each (`--reps`), and the first compile in the
//! process.

use cranebpf::insn::{AluOp, CallKind, Insn, JmpCond, Reg, Size, Src, Width};
use cranebpf::{Helpers, JitOptions, JitProgram, MemoryMap, Prepared, Program, RunOptions, Stack};
use std::time::Instant;

const SHAPES: [&str; 7] = [
    "straight",
    "jeq-chain",
    "calls",
    "ldabs",
    "back-targets",
    "big-loop",
    "fn-chain",
];

fn reg(n: u8) -> Reg {
    Reg::new(n).unwrap_or(Reg::R0)
}

fn add(dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: AluOp::Add,
        dst: reg(dst),
        src: Src::Imm(imm),
    }
}

fn mov(dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: reg(dst),
        src: Src::Imm(imm),
    }
}

fn jmp(cond: JmpCond, dst: u8, imm: i32, off: i16) -> Insn {
    Insn::Jmp {
        w: Width::W64,
        cond,
        dst: reg(dst),
        src: Src::Imm(imm),
        off,
    }
}

/// A program of about `n` instructions of `shape`.
fn generate(shape: &str, n: usize) -> Vec<Insn> {
    let mut v = Vec::with_capacity(n + 4);
    v.push(mov(0, 0));
    v.push(mov(1, 0));
    match shape {
        "straight" => v.extend((0..n).map(|_| add(0, 1))),
        "jeq-chain" => {
            for _ in 0..n / 2 {
                v.push(jmp(JmpCond::Eq, 1, 5, 1));
                v.push(add(0, 1));
            }
        }
        "calls" => v.extend((0..n).map(|_| Insn::Call {
            kind: CallKind::Helper,
            imm: 1,
        })),
        "ldabs" => v.extend((0..n).map(|_| Insn::LdAbs {
            size: Size::B,
            imm: 0,
        })),
        "back-targets" => {
            for _ in 0..n / 2 {
                v.push(add(0, 1));
                v.push(jmp(JmpCond::Eq, 1, 5, -2));
            }
        }
        "big-loop" => {
            v.extend((0..n).map(|_| add(0, 1)));
            v.push(add(1, 1));
            let back = -(n as i64 + 2);
            let off = i16::try_from(back).unwrap_or(i16::MIN);
            if off as i64 == back {
                v.push(jmp(JmpCond::Ne, 1, 2, off));
            } else {
                // Beyond a 16-bit offset: `ja` takes 32 bits.
                v.push(jmp(JmpCond::Eq, 1, 2, 1));
                v.push(Insn::Ja {
                    off: (back - 1) as i32,
                    wide: true,
                });
            }
        }
        "fn-chain" => {
            let k = n / 3;
            // Entry: k local calls, exit; then k functions `add r0, 1; exit`.
            for i in 0..k {
                // Call i sits at pc 2 + i; function i starts at 2 + k + 1 + 2i.
                let target = 2 + k + 1 + 2 * i;
                let imm = (target - (2 + i) - 1) as i32;
                v.push(Insn::Call {
                    kind: CallKind::Local,
                    imm,
                });
            }
            v.push(Insn::Exit);
            for _ in 0..k {
                v.push(add(0, 1));
                v.push(Insn::Exit);
            }
            return v;
        }
        _ => {}
    }
    v.push(Insn::Exit);
    v
}

/// CPU time this thread has run, in seconds (Linux
/// `/proc/thread-self/schedstat`; `None` elsewhere). On a shared machine
/// it shows the compile's own cost where wall time also counts waiting for
/// a core.
fn thread_cpu_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

/// Runs `jit` once on a thread with a `kib` KiB stack and prints the
/// outcome (`--run KIB`: the compiled code's frames must fit the caller's
/// stack).
fn run_on_small_stack(jit: &JitProgram, kib: usize) {
    let out = std::thread::scope(|s| {
        std::thread::Builder::new()
            .stack_size(kib * 1024)
            .spawn_scoped(s, || {
                let mut stack = Stack::boxed();
                let mut mem = MemoryMap::new();
                let opts = RunOptions::default();
                jit.run(&mut stack, &mut mem, [0; 5], &opts, None).result
            })
            .map(|h| h.join())
    });
    println!("  run on a {kib} KiB stack: {out:?}");
}

/// Resets the peak-RSS mark (Linux only; ignored elsewhere).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak RSS in MiB since the last reset.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn helpers() -> Helpers {
    let mut h = Helpers::new();
    h.register(1, "zero", |_, _| Ok(0));
    h
}

/// A program of about `n` instructions: ALU work over r0, r3..r5 with a
/// forward conditional branch every 8 instructions, ending in `exit`.
fn small_program(n: usize) -> Vec<Insn> {
    let mut v = vec![mov(0, 1)];
    let regs = [0u8, 3, 4, 5];
    let ops = [AluOp::Add, AluOp::Xor, AluOp::Mul, AluOp::Or];
    while v.len() + 1 < n {
        let i = v.len();
        if i % 8 == 7 {
            v.push(jmp(JmpCond::Gt, 0, 1000, 1));
            v.push(add(0, -3));
        } else {
            v.push(Insn::Alu {
                w: if i % 3 == 0 { Width::W32 } else { Width::W64 },
                op: ops[i % 4],
                dst: reg(regs[i % 4]),
                src: Src::Reg(reg(regs[(i + 1) % 4])),
            });
        }
    }
    v.push(Insn::Exit);
    v
}

/// The `--small` table: the fixed cost of a compile.
fn small(opts: &JitOptions, max: usize, reps: usize) {
    let compile = |insns: &[Insn]| -> f64 {
        let prog = match Program::from_insns(insns) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("refused at load: {e}");
                std::process::exit(1);
            }
        };
        let t = Instant::now();
        let jit = JitProgram::with_options(&prog, helpers(), opts);
        let us = t.elapsed().as_secs_f64() * 1e6;
        if let Err(e) = jit {
            eprintln!("refused: {e}");
            std::process::exit(1);
        }
        us
    };
    println!(
        "first compile in the process, 2 insns: {:.1} us",
        compile(&small_program(2))
    );
    println!(
        "{:>6} {:>12} {:>9} {:>9}",
        "insns", "median us", "min us", "us/insn"
    );
    for n in [2usize, 10, 50, 200].into_iter().filter(|&n| n <= max) {
        let insns = small_program(n);
        let mut t: Vec<f64> = (0..reps.max(1)).map(|_| compile(&insns)).collect();
        t.sort_by(f64::total_cmp);
        println!(
            "{:>6} {:>12.1} {:>9.1} {:>9.2}",
            insns.len(),
            t[t.len() / 2],
            t[0],
            t[t.len() / 2] / insns.len() as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut max = 1_000_000usize;
    let mut cap = 30.0f64;
    let mut shapes = Vec::new();
    // Cranelift's IR verifier is on by default in debug builds: off, so
    // that a dev-profile run times the compile alone.
    let mut opts = JitOptions::default();
    opts.verifier = false;
    let mut it = args.iter();
    let mut small_only = false;
    let mut run_stack: Option<usize> = None;
    let mut sizes: Option<Vec<usize>> = None;
    let mut reps = 101;
    while let Some(a) = it.next() {
        match a.as_str() {
            "--max" => max = it.next().and_then(|s| s.parse().ok()).unwrap_or(max),
            "--cap" => cap = it.next().and_then(|s| s.parse().ok()).unwrap_or(cap),
            "--opt" => opts.opt_level = it.next().cloned().unwrap_or(opts.opt_level),
            "--regalloc" => opts.regalloc = it.next().cloned().unwrap_or(opts.regalloc),
            "--tier-above" => {
                opts.fast_tier_above = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(opts.fast_tier_above)
            }
            "--small" => small_only = true,
            "--run" => run_stack = it.next().and_then(|s| s.parse().ok()),
            "--sizes" => {
                sizes = it
                    .next()
                    .map(|s| s.split(',').filter_map(|n| n.parse().ok()).collect())
            }
            "--reps" => reps = it.next().and_then(|s| s.parse().ok()).unwrap_or(reps),
            s if SHAPES.contains(&s) => shapes.push(s.to_string()),
            s => {
                eprintln!("unknown argument {s:?}; shapes: {}", SHAPES.join(" "));
                std::process::exit(2);
            }
        }
    }
    if small_only {
        small(&opts, max, reps);
        return;
    }
    if shapes.is_empty() {
        shapes = SHAPES.iter().map(|s| s.to_string()).collect();
    }
    println!(
        "{:<13} {:>9} {:>11} {:>9} {:>8} {:>9} {:>10}",
        "shape", "insns", "compile ms", "us/insn", "cpu ms", "cpu us/i", "peak MiB"
    );
    for shape in &shapes {
        let list = sizes.clone().unwrap_or_else(|| {
            std::iter::successors(Some(1_000usize), |n| Some(n * 10))
                .take_while(|&n| n <= max)
                .collect()
        });
        for n in list {
            // Up to the kernel's limit, counting the few fixed instructions.
            let insns = generate(shape, n.min(1_000_000 - 8));
            let prog = match Program::from_insns(&insns) {
                Ok(p) => p,
                Err(e) => {
                    println!("{shape:<13} {:>9} refused at load: {e}", insns.len());
                    break;
                }
            };
            reset_peak_rss();
            let cpu0 = thread_cpu_secs();
            let t = Instant::now();
            let jit = JitProgram::with_options(&prog, helpers(), &opts);
            let secs = t.elapsed().as_secs_f64();
            let cpu = thread_cpu_secs().zip(cpu0).map_or(f64::NAN, |(b, a)| b - a);
            let rss = peak_rss_mib().map_or("?".into(), |m| format!("{m:.0}"));
            match jit {
                Ok(j) => {
                    if let Some(kib) = run_stack {
                        run_on_small_stack(&j, kib);
                    }
                    drop(j)
                }
                Err(e) => println!("{shape:<13} {:>9} refused: {e}", insns.len()),
            }
            println!(
                "{shape:<13} {:>9} {:>11.1} {:>9.2} {:>8.1} {:>9.2} {:>10}",
                insns.len(),
                secs * 1e3,
                secs * 1e6 / insns.len() as f64,
                cpu * 1e3,
                cpu * 1e6 / insns.len() as f64,
                rss
            );
            if secs > cap {
                println!("{shape:<13} (stopped: over {cap} s)");
                break;
            }
        }
    }
}
