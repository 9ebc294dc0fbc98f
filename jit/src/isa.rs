//! Target ISA selection and Cranelift settings.

use crate::error::JitError;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;

/// Code generation options of the JIT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitOptions {
    /// Run Cranelift's IR verifier on every function before compiling it.
    /// Default: on in debug builds (`cfg(debug_assertions)`), off in release.
    pub verifier: bool,
    /// Cranelift `opt_level`: `"none"`, `"speed"` (default) or
    /// `"speed_and_size"`.
    pub opt_level: String,
}

impl Default for JitOptions {
    fn default() -> JitOptions {
        JitOptions {
            verifier: cfg!(debug_assertions),
            opt_level: "speed".to_string(),
        }
    }
}

/// Target triples [`crate::clif_text`] and [`crate::native_disasm`] accept
/// besides the host: the architectures whose Cranelift backends are built in.
pub const SUPPORTED_TARGETS: [&str; 3] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64gc-unknown-linux-gnu",
];

/// Builds the ISA for `target` (a target triple, or `None` for the host).
pub(crate) fn make_isa(
    target: Option<&str>,
    opts: &JitOptions,
) -> Result<OwnedTargetIsa, JitError> {
    let mut fb = settings::builder();
    let set = |fb: &mut settings::Builder, k: &str, v: &str| {
        fb.set(k, v)
            .map_err(|e| JitError::isa(format!("setting {k}={v}: {e}")))
    };
    set(&mut fb, "opt_level", &opts.opt_level)?;
    set(
        &mut fb,
        "enable_verifier",
        if opts.verifier { "true" } else { "false" },
    )?;
    // JITModule requires non-PIC code and no colocated libcalls.
    set(&mut fb, "is_pic", "false")?;
    set(&mut fb, "use_colocated_libcalls", "false")?;
    // eBPF functions return r0..r5 and a status: more values than some
    // conventions have return registers.
    set(&mut fb, "enable_multi_ret_implicit_sret", "true")?;
    let flags = settings::Flags::new(fb);
    let builder = match target {
        None => cranelift_native::builder().map_err(|e| JitError::isa(format!("host ISA: {e}")))?,
        Some(t) => {
            let triple = target_lexicon::Triple::from_str(t)
                .map_err(|e| JitError::isa(format!("target {t:?}: {e}")))?;
            if triple.endianness().ok() != Some(target_lexicon::Endianness::Little) {
                return Err(JitError::isa(format!(
                    "target {t:?}: only little-endian targets are supported"
                )));
            }
            cranelift_codegen::isa::lookup(triple)
                .map_err(|e| JitError::isa(format!("target {t:?}: {e}")))?
        }
    };
    if builder.triple().pointer_width().map(|w| w.bits()) != Ok(64) {
        return Err(JitError::isa(
            "only 64-bit targets are supported".to_string(),
        ));
    }
    builder
        .finish(flags)
        .map_err(|e| JitError::isa(format!("building the ISA: {e}")))
}
