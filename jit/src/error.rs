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
    Refused(cranebpf_runtime::analysis::verifier::VerifyError),
    TooLarge(Limit),
}

/// A documented size limit of the JIT that a program went past
/// ([`JitError::limit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limit {
    /// What is counted, e.g. `"functions"`.
    pub what: &'static str,
    /// How many the program has.
    pub size: usize,
    /// The most the JIT compiles.
    pub limit: usize,
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

    /// A program over one of the JIT's size limits.
    pub(crate) fn too_large(what: &'static str, size: usize, limit: usize) -> JitError {
        JitError {
            kind: Kind::TooLarge(Limit { what, size, limit }),
        }
    }

    /// The size limit the program went past, if that is why it was not
    /// compiled.
    pub fn limit(&self) -> Option<Limit> {
        match &self.kind {
            Kind::TooLarge(l) => Some(*l),
            _ => None,
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

    /// Why strict verification refused the program (kernel-style: pc, the
    /// instruction, the register state, the reason), if it did.
    pub fn verify_error(&self) -> Option<&cranebpf_runtime::analysis::verifier::VerifyError> {
        match &self.kind {
            Kind::Refused(e) => Some(e),
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

impl From<cranebpf_runtime::analysis::verifier::VerifyError> for JitError {
    fn from(e: cranebpf_runtime::analysis::verifier::VerifyError) -> JitError {
        JitError {
            kind: Kind::Refused(e),
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
            Kind::Refused(e) => write!(f, "refused by the verifier (strict): {e}"),
            Kind::TooLarge(l) => write!(
                f,
                "the program has {} {}, more than the JIT's limit of {} (run it on the interpreter)",
                l.size, l.what, l.limit
            ),
        }
    }
}

/// `Display` already includes the cause (engine or lowering error), so
/// `source()` is `None`: a caller that prints the whole chain prints each
/// message once.
impl std::error::Error for JitError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VmError;
    use std::error::Error;

    /// The messages of `e` and of every error in its `source()` chain.
    fn chain(e: &(dyn Error + 'static)) -> Vec<String> {
        let mut out = vec![e.to_string()];
        let mut cur = e.source();
        while let Some(s) = cur {
            out.push(s.to_string());
            cur = s.source();
        }
        out
    }

    /// Printing an error and then its sources never repeats a message: no
    /// later message is contained in an earlier one.
    fn assert_prints_once(e: &(dyn Error + 'static)) {
        let msgs = chain(e);
        for (i, later) in msgs.iter().enumerate().skip(1) {
            for earlier in &msgs[..i] {
                assert!(
                    !earlier.contains(later.as_str()),
                    "{later:?} is printed twice: already in {earlier:?} (chain {msgs:?})"
                );
            }
        }
    }

    #[test]
    fn errors_print_once() {
        let engine = EngineError::UnknownHelper { pc: 3, id: 99 };
        let lower = LowerError::BadTarget { pc: 7 };
        let jit_engine = JitError::from(engine.clone());
        let jit_lower = JitError::from(lower.clone());
        let errors: Vec<Box<dyn Error + 'static>> = vec![
            Box::new(engine.clone()),
            Box::new(lower.clone()),
            Box::new(JitError::from(engine.clone())),
            Box::new(JitError::from(lower.clone())),
            Box::new(JitError::isa("no such target".into())),
            Box::new(VmError::from(engine.clone())),
            Box::new(VmError::from(jit_engine)),
            Box::new(VmError::from(jit_lower)),
        ];
        for e in &errors {
            assert_prints_once(e.as_ref());
        }
        // The one line still names the cause.
        let line = VmError::from(JitError::from(lower)).to_string();
        assert!(line.contains("pc 7"), "{line}");
        assert!(VmError::from(engine).to_string().contains("helper 99"));
    }
}
