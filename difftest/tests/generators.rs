//! The generators: valid programs, reproducible, mostly running to exit,
//! covering every instruction form.

use cranebpf_difftest::batch::{case_seed, run_batch, BatchConfig};
use cranebpf_difftest::engine::execute;
use cranebpf_difftest::gen::{generate, is_valid, GenConfig};
use cranebpf_runtime::InterpreterEngine;
use cranebpf_runtime::{AluOp, Insn, JmpCond, Width};
use std::collections::HashSet;

#[test]
fn generated_programs_are_valid_and_reproducible() {
    for cfg in [GenConfig::default(), GenConfig::kernel()] {
        for i in 0..2000 {
            let seed = case_seed(7, i);
            let case = generate(seed, &cfg);
            assert!(is_valid(&case), "seed {seed}: {:?}", case.program().err());
            assert_eq!(case, generate(seed, &cfg));
        }
    }
}

#[test]
fn most_programs_exit_and_all_endings_occur() {
    let cfg = BatchConfig {
        seed: 1,
        count: 3000,
        ..BatchConfig::default()
    };
    let s = run_batch(&InterpreterEngine, &InterpreterEngine, &cfg, &|_| ());
    println!("{s}");
    for r in &s.reports {
        println!("{r}");
    }
    assert_eq!(s.divergences, 0);
    assert_eq!(s.artefacts, 0);
    assert_eq!(s.load_errors, 0);
    assert!(s.exits * 100 >= s.programs * 60, "{s}");
    assert!(s.faults > 0 && s.budget > 0, "{s}");
}

#[test]
fn kernel_mode_programs_always_exit() {
    let cfg = BatchConfig {
        seed: 2,
        count: 2000,
        gen: GenConfig::kernel(),
        ..BatchConfig::default()
    };
    let s = run_batch(&InterpreterEngine, &InterpreterEngine, &cfg, &|_| ());
    println!("{s}");
    assert_eq!(s.exits, s.programs, "{s}");
}

/// Every ALU operation of both widths and both operand kinds, every jump
/// condition of both widths, and every other instruction family appear.
#[test]
fn coverage_of_instruction_forms() {
    let mut seen = HashSet::new();
    for i in 0..3000 {
        let case = generate(case_seed(3, i), &GenConfig::default());
        for insn in &case.insns {
            let key = match *insn {
                Insn::Alu { w, op, src, .. } => {
                    format!(
                        "alu {w:?} {op:?} {}",
                        matches!(src, cranebpf_runtime::Src::Imm(_))
                    )
                }
                Insn::Jmp { w, cond, src, .. } => {
                    format!(
                        "jmp {w:?} {cond:?} {}",
                        matches!(src, cranebpf_runtime::Src::Imm(_))
                    )
                }
                Insn::Neg { w, .. } => format!("neg {w:?}"),
                Insn::MovSx { w, bits, .. } => format!("movsx {w:?} {bits}"),
                Insn::End { kind, bits, .. } => format!("end {kind:?} {bits}"),
                Insn::Lddw { .. } => "lddw".into(),
                Insn::LdAbs { size, .. } => format!("ldabs {size:?}"),
                Insn::LdInd { size, .. } => format!("ldind {size:?}"),
                Insn::Ldx { size, sx, .. } => format!("ldx {size:?} {sx}"),
                Insn::St { size, .. } => format!("st {size:?}"),
                Insn::Stx { size, .. } => format!("stx {size:?}"),
                Insn::Atomic {
                    size, op, fetch, ..
                } => format!("atomic {size:?} {op:?} {fetch}"),
                Insn::Ja { wide, .. } => format!("ja {wide}"),
                Insn::Call { kind, .. } => format!("call {kind:?}"),
                Insn::Callx { .. } => "callx".into(),
                Insn::Exit => "exit".into(),
            };
            seen.insert(key);
        }
    }
    let mut missing = Vec::new();
    for w in [Width::W32, Width::W64] {
        for op in AluOp::ALL {
            for imm in [true, false] {
                let k = format!("alu {w:?} {op:?} {imm}");
                if !seen.contains(&k) {
                    missing.push(k);
                }
            }
        }
        for cond in JmpCond::ALL {
            for imm in [true, false] {
                let k = format!("jmp {w:?} {cond:?} {imm}");
                if !seen.contains(&k) {
                    missing.push(k);
                }
            }
        }
    }
    for k in [
        "neg W32",
        "neg W64",
        "movsx W32 8",
        "movsx W32 16",
        "movsx W64 32",
        "end Le 16",
        "end Be 64",
        "end Swap 32",
        "lddw",
        "ldabs B",
        "ldabs W",
        "ldind H",
        "ldx B true",
        "ldx DW false",
        "st H",
        "stx DW",
        "atomic W Cmpxchg true",
        "atomic DW Add false",
        "atomic DW Xchg true",
        "ja true",
        "ja false",
        "call Local",
        "call Helper",
        "callx",
        "exit",
    ] {
        if !seen.contains(k) {
            missing.push(k.to_string());
        }
    }
    assert!(missing.is_empty(), "never generated: {missing:?}");
}

#[test]
fn every_run_is_deterministic() {
    for i in 0..300 {
        let case = generate(case_seed(4, i), &GenConfig::default());
        let a = execute(&InterpreterEngine, &case);
        let b = execute(&InterpreterEngine, &case);
        assert_eq!(a, b, "seed {}", case.seed);
    }
}
