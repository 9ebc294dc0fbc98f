//! Target ISA selection and Cranelift settings.

use crate::error::JitError;
use cranebpf_runtime::analysis::proof::Proof;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::Mutex;

/// Code generation options of the JIT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JitOptions {
    /// Run Cranelift's IR verifier on every function before compiling it.
    /// Default: on in debug builds (`cfg(debug_assertions)`), off in release.
    pub verifier: bool,
    /// Cranelift `opt_level`: `"none"`, `"speed"` (default) or
    /// `"speed_and_size"`.
    pub opt_level: String,
    /// Cranelift `regalloc_algorithm`: `"backtracking"` (default) or
    /// `"single_pass"`.
    pub regalloc: String,
    /// The size rule: an eBPF function whose Cranelift IR has more than
    /// this many instructions compiles in the fast tier ([`FAST_TIER`]:
    /// `opt_level` none and the single-pass register allocator), whatever
    /// `opt_level` and `regalloc` say, because the optimizing passes cost
    /// more than linear time in a function's size (the egraph pass and the
    /// backtracking allocator, with the depth of the dominator tree). The
    /// measure is the IR, not the eBPF instructions, because a helper call
    /// or a checked access weighs ten straight-line instructions. Default
    /// [`FAST_TIER_ABOVE`]; `usize::MAX` turns the rule off, 0 compiles
    /// everything in the fast tier.
    pub fast_tier_above: usize,
    /// The block rule: a function compiled in the fast tier with more than
    /// this many Cranelift blocks is lowered with its registers in a stack
    /// slot instead of SSA values (see [`FAST_TIER_MAX_BLOCKS`], the
    /// default). 0 (with `fast_tier_above` 0) lowers every function so,
    /// which tests use to run whole suites through that lowering.
    pub registers_in_memory_above: usize,
    /// Whether memory accesses are bounds-checked (always, unless turned
    /// off by the `unsafe` [`JitOptions::without_bounds_checks`]). Private
    /// so that safe code cannot turn it off.
    bounds_checks: bool,
    /// Whether to verify the program at load time and drop the run-time
    /// checks the proof covers (default [`VerifyMode::Off`]).
    pub verify: VerifyMode,
    /// Audit mode (default off): every check a proof drops is still
    /// evaluated, and a failed one stops the run with
    /// [`FaultKind::ProofViolation`](cranebpf_runtime::FaultKind) (a
    /// verifier bug) instead of running the access. For tests and the
    /// differential harness.
    pub audit: bool,
    /// A proof supplied by the caller instead of the verifier's (set only
    /// by the `unsafe` [`JitOptions::with_proof`]).
    proof: Option<Arc<Proof>>,
}

/// What the JIT does with the static verifier at load time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VerifyMode {
    /// No verification: every access is checked at run time, except those
    /// the frame analysis proves inside the current frame (sound by
    /// construction; today's behaviour).
    #[default]
    Off,
    /// Verify, and drop every run-time check the proof covers; keep the
    /// others. Never refuses a program the checks could run safely.
    Elide,
    /// As `Elide`, and refuse a program the verifier does not fully prove.
    Strict,
}

impl Default for JitOptions {
    fn default() -> JitOptions {
        JitOptions {
            verifier: cfg!(debug_assertions),
            opt_level: "speed".to_string(),
            regalloc: "backtracking".to_string(),
            fast_tier_above: FAST_TIER_ABOVE,
            registers_in_memory_above: FAST_TIER_MAX_BLOCKS,
            bounds_checks: true,
            verify: VerifyMode::Off,
            audit: false,
            proof: None,
        }
    }
}

impl JitOptions {
    /// These options with the memory bounds checks turned off: loads,
    /// stores and atomics go to the computed address unchecked. Meant only
    /// for benchmarks that measure what the checks cost; never for
    /// programs that are not fully trusted. Atomic alignment, the legacy
    /// packet bound, the budget and every other check stay.
    ///
    /// # Safety
    /// A program compiled with these options may read and write **any**
    /// host memory (an out-of-bounds access is not a fault but undefined
    /// behaviour, typically a crash or silent corruption of the host). The
    /// caller must ensure that every program compiled with them only ever
    /// accesses memory the run's [`cranebpf_runtime::MemoryMap`] would
    /// allow, for every input and helper it is run with.
    pub unsafe fn without_bounds_checks(mut self) -> JitOptions {
        self.bounds_checks = false;
        self
    }

    /// These options with `proof` used instead of the verifier's in the
    /// `Elide` and `Strict` modes (ignored with [`VerifyMode::Off`]): for
    /// embedders that verify elsewhere, and for tests of the lowering's use
    /// of proofs (with [`JitOptions::audit`] on, a wrong access fact shows
    /// as a proof-violation fault instead of an unchecked access).
    ///
    /// # Safety
    /// Unless `audit` is on, every `AccessFact::Proven` fact must keep the
    /// contract of [`cranebpf_runtime::analysis::proof`] for every program
    /// compiled with these options, on every input and with every helper:
    /// a wrong one lets the program read and write host memory it may not.
    /// A wrong `LoopFact::Bounded` only makes budget faults late or missing.
    pub unsafe fn with_proof(mut self, proof: Proof) -> JitOptions {
        self.proof = Some(Arc::new(proof));
        self
    }

    /// The proof set by [`JitOptions::with_proof`], if any.
    pub(crate) fn supplied_proof(&self) -> Option<&Arc<Proof>> {
        self.proof.as_ref()
    }

    /// Whether memory accesses are bounds-checked (`true` unless
    /// [`JitOptions::without_bounds_checks`] was used).
    pub fn bounds_checks(&self) -> bool {
        self.bounds_checks
    }
}

/// The default of [`JitOptions::fast_tier_above`], in Cranelift IR
/// instructions (about 2 000 straight-line eBPF instructions, 100 helper
/// calls or 300 conditional jumps).
pub const FAST_TIER_ABOVE: usize = 2_000;

/// The Cranelift settings of the fast tier: (`opt_level`, `regalloc`).
pub const FAST_TIER: (&str, &str) = ("none", "single_pass");

/// The most Cranelift blocks a function compiled in the fast tier keeps its
/// registers in SSA values for. The single-pass allocator gives every value
/// that crosses a block boundary a stack slot of its own, so with SSA
/// registers the native frame grows with the function (about 10 bytes per
/// block; at a million blocks, more than a thread's stack). Past this many
/// blocks a function is lowered again with its registers in a stack slot
/// (`LowerOptions::registers_in_memory`): every register read is a load and
/// every write a store, no value crosses a block, and the frame stays
/// small; compile time stays linear, the code is slower.
pub const FAST_TIER_MAX_BLOCKS: usize = 25_000;

/// Whether a function of `size` Cranelift IR instructions in `blocks`
/// blocks is lowered with its registers in memory: it takes the fast tier
/// (the size rule of [`JitOptions::fast_tier_above`]) and has more blocks
/// than [`JitOptions::registers_in_memory_above`].
pub(crate) fn registers_in_memory(opts: &JitOptions, size: usize, blocks: usize) -> bool {
    size > opts.fast_tier_above && blocks > opts.registers_in_memory_above
}

/// The most call results (one per helper call, seven per local call) a
/// function lowered with its registers in memory compiles with in the
/// single-pass allocator. That allocator gives every value a call defines
/// a spill slot of its own (8 bytes of frame each, even when the value is
/// stored to the home slot right after the call), so past this many (a
/// frame of about 160 KiB) the function takes `opt_level` none with the
/// backtracking allocator, whose frame stays constant, at a compile cost
/// that grows faster than linearly.
pub const MEMORY_TIER_MAX_CALL_RESULTS: usize = 20_000;

/// The options a function lowered with its registers in memory compiles
/// under, given the `results` its calls define: the fast tier (size rule
/// forced), or past [`MEMORY_TIER_MAX_CALL_RESULTS`] `opt_level` none with
/// the backtracking allocator.
pub(crate) fn memory_tier(opts: &JitOptions, results: usize) -> JitOptions {
    let mut o = opts.clone();
    if results <= MEMORY_TIER_MAX_CALL_RESULTS {
        o.fast_tier_above = 0;
    } else {
        o.fast_tier_above = usize::MAX;
        o.opt_level = "none".into();
        o.regalloc = "backtracking".into();
    }
    o
}

/// The (`opt_level`, `regalloc`) a function of `size` Cranelift IR
/// instructions compiles with under `opts` (the size rule of
/// [`JitOptions::fast_tier_above`]).
pub(crate) fn tier_for(opts: &JitOptions, size: usize) -> (&str, &str) {
    if size <= opts.fast_tier_above {
        (&opts.opt_level, &opts.regalloc)
    } else {
        FAST_TIER
    }
}

/// Target triples [`crate::clif_text`] and [`crate::native_disasm`] accept
/// besides the host: the architectures whose Cranelift backends are built in.
pub const SUPPORTED_TARGETS: [&str; 3] = [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "riscv64gc-unknown-linux-gnu",
];

/// The host ISA for a function of `size` Cranelift IR instructions under
/// `opts` ([`tier_for`]), built once per process per distinct
/// (`opt_level`, `regalloc`, `verifier`) triple and shared (an
/// [`OwnedTargetIsa`] is an `Arc`): detecting the host's features and
/// building the flags is a fixed cost every compile would otherwise pay.
pub(crate) fn host_isa(opts: &JitOptions, size: usize) -> Result<OwnedTargetIsa, JitError> {
    type Cache = Vec<((String, String, bool), OwnedTargetIsa)>;
    static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
    let (opt_level, regalloc) = tier_for(opts, size);
    let key = (opt_level.to_string(), regalloc.to_string(), opts.verifier);
    // A poisoned lock only means another thread panicked while pushing;
    // the list is still valid.
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, isa)) = cache.iter().find(|(k, _)| *k == key) {
        return Ok(isa.clone());
    }
    let tiered = JitOptions {
        opt_level: key.0.clone(),
        regalloc: key.1.clone(),
        ..opts.clone()
    };
    let isa = make_isa(None, &tiered)?;
    cache.push((key, isa.clone()));
    Ok(isa)
}

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
    set(&mut fb, "regalloc_algorithm", &opts.regalloc)?;
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
    // A frame larger than a page touches each page in order, so that a
    // native stack overflow hits the guard page instead of skipping it.
    set(&mut fb, "enable_probestack", "true")?;
    set(&mut fb, "probestack_strategy", "inline")?;
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
