//! The uBPF-compatible layer (`include/ubpf.h`): uBPF's public API with its
//! names, signatures and return conventions, over cranebpf's engines.
//!
//! `ubpf_exec` runs the reference interpreter and `ubpf_compile` returns a
//! real C function pointer into Cranelift-compiled code. Both check every
//! memory access against the input, the stack and registered regions, and
//! a fault (an out-of-bounds access, an unregistered helper) stops the run
//! with an error instead of touching memory. That is where cranebpf
//! differs from uBPF on purpose: uBPF's JIT does not check memory and
//! `ubpf_toggle_bounds_check(vm, false)` turns its interpreter's checks
//! off; here both stay on. Each knob's doc says what it does here.
//!
//! The compiled entry: `ubpf_compile` binds the VM to one of
//! [`JIT_ENTRIES`] C entry functions (`extern "C" fn(mem, mem_len)`, one per
//! slot), which run the VM's compiled program on a fresh stack. A slot is
//! freed by `ubpf_unload_code` or `ubpf_destroy`; calling the function
//! afterwards returns `UINT64_MAX` and prints an error instead of running
//! freed code.
#![allow(non_camel_case_types)]

use crate::handle::{guard, Registry};
use crate::{bytes, c_str, set_errmsg};
use cranebpf::insn::{CallKind, Insn};
use cranebpf::{
    EngineKind, Fault, FaultKind, HelperError, Helpers, MemoryMap, Program, Region, RunOptions, Vm,
};
use cranebpf_runtime::elf::{LoadedProgram, Object};
use std::ffi::{c_char, c_int, c_uint, c_void, CString};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// The largest program `ubpf_load` accepts, in 8-byte slots.
pub const UBPF_MAX_INSTS: u32 = 65536;
/// The deepest chain of local calls (frames of 512 bytes each).
pub const UBPF_MAX_CALL_DEPTH: u32 = 8;
/// The stack a run gets: one 512-byte frame per call level.
pub const UBPF_EBPF_STACK_SIZE: u32 = 4096;
/// uBPF's per-function stack default; cranebpf gives every function a full
/// 512-byte frame, so this is informational.
pub const UBPF_EBPF_LOCAL_FUNCTION_STACK_SIZE: u32 = 256;
/// Helper indexes `ubpf_register` accepts are below this.
pub const UBPF_MAX_EXT_FUNCS: u32 = 64;
/// Bytes of callee-saved registers uBPF keeps per frame (informational).
pub const UBPF_EBPF_NONVOLATILE_SIZE: u32 = 40;

/// A uBPF virtual machine. Opaque: the pointer is a handle cranebpf looks
/// up, so a destroyed or made-up VM is an error, not undefined behaviour.
pub struct ubpf_vm {
    _opaque: [u8; 0],
}

/// A compiled program: r0 of a run over `mem` (`mem_len` bytes, in r1 and
/// r2). On a fault it prints the fault through the VM's error function and
/// returns `UINT64_MAX` (uBPF's JIT has no faults to report).
pub type ubpf_jit_fn = Option<unsafe extern "C" fn(mem: *mut c_void, mem_len: usize) -> u64>;

/// A compiled program taking a caller stack too. cranebpf runs on its own
/// zeroed 4096-byte stack and ignores `stack`/`stack_len`.
pub type ubpf_jit_ex_fn = Option<
    unsafe extern "C" fn(mem: *mut c_void, mem_len: usize, stack: *mut u8, stack_len: usize) -> u64,
>;

/// The shape of the function `ubpf_compile_ex` returns.
#[repr(C)]
pub enum JitMode {
    /// `ubpf_jit_ex_fn`: (mem, mem_len, stack, stack_len).
    ExtendedJitMode,
    /// `ubpf_jit_fn`: (mem, mem_len).
    BasicJitMode,
}

/// uBPF's execution profiles. cranebpf has one, which checks every access
/// against registered regions in both engines (what `SAFE` asks for);
/// either value is accepted.
#[repr(C)]
pub enum ubpf_execution_profile {
    /// uBPF's historical model.
    UBPF_EXECUTION_PROFILE_LEGACY = 0,
    /// uBPF's provenance-tracking interpreter profile.
    UBPF_EXECUTION_PROFILE_SAFE = 1,
}

/// What a `ubpf_safe_region` describes.
#[repr(C)]
pub enum ubpf_safe_region_kind {
    /// Memory the program may dereference: registered for every run.
    UBPF_SAFE_REGION_POINTER = 0,
    /// An opaque handle: never dereferenceable, so not registered.
    UBPF_SAFE_REGION_HANDLE = 1,
}

/// Permission bits of a `ubpf_safe_region`.
#[repr(C)]
pub enum ubpf_safe_region_permissions {
    /// Loads are allowed (always, for a registered region).
    UBPF_SAFE_REGION_READ = 1,
    /// Stores are allowed.
    UBPF_SAFE_REGION_WRITE = 2,
    /// Atomics are allowed (cranebpf: the same as WRITE).
    UBPF_SAFE_REGION_ATOMIC = 4,
}

/// Host memory programs may access, registered with
/// `ubpf_register_safe_region`.
#[repr(C)]
pub struct ubpf_safe_region {
    /// The caller's id for the region.
    pub id: u32,
    /// First byte.
    pub base: *mut c_void,
    /// Length in bytes.
    pub size: u64,
    /// Pointer (registered) or handle (ignored).
    pub kind: ubpf_safe_region_kind,
    /// `ubpf_safe_region_permissions` bits.
    pub permissions: u32,
}

/// How a safe helper's result is classified (informational here).
#[repr(C)]
pub enum ubpf_safe_helper_result_kind {
    /// A plain number.
    UBPF_SAFE_HELPER_RESULT_SCALAR = 0,
    /// A pointer into a region.
    UBPF_SAFE_HELPER_RESULT_POINTER = 1,
    /// An opaque handle.
    UBPF_SAFE_HELPER_RESULT_HANDLE = 2,
}

/// A helper with uBPF's safe-profile metadata; cranebpf registers `fn` at
/// `index` as `ubpf_register` does.
#[repr(C)]
pub struct ubpf_safe_helper_descriptor {
    /// The helper index (`call index`).
    pub index: c_uint,
    /// Its name.
    pub name: *const c_char,
    /// The helper.
    pub r#fn: external_function_t,
    /// Result classification (not used).
    pub result_kind: ubpf_safe_helper_result_kind,
    /// Region of a pointer result (not used).
    pub region_id: u32,
    /// Size of a pointer result's window (not used).
    pub region_size: u64,
}

/// A helper: r1..r5 in, r0 out. It is called with a sixth argument, the
/// `mem` pointer of the run (as uBPF does); a helper may declare it or not.
pub type external_function_t =
    Option<unsafe extern "C" fn(p0: u64, p1: u64, p2: u64, p3: u64, p4: u64) -> u64>;

/// A helper dispatcher: r1..r5, the helper index and the run's `mem` pointer.
pub type external_function_dispatcher_t = Option<
    unsafe extern "C" fn(
        p0: u64,
        p1: u64,
        p2: u64,
        p3: u64,
        p4: u64,
        index: c_uint,
        cookie: *mut c_void,
    ) -> u64,
>;

/// Whether helper `index` exists, asked at load time for each `call`.
pub type external_function_validate_t =
    Option<unsafe extern "C" fn(index: c_uint, vm: *const ubpf_vm) -> bool>;

/// Stack use of the local function at `pc` (accepted, not called).
pub type stack_usage_calculator_t =
    Option<unsafe extern "C" fn(vm: *const ubpf_vm, pc: u16, cookie: *mut c_void) -> c_int>;

/// uBPF's ELF data relocation callback (accepted, not called: cranebpf's
/// loader places maps and global data itself).
pub type ubpf_data_relocation = Option<
    unsafe extern "C" fn(
        user_context: *mut c_void,
        data: *const u8,
        data_size: u64,
        symbol_name: *const c_char,
        symbol_offset: u64,
        symbol_size: u64,
    ) -> u64,
>;

/// uBPF's bounds-check callback (accepted, not called: register memory
/// with `ubpf_register_safe_region` instead).
pub type ubpf_bounds_check =
    Option<unsafe extern "C" fn(context: *mut c_void, addr: u64, size: u64) -> bool>;

/// uBPF's per-instruction debug hook (cranebpf's engines have none).
pub type ubpf_debug_fn = Option<
    unsafe extern "C" fn(
        context: *mut c_void,
        program_counter: c_int,
        registers: *const u64,
        stack_start: *const u8,
        stack_length: usize,
        register_mask: u64,
        stack_mask_start: *const u8,
    ),
>;

/// The error-printing function (`fprintf`'s shape).
pub type ubpf_error_print_fn =
    Option<unsafe extern "C" fn(stream: *mut libc::FILE, format: *const c_char, ...) -> c_int>;

/// A helper called with the sixth argument uBPF passes.
type Helper6 = unsafe extern "C" fn(u64, u64, u64, u64, u64, *mut c_void) -> u64;

/// The message a helper's error carries when the unwind helper returned 0:
/// the run ends with r0 = 0, as uBPF's `ubpf_set_unwind_function_index` asks.
const UNWIND: &str = "cranebpf: unwind helper returned 0";

/// The host's helpers, read by every call (so `ubpf_register` after
/// `ubpf_load` or `ubpf_compile` takes effect, as in uBPF).
#[derive(Default)]
struct Table {
    funcs: Vec<Option<Helper6>>,
    names: Vec<Option<String>>,
    dispatcher: external_function_dispatcher_t,
    validate: external_function_validate_t,
    unwind: Option<u32>,
}

/// The loaded program and its prepared engines.
struct Loaded {
    program: Program,
    helpers: Helpers,
    interp: Vm,
    jit: Option<Arc<Vm>>,
    /// The entry slot the JIT is bound to.
    slot: Option<usize>,
    /// For an ELF program: the object's program, which owns its maps.
    _object: Option<LoadedProgram>,
}

/// The knobs (see each function's doc for what it does here).
struct Config {
    bounds_check: bool,
    blinding: bool,
    ub_check: bool,
    readonly_bytecode: bool,
    instruction_limit: u32,
    error_print: ubpf_error_print_fn,
    pointer_secret: u64,
    jit_code_size: usize,
    regions: Vec<Region>,
    registers: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            bounds_check: true,
            blinding: false,
            ub_check: false,
            readonly_bytecode: true,
            instruction_limit: 0,
            error_print: None,
            pointer_secret: 0,
            jit_code_size: 0,
            regions: Vec::new(),
            registers: 0,
        }
    }
}

#[derive(Default)]
struct State {
    code: Option<Loaded>,
    config: Config,
}

/// One VM: its state and its helper table.
struct UbpfVm {
    handle: usize,
    state: RwLock<State>,
    table: Arc<RwLock<Table>>,
}

impl UbpfVm {
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }
    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }
    fn table(&self) -> RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }
}

static VMS: Registry<UbpfVm> = Registry::new();

/// The VM behind a handle, or `None` (NULL, destroyed or never created),
/// reported on stderr under `what`.
fn vm_of(vm: *const ubpf_vm, what: &str) -> Option<Arc<UbpfVm>> {
    let found = VMS.get(vm);
    if found.is_none() {
        eprintln!("{what}: {vm:p} is not a live ubpf_vm (NULL, destroyed, or never created)");
    }
    found
}

/// Prints `msg` through the VM's error function (default: stderr).
fn report(print: ubpf_error_print_fn, msg: &str) {
    match (print, CString::new(msg.replace('\0', " "))) {
        (Some(p), Ok(c)) => {
            extern "C" {
                static stderr: *mut libc::FILE;
            }
            // SAFETY: `stderr` is the C library's stream (read by value);
            // `p` is the caller's fprintf-shaped function, given a "%s\n"
            // format with one NUL-terminated string argument.
            unsafe { p(stderr, c"%s\n".as_ptr(), c.as_ptr()) };
        }
        _ => eprintln!("{msg}"),
    }
}

// ---------------------------------------------------------------- lifecycle

/// Creates a VM. Returns NULL only if creating it failed.
#[no_mangle]
pub extern "C" fn ubpf_create() -> *mut ubpf_vm {
    guard(std::ptr::null_mut(), || {
        let table = Table {
            funcs: vec![None; UBPF_MAX_EXT_FUNCS as usize],
            names: vec![None; UBPF_MAX_EXT_FUNCS as usize],
            ..Table::default()
        };
        VMS.insert_with::<ubpf_vm>(|handle| UbpfVm {
            handle,
            state: RwLock::new(State::default()),
            table: Arc::new(RwLock::new(table)),
        })
    })
}

/// Destroys a VM and its compiled code. NULL is ignored; a VM destroyed
/// twice is reported on stderr and otherwise ignored.
#[no_mangle]
pub extern "C" fn ubpf_destroy(vm: *mut ubpf_vm) {
    guard((), || {
        if vm.is_null() {
            return;
        }
        match VMS.remove(vm) {
            Some(v) => unload(&v),
            None => eprintln!("ubpf_destroy: {vm:p} is not a live ubpf_vm (double destroy?)"),
        }
    })
}

/// Drops the VM's program and frees its JIT entry slot.
fn unload(v: &UbpfVm) {
    let code = v.write().code.take();
    if let Some(slot) = code.and_then(|c| c.slot) {
        entries::release(slot);
    }
}

/// Drops the loaded program (helpers stay registered). NULL is ignored.
#[no_mangle]
pub extern "C" fn ubpf_unload_code(vm: *mut ubpf_vm) {
    guard((), || {
        if let Some(v) = vm_of(vm, "ubpf_unload_code") {
            unload(&v);
        }
    })
}

// -------------------------------------------------------------------- knobs

/// Returns the previous setting. cranebpf always checks memory accesses
/// (in both engines); `enable = false` is recorded and has no effect.
#[no_mangle]
pub extern "C" fn ubpf_toggle_bounds_check(vm: *mut ubpf_vm, enable: bool) -> bool {
    knob(vm, "ubpf_toggle_bounds_check", |c| {
        std::mem::replace(&mut c.bounds_check, enable)
    })
}

/// Returns the previous setting. Recorded only: Cranelift emits immediates
/// as they are (cranebpf's code is reached only through its own entry).
#[no_mangle]
pub extern "C" fn ubpf_toggle_constant_blinding(vm: *mut ubpf_vm, enable: bool) -> bool {
    knob(vm, "ubpf_toggle_constant_blinding", |c| {
        std::mem::replace(&mut c.blinding, enable)
    })
}

/// Returns the previous setting. Recorded only: in cranebpf every register
/// starts at 0 and every instruction has a defined result (RFC 9669), so
/// there is no undefined behaviour to check for.
#[no_mangle]
pub extern "C" fn ubpf_toggle_undefined_behavior_check(vm: *mut ubpf_vm, enable: bool) -> bool {
    knob(vm, "ubpf_toggle_undefined_behavior_check", |c| {
        std::mem::replace(&mut c.ub_check, enable)
    })
}

/// Returns the previous setting. Recorded only: a loaded program is
/// immutable Rust data and compiled code is mapped read-only.
#[no_mangle]
pub extern "C" fn ubpf_toggle_readonly_bytecode(vm: *mut ubpf_vm, enable: bool) -> bool {
    knob(vm, "ubpf_toggle_readonly_bytecode", |c| {
        std::mem::replace(&mut c.readonly_bytecode, enable)
    })
}

fn knob(vm: *mut ubpf_vm, what: &str, f: impl FnOnce(&mut Config) -> bool) -> bool {
    guard(false, || match vm_of(vm, what) {
        Some(v) => f(&mut v.write().config),
        None => false,
    })
}

/// 0, or -1 for a NULL VM, a profile other than LEGACY (0) or SAFE (1), or
/// a VM that already has code. Both profiles behave the same here (every
/// access is checked).
#[no_mangle]
pub extern "C" fn ubpf_set_execution_profile(vm: *mut ubpf_vm, profile: c_int) -> c_int {
    guard(-1, || match vm_of(vm, "ubpf_set_execution_profile") {
        Some(v) if (0..=1).contains(&profile) && v.read().code.is_none() => 0,
        _ => -1,
    })
}

/// Sets the function errors are printed with (NULL: back to stderr).
#[no_mangle]
pub extern "C" fn ubpf_set_error_print(vm: *mut ubpf_vm, error_printf: ubpf_error_print_fn) {
    guard((), || {
        if let Some(v) = vm_of(vm, "ubpf_set_error_print") {
            v.write().config.error_print = error_printf;
        }
    })
}

/// Sets the instruction limit (0: none); `*previous_limit` gets the old one
/// if not NULL. Unlike uBPF it applies to compiled code too, counted by
/// cranebpf's budget rule (per basic block, exact). Returns 0, or -1 for a
/// bad VM.
///
/// # Safety
/// `previous_limit` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_set_instruction_limit(
    vm: *mut ubpf_vm,
    limit: u32,
    previous_limit: *mut u32,
) -> c_int {
    guard(-1, || {
        let Some(v) = vm_of(vm, "ubpf_set_instruction_limit") else {
            return -1;
        };
        let old = std::mem::replace(&mut v.write().config.instruction_limit, limit);
        if !previous_limit.is_null() {
            // SAFETY: the caller promises a writable u32.
            unsafe { *previous_limit = old };
        }
        0
    })
}

/// Records the secret and returns 0, or -1 once code is loaded (as uBPF).
/// cranebpf never stores a code or stack pointer in memory a program can
/// read, so there is nothing to encode with it.
#[no_mangle]
pub extern "C" fn ubpf_set_pointer_secret(vm: *mut ubpf_vm, secret: u64) -> c_int {
    guard(-1, || match vm_of(vm, "ubpf_set_pointer_secret") {
        Some(v) => {
            let mut s = v.write();
            if s.code.is_some() {
                return -1;
            }
            s.config.pointer_secret = secret;
            0
        }
        None => -1,
    })
}

/// Records the size and returns 0 (-1 for 0). Cranelift sizes its code
/// buffer itself.
#[no_mangle]
pub extern "C" fn ubpf_set_jit_code_size(vm: *mut ubpf_vm, code_size: usize) -> c_int {
    guard(-1, || match vm_of(vm, "ubpf_set_jit_code_size") {
        Some(v) if code_size > 0 => {
            v.write().config.jit_code_size = code_size;
            0
        }
        _ => -1,
    })
}

/// Records `regs`; cranebpf's engines keep registers internally and never
/// write there.
#[no_mangle]
pub extern "C" fn ubpf_set_registers(vm: *mut ubpf_vm, regs: *mut u64) {
    guard((), || {
        if let Some(v) = vm_of(vm, "ubpf_set_registers") {
            v.write().config.registers = regs as usize;
        }
    })
}

/// The pointer given to `ubpf_set_registers`, or NULL.
#[no_mangle]
pub extern "C" fn ubpf_get_registers(vm: *const ubpf_vm) -> *mut u64 {
    guard(std::ptr::null_mut(), || {
        match vm_of(vm, "ubpf_get_registers") {
            Some(v) => v.read().config.registers as *mut u64,
            None => std::ptr::null_mut(),
        }
    })
}

/// Accepted (0) and not called: cranebpf gives every local function a full
/// 512-byte frame.
#[no_mangle]
pub extern "C" fn ubpf_register_stack_usage_calculator(
    vm: *mut ubpf_vm,
    calculator: stack_usage_calculator_t,
    cookie: *mut c_void,
) -> c_int {
    let _ = (calculator, cookie);
    guard(-1, || {
        vm_of(vm, "ubpf_register_stack_usage_calculator").map_or(-1, |_| 0)
    })
}

/// Accepted (0) and not called: cranebpf's ELF loader places maps and
/// global data itself.
#[no_mangle]
pub extern "C" fn ubpf_register_data_relocation(
    vm: *mut ubpf_vm,
    user_context: *mut c_void,
    relocation: ubpf_data_relocation,
) -> c_int {
    let _ = (user_context, relocation);
    guard(-1, || {
        vm_of(vm, "ubpf_register_data_relocation").map_or(-1, |_| 0)
    })
}

/// Accepted (0) and not called: cranebpf allows exactly the input, the
/// stack and regions registered with `ubpf_register_safe_region`.
#[no_mangle]
pub extern "C" fn ubpf_register_data_bounds_check(
    vm: *mut ubpf_vm,
    user_context: *mut c_void,
    bounds_check: ubpf_bounds_check,
) -> c_int {
    let _ = (user_context, bounds_check);
    guard(-1, || {
        vm_of(vm, "ubpf_register_data_bounds_check").map_or(-1, |_| 0)
    })
}

/// Makes `region` accessible to every later run of this VM (both engines):
/// read-only, or read-write with `UBPF_SAFE_REGION_WRITE` or `_ATOMIC`. A
/// `UBPF_SAFE_REGION_HANDLE` is accepted and not made accessible. -1 for a
/// NULL VM or region, or a NULL base with a non-zero size.
///
/// # Safety
/// `region` is NULL or points to a `ubpf_safe_region`; the memory it
/// describes stays valid while the VM runs programs.
#[no_mangle]
pub unsafe extern "C" fn ubpf_register_safe_region(
    vm: *mut ubpf_vm,
    region: *const ubpf_safe_region,
) -> c_int {
    guard(-1, || {
        let Some(v) = vm_of(vm, "ubpf_register_safe_region") else {
            return -1;
        };
        if region.is_null() {
            return -1;
        }
        // SAFETY: the caller promises a valid descriptor; each field is read
        // by itself, and `kind` as its underlying integer.
        let (base, size, kind, perms) = unsafe {
            (
                (*region).base,
                (*region).size,
                std::ptr::addr_of!((*region).kind).cast::<u32>().read(),
                (*region).permissions,
            )
        };
        if base.is_null() && size > 0 {
            return -1;
        }
        if kind == ubpf_safe_region_kind::UBPF_SAFE_REGION_POINTER as u32 && size > 0 {
            v.write().config.regions.push(Region {
                start: base as u64,
                len: size,
                writable: perms & 6 != 0,
            });
        }
        0
    })
}

/// 0 when `debug_function` is NULL (no hook); -1 otherwise: cranebpf's
/// engines have no per-instruction hook.
#[no_mangle]
pub extern "C" fn ubpf_register_debug_fn(
    vm: *mut ubpf_vm,
    context: *mut c_void,
    debug_function: ubpf_debug_fn,
) -> c_int {
    let _ = context;
    guard(-1, || match vm_of(vm, "ubpf_register_debug_fn") {
        Some(_) if debug_function.is_none() => 0,
        Some(v) => {
            report(
                v.read().config.error_print,
                "ubpf_register_debug_fn: cranebpf has no per-instruction debug hook",
            );
            -1
        }
        None => -1,
    })
}

// ------------------------------------------------------------------ helpers

/// Casts a function pointer to `external_function_t`.
#[no_mangle]
pub extern "C" fn as_external_function_t(f: *mut c_void) -> external_function_t {
    // SAFETY: a function pointer and a data pointer have the same size and
    // representation on every platform cranebpf supports; NULL maps to None.
    unsafe { std::mem::transmute::<*mut c_void, external_function_t>(f) }
}

/// Registers helper `index` (below `UBPF_MAX_EXT_FUNCS`). 0, or -1 for a
/// bad VM or an index out of range. Takes effect for loaded and compiled
/// code too.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `fn` is a C function of
/// `external_function_t`'s shape (a sixth `void*` argument may be declared).
#[no_mangle]
pub unsafe extern "C" fn ubpf_register(
    vm: *mut ubpf_vm,
    index: c_uint,
    name: *const c_char,
    r#fn: external_function_t,
) -> c_int {
    guard(-1, || {
        let Some(v) = vm_of(vm, "ubpf_register") else {
            return -1;
        };
        if index >= UBPF_MAX_EXT_FUNCS {
            report(
                v.read().config.error_print,
                &format!(
                    "ubpf_register: helper index {index} is out of range (max {})",
                    UBPF_MAX_EXT_FUNCS - 1
                ),
            );
            return -1;
        }
        let i = index as usize;
        let mut t = v.table();
        // SAFETY: uBPF calls every helper with a sixth argument (the run's
        // mem pointer); in the C calling conventions cranebpf supports
        // (SysV x86-64, AAPCS64, RISC-V LP64) an extra integer argument goes
        // in a register the callee ignores if it does not declare it.
        t.funcs[i] = r#fn.map(|f| unsafe { std::mem::transmute::<_, Helper6>(f) });
        // SAFETY: the caller promises NULL or a C string.
        t.names[i] = unsafe { c_str(name) };
        0
    })
}

/// Registers `descriptor->fn` at `descriptor->index`, as `ubpf_register`.
///
/// # Safety
/// `descriptor` is NULL or points to a valid descriptor.
#[no_mangle]
pub unsafe extern "C" fn ubpf_register_safe_helper(
    vm: *mut ubpf_vm,
    descriptor: *const ubpf_safe_helper_descriptor,
) -> c_int {
    if descriptor.is_null() {
        return -1;
    }
    // SAFETY: the caller promises a valid descriptor; fields read one by one.
    let (index, name, f) = unsafe { ((*descriptor).index, (*descriptor).name, (*descriptor).r#fn) };
    // SAFETY: forwarded caller promises.
    unsafe { ubpf_register(vm, index, name, f) }
}

/// Sets a dispatcher that handles every helper call (replacing the
/// registered table) and a validator asked at load time whether a called
/// index exists (NULL: every index does). 0, or -1 for a bad VM.
#[no_mangle]
pub extern "C" fn ubpf_register_external_dispatcher(
    vm: *mut ubpf_vm,
    dispatcher: external_function_dispatcher_t,
    validater: external_function_validate_t,
) -> c_int {
    guard(-1, || {
        match vm_of(vm, "ubpf_register_external_dispatcher") {
            Some(v) => {
                let mut t = v.table();
                t.dispatcher = dispatcher;
                t.validate = validater;
                0
            }
            None => -1,
        }
    })
}

/// Makes helper `idx` end the program with r0 = 0 when it returns 0. Only
/// one per VM: 0, or -1 if one is already set.
#[no_mangle]
pub extern "C" fn ubpf_set_unwind_function_index(vm: *mut ubpf_vm, idx: c_uint) -> c_int {
    guard(-1, || match vm_of(vm, "ubpf_set_unwind_function_index") {
        Some(v) => {
            let mut t = v.table();
            if t.unwind.is_some() {
                return -1;
            }
            t.unwind = Some(idx);
            0
        }
        None => -1,
    })
}

/// The run's `mem` pointer, passed to helpers as uBPF's sixth argument.
struct Cookie(usize);

/// The helper body for index `id`: calls the dispatcher or the registered
/// function, read at call time.
fn host_helper(
    table: Arc<RwLock<Table>>,
    id: u32,
) -> impl Fn(&mut cranebpf::HelperCtx<'_, '_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync {
    move |ctx, a| {
        let cookie = ctx
            .user
            .as_deref()
            .and_then(|u| u.downcast_ref::<Cookie>())
            .map_or(0, |c| c.0) as *mut c_void;
        let (dispatcher, func, unwind) = {
            let t = table.read().unwrap_or_else(PoisonError::into_inner);
            let f = t.funcs.get(id as usize).copied().flatten();
            (t.dispatcher, f, t.unwind)
        };
        // SAFETY: the host registered these functions with the shapes
        // declared in ubpf.h (see `ubpf_register` for the sixth argument).
        let r0 = match (dispatcher, func) {
            (Some(d), _) => unsafe { d(a[0], a[1], a[2], a[3], a[4], id, cookie) },
            (None, Some(f)) => unsafe { f(a[0], a[1], a[2], a[3], a[4], cookie) },
            (None, None) => return Err(HelperError::new(format!("helper {id} is not registered"))),
        };
        if unwind == Some(id) && r0 == 0 {
            return Err(HelperError::new(UNWIND));
        }
        Ok(r0)
    }
}

/// Checks that every helper `program` calls exists and returns the helpers
/// to prepare it with: the host's (for every index it registered or its
/// dispatcher accepts), over `base` (an ELF object's kernel helpers).
fn bind_helpers(v: &UbpfVm, program: &Program, base: Helpers) -> Result<Helpers, String> {
    let mut helpers = base;
    let t = v.table.read().unwrap_or_else(PoisonError::into_inner);
    let host_has = |id: u32| match (t.dispatcher, t.validate) {
        // SAFETY: the host's validator, with this VM's handle.
        (Some(_), Some(check)) => unsafe { check(id, v.handle as *const ubpf_vm) },
        (Some(_), None) => true,
        (None, _) => t.funcs.get(id as usize).is_some_and(Option::is_some),
    };
    let mut ids: Vec<u32> = (0..UBPF_MAX_EXT_FUNCS).collect();
    for (pc, insn) in program.insns() {
        if let Insn::Call {
            kind: CallKind::Helper,
            imm,
        } = insn
        {
            let id = *imm as u32;
            if !host_has(id) && helpers.get(id).is_none() {
                return Err(format!(
                    "call to helper {id} at pc {pc}, which is not registered"
                ));
            }
            ids.push(id);
        }
    }
    for id in ids {
        if host_has(id) || helpers.get(id).is_none() {
            let name = t
                .names
                .get(id as usize)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("helper_{id}"));
            helpers.register(id, name, host_helper(Arc::clone(&v.table), id));
        }
    }
    Ok(helpers)
}

// ------------------------------------------------------------------ loading

/// Loads raw bytecode (`code_len` bytes, a multiple of 8). 0, or -1 with a
/// malloc'ed message in `*errmsg` (if not NULL): NULL arguments, code
/// already loaded (call `ubpf_unload_code` first), a bad length, a program
/// that fails decoding or validation, or a call to an unregistered helper.
///
/// # Safety
/// `code` is valid for `code_len` bytes; `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_load(
    vm: *mut ubpf_vm,
    code: *const c_void,
    code_len: u32,
    errmsg: *mut *mut c_char,
) -> c_int {
    guard(-1, || {
        // SAFETY: the caller promises `code_len` readable bytes.
        let code = unsafe { bytes(code.cast(), code_len as usize) };
        let result = load_with(vm, "ubpf_load", |_| {
            let code = code.ok_or("code is NULL")?;
            if code.len() % 8 != 0 {
                return Err(format!(
                    "code_len must be a multiple of 8, got {}",
                    code.len()
                ));
            }
            if code.len() / 8 > UBPF_MAX_INSTS as usize {
                return Err(format!(
                    "too many instructions: {} (max {UBPF_MAX_INSTS})",
                    code.len() / 8
                ));
            }
            let program = Program::from_bytes(code).map_err(|e| e.to_string())?;
            Ok((program, Helpers::new(), None))
        });
        finish_load(result, errmsg)
    })
}

/// Loads the first program of an ELF object built by clang (`-target bpf`),
/// with its maps and global data (cranebpf's loader). See `ubpf_load_elf_ex`.
///
/// # Safety
/// As `ubpf_load_elf_ex`.
#[no_mangle]
pub unsafe extern "C" fn ubpf_load_elf(
    vm: *mut ubpf_vm,
    elf: *const c_void,
    elf_len: usize,
    errmsg: *mut *mut c_char,
) -> c_int {
    // SAFETY: forwarded caller promises.
    unsafe { ubpf_load_elf_ex(vm, elf, elf_len, std::ptr::null(), errmsg) }
}

/// Loads the program of an ELF object named by `main_section_name` (a
/// section or function name; NULL: the first program). Calls to indexes the
/// host registered go to the host; other calls go to cranebpf's kernel
/// helpers (maps and the like). 0, or -1 with a malloc'ed `*errmsg`.
///
/// # Safety
/// `elf` is valid for `elf_len` bytes; `main_section_name` is NULL or a C
/// string; `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_load_elf_ex(
    vm: *mut ubpf_vm,
    elf: *const c_void,
    elf_len: usize,
    main_section_name: *const c_char,
    errmsg: *mut *mut c_char,
) -> c_int {
    guard(-1, || {
        // SAFETY: the caller promises `elf_len` readable bytes and a C string.
        let (elf, wanted) = unsafe { (bytes(elf.cast(), elf_len), c_str(main_section_name)) };
        let result = load_with(vm, "ubpf_load_elf", |_| {
            let elf = elf.ok_or("elf is NULL")?;
            let obj = Object::parse(elf).map_err(|e| e.to_string())?;
            let name = match &wanted {
                Some(w) => obj
                    .programs()
                    .iter()
                    .find(|p| &p.section == w || &p.name == w)
                    .map(|p| p.name.clone())
                    .ok_or_else(|| format!("no program or section named {w}"))?,
                None => obj
                    .programs()
                    .first()
                    .map(|p| p.name.clone())
                    .ok_or("the object has no program")?,
            };
            let lp = obj.load(&name).map_err(|e| e.to_string())?;
            Ok((lp.program().clone(), lp.helpers().clone(), Some(lp)))
        });
        finish_load(result, errmsg)
    })
}

type Parsed = (Program, Helpers, Option<LoadedProgram>);

/// The common tail of the loaders: refuses a VM that has code, parses, binds
/// helpers, prepares the interpreter and stores the result.
fn load_with(
    vm: *mut ubpf_vm,
    what: &str,
    parse: impl FnOnce(&UbpfVm) -> Result<Parsed, String>,
) -> Result<(), String> {
    let v = VMS
        .get(vm)
        .ok_or_else(|| format!("{what}: {vm:p} is not a live ubpf_vm"))?;
    if v.read().code.is_some() {
        return Err(
            "code has already been loaded into this VM; call ubpf_unload_code() first".into(),
        );
    }
    let (program, base, object) = parse(&v)?;
    let helpers = bind_helpers(&v, &program, base)?;
    let interp =
        Vm::new(&program, helpers.clone(), EngineKind::Interpreter).map_err(|e| e.to_string())?;
    let mut s = v.write();
    if s.code.is_some() {
        return Err("code was loaded into this VM concurrently".into());
    }
    s.code = Some(Loaded {
        program,
        helpers,
        interp,
        jit: None,
        slot: None,
        _object: object,
    });
    Ok(())
}

fn finish_load(result: Result<(), String>, errmsg: *mut *mut c_char) -> c_int {
    match result {
        Ok(()) => 0,
        Err(msg) => {
            // SAFETY: the exported loaders' callers promise `errmsg`.
            unsafe { set_errmsg(errmsg, &msg) };
            -1
        }
    }
}

// ---------------------------------------------------------------- executing

/// Runs `engine` over `mem`: the input region (r1 = mem, r2 = mem_len),
/// the registered regions, the instruction limit and the unwind rule.
fn run_engine(
    v: &UbpfVm,
    engine: &Vm,
    config: &Config,
    mem: *mut c_void,
    len: usize,
) -> Result<u64, String> {
    if mem.is_null() && len > 0 {
        return Err(format!("mem is NULL but mem_len is {len}"));
    }
    let mut map = MemoryMap::new();
    if len > 0 {
        // SAFETY: the caller of ubpf_exec / the compiled function promises
        // `mem` is valid for `len` bytes of reads and writes during the run.
        unsafe {
            map.add_raw(Region {
                start: mem as u64,
                len: len as u64,
                writable: true,
            })
        };
    }
    for r in &config.regions {
        // SAFETY: `ubpf_register_safe_region`'s caller promises the region
        // stays valid while the VM runs programs.
        unsafe { map.add_raw(*r) };
    }
    let opts = RunOptions {
        budget: (config.instruction_limit > 0).then_some(u64::from(config.instruction_limit)),
    };
    let mut cookie = Cookie(mem as usize);
    let out = engine.run_with(
        &mut map,
        [mem as u64, len as u64, 0, 0, 0],
        &opts,
        Some(&mut cookie),
    );
    let unwind = v
        .table
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .unwind;
    match out.result {
        Ok(r0) => Ok(r0),
        Err(Fault {
            kind: FaultKind::Helper { id, error },
            ..
        }) if Some(id) == unwind && error.message == UNWIND => Ok(0),
        Err(f) => Err(format!("cranebpf error: {f}")),
    }
}

/// Runs the loaded program with the interpreter. 0 with r0 in
/// `*bpf_return_value`, or -1 (the reason is printed through the error
/// function): no code, NULL arguments, or a fault (out-of-bounds access,
/// instruction limit, helper failure, ...).
///
/// # Safety
/// `mem` is valid for `mem_len` bytes of reads and writes (or NULL with
/// `mem_len` 0); `bpf_return_value` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_exec(
    vm: *const ubpf_vm,
    mem: *mut c_void,
    mem_len: usize,
    bpf_return_value: *mut u64,
) -> c_int {
    guard(-1, || {
        let Some(v) = vm_of(vm, "ubpf_exec") else {
            return -1;
        };
        let s = v.read();
        let print = s.config.error_print;
        let result = match (&s.code, bpf_return_value.is_null()) {
            (None, _) => Err("ubpf_exec: no code loaded".to_string()),
            (_, true) => Err("ubpf_exec: bpf_return_value is NULL".to_string()),
            (Some(code), false) => run_engine(&v, &code.interp, &s.config, mem, mem_len),
        };
        drop(s);
        match result {
            Ok(r0) => {
                // SAFETY: checked non-NULL; the caller promises it is writable.
                unsafe { *bpf_return_value = r0 };
                0
            }
            Err(msg) => {
                report(print, &msg);
                -1
            }
        }
    })
}

/// `ubpf_exec` with a caller stack, which cranebpf does not use (each run
/// gets cranebpf's own zeroed stack of `UBPF_EBPF_STACK_SIZE` bytes).
///
/// # Safety
/// As `ubpf_exec`.
#[no_mangle]
pub unsafe extern "C" fn ubpf_exec_ex(
    vm: *const ubpf_vm,
    mem: *mut c_void,
    mem_len: usize,
    bpf_return_value: *mut u64,
    stack: *mut u8,
    stack_len: usize,
) -> c_int {
    let _ = (stack, stack_len);
    // SAFETY: forwarded caller promises.
    unsafe { ubpf_exec(vm, mem, mem_len, bpf_return_value) }
}

// ---------------------------------------------------------------- compiling

/// Compiles the loaded program with the JIT (bounds checks kept) and
/// returns a C function that runs it, or NULL with a malloc'ed `*errmsg`.
/// Calling it again returns the same function. At most [`JIT_ENTRIES`] VMs
/// hold compiled code at once.
///
/// # Safety
/// `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_compile(vm: *mut ubpf_vm, errmsg: *mut *mut c_char) -> ubpf_jit_fn {
    guard(None, || match compile(vm) {
        Ok(slot) => Some(entries::BASIC[slot]),
        Err(msg) => {
            // SAFETY: the caller promises `errmsg`.
            unsafe { set_errmsg(errmsg, &msg) };
            None
        }
    })
}

/// `ubpf_compile` returning the function for `jit_mode` (a `JitMode`
/// value): `BasicJitMode` gives a `ubpf_jit_fn` (cast it back),
/// `ExtendedJitMode` a `ubpf_jit_ex_fn`. Any other mode is an error.
///
/// # Safety
/// `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_compile_ex(
    vm: *mut ubpf_vm,
    errmsg: *mut *mut c_char,
    jit_mode: c_int,
) -> ubpf_jit_ex_fn {
    guard(None, || {
        let compiled = if jit_mode == JitMode::BasicJitMode as c_int
            || jit_mode == JitMode::ExtendedJitMode as c_int
        {
            compile(vm)
        } else {
            Err(format!("unknown jit_mode {jit_mode}"))
        };
        match compiled {
            Ok(slot) if jit_mode == JitMode::ExtendedJitMode as c_int => {
                Some(entries::EXTENDED[slot])
            }
            Ok(slot) => {
                let basic = entries::BASIC[slot];
                // SAFETY: uBPF's contract: in basic mode the caller casts the
                // result back to `ubpf_jit_fn` before calling it.
                Some(unsafe {
                    std::mem::transmute::<
                        unsafe extern "C" fn(*mut c_void, usize) -> u64,
                        unsafe extern "C" fn(*mut c_void, usize, *mut u8, usize) -> u64,
                    >(basic)
                })
            }
            Err(msg) => {
                // SAFETY: the caller promises `errmsg`.
                unsafe { set_errmsg(errmsg, &msg) };
                None
            }
        }
    })
}

/// uBPF copies its position-independent code into `buffer`. cranebpf's
/// code is bound to its VM, so this compiles (if needed) and returns the
/// same function as `ubpf_compile`, leaving `buffer` untouched; NULL with a
/// malloc'ed `*errmsg` on failure or if `size` is 0.
///
/// # Safety
/// `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_copy_jit(
    vm: *mut ubpf_vm,
    buffer: *mut c_void,
    size: usize,
    errmsg: *mut *mut c_char,
) -> ubpf_jit_fn {
    let _ = buffer;
    if size == 0 {
        // SAFETY: the caller promises `errmsg`.
        unsafe { set_errmsg(errmsg, "ubpf_copy_jit: size is 0") };
        return None;
    }
    // SAFETY: forwarded caller promise.
    unsafe { ubpf_compile(vm, errmsg) }
}

/// Not supported: -1 with a malloc'ed `*errmsg`. cranebpf's machine code
/// calls into its VM's context and cannot run from a copy; use
/// `ubpf_compile`.
///
/// # Safety
/// `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_translate(
    vm: *mut ubpf_vm,
    buffer: *mut u8,
    size: *mut usize,
    errmsg: *mut *mut c_char,
) -> c_int {
    let _ = (vm, buffer, size);
    // SAFETY: the caller promises `errmsg`.
    unsafe {
        set_errmsg(
            errmsg,
            "ubpf_translate: cranebpf's machine code is bound to its VM and cannot be copied; use ubpf_compile",
        )
    };
    -1
}

/// As `ubpf_translate`: not supported.
///
/// # Safety
/// `errmsg` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn ubpf_translate_ex(
    vm: *mut ubpf_vm,
    buffer: *mut u8,
    size: *mut usize,
    errmsg: *mut *mut c_char,
    jit_mode: c_int,
) -> c_int {
    let _ = jit_mode;
    // SAFETY: forwarded caller promises.
    unsafe { ubpf_translate(vm, buffer, size, errmsg) }
}

/// Compiles the VM's program (once) and binds it to an entry slot.
fn compile(vm: *mut ubpf_vm) -> Result<usize, String> {
    let v = VMS
        .get(vm)
        .ok_or_else(|| format!("ubpf_compile: {vm:p} is not a live ubpf_vm"))?;
    let mut s = v.write();
    let code = s.code.as_mut().ok_or("ubpf_compile: no code loaded")?;
    if let Some(slot) = code.slot {
        return Ok(slot);
    }
    let jit =
        Vm::new(&code.program, code.helpers.clone(), EngineKind::Jit).map_err(|e| e.to_string())?;
    code.jit = Some(Arc::new(jit));
    let slot = entries::claim(Arc::clone(&v)).ok_or_else(|| {
        format!("ubpf_compile: all {JIT_ENTRIES} JIT entries are in use; destroy a compiled VM")
    })?;
    code.slot = Some(slot);
    Ok(slot)
}

/// What a compiled entry runs: the VM's JIT over `mem`.
fn enter(slot: usize, mem: *mut c_void, len: usize) -> u64 {
    guard(u64::MAX, || {
        let Some(v) = entries::get(slot) else {
            eprintln!("cranebpf: a ubpf_jit_fn was called after its VM was unloaded or destroyed");
            return u64::MAX;
        };
        let s = v.read();
        let result = match s.code.as_ref().and_then(|c| c.jit.clone()) {
            Some(jit) => run_engine(&v, &jit, &s.config, mem, len),
            None => Err("cranebpf: the VM has no compiled code".into()),
        };
        match result {
            Ok(r0) => r0,
            Err(msg) => {
                report(s.config.error_print, &msg);
                u64::MAX
            }
        }
    })
}

/// How many VMs can hold compiled code at once.
pub const JIT_ENTRIES: usize = entries::COUNT;

/// The C entry functions of compiled programs, one pair per slot.
mod entries {
    use super::{enter, UbpfVm};
    use std::ffi::c_void;
    use std::sync::{Arc, Mutex, PoisonError};

    type Basic = unsafe extern "C" fn(*mut c_void, usize) -> u64;
    type Extended = unsafe extern "C" fn(*mut c_void, usize, *mut u8, usize) -> u64;

    /// The C function of slot `I`.
    unsafe extern "C" fn basic<const I: usize>(mem: *mut c_void, len: usize) -> u64 {
        enter(I, mem, len)
    }

    /// The extended-mode C function of slot `I` (the stack is not used).
    unsafe extern "C" fn extended<const I: usize>(
        mem: *mut c_void,
        len: usize,
        _stack: *mut u8,
        _stack_len: usize,
    ) -> u64 {
        enter(I, mem, len)
    }

    macro_rules! tables {
        ($($i:literal)*) => {
            pub const COUNT: usize = [$($i),*].len();
            pub static BASIC: [Basic; COUNT] = [$(basic::<$i>),*];
            pub static EXTENDED: [Extended; COUNT] = [$(extended::<$i>),*];
        };
    }

    tables!(
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
        64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
        96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119
        120 121 122 123 124 125 126 127
    );

    static SLOTS: Mutex<Vec<Option<Arc<UbpfVm>>>> = Mutex::new(Vec::new());

    fn with<R>(f: impl FnOnce(&mut Vec<Option<Arc<UbpfVm>>>) -> R) -> R {
        let mut g = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        if g.is_empty() {
            g.resize(COUNT, None);
        }
        f(&mut g)
    }

    /// Binds `vm` to a free slot.
    pub fn claim(vm: Arc<UbpfVm>) -> Option<usize> {
        with(|s| {
            let i = s.iter().position(Option::is_none)?;
            s[i] = Some(vm);
            Some(i)
        })
    }

    /// The VM bound to `slot`.
    pub fn get(slot: usize) -> Option<Arc<UbpfVm>> {
        with(|s| s.get(slot).cloned().flatten())
    }

    /// Frees `slot`.
    pub fn release(slot: usize) {
        let old = with(|s| s.get_mut(slot).and_then(Option::take));
        drop(old);
    }
}
