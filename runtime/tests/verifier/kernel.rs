//! The Linux kernel as the oracle for strict mode's acceptance: every
//! program of every corpus object is loaded into the kernel verifier
//! (through the system's libbpf, opened with `dlopen` so that nothing links
//! against it, one program at a time with `bpf_program__set_autoload`) and
//! verified by cranebpf in strict mode; the test prints the 2×2 table.
//!
//! Asserted: every program the kernel accepts is accepted by strict mode
//! with every access proven, and every program strict mode accepts but the
//! kernel refuses is one of [`DELIBERATE`], each with its reason.
//!
//! Without libbpf or a usable `bpf()` the test prints a loud notice and
//! passes, unless `CRANEBPF_REQUIRE_KERNEL=1`.

use super::corpus::{not_modelled, objects, strict_verdicts};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// Programs strict mode accepts and the kernel refuses, on purpose.
const DELIBERATE: &[(&str, &str, &str)] = &[];

type OpenFile = unsafe extern "C" fn(*const c_char, *const c_void) -> *mut c_void;
type NextProgram = unsafe extern "C" fn(*const c_void, *const c_void) -> *mut c_void;
type ProgramName = unsafe extern "C" fn(*const c_void) -> *const c_char;
type SetAutoload = unsafe extern "C" fn(*mut c_void, bool) -> c_int;
type Load = unsafe extern "C" fn(*mut c_void) -> c_int;
type Close = unsafe extern "C" fn(*mut c_void);
type SetPrint = unsafe extern "C" fn(*const c_void) -> *const c_void;
type ProbeProgType = unsafe extern "C" fn(u32, *const c_void) -> c_int;

/// The few libbpf functions the oracle uses.
struct Libbpf {
    open: OpenFile,
    next: NextProgram,
    name: ProgramName,
    autoload: SetAutoload,
    load: Load,
    close: Close,
}

/// `dlsym` of `name`, as a function pointer of type `T`.
///
/// # Safety
/// `T` must be the symbol's C signature.
unsafe fn sym<T: Copy>(lib: *mut c_void, name: &CStr) -> Result<T, String> {
    // SAFETY: `lib` is a live handle from dlopen; `name` is NUL-terminated.
    let p = unsafe { libc::dlsym(lib, name.as_ptr()) };
    if p.is_null() {
        return Err(format!("libbpf has no {name:?}"));
    }
    // SAFETY: the caller promises `T` is the function's type; function
    // pointers and data pointers have the same size here.
    Ok(unsafe { std::mem::transmute_copy(&p) })
}

impl Libbpf {
    /// Opens the system's libbpf and checks that XDP programs can be loaded.
    fn open() -> Result<Libbpf, String> {
        // SAFETY: dlopen with a NUL-terminated name; the handle is never
        // closed, so the symbols stay valid.
        let lib = unsafe { libc::dlopen(c"libbpf.so.1".as_ptr(), libc::RTLD_NOW) };
        if lib.is_null() {
            return Err("libbpf.so.1 not found".into());
        }
        // SAFETY: each type below is the libbpf 1.x signature of its symbol.
        unsafe {
            let set_print: SetPrint = sym(lib, c"libbpf_set_print")?;
            set_print(std::ptr::null());
            let probe: ProbeProgType = sym(lib, c"libbpf_probe_bpf_prog_type")?;
            const BPF_PROG_TYPE_XDP: u32 = 6;
            match probe(BPF_PROG_TYPE_XDP, std::ptr::null()) {
                1 => {}
                r => return Err(format!("cannot load XDP programs (probe: {r})")),
            }
            Ok(Libbpf {
                open: sym(lib, c"bpf_object__open_file")?,
                next: sym(lib, c"bpf_object__next_program")?,
                name: sym(lib, c"bpf_program__name")?,
                autoload: sym(lib, c"bpf_program__set_autoload")?,
                load: sym(lib, c"bpf_object__load")?,
                close: sym(lib, c"bpf_object__close")?,
            })
        }
    }

    /// Whether the kernel loads program `prog` of object `path`: with all
    /// the object's programs (a program array may name the others, which
    /// libbpf then needs loaded), or else alone.
    fn accepts(&self, path: &CStr, prog: &str) -> bool {
        self.load_some(path, None) || self.load_some(path, Some(prog))
    }

    /// Loads program `only` of object `path`, or all of them.
    fn load_some(&self, path: &CStr, only: Option<&str>) -> bool {
        // SAFETY: libbpf calls with its documented contracts: the object is
        // only used between a successful open and its close, program
        // pointers come from `next` on that object, names are C strings.
        unsafe {
            let obj = (self.open)(path.as_ptr(), std::ptr::null());
            if obj.is_null() || (obj as isize) < 0 && (obj as isize) > -4096 {
                return false;
            }
            let mut found = false;
            let mut p = (self.next)(obj, std::ptr::null());
            while !p.is_null() {
                let name = CStr::from_ptr((self.name)(p)).to_string_lossy();
                let this = only.is_none_or(|o| name == o);
                found |= this;
                (self.autoload)(p, this);
                p = (self.next)(obj, p);
            }
            let ok = found && (self.load)(obj) == 0;
            (self.close)(obj);
            ok
        }
    }
}

fn libbpf_or_skip() -> Option<Libbpf> {
    match Libbpf::open() {
        Ok(l) => Some(l),
        Err(why) => {
            let required = std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "CRANEBPF_REQUIRE_KERNEL=1 but the kernel oracle is unusable: {why}"
            );
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! VERIFIER KERNEL ORACLE SKIPPED: {why}");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            None
        }
    }
}

#[test]
fn strict_mode_accepts_what_the_kernel_accepts() {
    let Some(lib) = libbpf_or_skip() else {
        return;
    };
    let mut table = [[0usize; 2]; 2];
    let mut bad = Vec::new();
    let paths = objects();
    for (file, name, verdict) in strict_verdicts() {
        let path = paths
            .iter()
            .find(|p| p.file_name().is_some_and(|f| f.to_string_lossy() == file))
            .expect("verdicts come from these objects");
        let c = CString::new(path.to_string_lossy().as_bytes()).expect("no NUL in paths");
        let kernel = lib.accepts(&c, &name);
        let strict = verdict.is_ok();
        table[usize::from(!kernel)][usize::from(!strict)] += 1;
        let full = matches!(verdict, Ok((p, t)) if p == t);
        println!(
            "{file} {name}: kernel {}, strict {}",
            if kernel { "accepts" } else { "refuses" },
            match &verdict {
                Ok((p, t)) => format!("accepts ({p}/{t} proven)"),
                Err(e) => format!("refuses: {}", e.lines().last().unwrap_or("").trim()),
            }
        );
        if kernel && !full && not_modelled(&file, &name) {
            println!("  (a known gap: the verifier does not model this program type yet)");
        } else if kernel && !full {
            bad.push(format!(
                "{file} {name}: the kernel accepts it; strict: {verdict:?}"
            ));
        }
        let deliberate = DELIBERATE.iter().any(|(f, n, _)| *f == file && *n == name);
        if !kernel && strict && !deliberate {
            bad.push(format!(
                "{file} {name}: strict accepts what the kernel refuses"
            ));
        }
    }
    println!("                 strict accepts  strict refuses");
    println!("kernel accepts   {:>14}  {:>14}", table[0][0], table[0][1]);
    println!("kernel refuses   {:>14}  {:>14}", table[1][0], table[1][1]);
    assert!(
        table[0][0] > 0,
        "the kernel accepted nothing: is the oracle working?"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
