//! [`execute`], which runs one [`Case`] on one engine and returns its
//! normalised [`State`], and [`compare`], which compares two engines on it.
//!
//! An engine is anything that implements the runtime's one engine
//! abstraction ([`Engine`] prepares a program, [`Prepared`] runs it): the
//! reference interpreter ([`cranebpf_runtime::InterpreterEngine`]), the
//! Cranelift JIT ([`cranebpf::EngineKind::Jit`], [`cranebpf::JitEngine`]),
//! the kernel ([`crate::kernel::Kernel`]), a JIT with a planted bug
//! ([`cranebpf::planted_bug_engine`]), or an embedder's own engine. What a
//! comparison compares follows each side's [`Capabilities`].

use crate::case::Case;
use crate::helpers::{difftest_helpers, lock, HelperLog, SCRATCH_LEN};
use crate::state::{Ending, Layout, NormFault, NormKind, State, Value};
use cranebpf_runtime::engine::profile::MemoryModel;
pub use cranebpf_runtime::engine::{Capabilities, Engine, Prepared};
use cranebpf_runtime::{MemoryMap, Program, Region, RunOptions, Stack, STACK_SIZE};
use std::sync::{Arc, Mutex};

/// Bytes between our regions and around them, so that an access just
/// outside one region never lands in another (nor in memory we did not
/// register).
const GUARD: usize = 128;

/// The largest input [`execute`] accepts.
pub const MAX_INPUT: usize = 4096;

/// All memory of one run in one allocation: the stack, the scratch region
/// and the input at fixed distances from each other. Every engine and every
/// run sees the same layout up to one base address, so an access through a
/// pointer derived from one region (however wild its offset) lands at the
/// same place relative to every region in every run: whether it hits a
/// region is never a matter of where the allocator put things. (With the
/// engines' own stacks, a wild stack-relative access could hit the input in
/// one engine and nothing in the other.) Input bytes past the case's length
/// are never registered.
#[repr(C, align(16))]
struct Arena {
    lead: [u8; GUARD],
    stack: Stack,
    gap: [u8; GUARD],
    scratch: [u8; SCRATCH_LEN],
    gap2: [u8; GUARD],
    input: [u8; MAX_INPUT],
    tail: [u8; GUARD],
}

impl Arena {
    fn boxed() -> Box<Arena> {
        Box::new(Arena {
            lead: [0; GUARD],
            stack: Stack::new(),
            gap: [0; GUARD],
            scratch: [0; SCRATCH_LEN],
            gap2: [0; GUARD],
            input: [0; MAX_INPUT],
            tail: [0; GUARD],
        })
    }
}

/// Where each thread's arenas live: fixed addresses (slot `k` of the thread
/// that first runs a case is at `ARENA_BASE + k * ARENA_SLOT`), so that a
/// run sees the same host addresses in every process. That makes even a
/// program whose behaviour depends on absolute addresses (it compares a
/// pointer with a number, say) behave the same from run to run, so batch
/// results and shrinking are reproducible. Low enough for riscv64's 39-bit
/// address space, far from where Linux puts heaps and mappings.
const ARENA_BASE: usize = 0x20_0000_0000;
/// Address space per thread slot.
const ARENA_SLOT: usize = 0x10_0000;
/// Bytes mapped per slot: the arena at offset 0 and the moved arena.
const ARENA_MAP: usize = 0x8000;
/// Where the moved arena starts in a slot: another page and other low bits.
const MOVED_OFFSET: usize = 0x4000 + 0x40;

/// One thread's mapping for its two arenas (unmapped when the thread ends).
struct ArenaMap {
    base: *mut u8,
}

impl ArenaMap {
    /// Maps slot `k` at its fixed address; `None` if that address is taken
    /// or mapping fails (the caller then uses the heap).
    fn new(k: usize) -> Option<ArenaMap> {
        const _: () = assert!(MOVED_OFFSET + std::mem::size_of::<Arena>() <= ARENA_MAP);
        const _: () = assert!(MOVED_OFFSET % std::mem::align_of::<Arena>() == 0);
        let want = ARENA_BASE.checked_add(k.checked_mul(ARENA_SLOT)?)?;
        // SAFETY: an anonymous private mapping at a hint address that must
        // not replace anything (MAP_FIXED_NOREPLACE): it cannot affect
        // existing memory. The result is checked below.
        let p = unsafe {
            libc::mmap(
                want as *mut libc::c_void,
                ARENA_MAP,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return None;
        }
        if p as usize != want {
            // An old kernel that treats the flag as a hint: not ours to use.
            // SAFETY: `p` is the mapping just made, of ARENA_MAP bytes.
            unsafe { libc::munmap(p, ARENA_MAP) };
            return None;
        }
        Some(ArenaMap { base: p.cast() })
    }

    /// The arena at the slot's start or, if `moved`, at [`MOVED_OFFSET`],
    /// zeroed.
    fn arena(&mut self, moved: bool) -> &mut Arena {
        let off = if moved { MOVED_OFFSET } else { 0 };
        // SAFETY: `base + off` lies in this mapping (checked at compile time
        // above), is suitably aligned (page-aligned base, `off` a multiple of
        // Arena's alignment), is readable and writable, and is reached only
        // through this `&mut self`, so the returned reference is unique.
        // Arena is plain bytes, valid for any contents; it is zeroed first.
        unsafe {
            let p = self.base.add(off);
            std::ptr::write_bytes(p, 0, std::mem::size_of::<Arena>());
            &mut *p.cast::<Arena>()
        }
    }
}

impl Drop for ArenaMap {
    fn drop(&mut self) {
        // SAFETY: `base` is a mapping of ARENA_MAP bytes made by `new`; no
        // reference into it outlives `&mut self` uses.
        unsafe { libc::munmap(self.base.cast(), ARENA_MAP) };
    }
}

thread_local! {
    /// This thread's arenas, mapped on first use (`None` inside if the fixed
    /// address was not available).
    static ARENAS: std::cell::RefCell<Option<Option<ArenaMap>>> =
        const { std::cell::RefCell::new(None) };
}

/// The next thread slot.
static NEXT_SLOT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Calls `f` with a zeroed arena: this thread's fixed one if available,
/// else one on the heap (correct, only without the fixed addresses).
fn with_arena<R>(moved: bool, f: impl FnOnce(&mut Arena) -> R) -> R {
    ARENAS.with(|cell| {
        // Not re-entered in practice; if it were, the inner run uses the heap.
        let mut slot = cell.try_borrow_mut().ok();
        let fixed = slot.as_mut().and_then(|s| {
            s.get_or_insert_with(|| {
                let k = NEXT_SLOT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                ArenaMap::new(k)
            })
            .as_mut()
        });
        match fixed {
            Some(m) => f(m.arena(moved)),
            None => f(&mut Arena::boxed()),
        }
    })
}

/// Runs `case` on `engine`: a fresh copy of the input and a zeroed scratch
/// region (registered in that order) and a stack, all in one [`Arena`];
/// r1 = the input, r2 = its length, the case's budget, and the
/// [`difftest_helpers`]. `Err` is a load error.
pub fn execute(engine: &dyn Engine, case: &Case) -> Result<State, String> {
    execute_at(engine, case, false)
}

/// [`execute`], with `moved` placing the arena at another address (another
/// page, other low bits) than an unmoved run. A case whose state differs
/// between the two depends on absolute addresses (e.g. it hashed a
/// pointer): a generator artefact, never an engine bug.
pub fn execute_at(engine: &dyn Engine, case: &Case, moved: bool) -> Result<State, String> {
    let prog = case.program().map_err(|e| format!("load: {e}"))?;
    let len = case.input.len();
    if len > MAX_INPUT {
        return Err(format!(
            "input of {len} bytes: the harness takes at most {MAX_INPUT}"
        ));
    }
    with_arena(moved, |a| run_in_arena(engine, case, &prog, a))
}

fn run_in_arena(
    engine: &dyn Engine,
    case: &Case,
    prog: &Program,
    a: &mut Arena,
) -> Result<State, String> {
    let len = case.input.len();
    let log = Arc::new(Mutex::new(HelperLog::default()));
    let helpers = difftest_helpers(Arc::clone(&log));
    a.input[..len].copy_from_slice(&case.input);
    let input = &mut a.input[..len];
    let input_start = input.as_mut_ptr() as u64;
    let scratch_start = a.scratch.as_mut_ptr() as u64;
    let stack_start = a.stack.bytes().as_ptr() as u64;
    {
        let mut l = lock(&log);
        l.input_start = input_start;
        l.scratch_start = scratch_start;
        l.stack_start = stack_start;
    }
    let region = |start, len: usize| Region {
        start,
        len: len as u64,
        writable: true,
    };
    let layout = Layout::new(
        region(input_start, len),
        region(scratch_start, SCRATCH_LEN),
        Some(region(stack_start, STACK_SIZE)),
    );
    let out = {
        let mut mem = MemoryMap::new();
        if len > 0 {
            mem.add_mut(input);
        }
        mem.add_mut(&mut a.scratch);
        let args = [if len > 0 { input_start } else { 0 }, len as u64, 0, 0, 0];
        let opts = RunOptions {
            budget: Some(case.budget),
        };
        let prepared = engine.prepare(prog, helpers).map_err(|e| e.to_string())?;
        prepared
            .try_run(&mut a.stack, &mut mem, args, &opts, None)
            .map_err(|e| e.to_string())?
    };
    let calls = std::mem::take(&mut lock(&log).calls);
    let stack = if engine.capabilities().uses_given_stack {
        a.stack.bytes().to_vec()
    } else {
        Vec::new()
    };
    Ok(State::new(
        &out,
        &layout,
        a.input[..len].to_vec(),
        a.scratch.to_vec(),
        stack,
        calls,
    ))
}

/// The result of running one case on two engines.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// Engine `a`'s state (or load error).
    pub a: Result<State, String>,
    /// Engine `b`'s state (or load error).
    pub b: Result<State, String>,
    /// The differences; empty if the engines agree.
    pub diffs: Vec<String>,
}

/// Whether `engine`'s state for `case` does not depend on where memory
/// is (see [`execute_at`]).
pub fn is_deterministic(engine: &dyn Engine, case: &Case) -> bool {
    execute_at(engine, case, false) == execute_at(engine, case, true)
}

/// Why engine `b` was not run on a case: the reference shows the case
/// needs what `b` lacks (a budget it does not count, or bounds checks it
/// does not make, for a case that runs out of budget or faults; the
/// reference's addresses, for a case that returns a pointer).
pub const NOT_COMPARABLE: &str = "not comparable: the reference ran out of budget, faulted or \
     returned a pointer, and this engine counts no budget, checks no bounds or has addresses \
     of its own";

/// Runs `case` on both engines and compares the states, on what both
/// define ([`Capabilities`]): r0's low `result_bits`, counts if both count,
/// stacks if both use the given one, faults in detail if both give it,
/// memory and helper calls if both report them. `b` is not run on a case
/// the reference shows it cannot run safely ([`NOT_COMPARABLE`]).
pub fn compare(a: &dyn Engine, b: &dyn Engine, case: &Case) -> Comparison {
    let (na, nb) = (a.name(), b.name());
    let (ca, cb) = (a.capabilities(), b.capabilities());
    let sa = execute(a, case);
    // An engine with addresses of its own returns a pointer as a number
    // the harness cannot place: a case whose result is a pointer says
    // nothing about it.
    let own_addresses = cb.profile.memory == MemoryModel::Translated;
    let skip_b = match &sa {
        Ok(s) => match s.ending() {
            Ending::Budget => !cb.counts_instructions,
            Ending::Fault => !cb.checks_bounds,
            Ending::Exit => own_addresses && matches!(s.result, Ok(Value::Ptr { .. })),
        },
        Err(_) => false,
    };
    let sb = if skip_b {
        Err(NOT_COMPARABLE.to_string())
    } else {
        execute(b, case)
    };
    let (sa, sb) = (sa, sb);
    let view = |s: &State| view_of(s, &ca, &cb);
    let diffs = match (&sa, &sb) {
        (Ok(x), Ok(y)) => view(x).diff(&view(y), na, nb),
        (Ok(_), Err(_)) if cb.may_reject || skip_b => Vec::new(),
        (Err(x), Err(y)) if x == y => Vec::new(),
        (Err(x), Err(y)) => vec![format!("load error: {na} `{x}` / {nb} `{y}`")],
        (Err(x), Ok(_)) => vec![format!("load: {na} rejects (`{x}`), {nb} accepts")],
        (Ok(_), Err(y)) => vec![format!("load: {na} accepts, {nb} rejects (`{y}`)")],
    };
    Comparison {
        a: sa,
        b: sb,
        diffs,
    }
}

/// What of `s` a comparison between engines of capabilities `ca` and `cb`
/// compares.
fn view_of(s: &State, ca: &Capabilities, cb: &Capabilities) -> State {
    let mut v = s.clone();
    let bits = ca.result_bits.min(cb.result_bits);
    if bits < 64 {
        if let Ok(Value::Scalar(r)) = &mut v.result {
            *r &= (1u64 << bits) - 1;
        }
    }
    if !(ca.counts_instructions && cb.counts_instructions) {
        v.insn_count = 0;
    }
    if !(ca.uses_given_stack && cb.uses_given_stack) {
        v.stack.clear();
    }
    if !(ca.fault_detail && cb.fault_detail) {
        if let Err(f) = &mut v.result {
            *f = NormFault {
                pc: 0,
                kind: NormKind::Other("a fault (no detail compared)".to_string()),
            };
        }
    }
    if !(ca.reports_memory && cb.reports_memory) {
        v.input.clear();
        v.scratch.clear();
        v.stack.clear();
        v.helper_calls.clear();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `with_arena` put the arena.
    fn arena_addr(moved: bool) -> usize {
        with_arena(moved, |a| a as *mut Arena as usize)
    }

    #[test]
    fn arenas_sit_at_fixed_addresses() {
        let (a, b) = (arena_addr(false), arena_addr(true));
        assert_eq!(a, arena_addr(false), "the same thread reuses its slot");
        if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            // MAP_FIXED_NOREPLACE works on every kernel CI runs on.
            assert!(
                a >= ARENA_BASE && (a - ARENA_BASE) % ARENA_SLOT == 0,
                "{a:#x}"
            );
            assert_eq!(b - a, MOVED_OFFSET);
        } else if a < ARENA_BASE {
            println!("note: fixed arena addresses unavailable here; heap arenas used");
        }
        // Another thread gets another slot.
        let other = std::thread::spawn(|| arena_addr(false)).join().unwrap_or(0);
        assert_ne!(other, a);
    }

    #[test]
    fn arenas_are_zeroed_for_every_run() {
        with_arena(false, |a| {
            a.input[7] = 9;
            a.scratch[3] = 1;
        });
        with_arena(false, |a| {
            assert_eq!(a.input[7], 0);
            assert_eq!(a.scratch[3], 0);
        });
    }
}
