//! Sequences of calls through the C ABI (`capi/`, both `cranebpf.h` and
//! `ubpf.h`), misuse included: stale handles (double frees, use after
//! free), handles of the wrong type, made-up handles, NULL pointers, wrong
//! key and value lengths, bad helper indices, loading twice, registering
//! helpers after loading, programs that call helpers which fail or read and
//! write the run's memory at addresses the program chose. Every call must
//! return (no panic escapes: a panic would abort the process, since the
//! functions are `extern "C"`), and a failing native call must leave a
//! message in `cranebpf_last_error`.
//!
//! What stays C's contract is kept: every buffer passed is as long as the
//! length passed with it, and a compiled uBPF function is called only while
//! its VM is alive and its code loaded.
//!
//! Layout: a sequence of operations, each one byte (the operation) followed
//! by the bytes it reads (handle choice, lengths, ids, program bytes).
#![no_main]

use cranebpf_capi::native::cranebpf_status::{CRANEBPF_ERR_INTERNAL, CRANEBPF_OK};
use cranebpf_capi::native::*;
use cranebpf_capi::ubpf::*;
use cranebpf_runtime::{asm, Program};
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

/// The bytes of one input, read front to back; zeros once exhausted.
struct Tape<'a>(&'a [u8]);

impl Tape<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
    fn empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Valid programs worth running (the tape can also supply raw bytes).
fn programs() -> &'static [Vec<u8>] {
    static P: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    P.get_or_init(|| {
        let texts = [
            "mov %r0, 7\nexit",
            // helper 1 on (input, length, input's first byte)
            "mov %r6, %r1\nmov %r3, 0\njeq %r2, 0, go\nldxb %r3, [%r1+0]\ngo:\ncall 1\nexit",
            // helper 2 with the input as arguments, then a load past it
            "mov %r6, %r1\nmov %r3, %r2\ncall 2\nldxw %r0, [%r6+4]\nexit",
            // a loop the budget must stop
            "mov %r0, 0\nagain:\nadd %r0, 1\nja again",
            // reads and writes the input
            "mov %r0, 0\njlt %r2, 8, out\nldxdw %r0, [%r1+0]\nadd %r0, 1\nstxdw [%r1+0], %r0\nout:\nexit",
        ];
        texts
            .iter()
            .map(|t| {
                let insns = asm::assemble(t).expect("the target's own programs assemble");
                Program::from_insns(&insns)
                    .expect("the target's own programs load")
                    .to_bytes()
            })
            .collect()
    })
}

/// The example objects (with maps `flows`/`proto_stats` and `hist`/`events`).
const OBJECTS: [&[u8]; 2] = [
    include_bytes!("../../../examples/bpf/firewall.o"),
    include_bytes!("../../../examples/bpf/hist.o"),
];
const MAP_NAMES: [&CStr; 5] = [c"flows", c"proto_stats", c"hist", c"events", c"nope"];

/// A native helper: copies up to 64 bytes at args[0] (length args[1])
/// through `cranebpf_mem_read`, writes them back one byte further on with
/// `cranebpf_mem_write`, and fails when args[2] is odd.
unsafe extern "C" fn native_helper(
    _user: *mut c_void,
    mem: *mut cranebpf_mem,
    args: *const u64,
    ret: *mut u64,
) -> c_int {
    // SAFETY: the library passes five readable arguments and a writable ret.
    let args = unsafe { std::slice::from_raw_parts(args, 5) };
    let len = (args[1] as usize).min(64);
    let mut buf = [0u8; 64];
    // SAFETY: `buf` holds 64 bytes, `len` at most that; `mem` is the run's.
    let r = unsafe { cranebpf_mem_read(mem, args[0], buf.as_mut_ptr(), len) };
    if r == CRANEBPF_OK {
        // SAFETY: as above.
        unsafe { cranebpf_mem_write(mem, args[0].wrapping_add(1), buf.as_ptr(), len) };
    } else {
        // SAFETY: a failed call leaves a NUL-terminated message.
        assert!(!unsafe { CStr::from_ptr(cranebpf_last_error()) }.is_empty());
    }
    // SAFETY: `ret` is writable.
    unsafe { *ret = u64::from(buf[0]) + len as u64 };
    c_int::from(args[2] & 1 == 1)
}

/// A uBPF helper.
unsafe extern "C" fn ubpf_helper(a: u64, b: u64, c: u64, _d: u64, _e: u64) -> u64 {
    a ^ b.rotate_left(7) ^ c
}

/// Every handle the sequence made, live or not.
#[derive(Default)]
struct World {
    vms: Vec<*mut cranebpf_vm>,
    maps: Vec<*mut cranebpf_map>,
    /// uBPF VMs, with their compiled function while it may be called.
    uvms: Vec<(*mut ubpf_vm, ubpf_jit_fn)>,
}

impl World {
    /// A VM handle: one made before (live or stale), a map handle or a uBPF
    /// handle posing as one, NULL, or a made-up token.
    fn vm(&self, t: &mut Tape) -> *mut cranebpf_vm {
        pick(t, &self.vms, || self.maps.first().map(|m| m.cast()))
    }
    fn map(&self, t: &mut Tape) -> *mut cranebpf_map {
        pick(t, &self.maps, || self.vms.first().map(|v| v.cast()))
    }
    fn uvm(&self, t: &mut Tape) -> usize {
        t.byte() as usize
    }
}

fn pick<T>(t: &mut Tape, made: &[*mut T], other: impl FnOnce() -> Option<*mut T>) -> *mut T {
    let b = t.byte();
    match b {
        0 => null_mut(),
        1 => other().unwrap_or(null_mut()),
        2 => ((t.byte() as usize) << 4) as *mut T,
        3 => 1usize as *mut T,
        _ if made.is_empty() => null_mut(),
        _ => made[b as usize % made.len()],
    }
}

/// Checks the native layer's error convention after a call.
fn check(status: cranebpf_status) {
    assert!(
        status != CRANEBPF_ERR_INTERNAL,
        "a panic behind the C boundary"
    );
    if status != CRANEBPF_OK {
        // SAFETY: cranebpf_last_error returns a NUL-terminated string.
        let msg = unsafe { CStr::from_ptr(cranebpf_last_error()) };
        assert!(
            !msg.is_empty(),
            "status {} without a message",
            status as i32
        );
    }
}

fn program(t: &mut Tape) -> Vec<u8> {
    let b = t.byte();
    let p = programs();
    if (b as usize) < p.len() * 32 {
        p[b as usize % p.len()].clone()
    } else {
        let n = t.byte() as usize % 33 * 8 + (b as usize & 7);
        t.bytes(n)
    }
}

fn free_errmsg(errmsg: *mut c_char) {
    // SAFETY: the library allocates error messages with malloc.
    unsafe { libc::free(errmsg.cast()) };
}

/// One native-layer operation.
fn native_op(w: &mut World, op: u8, t: &mut Tape) {
    match op % 12 {
        0 => {
            let mut vm = null_mut();
            // SAFETY: `vm` is writable.
            check(unsafe { cranebpf_vm_new(c_int::from(t.byte() % 3), &mut vm) });
            if !vm.is_null() {
                // A budget from the start: one of the programs loops.
                check(cranebpf_vm_set_budget(vm, 10_000));
                w.vms.push(vm);
            }
        }
        1 => check(cranebpf_vm_free(w.vm(t))),
        2 => {
            let vm = w.vm(t);
            let id = u32::from(t.byte()) % 8;
            let name: *const c_char = if t.byte() & 1 == 0 {
                null()
            } else {
                c"h".as_ptr()
            };
            let func: cranebpf_helper_fn = if t.byte() % 5 == 0 {
                None
            } else {
                Some(native_helper)
            };
            // SAFETY: `name` is NULL or a C string; the helper is a static fn.
            check(unsafe { cranebpf_vm_register_helper(vm, id, name, func, null_mut()) });
        }
        3 => check(cranebpf_vm_set_budget(w.vm(t), 1 + t.byte() as u64 * 16)),
        4 => {
            let vm = w.vm(t);
            let code = program(t);
            let (ptr, len) = match t.byte() {
                0 => (null(), code.len()),
                1 => (code.as_ptr(), 0),
                _ => (code.as_ptr(), code.len()),
            };
            // SAFETY: `ptr` holds `len` bytes (or is NULL).
            check(unsafe { cranebpf_vm_load(vm, ptr, len) });
        }
        5 => {
            let vm = w.vm(t);
            let obj = OBJECTS[t.byte() as usize % 2];
            let name: *const c_char = match t.byte() % 4 {
                0 => null(),
                1 => c"xdp".as_ptr(),
                2 => c"nope".as_ptr(),
                _ => c"cranebpf/mem".as_ptr(),
            };
            let cut = if t.byte() < 32 {
                obj.len() / 2
            } else {
                obj.len()
            };
            // SAFETY: `obj` holds at least `cut` bytes.
            check(unsafe { cranebpf_vm_load_elf(vm, obj.as_ptr(), cut, name) });
        }
        6 => {
            let vm = w.vm(t);
            let mut mem = {
                let n = t.byte() as usize % 40;
                t.bytes(n)
            };
            let mut res = std::mem::MaybeUninit::<cranebpf_result>::uninit();
            let (p, n) = if mem.is_empty() && t.byte() & 1 == 1 {
                (null_mut(), 0)
            } else {
                (mem.as_mut_ptr(), mem.len())
            };
            // SAFETY: `p` holds `n` bytes; `res` is writable.
            check(unsafe { cranebpf_vm_run(vm, p, n, res.as_mut_ptr()) });
        }
        7 => {
            let vm = w.vm(t);
            let mut packet = vec![0u8; 128];
            let mut len = t.byte() as usize; // may exceed the capacity
            let mut res = std::mem::MaybeUninit::<cranebpf_result>::uninit();
            // SAFETY: `packet` holds 128 bytes, the capacity passed.
            check(unsafe {
                cranebpf_vm_run_xdp(vm, packet.as_mut_ptr(), &mut len, 128, res.as_mut_ptr())
            });
        }
        8 => {
            let mut stats = std::mem::MaybeUninit::<cranebpf_stats>::uninit();
            // SAFETY: `stats` is writable.
            check(unsafe { cranebpf_vm_stats(w.vm(t), stats.as_mut_ptr()) });
        }
        9 => {
            let vm = w.vm(t);
            let name = MAP_NAMES[t.byte() as usize % MAP_NAMES.len()];
            let mut map = null_mut();
            // SAFETY: `name` is a C string, `map` writable.
            check(unsafe { cranebpf_vm_map(vm, name.as_ptr(), &mut map) });
            if !map.is_null() {
                w.maps.push(map);
            }
        }
        10 => check(cranebpf_map_free(w.map(t))),
        _ => map_op(w, t),
    }
}

/// Map operations with lengths chosen by the tape (often wrong).
fn map_op(w: &mut World, t: &mut Tape) {
    let map = w.map(t);
    let key_len = t.byte() as usize % 20;
    let value_len = t.byte() as usize % 40;
    let key = t.bytes(key_len);
    let key = [key, vec![0; key_len]].concat(); // exactly key_len bytes first
    let mut value = vec![0u8; value_len];
    match t.byte() % 5 {
        0 => {
            let mut info = std::mem::MaybeUninit::<cranebpf_map_info>::uninit();
            // SAFETY: `info` is writable.
            check(unsafe { cranebpf_map_info(map, info.as_mut_ptr()) });
        }
        // SAFETY (all below): every buffer holds the length passed with it.
        1 => check(unsafe {
            cranebpf_map_lookup(map, key.as_ptr(), key_len, value.as_mut_ptr(), value_len)
        }),
        2 => check(unsafe {
            cranebpf_map_update(
                map,
                key.as_ptr(),
                key_len,
                value.as_ptr(),
                value_len,
                t.byte() as u64 % 4,
            )
        }),
        3 => check(unsafe { cranebpf_map_delete(map, key.as_ptr(), key_len) }),
        _ => {
            let mut next = vec![0u8; key_len];
            let k = if t.byte() & 1 == 0 {
                null()
            } else {
                key.as_ptr()
            };
            check(unsafe { cranebpf_map_next_key(map, k, key_len, next.as_mut_ptr()) });
        }
    }
}

/// One uBPF-layer operation.
fn ubpf_op(w: &mut World, op: u8, t: &mut Tape) {
    let i = w.uvm(t);
    let vm = match (i % 8, w.uvms.len()) {
        (0, _) | (_, 0) => null_mut(),
        (1, _) => ((t.byte() as usize) << 4) as *mut ubpf_vm,
        _ => w.uvms[i % w.uvms.len()].0,
    };
    let mut errmsg: *mut c_char = null_mut();
    match op % 9 {
        0 => {
            let vm = ubpf_create();
            if !vm.is_null() {
                // SAFETY: NULL previous_limit is allowed.
                unsafe { ubpf_set_instruction_limit(vm, 10_000, null_mut()) };
                w.uvms.push((vm, None));
            }
        }
        1 => {
            ubpf_destroy(vm);
            forget_jit(w, vm);
        }
        2 => {
            ubpf_unload_code(vm);
            forget_jit(w, vm);
        }
        3 => {
            let idx = u32::from(t.byte()) * 3; // past UBPF_MAX_EXT_FUNCS too
            let f: external_function_t = if t.byte() % 5 == 0 {
                None
            } else {
                Some(ubpf_helper)
            };
            // SAFETY: a C string name and a static fn.
            unsafe { ubpf_register(vm, idx, c"h".as_ptr(), f) };
        }
        4 => {
            let code = program(t);
            // SAFETY: `code` holds `code.len()` bytes; `errmsg` is writable.
            unsafe { ubpf_load(vm, code.as_ptr().cast(), code.len() as u32, &mut errmsg) };
        }
        5 => {
            let mut mem = {
                let n = t.byte() as usize % 40;
                t.bytes(n)
            };
            let mut r0 = 0u64;
            // SAFETY: `mem` holds its length; `r0` is writable.
            unsafe { ubpf_exec(vm, mem.as_mut_ptr().cast(), mem.len(), &mut r0) };
        }
        6 => {
            // SAFETY: `errmsg` is writable.
            let f = unsafe { ubpf_compile(vm, &mut errmsg) };
            if let Some(slot) = w.uvms.iter_mut().find(|(v, _)| *v == vm) {
                slot.1 = f;
            }
        }
        7 => {
            let mut mem = {
                let n = t.byte() as usize % 40;
                t.bytes(n)
            };
            if let Some(Some(f)) = w.uvms.iter().find(|(v, _)| *v == vm).map(|s| s.1) {
                // SAFETY: the VM is alive and its code loaded since it was
                // compiled; `mem` holds its length.
                unsafe { f(mem.as_mut_ptr().cast(), mem.len()) };
            }
        }
        _ => {
            let mut prev = 0u32;
            // SAFETY: `prev` is writable.
            unsafe { ubpf_set_instruction_limit(vm, 1 + u32::from(t.byte()) * 8, &mut prev) };
        }
    }
    free_errmsg(errmsg);
}

/// A destroyed or unloaded VM's compiled function must not be called.
fn forget_jit(w: &mut World, vm: *mut ubpf_vm) {
    for slot in w.uvms.iter_mut().filter(|(v, _)| *v == vm) {
        slot.1 = None;
    }
}

fuzz_target!(|data: &[u8]| {
    let mut t = Tape(data);
    let mut w = World::default();
    // At most 48 calls: a JIT compilation per load keeps a case slow.
    for _ in 0..48 {
        if t.empty() {
            break;
        }
        let op = t.byte();
        if op & 0x80 == 0 {
            native_op(&mut w, op, &mut t);
        } else {
            ubpf_op(&mut w, op & 0x7f, &mut t);
        }
    }
    // Free what is left, twice: the second time every handle is stale.
    for _ in 0..2 {
        for &vm in &w.vms {
            check(cranebpf_vm_free(vm));
        }
        for &m in &w.maps {
            check(cranebpf_map_free(m));
        }
        for &(vm, _) in &w.uvms {
            ubpf_destroy(vm);
        }
    }
});
