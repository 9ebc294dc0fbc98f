//! [`VmContext`]: the per-run block of state that JIT-compiled code reads and
//! writes through a pointer.
//!
//! **Architecture Invariant.** The layout of [`VmContext`] is an ABI between
//! the lowering (which emits loads and stores at the `OFF_*` offsets below)
//! and the host side of the JIT (which fills it before a run and reads it
//! after). Every field is a `u64` (or a pointer, 8 bytes on every supported
//! target), so the struct has no padding, and the offsets are asserted at
//! compile time at the bottom of this file. Changing a field means changing
//! its `OFF_*` constant; the lowering uses only the constants.
//!
//! The runtime crate owns the struct (it has no Cranelift dependency); the
//! lowering and the JIT both depend on it.
//!
//! There is no call-depth field: compiled functions receive their frame
//! pointer, and the depth limit is checked against it
//! (`r10 - stack_start >= 2 * 512` before a call; see the lowering's
//! `call.rs`), which needs no memory traffic.
//!
//! Lifecycle of one run:
//! 1. the host allocates a zeroed stack of [`crate::STACK_SIZE`] bytes and
//!    fills the region fields, `remaining` and `host`;
//! 2. JIT code runs; it charges the budget into `remaining` and, on a fault,
//!    writes the `fault_*` fields and returns;
//! 3. the host turns a non-zero `fault_kind` into a [`crate::Fault`] and the
//!    budget counter into an instruction count.

use std::ffi::c_void;

/// Per-run state shared between JIT code and the host. See the module docs.
///
/// All fields are written by the host before a run; the JIT code writes only
/// `remaining` and the `fault_*` fields (helper trampolines also write the
/// `fault_*` fields and may narrow `input_len`/`input_wlen` when a helper
/// removes the input region; JIT code passes the access to check to the
/// memory-check thunk in `fault_addr`/`fault_size`/`fault_access`, and the
/// thunk sets `fault_kind` when it refuses).
#[repr(C)]
#[derive(Debug)]
pub struct VmContext {
    /// Offset 0: host address of the lowest byte of the stack region
    /// (`top - STACK_SIZE`). Fixed for the run.
    pub stack_start: u64,
    /// Offset 8: one past the highest byte of the stack region; the entry
    /// function's r10. Fixed for the run.
    pub stack_top: u64,
    /// Offset 16: host address of the input region (the region that starts
    /// at r1), or 0 if there is none; with `input_len`/`input_wlen` it
    /// feeds the inline bounds check.
    pub input_start: u64,
    /// Offset 24: bytes of the input region that loads may read inline (its
    /// length, or 0 if there is none). The inline check is only a fast
    /// path: an access it rejects still goes to the full
    /// [`crate::MemoryMap::check`].
    pub input_len: u64,
    /// Offset 32: bytes of the input region that stores and atomics may
    /// write inline: `input_len` if the region is writable, else 0.
    pub input_wlen: u64,
    /// Offset 40: start of the packet LD_ABS/LD_IND read (the input region
    /// as it was at entry), or 0 if there is none. Fixed for the run.
    pub packet_start: u64,
    /// Offset 48: length of that packet (0 if none). Fixed for the run.
    pub packet_len: u64,
    /// Offset 56: instructions that may still be charged: the budget (or
    /// `u64::MAX` without one) minus the charge so far. A block of `n`
    /// instructions faults if `remaining < n`, else `remaining -= n`.
    pub remaining: u64,
    /// Offset 64: 0 while running normally; otherwise one of the `FAULT_*`
    /// codes.
    pub fault_kind: u64,
    /// Offset 72: the pc of the faulting instruction.
    pub fault_pc: u64,
    /// Offset 80: address of a faulting access; the helper id for
    /// `FAULT_UNKNOWN_HELPER` and `FAULT_HELPER`.
    pub fault_addr: u64,
    /// Offset 88: size in bytes of a faulting access.
    pub fault_size: u64,
    /// Offset 96: [`crate::Access::code`] of a faulting access.
    pub fault_access: u64,
    /// Offset 104: instructions of the faulting block that were charged but
    /// not executed (block length minus the faulting instruction's 1-based
    /// position). The count after a fault is `charged - fault_adj`.
    pub fault_adj: u64,
    /// Offset 112: opaque pointer to the host's per-run state (memory map,
    /// helpers, user data), passed back to the host thunks. JIT code never
    /// dereferences it.
    pub host: *mut c_void,
}

/// Offset of [`VmContext::stack_start`].
pub const OFF_STACK_START: i32 = 0;
/// Offset of [`VmContext::stack_top`].
pub const OFF_STACK_TOP: i32 = 8;
/// Offset of [`VmContext::input_start`].
pub const OFF_INPUT_START: i32 = 16;
/// Offset of [`VmContext::input_len`].
pub const OFF_INPUT_LEN: i32 = 24;
/// Offset of [`VmContext::input_wlen`].
pub const OFF_INPUT_WLEN: i32 = 32;
/// Offset of [`VmContext::packet_start`].
pub const OFF_PACKET_START: i32 = 40;
/// Offset of [`VmContext::packet_len`].
pub const OFF_PACKET_LEN: i32 = 48;
/// Offset of [`VmContext::remaining`].
pub const OFF_REMAINING: i32 = 56;
/// Offset of [`VmContext::fault_kind`].
pub const OFF_FAULT_KIND: i32 = 64;
/// Offset of [`VmContext::fault_pc`].
pub const OFF_FAULT_PC: i32 = 72;
/// Offset of [`VmContext::fault_addr`].
pub const OFF_FAULT_ADDR: i32 = 80;
/// Offset of [`VmContext::fault_size`].
pub const OFF_FAULT_SIZE: i32 = 88;
/// Offset of [`VmContext::fault_access`].
pub const OFF_FAULT_ACCESS: i32 = 96;
/// Offset of [`VmContext::fault_adj`].
pub const OFF_FAULT_ADJ: i32 = 104;
/// Offset of [`VmContext::host`].
pub const OFF_HOST: i32 = 112;

/// `fault_kind`: no fault.
pub const FAULT_NONE: u64 = 0;
/// `fault_kind`: [`crate::FaultKind::OutOfBounds`] (`fault_addr`, `fault_size`, `fault_access`).
pub const FAULT_OUT_OF_BOUNDS: u64 = 1;
/// `fault_kind`: [`crate::FaultKind::Misaligned`] (`fault_addr`, `fault_size`).
pub const FAULT_MISALIGNED: u64 = 2;
/// `fault_kind`: [`crate::FaultKind::Budget`].
pub const FAULT_BUDGET: u64 = 3;
/// `fault_kind`: [`crate::FaultKind::CallDepth`].
pub const FAULT_CALL_DEPTH: u64 = 4;
/// `fault_kind`: [`crate::FaultKind::UnknownHelper`] (`fault_addr` = id).
pub const FAULT_UNKNOWN_HELPER: u64 = 5;
/// `fault_kind`: [`crate::FaultKind::Helper`] (`fault_addr` = id; the error
/// itself stays in the host state).
pub const FAULT_HELPER: u64 = 6;
/// `fault_kind`: [`crate::FaultKind::ProofViolation`] (`fault_addr`,
/// `fault_size`, `fault_access`): an audited check of a proven access
/// failed (only JIT code built in audit mode writes it).
pub const FAULT_PROOF_VIOLATION: u64 = 7;

/// Status a compiled function returns: the function returned normally.
pub const STATUS_OK: u64 = 0;
/// Status a compiled function returns: a fault was recorded in the context;
/// every caller returns at once.
pub const STATUS_FAULT: u64 = 1;
/// Status a compiled function returns: the program ended early (an
/// out-of-bounds LD_ABS/LD_IND) with the returned r0; every caller returns
/// at once.
pub const STATUS_END: u64 = 2;

impl VmContext {
    /// A context with a stack region `[stack_start, stack_start + STACK_SIZE)`,
    /// no input, no budget and no fault.
    #[inline]
    pub fn new(stack_start: u64) -> VmContext {
        VmContext {
            stack_start,
            stack_top: stack_start + crate::STACK_SIZE as u64,
            input_start: 0,
            input_len: 0,
            input_wlen: 0,
            packet_start: 0,
            packet_len: 0,
            remaining: u64::MAX,
            fault_kind: FAULT_NONE,
            fault_pc: 0,
            fault_addr: 0,
            fault_size: 0,
            fault_access: 0,
            fault_adj: 0,
            host: std::ptr::null_mut(),
        }
    }
}

// The offsets above are the ABI; check them against the real layout.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(VmContext, stack_start) == OFF_STACK_START as usize);
    assert!(offset_of!(VmContext, stack_top) == OFF_STACK_TOP as usize);
    assert!(offset_of!(VmContext, input_start) == OFF_INPUT_START as usize);
    assert!(offset_of!(VmContext, input_len) == OFF_INPUT_LEN as usize);
    assert!(offset_of!(VmContext, input_wlen) == OFF_INPUT_WLEN as usize);
    assert!(offset_of!(VmContext, packet_start) == OFF_PACKET_START as usize);
    assert!(offset_of!(VmContext, packet_len) == OFF_PACKET_LEN as usize);
    assert!(offset_of!(VmContext, remaining) == OFF_REMAINING as usize);
    assert!(offset_of!(VmContext, fault_kind) == OFF_FAULT_KIND as usize);
    assert!(offset_of!(VmContext, fault_pc) == OFF_FAULT_PC as usize);
    assert!(offset_of!(VmContext, fault_addr) == OFF_FAULT_ADDR as usize);
    assert!(offset_of!(VmContext, fault_size) == OFF_FAULT_SIZE as usize);
    assert!(offset_of!(VmContext, fault_access) == OFF_FAULT_ACCESS as usize);
    assert!(offset_of!(VmContext, fault_adj) == OFF_FAULT_ADJ as usize);
    assert!(offset_of!(VmContext, host) == OFF_HOST as usize);
};
