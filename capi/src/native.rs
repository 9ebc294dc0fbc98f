//! The native layer (`include/cranebpf.h`): what uBPF's API cannot say.
//!
//! - A `cranebpf_vm` runs one program with a chosen engine
//!   (`CRANEBPF_ENGINE_INTERPRETER` or `CRANEBPF_ENGINE_JIT`): raw bytecode
//!   with the host's helpers, or a program of a clang-built ELF object with
//!   its maps (and cranebpf's kernel helpers, tail calls included).
//! - Helpers see the run's memory (`cranebpf_mem_read`/`_write`, checked by
//!   the same bounds rule as the program) and can fail, which stops the run
//!   with a `CRANEBPF_FAULT_HELPER` fault.
//! - A run reports a `cranebpf_result`: r0, or a fault with kind, pc and
//!   address; and the instruction count. A budget bounds each run.
//! - Maps are opened by name and support lookup, update, delete and
//!   iteration (`cranebpf_map_next_key`).
//! - Statistics: runs, faults, instructions, machine code size.
//!
//! Every function returns a `cranebpf_status` (0 is `CRANEBPF_OK`); the
//! message of the last error on this thread is `cranebpf_last_error()`.
#![allow(non_camel_case_types)]

use crate::handle::{guard, Registry};
use crate::{bytes, c_str};
use cranebpf::{
    Access, EngineKind, FaultKind, HelperError, Helpers, MemoryMap, ObjectVm, Program, RunOptions,
    RunOutcome, Vm,
};
use cranebpf_runtime::elf::{LoadOptions, Object};
use cranebpf_runtime::maps::{Map, UpdateFlags};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// What a function returned.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cranebpf_status {
    /// Success.
    CRANEBPF_OK = 0,
    /// A required pointer was NULL.
    CRANEBPF_ERR_NULL = -1,
    /// A handle that is not live: destroyed (a double destroy), never
    /// created, or of another type.
    CRANEBPF_ERR_HANDLE = -2,
    /// An argument is out of range: a length that does not match, an
    /// unknown engine or flag.
    CRANEBPF_ERR_ARG = -3,
    /// The program or object was rejected (decoding, validation, ELF,
    /// unknown helper).
    CRANEBPF_ERR_LOAD = -4,
    /// The call is not valid in this state (no program loaded, already
    /// loaded, not an ELF program).
    CRANEBPF_ERR_STATE = -5,
    /// The run stopped with a fault; the result holds it.
    CRANEBPF_ERR_FAULT = -6,
    /// No such map, key or entry.
    CRANEBPF_ERR_NOT_FOUND = -7,
    /// A map operation failed (full, exists, wrong type).
    CRANEBPF_ERR_MAP = -8,
    /// An internal error (a bug in cranebpf, caught at the boundary).
    CRANEBPF_ERR_INTERNAL = -9,
}

use cranebpf_status::*;

/// Which engine runs programs.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cranebpf_engine {
    /// The reference interpreter.
    CRANEBPF_ENGINE_INTERPRETER = 0,
    /// The Cranelift JIT (memory accesses checked).
    CRANEBPF_ENGINE_JIT = 1,
}

/// Why a run stopped abnormally.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum cranebpf_fault_kind {
    /// No fault: the program exited.
    CRANEBPF_FAULT_NONE = 0,
    /// A load, store or atomic outside every region that grants it.
    CRANEBPF_FAULT_OUT_OF_BOUNDS = 1,
    /// An atomic on an unaligned address.
    CRANEBPF_FAULT_MISALIGNED = 2,
    /// The instruction budget ran out.
    CRANEBPF_FAULT_BUDGET = 3,
    /// Too many nested local calls.
    CRANEBPF_FAULT_CALL_DEPTH = 4,
    /// A call to a helper that is not registered.
    CRANEBPF_FAULT_UNKNOWN_HELPER = 5,
    /// A helper returned an error.
    CRANEBPF_FAULT_HELPER = 6,
    /// A fault cranebpf added after this header was made.
    CRANEBPF_FAULT_OTHER = 7,
}

/// A fault: its kind, the pc of the faulting instruction and, by kind, the
/// address and size of the access or the helper id.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cranebpf_fault {
    /// What happened.
    pub kind: cranebpf_fault_kind,
    /// Slot index of the instruction.
    pub pc: u64,
    /// OUT_OF_BOUNDS, MISALIGNED: first byte of the access.
    pub addr: u64,
    /// OUT_OF_BOUNDS, MISALIGNED: access size in bytes; BUDGET: the budget.
    pub size: u64,
    /// OUT_OF_BOUNDS: 1 read, 2 write, 3 read-modify-write.
    pub access: u32,
    /// HELPER, UNKNOWN_HELPER: the helper id.
    pub helper_id: u64,
}

/// The outcome of one run.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cranebpf_result {
    /// r0 at exit (0 after a fault).
    pub r0: u64,
    /// Instructions executed (the budget rule's count).
    pub instructions: u64,
    /// `CRANEBPF_FAULT_NONE`, or the fault.
    pub fault: cranebpf_fault,
}

/// Counters of a VM since it was made.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct cranebpf_stats {
    /// Runs started.
    pub runs: u64,
    /// Runs that faulted.
    pub faults: u64,
    /// Instructions executed over all runs.
    pub instructions: u64,
    /// Bytes of machine code (0 for the interpreter).
    pub code_size: u64,
}

/// Map metadata.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct cranebpf_map_info {
    /// The kernel's `BPF_MAP_TYPE_*` number.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
}

/// A VM (opaque handle).
pub struct cranebpf_vm {
    _opaque: [u8; 0],
}

/// A map of a VM's ELF object (opaque handle; free with
/// `cranebpf_map_free`). It stays usable after its VM is freed.
pub struct cranebpf_map {
    _opaque: [u8; 0],
}

/// The run's memory, as a helper sees it (valid only during the call).
pub struct cranebpf_mem {
    _opaque: [u8; 0],
}

/// A helper: `args` holds r1..r5; set `*ret` (r0) and return 0, or return
/// non-zero to stop the run with a `CRANEBPF_FAULT_HELPER` fault. `mem`
/// reaches the run's memory through `cranebpf_mem_read`/`_write`.
pub type cranebpf_helper_fn = Option<
    unsafe extern "C" fn(
        user: *mut c_void,
        mem: *mut cranebpf_mem,
        args: *const u64,
        ret: *mut u64,
    ) -> c_int,
>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn fail(status: cranebpf_status, msg: impl Into<String>) -> cranebpf_status {
    let msg = msg.into().replace('\0', " ");
    LAST_ERROR.with(|e| *e.borrow_mut() = CString::new(msg).unwrap_or_default());
    status
}

/// The message of the last error on this thread ("" if none). Valid until
/// the next failing call on this thread.
#[no_mangle]
pub extern "C" fn cranebpf_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// The library's version, e.g. "0.1.0".
#[no_mangle]
pub extern "C" fn cranebpf_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Runs `f` behind the boundary: a panic becomes `CRANEBPF_ERR_INTERNAL`.
fn boundary(f: impl FnOnce() -> cranebpf_status) -> cranebpf_status {
    guard(
        fail(CRANEBPF_ERR_INTERNAL, "internal error (panic) in cranebpf"),
        || {
            let s = f();
            if s == CRANEBPF_OK {
                LAST_ERROR.with(|e| *e.borrow_mut() = CString::default());
            }
            s
        },
    )
}

// ------------------------------------------------------------------- the VM

struct HostHelper {
    id: u32,
    name: String,
    func: unsafe extern "C" fn(*mut c_void, *mut cranebpf_mem, *const u64, *mut u64) -> c_int,
    user: usize,
}

enum Code {
    Bytecode(Vm),
    Object(ObjectVm),
}

struct State {
    engine: EngineKind,
    helpers: Vec<HostHelper>,
    budget: Option<u64>,
    code: Option<Arc<Code>>,
    maps: Vec<Map>,
}

struct NativeVm {
    state: Mutex<State>,
    runs: AtomicU64,
    faults: AtomicU64,
    instructions: AtomicU64,
}

static VMS: Registry<NativeVm> = Registry::new();
static MAPS: Registry<Map> = Registry::new();

fn vm_of(vm: *const cranebpf_vm) -> Result<Arc<NativeVm>, cranebpf_status> {
    if vm.is_null() {
        return Err(fail(CRANEBPF_ERR_NULL, "vm is NULL"));
    }
    VMS.get(vm).ok_or_else(|| {
        fail(
            CRANEBPF_ERR_HANDLE,
            format!("{vm:p} is not a live cranebpf_vm (freed twice, or never created)"),
        )
    })
}

impl NativeVm {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

macro_rules! try_status {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(s) => return s,
        }
    };
}

/// Creates a VM that will run programs with `engine` (0 interpreter, 1
/// JIT) and stores its handle in `*out`.
///
/// # Safety
/// `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_new(
    engine: c_int,
    out: *mut *mut cranebpf_vm,
) -> cranebpf_status {
    boundary(|| {
        if out.is_null() {
            return fail(CRANEBPF_ERR_NULL, "out is NULL");
        }
        let engine = match engine {
            0 => EngineKind::Interpreter,
            1 => EngineKind::Jit,
            n => {
                return fail(
                    CRANEBPF_ERR_ARG,
                    format!("unknown engine {n} (0 interpreter, 1 jit)"),
                )
            }
        };
        let vm = VMS.insert::<cranebpf_vm>(NativeVm {
            state: Mutex::new(State {
                engine,
                helpers: Vec::new(),
                budget: None,
                code: None,
                maps: Vec::new(),
            }),
            runs: AtomicU64::new(0),
            faults: AtomicU64::new(0),
            instructions: AtomicU64::new(0),
        });
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out = vm };
        CRANEBPF_OK
    })
}

/// Frees a VM. A VM freed twice gets `CRANEBPF_ERR_HANDLE`.
#[no_mangle]
pub extern "C" fn cranebpf_vm_free(vm: *mut cranebpf_vm) -> cranebpf_status {
    boundary(|| {
        if vm.is_null() {
            return fail(CRANEBPF_ERR_NULL, "vm is NULL");
        }
        match VMS.remove(vm) {
            Some(_) => CRANEBPF_OK,
            None => fail(
                CRANEBPF_ERR_HANDLE,
                format!("{vm:p} is not a live cranebpf_vm (double free?)"),
            ),
        }
    })
}

/// Registers helper `id` for bytecode loaded afterwards: `func` is called
/// with `user`. Helpers registered after `cranebpf_vm_load` are an error.
///
/// # Safety
/// `name` is NULL or a C string; `func` and `user` stay valid while the VM
/// runs.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_register_helper(
    vm: *mut cranebpf_vm,
    id: u32,
    name: *const c_char,
    func: cranebpf_helper_fn,
    user: *mut c_void,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        let Some(func) = func else {
            return fail(CRANEBPF_ERR_NULL, "func is NULL");
        };
        let mut s = v.state();
        if s.code.is_some() {
            return fail(
                CRANEBPF_ERR_STATE,
                "register helpers before loading the program",
            );
        }
        // SAFETY: the caller promises NULL or a C string.
        let name = unsafe { c_str(name) }.unwrap_or_else(|| format!("helper_{id}"));
        s.helpers.retain(|h| h.id != id);
        s.helpers.push(HostHelper {
            id,
            name,
            func,
            user: user as usize,
        });
        CRANEBPF_OK
    })
}

/// Sets the instruction budget of every later run (0: none).
#[no_mangle]
pub extern "C" fn cranebpf_vm_set_budget(vm: *mut cranebpf_vm, budget: u64) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        v.state().budget = (budget > 0).then_some(budget);
        CRANEBPF_OK
    })
}

fn helpers_of(s: &State) -> Helpers {
    let mut helpers = Helpers::new();
    for h in &s.helpers {
        let (func, user) = (h.func, h.user);
        helpers.register(h.id, h.name.clone(), move |ctx, args| {
            let mut ret = 0u64;
            let mem = (ctx.mem as *mut MemoryMap<'_>).cast::<cranebpf_mem>();
            // SAFETY: the host registered `func` with this signature; `mem`
            // points to the run's memory map for the duration of the call
            // (the only time `cranebpf_mem_*` may use it); `args` is 5 u64s.
            let rc = unsafe { func(user as *mut c_void, mem, args.as_ptr(), &mut ret) };
            match rc {
                0 => Ok(ret),
                n => Err(HelperError::new(format!("the host's helper returned {n}"))),
            }
        });
    }
    helpers
}

/// Loads raw bytecode (`len` bytes, a multiple of 8) with the registered
/// helpers and prepares it for the VM's engine.
///
/// # Safety
/// `code` is valid for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_load(
    vm: *mut cranebpf_vm,
    code: *const u8,
    len: usize,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        // SAFETY: the caller promises `len` readable bytes.
        let Some(code) = (unsafe { bytes(code, len) }) else {
            return fail(CRANEBPF_ERR_NULL, "code is NULL");
        };
        if len == 0 || len % 8 != 0 {
            return fail(
                CRANEBPF_ERR_ARG,
                format!("len must be a non-zero multiple of 8, got {len}"),
            );
        }
        let mut s = v.state();
        if s.code.is_some() {
            return fail(CRANEBPF_ERR_STATE, "a program is already loaded");
        }
        let program = match Program::from_bytes(code) {
            Ok(p) => p,
            Err(e) => return fail(CRANEBPF_ERR_LOAD, e.to_string()),
        };
        match Vm::new(&program, helpers_of(&s), s.engine) {
            Ok(prepared) => {
                s.code = Some(Arc::new(Code::Bytecode(prepared)));
                CRANEBPF_OK
            }
            Err(e) => fail(CRANEBPF_ERR_LOAD, e.to_string()),
        }
    })
}

/// Loads program `name` (a function or section name; NULL: the first
/// program) of a clang-built ELF object, with its maps, the programs it
/// tail-calls and cranebpf's kernel helpers.
///
/// # Safety
/// `elf` is valid for `len` bytes; `name` is NULL or a C string.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_load_elf(
    vm: *mut cranebpf_vm,
    elf: *const u8,
    len: usize,
    name: *const c_char,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        // SAFETY: the caller promises `len` readable bytes and a C string.
        let (Some(elf), name) = (unsafe { bytes(elf, len) }, unsafe { c_str(name) }) else {
            return fail(CRANEBPF_ERR_NULL, "elf is NULL");
        };
        let mut s = v.state();
        if s.code.is_some() {
            return fail(CRANEBPF_ERR_STATE, "a program is already loaded");
        }
        let obj = match Object::parse(elf) {
            Ok(o) => o,
            Err(e) => return fail(CRANEBPF_ERR_LOAD, e.to_string()),
        };
        let entry = match name.or_else(|| obj.programs().first().map(|p| p.name.clone())) {
            Some(n) => n,
            None => return fail(CRANEBPF_ERR_LOAD, "the object has no program"),
        };
        let entry = obj
            .programs()
            .iter()
            .find(|p| p.name == entry || p.section == entry)
            .map_or(entry, |p| p.name.clone());
        let set = match obj.load_set(&entry, LoadOptions::default()) {
            Ok(set) => set,
            Err(e) => return fail(CRANEBPF_ERR_LOAD, e.to_string()),
        };
        s.maps = set.maps().to_vec();
        match ObjectVm::new(set, s.engine) {
            Ok(ovm) => {
                s.code = Some(Arc::new(Code::Object(ovm)));
                CRANEBPF_OK
            }
            Err(e) => fail(CRANEBPF_ERR_LOAD, e.to_string()),
        }
    })
}

fn fault_of(out: &RunOutcome) -> cranebpf_result {
    let none = cranebpf_fault {
        kind: cranebpf_fault_kind::CRANEBPF_FAULT_NONE,
        pc: 0,
        addr: 0,
        size: 0,
        access: 0,
        helper_id: 0,
    };
    match &out.result {
        Ok(r0) => cranebpf_result {
            r0: *r0,
            instructions: out.insn_count,
            fault: none,
        },
        Err(f) => {
            use cranebpf_fault_kind::*;
            let mut fault = cranebpf_fault {
                pc: f.pc as u64,
                ..none
            };
            match &f.kind {
                FaultKind::OutOfBounds { addr, size, access } => {
                    fault.kind = CRANEBPF_FAULT_OUT_OF_BOUNDS;
                    (fault.addr, fault.size) = (*addr, *size);
                    fault.access = match access {
                        Access::Read => 1,
                        Access::Write => 2,
                        _ => 3,
                    };
                }
                FaultKind::Misaligned { addr, size } => {
                    fault.kind = CRANEBPF_FAULT_MISALIGNED;
                    (fault.addr, fault.size) = (*addr, *size);
                }
                FaultKind::Budget { budget } => {
                    fault.kind = CRANEBPF_FAULT_BUDGET;
                    fault.size = *budget;
                }
                FaultKind::CallDepth { .. } => fault.kind = CRANEBPF_FAULT_CALL_DEPTH,
                FaultKind::UnknownHelper { id } => {
                    fault.kind = CRANEBPF_FAULT_UNKNOWN_HELPER;
                    fault.helper_id = *id;
                }
                FaultKind::Helper { id, .. } => {
                    fault.kind = CRANEBPF_FAULT_HELPER;
                    fault.helper_id = u64::from(*id);
                }
                _ => fault.kind = CRANEBPF_FAULT_OTHER,
            }
            cranebpf_result {
                r0: 0,
                instructions: out.insn_count,
                fault,
            }
        }
    }
}

/// Records a run in the statistics and the result; `CRANEBPF_ERR_FAULT`
/// (with the fault's text as the message) if it faulted.
fn finish_run(v: &NativeVm, out: &RunOutcome, result: *mut cranebpf_result) -> cranebpf_status {
    v.runs.fetch_add(1, Ordering::Relaxed);
    v.instructions.fetch_add(out.insn_count, Ordering::Relaxed);
    // SAFETY: callers checked `result` is non-NULL; the C caller promises it
    // is writable.
    unsafe { *result = fault_of(out) };
    match &out.result {
        Ok(_) => CRANEBPF_OK,
        Err(f) => {
            v.faults.fetch_add(1, Ordering::Relaxed);
            fail(CRANEBPF_ERR_FAULT, f.to_string())
        }
    }
}

/// Runs the loaded program over `mem` (`len` bytes, read-write; r1 = mem,
/// r2 = len): bytecode directly, an ELF program as a memory-buffer
/// program. `CRANEBPF_OK`, or `CRANEBPF_ERR_FAULT` with the fault in
/// `*result`.
///
/// # Safety
/// `mem` is valid for `len` bytes of reads and writes (or NULL with `len`
/// 0); `result` is writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_run(
    vm: *mut cranebpf_vm,
    mem: *mut u8,
    len: usize,
    result: *mut cranebpf_result,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        if result.is_null() || (mem.is_null() && len > 0) {
            return fail(
                CRANEBPF_ERR_NULL,
                "result is NULL, or mem is NULL with a non-zero len",
            );
        }
        let (code, budget) = try_status!(loaded(&v));
        let opts = RunOptions { budget };
        let buf: &mut [u8] = if len == 0 {
            &mut []
        } else {
            // SAFETY: the caller promises `len` readable and writable bytes.
            unsafe { std::slice::from_raw_parts_mut(mem, len) }
        };
        let out = match &*code {
            Code::Bytecode(vm) => vm.run_input(buf, &opts),
            Code::Object(ovm) => ovm.run_mem(buf, &opts).outcome,
        };
        finish_run(&v, &out, result)
    })
}

fn loaded(v: &NativeVm) -> Result<(Arc<Code>, Option<u64>), cranebpf_status> {
    let s = v.state();
    match &s.code {
        Some(c) => Ok((Arc::clone(c), s.budget)),
        None => Err(fail(CRANEBPF_ERR_STATE, "no program is loaded")),
    }
}

/// Runs an ELF XDP program over one packet: `packet[0..*len]`, with room
/// for `cap` bytes. The program may move the packet's start and end (XDP
/// adjust helpers): `*len` receives the new length (at most `cap`, else
/// `CRANEBPF_ERR_ARG`). r0 is the XDP action.
///
/// # Safety
/// `packet` is valid for `cap` bytes of reads and writes; `len` and
/// `result` are writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_run_xdp(
    vm: *mut cranebpf_vm,
    packet: *mut u8,
    len: *mut usize,
    cap: usize,
    result: *mut cranebpf_result,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        if packet.is_null() || len.is_null() || result.is_null() {
            return fail(CRANEBPF_ERR_NULL, "packet, len and result must not be NULL");
        }
        // SAFETY: checked non-NULL; the caller promises it is readable.
        let n = unsafe { *len };
        if n > cap {
            return fail(
                CRANEBPF_ERR_ARG,
                format!("len {n} is larger than cap {cap}"),
            );
        }
        let (code, budget) = try_status!(loaded(&v));
        let Code::Object(ovm) = &*code else {
            return fail(
                CRANEBPF_ERR_STATE,
                "XDP runs need a program loaded from an ELF object",
            );
        };
        // SAFETY: the caller promises `cap` >= `n` readable bytes.
        let mut pkt = unsafe { std::slice::from_raw_parts(packet, n) }.to_vec();
        let out = ovm.run_xdp(&mut pkt, &RunOptions { budget }).outcome;
        if pkt.len() > cap {
            return fail(
                CRANEBPF_ERR_ARG,
                format!("the packet grew to {} bytes, over cap {cap}", pkt.len()),
            );
        }
        // SAFETY: `pkt.len() <= cap` bytes fit in the caller's buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(pkt.as_ptr(), packet, pkt.len());
            *len = pkt.len();
        }
        finish_run(&v, &out, result)
    })
}

/// The VM's counters.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_stats(
    vm: *mut cranebpf_vm,
    out: *mut cranebpf_stats,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        if out.is_null() {
            return fail(CRANEBPF_ERR_NULL, "out is NULL");
        }
        let code_size = v.state().code.as_deref().map_or(0, |c| match c {
            Code::Bytecode(vm) => vm.code_size().unwrap_or(0),
            Code::Object(_) => 0,
        });
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe {
            *out = cranebpf_stats {
                runs: v.runs.load(Ordering::Relaxed),
                faults: v.faults.load(Ordering::Relaxed),
                instructions: v.instructions.load(Ordering::Relaxed),
                code_size: code_size as u64,
            }
        };
        CRANEBPF_OK
    })
}

// ---------------------------------------------------------- helper memory

fn mem_of<'a>(mem: *mut cranebpf_mem) -> &'a mut MemoryMap<'a> {
    // SAFETY: `mem` is the pointer `helpers_of` passed to the helper, valid
    // for the duration of the helper call (the caller's contract).
    unsafe { &mut *mem.cast::<MemoryMap<'a>>() }
}

/// Copies `len` bytes at program address `addr` into `out`, if the run may
/// read them (the program's bounds rule); else `CRANEBPF_ERR_ARG`.
///
/// # Safety
/// Only inside a helper call, with the `mem` it was given; `out` writable
/// for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_mem_read(
    mem: *mut cranebpf_mem,
    addr: u64,
    out: *mut u8,
    len: usize,
) -> cranebpf_status {
    boundary(|| {
        if mem.is_null() || (out.is_null() && len > 0) {
            return fail(CRANEBPF_ERR_NULL, "mem or out is NULL");
        }
        match mem_of(mem).read_bytes(addr, len as u64) {
            Ok(b) => {
                // SAFETY: `out` holds `len` bytes (caller), `b.len() == len`.
                unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), out, b.len()) };
                CRANEBPF_OK
            }
            Err(k) => fail(
                CRANEBPF_ERR_ARG,
                format!("read of {len} bytes at {addr:#x}: {k}"),
            ),
        }
    })
}

/// Writes `len` bytes from `data` at program address `addr`, if the run may
/// write there; else `CRANEBPF_ERR_ARG`.
///
/// # Safety
/// As `cranebpf_mem_read`; `data` readable for `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_mem_write(
    mem: *mut cranebpf_mem,
    addr: u64,
    data: *const u8,
    len: usize,
) -> cranebpf_status {
    boundary(|| {
        if mem.is_null() {
            return fail(CRANEBPF_ERR_NULL, "mem is NULL");
        }
        // SAFETY: the caller promises `len` readable bytes.
        let Some(data) = (unsafe { bytes(data, len) }) else {
            return fail(CRANEBPF_ERR_NULL, "data is NULL");
        };
        match mem_of(mem).write_bytes(addr, data) {
            Ok(()) => CRANEBPF_OK,
            Err(k) => fail(
                CRANEBPF_ERR_ARG,
                format!("write of {len} bytes at {addr:#x}: {k}"),
            ),
        }
    })
}

// -------------------------------------------------------------------- maps

fn map_of(map: *const cranebpf_map) -> Result<Arc<Map>, cranebpf_status> {
    if map.is_null() {
        return Err(fail(CRANEBPF_ERR_NULL, "map is NULL"));
    }
    MAPS.get(map).ok_or_else(|| {
        fail(
            CRANEBPF_ERR_HANDLE,
            format!("{map:p} is not a live cranebpf_map"),
        )
    })
}

/// Opens the map `name` of the VM's ELF object; free it with
/// `cranebpf_map_free`.
///
/// # Safety
/// `name` is a C string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_vm_map(
    vm: *mut cranebpf_vm,
    name: *const c_char,
    out: *mut *mut cranebpf_map,
) -> cranebpf_status {
    boundary(|| {
        let v = try_status!(vm_of(vm));
        // SAFETY: the caller promises a C string.
        let (Some(name), false) = (unsafe { c_str(name) }, out.is_null()) else {
            return fail(CRANEBPF_ERR_NULL, "name or out is NULL");
        };
        let Some(map) = v.state().maps.iter().find(|m| m.name() == name).cloned() else {
            return fail(CRANEBPF_ERR_NOT_FOUND, format!("no map named {name}"));
        };
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe { *out = MAPS.insert(map) };
        CRANEBPF_OK
    })
}

/// Frees a map handle (the map lives on in its VM).
#[no_mangle]
pub extern "C" fn cranebpf_map_free(map: *mut cranebpf_map) -> cranebpf_status {
    boundary(|| {
        if map.is_null() {
            return fail(CRANEBPF_ERR_NULL, "map is NULL");
        }
        match MAPS.remove(map) {
            Some(_) => CRANEBPF_OK,
            None => fail(
                CRANEBPF_ERR_HANDLE,
                format!("{map:p} is not a live cranebpf_map (double free?)"),
            ),
        }
    })
}

/// The map's type and sizes.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_map_info(
    map: *mut cranebpf_map,
    out: *mut cranebpf_map_info,
) -> cranebpf_status {
    boundary(|| {
        let m = try_status!(map_of(map));
        if out.is_null() {
            return fail(CRANEBPF_ERR_NULL, "out is NULL");
        }
        let d = m.def();
        // SAFETY: checked non-NULL; the caller promises it is writable.
        unsafe {
            *out = cranebpf_map_info {
                map_type: d.map_type.kernel_id(),
                key_size: d.key_size,
                value_size: d.value_size,
                max_entries: d.max_entries,
            }
        };
        CRANEBPF_OK
    })
}

/// Checks a key and optional value buffer against the map's sizes.
fn sized<'a>(
    m: &Map,
    key: *const u8,
    key_len: usize,
    value_len: Option<usize>,
) -> Result<&'a [u8], cranebpf_status> {
    let d = m.def();
    if key_len != d.key_size as usize {
        return Err(fail(
            CRANEBPF_ERR_ARG,
            format!("key_len is {key_len}, the map's key size is {}", d.key_size),
        ));
    }
    if let Some(n) = value_len {
        if n != d.value_size as usize {
            return Err(fail(
                CRANEBPF_ERR_ARG,
                format!("value_len is {n}, the map's value size is {}", d.value_size),
            ));
        }
    }
    // SAFETY: the exported callers' contract: `key` holds `key_len` bytes.
    unsafe { bytes(key, key_len) }.ok_or_else(|| fail(CRANEBPF_ERR_NULL, "key is NULL"))
}

/// Copies the value of `key` into `value`; `CRANEBPF_ERR_NOT_FOUND` if
/// absent. Lengths must equal the map's key and value sizes.
///
/// # Safety
/// `key` readable for `key_len` bytes, `value` writable for `value_len`.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_map_lookup(
    map: *mut cranebpf_map,
    key: *const u8,
    key_len: usize,
    value: *mut u8,
    value_len: usize,
) -> cranebpf_status {
    boundary(|| {
        let m = try_status!(map_of(map));
        let k = try_status!(sized(&m, key, key_len, Some(value_len)));
        if value.is_null() {
            return fail(CRANEBPF_ERR_NULL, "value is NULL");
        }
        match m.lookup(k) {
            Some(v) if v.len() == value_len => {
                // SAFETY: `value` holds `value_len` bytes (caller).
                unsafe { std::ptr::copy_nonoverlapping(v.as_ptr(), value, value_len) };
                CRANEBPF_OK
            }
            Some(v) => fail(
                CRANEBPF_ERR_MAP,
                format!("value of {} bytes (per-CPU map?)", v.len()),
            ),
            None => fail(CRANEBPF_ERR_NOT_FOUND, "no such key"),
        }
    })
}

/// Sets `key` to `value`; `flags` is BPF_ANY (0), BPF_NOEXIST (1) or
/// BPF_EXIST (2).
///
/// # Safety
/// `key`/`value` readable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_map_update(
    map: *mut cranebpf_map,
    key: *const u8,
    key_len: usize,
    value: *const u8,
    value_len: usize,
    flags: u64,
) -> cranebpf_status {
    boundary(|| {
        let m = try_status!(map_of(map));
        let k = try_status!(sized(&m, key, key_len, Some(value_len)));
        // SAFETY: the caller promises `value_len` readable bytes.
        let Some(val) = (unsafe { bytes(value, value_len) }) else {
            return fail(CRANEBPF_ERR_NULL, "value is NULL");
        };
        let Some(flags) = UpdateFlags::from_raw(flags) else {
            return fail(CRANEBPF_ERR_ARG, format!("unknown update flags {flags}"));
        };
        match m.update(k, val, flags) {
            Ok(()) => CRANEBPF_OK,
            Err(e) => fail(CRANEBPF_ERR_MAP, e.to_string()),
        }
    })
}

/// Deletes `key`; `CRANEBPF_ERR_NOT_FOUND` if absent.
///
/// # Safety
/// `key` readable for `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_map_delete(
    map: *mut cranebpf_map,
    key: *const u8,
    key_len: usize,
) -> cranebpf_status {
    boundary(|| {
        let m = try_status!(map_of(map));
        let k = try_status!(sized(&m, key, key_len, None));
        if m.lookup(k).is_none() {
            return fail(CRANEBPF_ERR_NOT_FOUND, "no such key");
        }
        match m.delete(k) {
            Ok(()) => CRANEBPF_OK,
            Err(e) => fail(CRANEBPF_ERR_MAP, e.to_string()),
        }
    })
}

/// Iteration: the key after `key` (NULL: the first key) into `next_key`;
/// `CRANEBPF_ERR_NOT_FOUND` after the last. Keys come in the map's order.
///
/// # Safety
/// `key` NULL or readable for `key_len` bytes; `next_key` writable for
/// `key_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_map_next_key(
    map: *mut cranebpf_map,
    key: *const u8,
    key_len: usize,
    next_key: *mut u8,
) -> cranebpf_status {
    boundary(|| {
        let m = try_status!(map_of(map));
        if next_key.is_null() {
            return fail(CRANEBPF_ERR_NULL, "next_key is NULL");
        }
        let entries = m.entries();
        let next = if key.is_null() {
            entries.first()
        } else {
            let k = try_status!(sized(&m, key, key_len, None));
            match entries.iter().position(|(e, _)| e == k) {
                Some(i) => entries.get(i + 1),
                None => entries.first(),
            }
        };
        match next {
            Some((k, _)) if k.len() == key_len => {
                // SAFETY: `next_key` holds `key_len` bytes (caller).
                unsafe { std::ptr::copy_nonoverlapping(k.as_ptr(), next_key, key_len) };
                CRANEBPF_OK
            }
            Some(_) => fail(
                CRANEBPF_ERR_ARG,
                format!("key_len must be the map's key size"),
            ),
            None => fail(CRANEBPF_ERR_NOT_FOUND, "no more keys"),
        }
    })
}
