//! [`LowerEnv`]: what the lowering needs from its embedder.
//!
//! Two implementors exist: the JIT's (functions are declared in a
//! `JITModule`; thunk addresses are real host functions) and
//! [`ModuleFreeEnv`] (functions are named by index; thunk addresses are
//! placeholders), used for CLIF text, golden tests and foreign-ISA
//! disassembly.

use cranelift_codegen::ir::{self, ExtFuncData, ExternalName, FuncRef, UserExternalName};

/// Embedder specifics of the lowering.
pub trait LowerEnv {
    /// A reference, usable in `func`, to compiled eBPF function `index` (an
    /// index into [`crate::function_ranges`]). It must have
    /// [`crate::function_signature`] with the `tail` calling convention.
    fn make_function_ref(&mut self, func: &mut ir::Function, index: usize) -> FuncRef;

    /// Address of the host helper trampoline, an `extern "C"` function with
    /// [`crate::helper_signature`]. Placeholders are fine for code that is
    /// never run.
    fn helper_trampoline(&self) -> u64;

    /// Address of the host memory-check thunk, an `extern "C"` function with
    /// [`crate::mem_check_signature`]. When it refuses an access it must
    /// also set the context's `fault_kind` to `FAULT_OUT_OF_BOUNDS`.
    fn mem_check_thunk(&self) -> u64;

    /// The semantic bug to plant in the generated code (tests of the
    /// differential harness only; see [`PlantedBug`]).
    #[cfg(feature = "planted-bugs")]
    fn planted_bug(&self) -> Option<PlantedBug> {
        None
    }

    /// A reference, usable in `func`, to the check adapter built by
    /// [`crate::lower_check_adapter`] (signature
    /// [`crate::check_adapter_signature`]), or `None` to call the thunk
    /// directly. The adapter preserves every register, so a cold bounds
    /// check does not force the values live across it into stack slots.
    fn make_check_adapter_ref(&mut self, func: &mut ir::Function) -> Option<FuncRef> {
        let _ = func;
        None
    }
}

/// A known semantic bug the lowering plants on request, so tests can prove
/// that the differential harness finds a JIT that is wrong. The request
/// exists only with the `planted-bugs` cargo feature (through
/// [`LowerEnv::planted_bug`]); without it no code path can plant a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PlantedBug {
    /// `mov32` does not zero-extend: it moves all 64 bits (a register's
    /// upper half leaks; an immediate is sign-extended).
    Mov32NoZeroExtend,
    /// A 32-bit `mod` by zero leaves the destination's upper half instead of
    /// zero-extending the low half (RFC 9669: `dst = (u32)dst`).
    Mod32ByZeroKeepsUpper,
    /// 32-bit conditional jumps compare all 64 bits.
    Jmp32AsJmp64,
    /// An unsound proof rule: the frame rule forgets the access size and
    /// proves every access that *starts* in the current frame (so one that
    /// straddles r10 is "proven"). Code built with it is always in audit
    /// mode ([`crate::LowerOptions::audit`]), so the wrong proof shows as
    /// a `ProofViolation` fault and never touches memory it may not.
    FrameProofIgnoresSize,
}

impl PlantedBug {
    /// Whether the bug is in a proof rather than in a translation (the
    /// lowering then forces audit mode).
    pub fn is_unsound_proof(self) -> bool {
        matches!(self, PlantedBug::FrameProofIgnoresSize)
    }
}

/// The bug `env` asks for (always `None` without the `planted-bugs` feature).
pub(crate) fn planted_bug(env: &dyn LowerEnv) -> Option<PlantedBug> {
    #[cfg(feature = "planted-bugs")]
    {
        env.planted_bug()
    }
    #[cfg(not(feature = "planted-bugs"))]
    {
        let _ = env;
        None
    }
}

/// A [`LowerEnv`] that needs no module: function `i` is the user external
/// name `u0:i`, the check adapter is `u2:0`, and the thunk addresses are
/// the given placeholders (0 by default).
#[derive(Clone, Copy, Debug, Default)]
pub struct ModuleFreeEnv {
    /// Value used as the helper trampoline's address.
    pub helper_trampoline: u64,
    /// Value used as the memory-check thunk's address.
    pub mem_check_thunk: u64,
}

impl LowerEnv for ModuleFreeEnv {
    fn make_function_ref(&mut self, func: &mut ir::Function, index: usize) -> FuncRef {
        let name = func.declare_imported_user_function(UserExternalName::new(0, index as u32));
        let signature = func.import_signature(crate::sig::function_signature());
        func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        })
    }

    fn helper_trampoline(&self) -> u64 {
        self.helper_trampoline
    }

    fn mem_check_thunk(&self) -> u64 {
        self.mem_check_thunk
    }

    fn make_check_adapter_ref(&mut self, func: &mut ir::Function) -> Option<FuncRef> {
        let name = func.declare_imported_user_function(UserExternalName::new(2, 0));
        let signature = func.import_signature(crate::sig::check_adapter_signature());
        Some(func.import_function(ExtFuncData {
            name: ExternalName::user(name),
            signature,
            colocated: true,
            patchable: false,
        }))
    }
}
