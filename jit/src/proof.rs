//! Where the JIT obtains the proof it compiles with: the one place that
//! decides, from [`JitOptions::verify`], which
//! [`Proof`](cranebpf_runtime::analysis::proof::Proof) the lowering gets.
//!
//! **Soundness.** A proof is only as good as the entry state it assumed
//! (`VerifyConfig`'s doc). A compiled program can be run through
//! [`Prepared::run`](cranebpf_runtime::engine::Prepared::run) with any r1-r5
//! and any memory map, so the proof the JIT elides checks from is the one
//! that assumes nothing about the context ([`VerifyConfig::opaque`]): it
//! proves stack accesses (frames, spills, pointers passed down) and nothing
//! that depends on the input. An embedder that runs a program only under a
//! known convention can verify with that convention's configuration
//! (`VerifyConfig::mem`, `xdp`, `for_loaded`) and hand the proof in through
//! the `unsafe` [`JitOptions::with_proof`].
//!
//! [`VerifyMode::Strict`] refuses, kernel-style, a program that the verifier
//! cannot prove under the raw-memory convention every [`crate::Vm`] run uses
//! (r1 = the input, r2 = its length): out-of-frame stack accesses, unbounded
//! loops, unproven input accesses, unknown helpers.

use crate::error::JitError;
use crate::isa::{JitOptions, VerifyMode};
use cranebpf_runtime::analysis::proof::Proof;
use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::Program;
use std::sync::Arc;

/// The proof the lowering gets for `program` under `opts`: `None` with
/// [`VerifyMode::Off`], otherwise the one the caller supplied
/// ([`JitOptions::with_proof`]) or the verifier's under
/// [`VerifyConfig::opaque`]. Strict mode first refuses what the verifier
/// cannot prove.
pub(crate) fn obtain(program: &Program, opts: &JitOptions) -> Result<Option<Arc<Proof>>, JitError> {
    if opts.verify == VerifyMode::Off {
        return Ok(None);
    }
    if opts.verify == VerifyMode::Strict {
        verify(program, &VerifyConfig::mem().strict(true))?;
    }
    if let Some(p) = opts.supplied_proof() {
        return Ok(Some(p.clone()));
    }
    // Elide mode never refuses: whatever it cannot prove stays checked.
    let verified = verify(program, &VerifyConfig::opaque())?;
    Ok(Some(Arc::new(verified.proof)))
}
