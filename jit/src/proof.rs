//! Where the JIT obtains the proof it compiles with: the one place that
//! decides, from [`JitOptions::verify`], which
//! [`Proof`](cranebpf_runtime::analysis::proof::Proof) the lowering gets,
//! and under which entry condition its runs may use it.
//!
//! **Soundness.** A proof is only as good as the entry state it assumed
//! (`VerifyConfig`'s doc). A compiled program can be run through
//! [`Prepared::run`](cranebpf_runtime::engine::Prepared::run) with any r1-r5
//! and any memory map, so Elide proves under the raw-memory convention
//! ([`VerifyConfig::mem`]: r1 = the input, r2 = its length, which every
//! [`crate::Vm`] run, `LoadedProgram::run_mem` and the differential harness
//! use) and makes that convention a **guard**: [`Convention::holds`] checks
//! it in O(1) at each run's entry (a writable region holds
//! `[r1, r1 + r2)`, or r2 = 0). A run that breaks it runs a second copy
//! compiled, on first need, from the proof that assumes nothing about the
//! context ([`VerifyConfig::opaque`]), which proves stack accesses only.
//!
//! Helpers are trusted to have the kernel's signature only when the helper
//! registered under a kernel id carries that helper's kernel name; any other
//! helper is unknown to the verifier (a call to it forgets every spill).
//!
//! An embedder that runs a program only under another known convention can
//! verify with that convention's configuration (`VerifyConfig::xdp`,
//! `for_loaded`) and hand the proof in through the `unsafe`
//! [`JitOptions::with_proof`] (no guard then: the embedder promises).
//!
//! [`VerifyMode::Strict`] refuses, kernel-style, a program that the verifier
//! cannot prove under the raw-memory convention: out-of-frame stack
//! accesses, unbounded loops, unproven input accesses, unknown helpers.

use crate::error::JitError;
use crate::isa::{JitOptions, VerifyMode};
use cranebpf_runtime::analysis::proof::Proof;
use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::host::kernel::helper_name;
use cranebpf_runtime::{Access, Helpers, MemoryMap, Program};
use std::sync::Arc;

/// The entry condition a compiled proof assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Convention {
    /// Nothing (the opaque proof, a caller's proof, or no proof).
    Any,
    /// r1 = a writable input of r2 bytes (see the module docs).
    Mem,
}

impl Convention {
    /// Whether a run with `mem` and `args` meets the convention.
    #[inline]
    pub(crate) fn holds(self, mem: &MemoryMap<'_>, args: &[u64; 5]) -> bool {
        match self {
            Convention::Any => true,
            Convention::Mem => {
                args[1] == 0 || mem.check(args[0], args[1], Access::ReadWrite).is_ok()
            }
        }
    }
}

/// The proof the lowering gets for `program` under `opts` and the
/// convention its runs must meet: `None` with [`VerifyMode::Off`],
/// otherwise the one the caller supplied ([`JitOptions::with_proof`]), or
/// the verifier's under `want` ([`Convention::Mem`]: the raw-memory
/// convention; [`Convention::Any`]: the opaque entry). Strict mode first
/// refuses what the verifier cannot prove.
pub(crate) fn obtain(
    program: &Program,
    helpers: &Helpers,
    opts: &JitOptions,
    want: Convention,
) -> Result<(Option<Arc<Proof>>, Convention), JitError> {
    if opts.verify == VerifyMode::Off {
        return Ok((None, Convention::Any));
    }
    if opts.verify == VerifyMode::Strict {
        verify(
            program,
            &with_helpers(VerifyConfig::mem(), helpers).strict(true),
        )?;
    }
    if let Some(p) = opts.supplied_proof() {
        return Ok((Some(p.clone()), Convention::Any));
    }
    // Elide mode never refuses: whatever it cannot prove stays checked.
    let conf = match want {
        Convention::Mem => VerifyConfig::mem(),
        Convention::Any => VerifyConfig::opaque(),
    };
    let verified = verify(program, &with_helpers(conf, helpers))?;
    // A proof that proves nothing about the input needs no guard.
    let needs_guard = want == Convention::Mem && proves_input(&verified.proof);
    let convention = if needs_guard {
        Convention::Mem
    } else {
        Convention::Any
    };
    Ok((Some(Arc::new(verified.proof)), convention))
}

/// `conf` trusting exactly the helpers of `helpers` that carry their
/// kernel name (see the module docs).
fn with_helpers(mut conf: VerifyConfig, helpers: &Helpers) -> VerifyConfig {
    conf.helpers.retain(|&id| {
        helpers
            .get(id)
            .is_some_and(|h| Some(h.name.as_str()) == helper_name(id))
    });
    conf
}

/// Whether `proof` proves some access into the input region.
fn proves_input(proof: &Proof) -> bool {
    use cranebpf_runtime::analysis::proof::{AccessFact, RegionKind};
    proof.accesses().iter().any(|f| {
        matches!(
            f,
            AccessFact::Proven {
                region: RegionKind::Input
            }
        )
    })
}
