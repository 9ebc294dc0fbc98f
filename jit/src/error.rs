//! [`JitError`]: why a program could not be compiled.

use cranebpf_lower::LowerError;
use cranebpf_runtime::EngineError;
use std::fmt;

/// Why the JIT could not compile (or disassemble) a program. Callers only
/// display it, except for the lowering error, which [`JitError::lower_error`]
/// exposes.
#[derive(Debug)]
pub struct JitError {
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    Engine(EngineError),
    Lower(LowerError),
    Isa(String),
    Codegen(String),
}

impl JitError {
    pub(crate) fn isa(msg: String) -> JitError {
        JitError {
            kind: Kind::Isa(msg),
        }
    }

    pub(crate) fn codegen(msg: String) -> JitError {
        JitError {
            kind: Kind::Codegen(msg),
        }
    }

    /// The load-time engine error (the same one the interpreter reports), if
    /// the program uses a feature no engine supports.
    pub fn engine_error(&self) -> Option<&EngineError> {
        match &self.kind {
            Kind::Engine(e) => Some(e),
            _ => None,
        }
    }

    /// The lowering error, if the program could not be lowered to IR.
    pub fn lower_error(&self) -> Option<&LowerError> {
        match &self.kind {
            Kind::Lower(e) => Some(e),
            _ => None,
        }
    }
}

impl From<EngineError> for JitError {
    fn from(e: EngineError) -> JitError {
        JitError {
            kind: Kind::Engine(e),
        }
    }
}

impl From<LowerError> for JitError {
    fn from(e: LowerError) -> JitError {
        JitError {
            kind: Kind::Lower(e),
        }
    }
}

impl From<cranelift_module::ModuleError> for JitError {
    fn from(e: cranelift_module::ModuleError) -> JitError {
        // `{:?}` keeps verifier details that `Display` drops.
        JitError::codegen(format!("{e}: {e:?}"))
    }
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Engine(e) => write!(f, "{e}"),
            Kind::Lower(e) => write!(f, "lowering failed: {e}"),
            Kind::Isa(m) => write!(f, "target ISA: {m}"),
            Kind::Codegen(m) => write!(f, "code generation failed: {m}"),
        }
    }
}

impl std::error::Error for JitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Engine(e) => Some(e),
            Kind::Lower(e) => Some(e),
            _ => None,
        }
    }
}
