//! The host side of a JIT run: the per-run state, the two `extern "C"`
//! thunks JIT code calls (helper trampoline, memory check), and the run
//! driver that fills a [`VmContext`], calls the entry and turns the context
//! back into a [`RunOutcome`].

use cranebpf_runtime::abi::{self, VmContext};
use cranebpf_runtime::{
    Access, Fault, FaultKind, HelperCtx, HelperError, Helpers, MemoryMap, Region, RunOptions,
    RunOutcome, Stack, MAX_CALL_DEPTH, STACK_SIZE,
};
use std::any::Any;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The signature of the compiled entry wrapper (see
/// [`cranebpf_lower::lower_entry`]).
pub(crate) type EntryFn = unsafe extern "C" fn(*mut VmContext, u64, u64, u64, u64, u64) -> u64;

/// What the thunks reach through [`VmContext::host`] during one run.
///
/// **Lazy map.** A prebuilt run leaves its map empty (`pending`): the thunks
/// add the run's own regions (the stack as region 0, then the input region,
/// then `more`) on their first call that needs the map (a helper call, or
/// an access the inline check refused), so a run that never leaves
/// compiled code builds no map. Its driver empties the map again afterwards.
struct HostState<'r, 'a> {
    /// Use through [`HostState::mem`], which adds the pending regions first.
    mem: &'r mut MemoryMap<'a>,
    /// Whether the run's own regions still have to enter `mem`.
    pending: bool,
    /// The stack's host address (its region, if pending).
    stack_start: u64,
    /// Regions besides the stack and the input, if pending.
    more: &'r [Region],
    helpers: &'r Helpers,
    user: Option<&'r mut (dyn Any + Send)>,
    /// The input region as it was at the start of the run.
    input: Option<Region>,
    /// The error of a failed helper, until the run ends.
    helper_error: Option<HelperError>,
}

impl<'a> HostState<'_, 'a> {
    /// The run's map, with the pending regions added if they were not yet.
    #[inline]
    fn mem(&mut self) -> &mut MemoryMap<'a> {
        if self.pending {
            self.fill();
        }
        self.mem
    }

    /// Adds the pending regions to the map.
    #[cold]
    fn fill(&mut self) {
        self.pending = false;
        let stack = Region {
            start: self.stack_start,
            len: STACK_SIZE as u64,
            writable: true,
        };
        // SAFETY: the drivers' contracts (`Entry::call`, `Batch`) make the
        // stack and every pending region valid memory for the accesses it
        // grants for the whole run, and they empty the map before the run's
        // borrows end.
        unsafe {
            self.mem.add_raw(stack);
            if let Some(r) = self.input {
                self.mem.add_raw(r);
            }
            for r in self.more {
                self.mem.add_raw(*r);
            }
        }
    }
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
    // Adds the pending regions to the map before the helper sees it.
    host.mem();
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
fn refresh_input(vmc: &mut VmContext, host: &mut HostState<'_, '_>) {
    if let Some(r) = host.input {
        if !host.mem().contains(&r) {
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
    // SAFETY: as in `helper_trampoline`.
    let host = unsafe { &mut *(vmc.host as *mut HostState<'_, '_>) };
    let access = Access::from_code(access).unwrap_or(Access::ReadWrite);
    let ok = host.mem().check(addr, size, access).is_ok();
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
    let out = unsafe { run.call(mem, None, user) };
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
    /// The host address of the run's stack (its region is in the map, or
    /// pending).
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
    /// the outcome. With `lazy = Some(more)`, the map starts without the
    /// run's own regions (the stack, the input region and `more`) and gets
    /// them only if a thunk needs the map (see [`HostState`]); it is then
    /// emptied before this function returns.
    ///
    /// # Safety
    /// `self.entry` must be the entry wrapper of a finalized program
    /// compiled with the thunks of this module, whose code stays mapped for
    /// the call; the stack region `[stack_start, stack_start + STACK_SIZE)`
    /// must be live, writable memory, registered in `mem` unless `lazy`,
    /// for the call; so must the input region and `more`, for the accesses
    /// they grant.
    #[inline]
    pub(crate) unsafe fn call(
        self,
        mem: &mut MemoryMap<'_>,
        lazy: Option<&[Region]>,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let mut vmc = VmContext::new(self.stack_start);
        let mut host = HostState {
            mem,
            pending: lazy.is_some(),
            stack_start: self.stack_start,
            more: lazy.unwrap_or(&[]),
            helpers: self.helpers,
            user,
            input: self.input,
            helper_error: None,
        };
        let initial = self.budget.unwrap_or(u64::MAX);
        // SAFETY: per this function's contract.
        let r0 = unsafe { enter(self.entry, &mut vmc, &mut host, None, self.args, initial) };
        if lazy.is_some() && !host.pending {
            clear(host.mem);
        }
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

/// Empties `mem` (its storage kept).
#[cold]
pub(crate) fn clear(mem: &mut MemoryMap<'_>) {
    *mem = MemoryMap::with_storage(std::mem::take(mem).into_storage());
}

/// Many runs of one program with one context and host state, each with its
/// own read-only input region (a packet filter's batch), with the lazy map
/// of [`HostState`] and no budget.
pub(crate) struct Batch<'r, 'a> {
    entry: EntryFn,
    vmc: VmContext,
    host: HostState<'r, 'a>,
    stack: &'r mut Stack,
    /// Stack bytes each run zeroes first.
    zero: usize,
    /// The region the inline check covers instead of the input.
    inline: Option<Region>,
}

impl<'r, 'a> Batch<'r, 'a> {
    /// A batch of runs of `entry` on `stack` (its top `zero` bytes zeroed
    /// before each run), with `more` regions besides the input, over `mem`
    /// (empty; emptied again after any run whose thunks filled it). With
    /// `inline` (one of `more`), the inline bounds check covers that
    /// region instead of the input (a packet filter's metadata, which it
    /// reads through r2, while LD_ABS/LD_IND read the packet): only speed
    /// depends on which region it covers, as a refused access still goes
    /// to the full map check.
    ///
    /// # Safety
    /// As for [`Entry::call`], for every run of the batch: `more` must stay
    /// valid memory for as long as the batch lives.
    pub(crate) unsafe fn new(
        entry: EntryFn,
        helpers: &'r Helpers,
        stack: &'r mut Stack,
        zero: usize,
        more: &'r [Region],
        inline: Option<Region>,
        mem: &'r mut MemoryMap<'a>,
    ) -> Batch<'r, 'a> {
        let stack_start = stack.bytes_mut().as_mut_ptr() as u64;
        Batch {
            entry,
            vmc: VmContext::new(stack_start),
            host: HostState {
                mem,
                pending: true,
                stack_start,
                more,
                helpers,
                user: None,
                input: None,
                helper_error: None,
            },
            stack,
            zero,
            inline,
        }
    }

    /// One run with the read-only `[start, start + len)` as the input
    /// region and r1..r5 = `args`: r0, or `None` if the run faulted (then
    /// [`Batch::fault`] says how).
    ///
    /// # Safety
    /// `[start, start + len)` must be memory valid for reads for the call.
    #[inline(always)]
    pub(crate) unsafe fn run(&mut self, start: u64, len: u64, args: [u64; 5]) -> Option<u64> {
        self.stack.prepare_top(self.zero);
        self.host.input = Some(Region {
            start,
            len,
            writable: false,
        });
        self.host.pending = true;
        // SAFETY: per `Batch::new`'s and this function's contracts.
        let r0 = unsafe {
            enter(
                self.entry,
                &mut self.vmc,
                &mut self.host,
                self.inline,
                args,
                u64::MAX,
            )
        };
        if !self.host.pending {
            clear(self.host.mem);
        }
        (self.vmc.fault_kind == abi::FAULT_NONE).then_some(r0)
    }

    /// The fault of the last run, which faulted; the context is made ready
    /// for the next run.
    #[cold]
    pub(crate) fn fault(&mut self) -> Fault {
        let fault = fault_of(&self.vmc, u64::MAX, self.host.helper_error.take());
        self.vmc = VmContext::new(self.vmc.stack_start);
        fault
    }
}

/// Fills `vmc`'s per-run fields (input, packet, budget, host state) from
/// `host`, and calls `entry`: its r0. `vmc`'s fault fields must be clear.
/// The packet (LD_ABS/LD_IND) is the input region; the inline check covers
/// `inline` if given (one of the run's regions), else the input region.
///
/// # Safety
/// As for [`Entry::call`], with `host` this run's state.
#[inline(always)]
unsafe fn enter(
    entry: EntryFn,
    vmc: &mut VmContext,
    host: &mut HostState<'_, '_>,
    inline: Option<Region>,
    a: [u64; 5],
    budget: u64,
) -> u64 {
    let (start, len) = host.input.map_or((0, 0), |r| (r.start, r.len));
    vmc.packet_start = start;
    vmc.packet_len = len;
    let (start, len, wlen) = match inline.or(host.input) {
        Some(r) => (r.start, r.len, if r.writable { r.len } else { 0 }),
        None => (0, 0, 0),
    };
    vmc.input_start = start;
    vmc.input_len = len;
    vmc.input_wlen = wlen;
    vmc.remaining = budget;
    vmc.host = host as *mut HostState<'_, '_> as *mut c_void;
    let vmp: *mut VmContext = vmc;
    // SAFETY: `entry` is valid per the caller's contract; `vmp` points to a
    // fully initialised context whose stack, map and host state outlive the
    // call. JIT code only touches memory its checks allowed.
    unsafe { entry(vmp, a[0], a[1], a[2], a[3], a[4]) }
}

/// The outcome of a run whose context records a fault.
#[cold]
#[inline(never)]
fn faulted(vmc: &VmContext, initial: u64, helper_error: Option<HelperError>) -> RunOutcome {
    let charged = initial - vmc.remaining;
    RunOutcome {
        result: Err(fault_of(vmc, initial, helper_error)),
        insn_count: charged.saturating_sub(vmc.fault_adj),
    }
}

/// The fault a context records, in a run whose budget was `initial`.
fn fault_of(vmc: &VmContext, initial: u64, helper_error: Option<HelperError>) -> Fault {
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
    Fault {
        kind,
        pc: vmc.fault_pc as usize,
    }
}
