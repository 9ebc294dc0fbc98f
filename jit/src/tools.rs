//! CLIF text and machine-code disassembly of a program, for any supported
//! target (used by the `cranebpf clif` and `cranebpf disasm` commands).

use crate::error::JitError;
use crate::isa::{make_isa, JitOptions};
use cranebpf_lower::{
    entry_signature, function_ranges, function_signature, lower_entry, lower_function,
    ModuleFreeEnv,
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
/// `isa`, without a module. Function `i` is named `u0:i`; the entry `u1:0`.
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
