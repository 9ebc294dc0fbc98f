//! The per-call table of `cranebpf bench`: the fixed cost of one run of
//! the two-instruction `mov r0, 1; exit`, on cranebpf's engines (through
//! [`Vm::run`] and through a prebuilt [`cranebpf::RunContext`]) and on
//! rbpf's interpreter and x86-64 JIT, called through rbpf's own API in the
//! same process. Each figure is the best of many short batches, so that a
//! batch no other process interrupted is found on a shared machine.

use cranebpf::insn::{AluOp, Insn, Reg, Src, Width};
use cranebpf::{EngineKind, Helpers, Program, Vm};
use std::hint::black_box;
use std::time::Instant;

/// One row: who ran the program, and the best time per call.
#[derive(Clone, Debug)]
pub struct PerCallRow {
    /// The engine and entry point.
    pub engine: &'static str,
    /// Nanoseconds per call (best batch), or why it did not run.
    pub result: Result<f64, String>,
}

/// `mov r0, 1; exit`.
fn two_insns() -> Result<Program, String> {
    Program::from_insns(&[
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(1),
        },
        Insn::Exit,
    ])
    .map_err(|e| e.to_string())
}

/// The best time per call of `call` over `batches` batches of `calls`.
fn best_ns(batches: usize, calls: u32, mut call: impl FnMut()) -> f64 {
    let best = (0..batches)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                call();
            }
            t.elapsed()
        })
        .min()
        .unwrap_or_default();
    best.as_secs_f64() * 1e9 / f64::from(calls)
}

/// Measures every row (`quick`: fewer batches).
pub fn run_percall(quick: bool) -> Vec<PerCallRow> {
    let (batches, calls) = if quick { (50, 10_000) } else { (200, 20_000) };
    let mut rows = Vec::new();
    let prog = match two_insns() {
        Ok(p) => p,
        Err(e) => {
            rows.push(PerCallRow {
                engine: "all",
                result: Err(e),
            });
            return rows;
        }
    };
    for (kind, name_run, name_ctx) in [
        (
            EngineKind::Jit,
            "cranebpf-jit, Vm::run",
            "cranebpf-jit, RunContext::run",
        ),
        (
            EngineKind::Interpreter,
            "cranebpf-interp, Vm::run",
            "cranebpf-interp, RunContext::run",
        ),
    ] {
        let vm = match Vm::new(&prog, Helpers::new(), kind) {
            Ok(vm) => vm,
            Err(e) => {
                rows.push(PerCallRow {
                    engine: name_run,
                    result: Err(e.to_string()),
                });
                continue;
            }
        };
        let mut input: [u8; 0] = [];
        let t = best_ns(batches, calls, || {
            black_box(vm.run(black_box(&mut input)).ok());
        });
        rows.push(PerCallRow {
            engine: name_run,
            result: Ok(t),
        });
        let mut ctx = vm.context();
        let t = best_ns(batches, calls, || {
            black_box(ctx.run(black_box(&mut input)).ok());
        });
        rows.push(PerCallRow {
            engine: name_ctx,
            result: Ok(t),
        });
    }
    rows.extend(rbpf_rows(&prog.to_bytes(), batches, calls));
    rows
}

/// rbpf 0.4.1's interpreter and x86-64 JIT through `EbpfVmRaw`.
fn rbpf_rows(code: &[u8], batches: usize, calls: u32) -> Vec<PerCallRow> {
    let mut rows = Vec::new();
    let mut input: [u8; 0] = [];
    let vm = match rbpf::EbpfVmRaw::new(Some(code)) {
        Ok(vm) => vm,
        Err(e) => {
            return vec![PerCallRow {
                engine: "rbpf",
                result: Err(e.to_string()),
            }]
        }
    };
    let t = best_ns(batches, calls, || {
        black_box(vm.execute_program(black_box(&mut input)).ok());
    });
    rows.push(PerCallRow {
        engine: "rbpf-interp, execute_program",
        result: Ok(t),
    });
    if !cfg!(target_arch = "x86_64") {
        rows.push(PerCallRow {
            engine: "rbpf-jit, execute_program_jit",
            result: Err("rbpf's JIT emits x86-64 only".into()),
        });
        return rows;
    }
    let mut vm = vm;
    let result = match vm.jit_compile() {
        Ok(()) => Ok(best_ns(batches, calls, || {
            // SAFETY: `mov r0, 1; exit` touches no memory, the one thing
            // rbpf's JIT does not check.
            black_box(unsafe { vm.execute_program_jit(black_box(&mut input)) }.ok());
        })),
        Err(e) => Err(e.to_string()),
    };
    rows.push(PerCallRow {
        engine: "rbpf-jit, execute_program_jit",
        result,
    });
    rows
}

/// The rows as a Markdown table.
pub fn percall_table(rows: &[PerCallRow]) -> String {
    let mut s = String::from("| engine, entry | ns per call |\n|---|---:|\n");
    for r in rows {
        let cell = match &r.result {
            Ok(ns) => format!("{ns:.1}"),
            Err(e) => format!("— ({e})"),
        };
        s.push_str(&format!("| {} | {cell} |\n", r.engine));
    }
    s
}
