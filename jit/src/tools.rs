//! CLIF text and machine-code disassembly of a program, for any supported
//! target (used by the `cranebpf clif` and `cranebpf disasm` commands).

use crate::error::JitError;
use crate::isa::{make_isa, JitOptions};
use cranebpf_lower::{
    check_adapter_signature, entry_signature, function_ranges, function_signature,
    lower_check_adapter, lower_entry, lower_function, ModuleFreeEnv,
};
use cranebpf_runtime::Program;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::Context;
use std::fmt::Write;

/// Placeholder addresses for the host thunks in code that is never run:
/// recognisable in disassembly.
const PLACEHOLDER_ENV: ModuleFreeEnv = ModuleFreeEnv {
    helper_trampoline: 0x7e57_0000_0001,
    mem_check_thunk: 0x7e57_0000_0002,
};

/// Lowers every function of `program` (and the entry wrapper, last) for
/// `isa`, without a module. Function `i` is named `u0:i`; the entry `u1:0`
/// and the check adapter `u2:0` follow.
fn lower_all(program: &Program, isa: &OwnedTargetIsa) -> Result<Vec<ir::Function>, JitError> {
    let host_cc = isa.default_call_conv();
    let mut env = PLACEHOLDER_ENV;
    let mut out = Vec::new();
    for i in 0..function_ranges(program).len() {
        let mut f = ir::Function::with_name_signature(
            UserFuncName::user(0, i as u32),
            function_signature(),
        );
        lower_function(program, i, &mut env, host_cc, &mut f)?;
        out.push(f);
    }
    let mut entry =
        ir::Function::with_name_signature(UserFuncName::user(1, 0), entry_signature(host_cc));
    lower_entry(&mut env, host_cc, &mut entry);
    out.push(entry);
    let mut adapter =
        ir::Function::with_name_signature(UserFuncName::user(2, 0), check_adapter_signature());
    lower_check_adapter(&mut env, host_cc, &mut adapter);
    out.push(adapter);
    Ok(out)
}

/// The Cranelift IR of every function of `program`, before optimisation,
/// for `target` (a target triple such as `aarch64-unknown-linux-gnu`, or
/// `None` for the host). Source locations (`@xxxx`) are eBPF pcs in hex.
pub fn clif_text(program: &Program, target: Option<&str>) -> Result<String, JitError> {
    let isa = make_isa(target, &JitOptions::default())?;
    let mut out = String::new();
    for f in lower_all(program, &isa)? {
        let _ = writeln!(out, "{}", f.display());
    }
    Ok(out)
}

/// The machine code of every function of `program` compiled for `target`
/// (a triple, or `None` for the host), disassembled. Host thunk addresses
/// are placeholders, and calls between functions show unresolved
/// relocations.
pub fn native_disasm(program: &Program, target: Option<&str>) -> Result<String, JitError> {
    let isa = make_isa(target, &JitOptions::default())?;
    let cs = isa
        .to_capstone()
        .map_err(|e| JitError::isa(format!("no disassembler: {e}")))?;
    let mut out = String::new();
    for f in lower_all(program, &isa)? {
        let name = f.name.to_string();
        let mut ctx = Context::for_function(f);
        ctx.compile(&*isa, &mut ControlPlane::default())
            .map_err(|e| JitError::codegen(format!("{name}: {:?}", e.inner)))?;
        let code = ctx
            .compiled_code()
            .ok_or_else(|| JitError::codegen(format!("{name}: no code")))?;
        let text = code
            .disassemble(Some(&ctx.func.params), &cs)
            .map_err(|e| JitError::codegen(format!("{name}: {e}")))?;
        let _ = writeln!(out, "function {name}:\n{text}");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::SUPPORTED_TARGETS;
    use cranebpf_runtime::{AluOp, AtomicOp, Insn, Reg, Size, Src, Width};
    use cranelift_codegen::ir::TrapCode;

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }

    /// Memory accesses of every kind, calls, and (optionally) divisions.
    fn program(with_div: bool) -> Program {
        let mut v = vec![
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(2),
                src: r(1),
                off: 0,
            },
            Insn::Ldx {
                size: Size::W,
                sx: true,
                dst: r(3),
                src: r(10),
                off: -8,
            },
            Insn::Stx {
                size: Size::H,
                dst: r(1),
                src: r(2),
                off: 2,
            },
            Insn::Atomic {
                size: Size::W,
                op: AtomicOp::Cmpxchg,
                fetch: true,
                dst: r(1),
                src: r(2),
                off: 0,
            },
            Insn::LdInd {
                size: Size::W,
                src: r(2),
                imm: 1,
            },
            Insn::Call {
                kind: cranebpf_runtime::CallKind::Helper,
                imm: 5,
            },
        ];
        if with_div {
            for w in [Width::W32, Width::W64] {
                for op in [AluOp::Div, AluOp::Mod, AluOp::Sdiv, AluOp::Smod] {
                    v.push(Insn::Alu {
                        w,
                        op,
                        dst: r(0),
                        src: Src::Reg(r(2)),
                    });
                }
            }
        }
        v.push(Insn::Exit);
        Program::from_insns(&v).expect("loads")
    }

    /// The trap codes in the machine code of every function.
    fn traps(p: &Program, target: Option<&str>) -> Vec<TrapCode> {
        let isa = make_isa(target, &JitOptions::default()).expect("isa");
        let mut out = Vec::new();
        for f in lower_all(p, &isa).expect("lowers") {
            let mut ctx = Context::for_function(f);
            ctx.compile(&*isa, &mut ControlPlane::default())
                .expect("compiles");
            let code = ctx.compiled_code().expect("code");
            out.extend(code.buffer.traps().iter().map(|t| t.code));
        }
        out
    }

    /// At the machine-code level, for every target: a program without
    /// division has no trap site at all (every access is `notrap`), and the
    /// only trap sites of one with divisions are Cranelift's own division
    /// guards, which our `select`ed divisors never trigger.
    ///
    /// Exception (also when the host is riscv64): Cranelift's riscv64 backend records a `heap_oob` trap site
    /// for every atomic instruction whatever its flags. That is metadata
    /// only: our atomics run after their bounds and alignment checks, and
    /// nothing installs a handler that would consult it.
    #[test]
    fn machine_code_trap_sites_are_only_division_guards() {
        let targets = SUPPORTED_TARGETS.iter().map(|t| Some(*t)).chain([None]);
        for t in targets {
            let riscv_atomic = |c: &TrapCode| {
                t.map_or(cfg!(target_arch = "riscv64"), |t| t.starts_with("riscv64"))
                    && *c == TrapCode::HEAP_OUT_OF_BOUNDS
            };
            let unexpected: Vec<_> = traps(&program(false), t)
                .into_iter()
                .filter(|c| !riscv_atomic(c))
                .collect();
            assert_eq!(unexpected, Vec::new(), "{t:?}");
            for code in traps(&program(true), t) {
                assert!(
                    code == TrapCode::INTEGER_DIVISION_BY_ZERO
                        || code == TrapCode::INTEGER_OVERFLOW
                        || riscv_atomic(&code),
                    "{t:?}: unexpected trap site {code}"
                );
            }
        }
    }
}
