//! The signatures of the compiled code: eBPF functions, the host-callable
//! entry wrapper, the helper trampoline, the memory-check thunk and its
//! adapter.
//!
//! A leaf module (it imports nothing else of the crate), so the driver and
//! the embedder interface (`env.rs`) both use it without importing each
//! other.

use cranelift_codegen::ir::{types::I64, AbiParam, Signature};
use cranelift_codegen::isa::CallConv;

/// Signature of every compiled eBPF function (calling convention `tail`):
/// `(vm, fp, r0, r1, .., r9) -> (r0, r1, .., r5, status)`.
pub fn function_signature() -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(I64), 12));
    sig.returns
        .extend(std::iter::repeat_n(AbiParam::new(I64), 7));
    sig
}

/// Signature of the host-callable entry wrapper: `(vm, r1, .., r5) -> r0`.
pub fn entry_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(I64), 6));
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// Signature of the helper trampoline: `(vm, id, r1, .., r5) -> r0`. On
/// failure the trampoline sets `fault_kind` (and `fault_addr`) in the
/// context; the caller checks `fault_kind` after every call.
pub fn helper_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(I64), 7));
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// Signature of the memory-check thunk: `(vm, addr, size, access) -> ok`,
/// `ok != 0` iff [`cranebpf_runtime::MemoryMap::check`] allows the access.
pub fn mem_check_signature(call_conv: CallConv) -> Signature {
    let mut sig = Signature::new(call_conv);
    sig.params
        .extend(std::iter::repeat_n(AbiParam::new(I64), 4));
    sig.returns.push(AbiParam::new(I64));
    sig
}

/// Signature of the check adapter: `(vm)`, no results, calling convention
/// `preserve_all` (it clobbers no register). The access to check is in the
/// context's `fault_addr`, `fault_size` and `fault_access`.
pub fn check_adapter_signature() -> Signature {
    let mut sig = Signature::new(CallConv::PreserveAll);
    sig.params.push(AbiParam::new(I64));
    sig
}
