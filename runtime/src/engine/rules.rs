//! The load-time engine rules: what a validated [`Program`] must also satisfy
//! before an engine accepts it with a given helper set.
//!
//! Both engines call [`check_program`] before they build anything (the
//! interpreter before predecoding, the JIT before lowering), so they reject
//! the same programs with the same [`EngineError`]. The rules, checked
//! instruction by instruction in program order (the first failure wins),
//! then once for the whole program:
//!
//! - a static `call IMM` names a registered helper ([`EngineError::UnknownHelper`]);
//! - no `call` by BTF id ([`EngineError::BtfCall`]);
//! - no LDDW pseudo-load left unresolved ([`EngineError::PseudoLddw`]);
//! - every jump and local-call target is an instruction ([`EngineError::BadTarget`]);
//! - the last instruction is `exit` or `ja` ([`EngineError::FallsOffEnd`]).
//!
//! The last two are validator rules as well, checked again so that no engine
//! can misbehave on a program built some other way.

use crate::engine::error::EngineError;
use crate::host::helpers::Helpers;
use crate::isa::cfg::Cfg;
use crate::isa::insn::{CallKind, Insn, LddwKind};
use crate::isa::program::Program;
use crate::sem;

/// `Ok` if an engine may run `prog` with `helpers`, else the first rule
/// broken (see the module doc). Linear in the program's size.
pub fn check_program(prog: &Program, helpers: &Helpers) -> Result<(), EngineError> {
    let cfg = prog.cfg();
    for (i, &(pc, insn)) in prog.insns().iter().enumerate() {
        check_insn(cfg, helpers, i, pc, insn)?;
    }
    check_last(prog)
}

/// The per-instruction rules for `insn`, instruction index `i` at slot `pc`.
fn check_insn(
    cfg: &Cfg,
    helpers: &Helpers,
    i: usize,
    pc: usize,
    insn: Insn,
) -> Result<(), EngineError> {
    match insn {
        Insn::Lddw { kind, .. } if kind != LddwKind::Imm64 => {
            Err(EngineError::PseudoLddw { pc, kind })
        }
        Insn::Ja { off, .. } => check_target(cfg, i, pc, off as i64),
        Insn::Jmp { off, .. } => check_target(cfg, i, pc, off as i64),
        Insn::Call {
            kind: CallKind::Helper,
            imm,
        } => {
            let id = imm as u32;
            match helpers.get(id) {
                Some(_) => Ok(()),
                None => Err(EngineError::UnknownHelper { pc, id }),
            }
        }
        Insn::Call {
            kind: CallKind::Local,
            imm,
        } => check_target(cfg, i, pc, imm as i64),
        Insn::Call {
            kind: CallKind::Btf,
            imm,
        } => Err(EngineError::BtfCall { pc, id: imm }),
        _ => Ok(()),
    }
}

/// The jump or call at index `i` (slot `pc`, relative offset `off`) lands on
/// an instruction: the program's [`Cfg`] resolved its target. `off` only
/// names the target in the error.
fn check_target(cfg: &Cfg, i: usize, pc: usize, off: i64) -> Result<(), EngineError> {
    match cfg.target(i) {
        Some(_) => Ok(()),
        None => Err(EngineError::BadTarget {
            pc,
            target: sem::jump_target_signed(pc, off),
        }),
    }
}

/// Control cannot fall off the end: the last instruction is `exit` or `ja`.
fn check_last(prog: &Program) -> Result<(), EngineError> {
    match prog.insns().last() {
        Some((_, Insn::Exit | Insn::Ja { .. })) => Ok(()),
        Some(&(pc, _)) => Err(EngineError::FallsOffEnd { pc }),
        None => Err(EngineError::FallsOffEnd { pc: 0 }),
    }
}
