//! Where the JIT obtains the proof it compiles with: the one place that
//! decides, from [`JitOptions::verify`], which
//! [`Proof`](cranebpf_runtime::analysis::proof::Proof) the lowering gets.
//!
//! Until the static verifier (`runtime/src/analysis/verifier/`) lands, the
//! proof is the frame analysis's ([`Proof::from_frame`]), which the
//! lowering also applies on its own, so `Elide` compiles the same code as
//! `Off` and `Strict` refuses nothing; audit mode already checks every
//! proven access. Wiring in the verifier changes [`obtain`] alone.

use crate::error::JitError;
use crate::isa::{JitOptions, VerifyMode};
use cranebpf_runtime::analysis::proof::Proof;
use cranebpf_runtime::Program;
use std::sync::Arc;

/// The proof the lowering gets for `program` under `opts`: `None` with
/// [`VerifyMode::Off`], otherwise the one the caller supplied
/// ([`JitOptions::with_proof`]) or the program's.
pub(crate) fn obtain(program: &Program, opts: &JitOptions) -> Result<Option<Arc<Proof>>, JitError> {
    match opts.verify {
        VerifyMode::Off => Ok(None),
        // Strict refusal goes here once the verifier reports what it could
        // not prove.
        _ if opts.supplied_proof().is_some() => Ok(opts.supplied_proof().cloned()),
        VerifyMode::Elide | VerifyMode::Strict => Ok(Some(Arc::new(Proof::from_frame(program)))),
    }
}
