//! rbpf 0.4.1 (interpreter, x86-64 JIT, Cranelift JIT) as an [`Engine`].
//!
//! Differences by design, normalised here once:
//! - **r2.** rbpf sets r1 to its memory and leaves r2 at 0. The adapter runs
//!   rbpf's "metadata buffer" VM with a 16-byte buffer holding the input's
//!   address and length, and its copy of the program starts with
//!   `ldxdw r2, [r1+8]; ldxdw r1, [r1+0]`: every engine then starts with
//!   r1 = input, r2 = length. It then zeroes r0 and r3-r9, as cranebpf
//!   starts them (rbpf's JIT leaves host values there). Relative jump and call offsets are unchanged;
//!   the two loads are not counted (rbpf counts nothing).
//! - **Memory.** rbpf checks accesses (interpreter only) against the input,
//!   the metadata buffer, its own 512-byte stack and ranges registered with
//!   it. The adapter registers every other region of the run's
//!   [`MemoryMap`] before each run; registrations cannot be withdrawn, so a
//!   region of an earlier run stays allowed. The stack is rbpf's own, not
//!   the [`Stack`] given (`uses_given_stack` is false).
//! - **Helpers.** rbpf calls a helper as a plain `fn(u64 × 5) -> u64`. In
//!   the interpreter, each registered helper id below [`TRAMPOLINES`] is
//!   reached through a trampoline that calls the [`Helpers`] body with the
//!   run's memory map; a helper's error stops the run (unwinding through
//!   rbpf's interpreter, which is Rust). The JITs get no trampolines: their
//!   code calls helpers with the stack 8 bytes off the x86-64 alignment and
//!   cannot be unwound, so their profile has no helpers; an embedder may
//!   still give plain functions ([`RbpfEngine::native_helper`]).
//! - **Profile.** eBPF v3 (no v4 additions), no atomics (rbpf refuses
//!   `xadd`), no `callx`, no LD_ABS/LD_IND as RFC 9669 defines them, no map
//!   `lddw`; the Cranelift JIT has no local calls either. No instruction
//!   counting or budget, and faults say only that the run failed. The
//!   x86-64 JIT checks no bounds, so only fault-free programs are given to
//!   it; the Cranelift JIT's failed check (or division by zero) is a trap,
//!   so each of its runs happens in a forked child process.

use crate::{panic_message, peer_fault, StaticProgram};
use cranebpf_runtime::engine::profile::{HelperSupport, IsaVersion};
use cranebpf_runtime::engine::{Capabilities, Engine, PrepareError, Prepared, Profile};
use cranebpf_runtime::{
    HelperCtx, HelperError, Helpers, MemoryMap, Program, RunOptions, RunOutcome, Stack,
};
use std::any::Any;
use std::cell::Cell;
use std::sync::Mutex;

/// Which rbpf engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RbpfMode {
    /// The interpreter (`execute_program`).
    Interp,
    /// The x86-64 JIT (`jit_compile`), which checks no bounds.
    Jit,
    /// The Cranelift JIT (`cranelift_compile`, cargo feature `heavy`).
    Cranelift,
}

/// Helper ids the interpreter's trampolines reach (0 to 255).
pub const TRAMPOLINES: u32 = 256;

/// rbpf as a cranebpf [`Engine`].
#[derive(Clone, Debug)]
pub struct RbpfEngine {
    mode: RbpfMode,
    native: Vec<(u32, rbpf::ebpf::Helper)>,
    allowed: Vec<std::ops::Range<u64>>,
}

impl RbpfEngine {
    /// The engine of `mode`.
    pub fn new(mode: RbpfMode) -> RbpfEngine {
        RbpfEngine {
            mode,
            native: Vec::new(),
            allowed: Vec::new(),
        }
    }

    /// Calls `f` directly for helper `id`, instead of the [`Helpers`] body
    /// (no memory map, no errors): for a JIT, which gets no trampolines, or
    /// to time rbpf's own helper call.
    pub fn native_helper(mut self, id: u32, f: rbpf::ebpf::Helper) -> RbpfEngine {
        self.native.push((id, f));
        self
    }

    /// Lets the program access `range` (host addresses; e.g. values a
    /// native helper returns).
    pub fn allow_memory(mut self, range: std::ops::Range<u64>) -> RbpfEngine {
        self.allowed.push(range);
        self
    }

    fn compile(&self, vm: &mut rbpf::EbpfVmMbuff<'static>) -> Result<(), PrepareError> {
        match self.mode {
            RbpfMode::Interp => Ok(()),
            RbpfMode::Jit => Ok(vm.jit_compile()?),
            RbpfMode::Cranelift => cranelift_compile(vm),
        }
    }
}

impl Engine for RbpfEngine {
    fn name(&self) -> &str {
        match self.mode {
            RbpfMode::Interp => "rbpf-interp",
            RbpfMode::Jit => "rbpf-jit",
            RbpfMode::Cranelift => "rbpf-cranelift",
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::EXACT;
        c.counts_instructions = false;
        c.uses_given_stack = false;
        c.fault_detail = false;
        c.checks_bounds = self.mode == RbpfMode::Interp;
        c.profile = rbpf_profile(self.mode);
        c
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        if self.mode != RbpfMode::Interp && !cfg!(target_arch = "x86_64") {
            return Err("rbpf's JITs emit x86-64 only".into());
        }
        let mut profile = self.capabilities().profile;
        if !self.native.is_empty() {
            // The embedder's plain functions are helpers every mode calls.
            profile.helpers = HelperSupport::Infallible;
        }
        if let Some((i, gap)) = profile.first_gap(program.insns().iter().map(|(_, i)| i)) {
            return Err(format!(
                "{}: instruction {i} is outside its profile: {gap}",
                self.name()
            )
            .into());
        }
        let code = StaticProgram::new(prologue_and(program));
        let mut vm = rbpf::EbpfVmMbuff::new(Some(code.bytes()))?;
        if self.mode == RbpfMode::Interp {
            for id in helpers.ids().filter(|&id| id < TRAMPOLINES) {
                vm.register_helper(id, trampoline(id))?;
            }
        }
        for &(id, f) in &self.native {
            vm.register_helper(id, f)?;
        }
        for r in &self.allowed {
            vm.register_allowed_memory(r.clone());
        }
        self.compile(&mut vm)?;
        Ok(Box::new(RbpfPrepared {
            vm: Mutex::new(vm),
            mode: self.mode,
            helpers,
            _code: code,
        }))
    }
}

/// What each rbpf engine runs.
fn rbpf_profile(mode: RbpfMode) -> Profile {
    let mut p = Profile::FULL;
    p.isa = IsaVersion::V3;
    p.atomics = false;
    p.callx = false;
    p.packet_loads = false;
    p.pseudo_lddw = false;
    p.local_calls = mode != RbpfMode::Cranelift;
    p.helpers = match mode {
        RbpfMode::Interp => HelperSupport::Full,
        RbpfMode::Jit | RbpfMode::Cranelift => HelperSupport::None,
    };
    p
}

/// `ldxdw r2, [r1+8]; ldxdw r1, [r1+0]`, then r0 and r3-r9 set to 0 as
/// every cranebpf engine starts them (RFC 9669 leaves them undefined;
/// rbpf's x86-64 JIT leaves host values there), then the program.
fn prologue_and(program: &Program) -> Vec<u8> {
    let mut code = vec![
        0x79, 0x12, 8, 0, 0, 0, 0, 0, // ldxdw r2, [r1+8]
        0x79, 0x11, 0, 0, 0, 0, 0, 0, // ldxdw r1, [r1+0]
    ];
    for r in [0u8, 3, 4, 5, 6, 7, 8, 9] {
        code.extend_from_slice(&[0xb7, r, 0, 0, 0, 0, 0, 0]); // mov rR, 0
    }
    code.extend_from_slice(&program.to_bytes());
    code
}

#[cfg(feature = "heavy")]
fn cranelift_compile(vm: &mut rbpf::EbpfVmMbuff<'static>) -> Result<(), PrepareError> {
    // rbpf's Cranelift translator panics (`unimplemented!`) on instructions
    // it lacks: a refusal.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.cranelift_compile()))
        .map_err(|p| format!("rbpf's Cranelift JIT panicked: {}", panic_message(&*p)))??;
    Ok(())
}

#[cfg(not(feature = "heavy"))]
fn cranelift_compile(_: &mut rbpf::EbpfVmMbuff<'static>) -> Result<(), PrepareError> {
    Err("rbpf's Cranelift JIT is not built (cargo feature `heavy` of cranebpf-peers)".into())
}

/// A program rbpf prepared. The VM sits behind a mutex: registering the
/// run's regions needs `&mut`, and rbpf's VM is not `Sync`.
struct RbpfPrepared {
    // Declared before `_code`: the VM borrows it and is dropped first.
    vm: Mutex<rbpf::EbpfVmMbuff<'static>>,
    mode: RbpfMode,
    helpers: Helpers,
    _code: StaticProgram,
}

// SAFETY: rbpf's VM holds its program (borrowed from `_code`, owned here),
// helper function pointers, a set of ranges and the JIT's executable
// memory; none is tied to a thread. All access goes through the mutex.
unsafe impl Send for RbpfPrepared {}
// SAFETY: as above; `&self` methods only lock the mutex.
unsafe impl Sync for RbpfPrepared {}

impl Prepared for RbpfPrepared {
    fn run(
        &self,
        _stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        _opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let result = self.run_locked(mem, args, user);
        RunOutcome {
            result: result.map_err(peer_fault),
            insn_count: 0,
        }
    }
}

impl RbpfPrepared {
    fn run_locked(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        user: Option<&mut (dyn Any + Send)>,
    ) -> Result<u64, String> {
        let mut vm = self.vm.lock().unwrap_or_else(|p| p.into_inner());
        let input = mem.input_region(args[0]);
        for r in &mem.regions() {
            if Some(*r) != input {
                vm.register_allowed_memory(r.start..r.start.wrapping_add(r.len));
            }
        }
        let (start, len) = input.map_or((0, 0), |r| (r.start, r.len));
        let mut mbuff = [0u8; 16];
        mbuff[..8].copy_from_slice(&start.to_le_bytes());
        mbuff[8..].copy_from_slice(&args[1].to_le_bytes());
        let input_bytes: &'static mut [u8] = if len == 0 {
            &mut []
        } else {
            // SAFETY: `start..start+len` is the input region of `mem`, memory
            // the caller lent for this run (exclusively: `mem` is `&mut`);
            // the slice is used only during this call (rbpf's signature
            // wants the VM's lifetime but keeps nothing).
            unsafe { std::slice::from_raw_parts_mut(start as *mut u8, len as usize) }
        };
        // SAFETY: `mbuff` lives on this frame until rbpf returns; as above.
        let mbuff: &'static mut [u8] =
            unsafe { std::slice::from_raw_parts_mut(mbuff.as_mut_ptr(), 16) };
        let mut run = HelperRun {
            helpers: &self.helpers,
            mem: (mem as *mut MemoryMap<'_>).cast(),
            user,
            error: None,
        };
        let _current = CurrentRun::enter(&mut run);
        let r = match self.mode {
            RbpfMode::Interp => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                vm.execute_program(input_bytes, mbuff)
            })),
            // SAFETY: the x86-64 JIT checks no bounds: the engine's profile
            // (`checks_bounds` false) restricts it to programs the reference
            // runs without a fault, whose accesses stay in `mem`'s regions.
            RbpfMode::Jit => Ok(unsafe { vm.execute_program_jit(input_bytes, mbuff) }),
            RbpfMode::Cranelift => Ok(cranelift_run(&vm, input_bytes, mbuff)),
        };
        drop(_current);
        if let Some((id, e)) = run.error {
            return Err(format!("helper {id} failed: {e}"));
        }
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(p) => Err(format!("rbpf panicked: {}", panic_message(&*p))),
        }
    }
}

/// One run of rbpf's Cranelift JIT, in a forked child. Its code turns a
/// failed bounds check, a division by zero or an overflowing signed
/// division into a trap (`ud2`) that would kill the harness, so the child
/// runs the program, sends the outcome and the input bytes back through a
/// pipe and exits; a child killed by a signal is that run's fault, and the
/// harness goes on.
#[cfg(feature = "heavy")]
fn cranelift_run(
    vm: &rbpf::EbpfVmMbuff<'static>,
    mem: &'static mut [u8],
    mbuff: &'static mut [u8],
) -> Result<u64, std::io::Error> {
    use std::io::{Error, Read};
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: `fds` has room for the two descriptors `pipe` writes.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(Error::last_os_error());
    }
    // SAFETY: the child only runs the compiled program (rbpf's code, over
    // memory this process owns), writes to the pipe and calls `_exit`;
    // glibc's fork handlers leave the allocator usable in the child.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the child: no core file for a trap, then the run, then
        // the outcome through the pipe's write end and an exit that runs no
        // destructor of the parent's state.
        unsafe {
            let no_core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &no_core);
            libc::close(fds[0]);
            let (tag, r0) = match vm.execute_program_cranelift(mem, mbuff) {
                Ok(v) => (0u8, v),
                Err(_) => (1u8, 0),
            };
            let mut head = [0u8; 9];
            head[0] = tag;
            head[1..].copy_from_slice(&r0.to_le_bytes());
            write_all(fds[1], &head);
            write_all(fds[1], mem);
            libc::_exit(0);
        }
    }
    // SAFETY: the write end is the parent's copy, closed once; the read end
    // is owned by the `File` from here on.
    let mut pipe = unsafe {
        libc::close(fds[1]);
        std::fs::File::from_raw_fd(fds[0])
    };
    if pid < 0 {
        return Err(Error::last_os_error());
    }
    let mut got = Vec::with_capacity(9 + mem.len());
    let read = pipe.read_to_end(&mut got);
    let mut status = 0;
    // SAFETY: `pid` is this process's child; `status` is writable.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    read?;
    if libc::WIFSIGNALED(status) {
        return Err(Error::other(format!(
            "rbpf's Cranelift JIT trapped (signal {})",
            libc::WTERMSIG(status)
        )));
    }
    if got.len() != 9 + mem.len() {
        return Err(Error::other(
            "rbpf's Cranelift JIT: the child's report is short",
        ));
    }
    mem.copy_from_slice(&got[9..]);
    let r0 = u64::from_le_bytes(got[1..9].try_into().map_err(Error::other)?);
    match got[0] {
        0 => Ok(r0),
        _ => Err(Error::other("rbpf's Cranelift JIT reported an error")),
    }
}

/// Writes all of `buf` to `fd`, giving up on an error (the parent then sees
/// a short report).
#[cfg(feature = "heavy")]
fn write_all(fd: i32, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: `buf` is valid for reads of its length.
        let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
        if n <= 0 {
            return;
        }
        buf = &buf[n as usize..];
    }
}

#[cfg(not(feature = "heavy"))]
fn cranelift_run(
    _: &rbpf::EbpfVmMbuff<'static>,
    _: &'static mut [u8],
    _: &'static mut [u8],
) -> Result<u64, std::io::Error> {
    Err(std::io::Error::other("rbpf's Cranelift JIT is not built"))
}

// ------------------------------------------------------------ trampolines

/// What the helper trampolines of the current run reach.
struct HelperRun<'r> {
    helpers: &'r Helpers,
    /// The run's memory map (its region lifetime erased: the trampolines
    /// use it only while the run borrows it).
    mem: *mut MemoryMap<'static>,
    user: Option<&'r mut (dyn Any + Send)>,
    error: Option<(u32, HelperError)>,
}

thread_local! {
    /// The run on this thread, while rbpf runs it (lifetime erased).
    static CURRENT: Cell<*mut HelperRun<'static>> = const { Cell::new(std::ptr::null_mut()) };
}

/// Sets [`CURRENT`] for its lifetime (restoring the previous one).
struct CurrentRun(*mut HelperRun<'static>);

impl CurrentRun {
    fn enter(run: &mut HelperRun<'_>) -> CurrentRun {
        let p = (run as *mut HelperRun<'_>).cast::<HelperRun<'static>>();
        CurrentRun(CURRENT.with(|c| c.replace(p)))
    }
}

impl Drop for CurrentRun {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// The payload of the unwind that stops a run whose helper failed.
struct HelperStopped;

/// Calls helper `ID` of the current run.
fn call_helper<const ID: u32>(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    let p = CURRENT.with(Cell::get);
    if p.is_null() {
        return 0;
    }
    // SAFETY: `p` is the `HelperRun` on the frame of `run_locked`, which is
    // below this call on the same thread for as long as CURRENT holds it;
    // its pointers are the run's helpers, memory map and user state, all
    // borrowed by `run_locked` for the whole run and not otherwise used
    // while rbpf runs.
    let run = unsafe { &mut *p };
    // SAFETY: as above: the map `run_locked` lent for this run.
    let mem = unsafe { &mut *run.mem };
    let mut ctx = HelperCtx {
        mem,
        user: run.user.as_deref_mut(),
    };
    match run.helpers.call(ID, &mut ctx, [a, b, c, d, e]) {
        Some(Ok(v)) => v,
        Some(Err(err)) => {
            run.error = Some((ID, err));
            // Stops rbpf's interpreter (the only mode with trampolines);
            // `resume_unwind` skips the panic hook.
            std::panic::resume_unwind(Box::new(HelperStopped))
        }
        None => 0,
    }
}

macro_rules! row {
    ($b:expr) => {
        [
            call_helper::<{ $b }>,
            call_helper::<{ $b + 1 }>,
            call_helper::<{ $b + 2 }>,
            call_helper::<{ $b + 3 }>,
            call_helper::<{ $b + 4 }>,
            call_helper::<{ $b + 5 }>,
            call_helper::<{ $b + 6 }>,
            call_helper::<{ $b + 7 }>,
            call_helper::<{ $b + 8 }>,
            call_helper::<{ $b + 9 }>,
            call_helper::<{ $b + 10 }>,
            call_helper::<{ $b + 11 }>,
            call_helper::<{ $b + 12 }>,
            call_helper::<{ $b + 13 }>,
            call_helper::<{ $b + 14 }>,
            call_helper::<{ $b + 15 }>,
        ]
    };
}

/// The trampolines by id: 16 rows of 16.
static TABLE: [[rbpf::ebpf::Helper; 16]; 16] = [
    row!(0),
    row!(16),
    row!(32),
    row!(48),
    row!(64),
    row!(80),
    row!(96),
    row!(112),
    row!(128),
    row!(144),
    row!(160),
    row!(176),
    row!(192),
    row!(208),
    row!(224),
    row!(240),
];

/// The trampoline of helper `id` (below [`TRAMPOLINES`]).
fn trampoline(id: u32) -> rbpf::ebpf::Helper {
    let i = (id % TRAMPOLINES) as usize;
    TABLE[i / 16][i % 16]
}

#[cfg(all(test, feature = "heavy"))]
mod tests {
    use super::{RbpfEngine, RbpfMode};
    use cranebpf_runtime::asm::assemble;
    use cranebpf_runtime::engine::Engine;
    use cranebpf_runtime::{Helpers, MemoryMap, Program, RunOptions, Stack};

    /// Runs `text` on rbpf's Cranelift JIT with 8 bytes of input.
    fn run(text: &str) -> Result<u64, String> {
        let prog = Program::from_insns(&assemble(text).unwrap()).unwrap();
        let prepared = RbpfEngine::new(RbpfMode::Cranelift)
            .prepare(&prog, Helpers::new())
            .unwrap();
        let mut input = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let mut mem = MemoryMap::new();
        let r = mem.add_mut(&mut input);
        let mut stack = Stack::boxed();
        let args = [r.start, r.len, 0, 0, 0];
        let out = prepared.run(&mut stack, &mut mem, args, &RunOptions::default(), None);
        out.result.map_err(|f| f.to_string())
    }

    #[test]
    fn a_trap_in_the_cranelift_jit_is_a_fault_not_a_crash() {
        // rbpf's own bounds check traps (ud2) in the child; the test
        // process lives on to see the fault.
        let err = run("ldxb %r0, [%r1+30000]\nexit").unwrap_err();
        assert!(err.contains("trapped"), "{err}");
        // A run that does not trap gives its result.
        assert_eq!(run("ldxb %r0, [%r1+7]\nstb [%r1+0], 9\nexit"), Ok(8));
    }
}
