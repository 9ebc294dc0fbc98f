//! The host side of a JIT run: the per-run state, the two `extern "C"`
//! thunks JIT code calls (helper trampoline, memory check), and the run
//! driver that fills a [`VmContext`], calls the entry and turns the context
//! back into a [`RunOutcome`].

use cranebpf_runtime::abi::{self, VmContext};
use cranebpf_runtime::{
    Access, Fault, FaultKind, HelperCtx, HelperError, Helpers, MemoryMap, Region, RunOptions,
    RunOutcome, Stack, MAX_CALL_DEPTH,
};
use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The signature of the compiled entry wrapper (see
/// [`cranebpf_lower::lower_entry`]).
pub(crate) type EntryFn = unsafe extern "C" fn(*mut VmContext, u64, u64, u64, u64, u64) -> u64;

/// What the thunks reach through [`VmContext::host`] during one run.
struct HostState<'r, 'a> {
    mem: &'r mut MemoryMap<'a>,
    helpers: &'r Helpers,
    user: Option<&'r mut (dyn Any + Send)>,
    /// The input region as it was at the start of the run.
    input: Option<Region>,
    /// The error of a failed helper, until the run ends.
    helper_error: Option<HelperError>,
}

/// The helper trampoline: calls helper `id` with r1..r5 and returns r0. On
/// failure it records the fault in the context and returns 0.
///
/// # Safety
/// `vmp` must be the context of a run in progress (made by [`run_with`]),
/// whose `host` field points to that run's `HostState`.
pub(crate) unsafe extern "C" fn helper_trampoline(
    vmp: *mut VmContext,
    id: u64,
    a1: u64,
    a2: u64,
    a3: u64,
    a4: u64,
    a5: u64,
) -> u64 {
    // SAFETY: per the contract, `vmp` is the live context of the current run
    // and no Rust reference to it exists while JIT code runs (`run_with` only
    // holds the raw pointer), so a unique borrow for this call is sound.
    let vmc = unsafe { &mut *vmp };
    // SAFETY: `host` was set by `run_with` to a `HostState` that outlives the
    // run, and nothing else borrows it while JIT code runs.
    let host = unsafe { &mut *(vmc.host as *mut HostState<'_, '_>) };
    let Some(func) = host.helpers.func_u64(id) else {
        vmc.fault_kind = abi::FAULT_UNKNOWN_HELPER;
        vmc.fault_addr = id;
        return 0;
    };
    // A registered id fits in u32.
    let id32 = id as u32;
    let mut ctx = HelperCtx {
        mem: &mut *host.mem,
        user: host.user.as_deref_mut(),
    };
    // A panic must not unwind into JIT frames (that would abort): catch it
    // and report it as a helper error.
    let result = catch_unwind(AssertUnwindSafe(|| func(&mut ctx, [a1, a2, a3, a4, a5])));
    refresh_input(vmc, host);
    match result {
        Ok(Ok(r0)) => r0,
        Ok(Err(e)) => {
            vmc.fault_kind = abi::FAULT_HELPER;
            vmc.fault_addr = u64::from(id32);
            host.helper_error = Some(e);
            0
        }
        Err(_) => {
            vmc.fault_kind = abi::FAULT_HELPER;
            vmc.fault_addr = u64::from(id32);
            host.helper_error = Some(HelperError::new("helper panicked"));
            0
        }
    }
}

/// After a helper ran: if it removed the input region from the map, turn the
/// inline input check off so every access goes to `MemoryMap::check`.
fn refresh_input(vmc: &mut VmContext, host: &HostState<'_, '_>) {
    if let Some(r) = host.input {
        if !host.mem.contains(&r) {
            vmc.input_len = 0;
            vmc.input_wlen = 0;
        }
    }
}

/// The memory-check thunk: 1 if `MemoryMap::check` allows the access;
/// otherwise 0, and `fault_kind` is set to `FAULT_OUT_OF_BOUNDS` (JIT code
/// that calls it through the register-preserving check adapter reads the
/// verdict there).
///
/// # Safety
/// As for [`helper_trampoline`].
pub(crate) unsafe extern "C" fn mem_check_thunk(
    vmp: *mut VmContext,
    addr: u64,
    size: u64,
    access: u64,
) -> u64 {
    // SAFETY: as in `helper_trampoline`.
    let vmc = unsafe { &mut *vmp };
    // SAFETY: as in `helper_trampoline`; only a shared borrow is needed.
    let host = unsafe { &*(vmc.host as *const HostState<'_, '_>) };
    let access = Access::from_code(access).unwrap_or(Access::ReadWrite);
    let ok = host.mem.check(addr, size, access).is_ok();
    if !ok {
        vmc.fault_kind = abi::FAULT_OUT_OF_BOUNDS;
    }
    u64::from(ok)
}

/// Runs the compiled program `entry` once on `stack`, zeroing its top
/// `zero` bytes first (see `cranebpf_runtime::analysis::stack_use`). See
/// [`crate::Vm::run_with`].
///
/// # Safety
/// `entry` must be the entry wrapper of a finalized program compiled with
/// the thunks of this module, and its code must stay mapped for the call.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn run_with(
    entry: EntryFn,
    helpers: &Helpers,
    stack: &mut Stack,
    zero: usize,
    mem: &mut MemoryMap<'_>,
    args: [u64; 5],
    opts: &RunOptions,
    user: Option<&mut (dyn Any + Send)>,
) -> RunOutcome {
    // The input region (and LD_ABS/LD_IND packet): chosen before the stack
    // is added, as the interpreter does.
    let input = mem.input_region(args[0]);
    let stack_region = stack.prepare_top(zero);
    let stack_start = stack_region.start;
    // SAFETY: the stack is borrowed mutably for this whole call and valid for
    // reads and writes; its region leaves the map (`remove_at` below) before
    // this function returns, and during the run it is only accessed through
    // raw addresses.
    unsafe { mem.add_raw_first(stack_region) };
    let run = Entry {
        entry,
        helpers,
        stack_start,
        input,
        args,
        budget: opts.budget,
    };
    // SAFETY: the caller vouches for `entry`; the stack region is in `mem`
    // for the call.
    let out = unsafe { run.call(mem, user) };
    // The stack region leaves the map before the caller's borrow of the
    // stack ends.
    mem.remove_at(stack_start);
    out
}

/// One call of compiled code, with everything the context needs.
pub(crate) struct Entry<'h> {
    /// The program's entry wrapper.
    pub(crate) entry: EntryFn,
    /// Its helpers.
    pub(crate) helpers: &'h Helpers,
    /// The host address of the run's stack (its region is in the map).
    pub(crate) stack_start: u64,
    /// The input region (also the LD_ABS/LD_IND packet), if any.
    pub(crate) input: Option<Region>,
    /// r1..r5.
    pub(crate) args: [u64; 5],
    /// The instruction budget.
    pub(crate) budget: Option<u64>,
}

impl Entry<'_> {
    /// Fills a [`VmContext`], calls the entry and turns the context into
    /// the outcome.
    ///
    /// # Safety
    /// `self.entry` must be the entry wrapper of a finalized program
    /// compiled with the thunks of this module, whose code stays mapped for
    /// the call; the stack region `[stack_start, stack_start + STACK_SIZE)`
    /// must be live, writable memory registered in `mem` for the call.
    #[inline]
    pub(crate) unsafe fn call(
        self,
        mem: &mut MemoryMap<'_>,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let mut vmc = VmContext::new(self.stack_start);
        if let Some(r) = self.input {
            vmc.input_start = r.start;
            vmc.input_len = r.len;
            vmc.input_wlen = if r.writable { r.len } else { 0 };
            vmc.packet_start = r.start;
            vmc.packet_len = r.len;
        }
        let initial = self.budget.unwrap_or(u64::MAX);
        vmc.remaining = initial;
        let mut host = HostState {
            mem,
            helpers: self.helpers,
            user,
            input: self.input,
            helper_error: None,
        };
        vmc.host = &mut host as *mut HostState<'_, '_> as *mut c_void;
        let vmp: *mut VmContext = &mut vmc;
        let a = self.args;
        // SAFETY: `entry` is valid per this function's contract; `vmp`
        // points to a fully initialised context whose stack, map and host
        // state outlive the call. JIT code only touches memory its checks
        // allowed.
        let r0 = unsafe { (self.entry)(vmp, a[0], a[1], a[2], a[3], a[4]) };
        let charged = initial - vmc.remaining;
        if vmc.fault_kind == abi::FAULT_NONE {
            return RunOutcome {
                result: Ok(r0),
                insn_count: charged,
            };
        }
        faulted(&vmc, initial, host.helper_error.take())
    }
}

/// The outcome of a run whose context records a fault.
#[cold]
#[inline(never)]
fn faulted(vmc: &VmContext, initial: u64, helper_error: Option<HelperError>) -> RunOutcome {
    let charged = initial - vmc.remaining;
    let kind = match vmc.fault_kind {
        abi::FAULT_OUT_OF_BOUNDS => FaultKind::OutOfBounds {
            addr: vmc.fault_addr,
            size: vmc.fault_size,
            access: Access::from_code(vmc.fault_access).unwrap_or(Access::ReadWrite),
        },
        abi::FAULT_MISALIGNED => FaultKind::Misaligned {
            addr: vmc.fault_addr,
            size: vmc.fault_size,
        },
        abi::FAULT_BUDGET => FaultKind::Budget { budget: initial },
        abi::FAULT_CALL_DEPTH => FaultKind::CallDepth {
            limit: MAX_CALL_DEPTH as u64,
        },
        abi::FAULT_UNKNOWN_HELPER => FaultKind::UnknownHelper { id: vmc.fault_addr },
        abi::FAULT_PROOF_VIOLATION => FaultKind::ProofViolation {
            addr: vmc.fault_addr,
            size: vmc.fault_size,
            access: Access::from_code(vmc.fault_access).unwrap_or(Access::ReadWrite),
        },
        _ => FaultKind::Helper {
            id: vmc.fault_addr as u32,
            error: helper_error.unwrap_or_else(|| HelperError::new("unknown helper failure")),
        },
    };
    RunOutcome {
        result: Err(Fault {
            kind,
            pc: vmc.fault_pc as usize,
        }),
        insn_count: charged.saturating_sub(vmc.fault_adj),
    }
}
