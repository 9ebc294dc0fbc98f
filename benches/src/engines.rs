//! Every engine that runs the benchmark programs, behind one interface.
//!
//! [`engines`] is the list: each entry is one [`EngineSpec`] with a name,
//! its kind, and a constructor that prepares a program ([`Subject`]) for
//! repeated runs ([`Exec`]). Adding an engine (say, a cranebpf JIT mode) is
//! adding one entry to [`ENGINES`].
//!
//! The peers behind the `peers` cargo feature (rbpf's Cranelift JIT,
//! solana-sbpf) are listed only when it is on.

use crate::c_workloads::{CWorkload, Cpu, NativeFn, Needs};
use crate::native_helpers;
pub use crate::subject::{Exec, Subject};
use cranebpf::{
    Engine, Helpers, InterpreterEngine, JitEngine, JitOptions, MemoryMap, Program, RunOptions,
    RunOutcome, Stack,
};
use cranebpf_runtime::elf::LoadedProgram;

/// What kind of engine an entry is (peer ratios compare like with like).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Interprets the bytecode.
    Interpreter,
    /// Compiles to machine code.
    Jit,
    /// The C compiled natively (the reference).
    Native,
}

/// One engine of the suite.
pub struct EngineSpec {
    /// Short name used in tables, charts and benchmark ids.
    pub name: &'static str,
    /// Interpreter, JIT or native.
    pub kind: Kind,
    /// Another project's engine (as opposed to cranebpf or native).
    pub peer: bool,
    /// Runs with memory safety checks off (never for untrusted programs);
    /// the table marks it.
    pub unchecked: bool,
    /// One line on what exactly runs (version, configuration).
    pub about: &'static str,
    /// Whether the engine is built in (peers behind the `peers` feature).
    pub available: bool,
    build: fn(&Subject<'_>) -> Result<Box<dyn Exec>, String>,
}

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl EngineSpec {
    /// Prepares `s` for this engine (compiling it, for a JIT). Errors say why
    /// the engine refuses the program.
    pub fn prepare(&self, s: &Subject<'_>) -> Result<Box<dyn Exec>, String> {
        if !self.available {
            return Err("not built (cargo feature `peers`)".to_string());
        }
        (self.build)(s)
    }
}

/// Every engine, in table order (unavailable ones included: see
/// [`engines`]).
pub static ENGINES: &[EngineSpec] = &[
    EngineSpec {
        name: "cranebpf-interp",
        kind: Kind::Interpreter,
        peer: false,
        unchecked: false,
        about: "cranebpf's reference interpreter",
        available: true,
        build: |s| cranebpf_exec(s, None),
    },
    EngineSpec {
        name: "cranebpf-jit",
        kind: Kind::Jit,
        peer: false,
        unchecked: false,
        about: "cranebpf's Cranelift JIT, opt_level speed (the default)",
        available: true,
        build: |s| cranebpf_exec(s, Some(jit_options("speed"))),
    },
    EngineSpec {
        name: "cranebpf-jit-fast",
        kind: Kind::Jit,
        peer: false,
        unchecked: false,
        about: "cranebpf's JIT, opt_level none (the fast-compile tier)",
        available: true,
        build: |s| cranebpf_exec(s, Some(jit_options("none"))),
    },
    EngineSpec {
        name: "cranebpf-jit-elide",
        kind: Kind::Jit,
        peer: false,
        unchecked: false,
        about: "cranebpf's JIT dropping the checks the load-time proof covers (verify = elide)",
        available: true,
        build: |s| {
            let mut o = jit_options("speed");
            o.verify = cranebpf::VerifyMode::Elide;
            cranebpf_exec(s, Some(o))
        },
    },
    EngineSpec {
        name: "cranebpf-jit-unchecked",
        kind: Kind::Jit,
        peer: false,
        unchecked: true,
        about: "cranebpf's JIT with bounds checks off (unsafe; benchmarks only)",
        available: true,
        build: |s| cranebpf_exec(s, Some(unchecked_jit_options())),
    },
    EngineSpec {
        name: "rbpf-interp",
        kind: Kind::Interpreter,
        peer: true,
        unchecked: false,
        about: "rbpf 0.4.1 interpreter (EbpfVmRaw::execute_program)",
        available: true,
        build: |s| rbpf_exec(s, RbpfMode::Interp),
    },
    EngineSpec {
        name: "rbpf-jit",
        kind: Kind::Jit,
        peer: true,
        unchecked: true,
        about: "rbpf 0.4.1 x86-64 JIT (no memory checks)",
        available: true,
        build: |s| rbpf_exec(s, RbpfMode::Jit),
    },
    EngineSpec {
        name: "rbpf-cranelift",
        kind: Kind::Jit,
        peer: true,
        unchecked: false,
        about: "rbpf 0.4.1 Cranelift JIT (feature `cranelift`, Cranelift 0.127)",
        available: cfg!(feature = "peers"),
        build: |s| rbpf_exec(s, RbpfMode::Cranelift),
    },
    EngineSpec {
        name: "sbpf-interp",
        kind: Kind::Interpreter,
        peer: true,
        unchecked: false,
        about: "solana-sbpf 0.26.0 interpreter, SBPF v3, default Config",
        available: cfg!(feature = "peers"),
        build: |s| sbpf_exec(s, false),
    },
    EngineSpec {
        name: "sbpf-jit",
        kind: Kind::Jit,
        peer: true,
        unchecked: false,
        about: "solana-sbpf 0.26.0 x86-64 JIT, SBPF v3, default Config",
        available: cfg!(feature = "peers"),
        build: |s| sbpf_exec(s, true),
    },
    EngineSpec {
        name: "native",
        kind: Kind::Native,
        peer: false,
        unchecked: true,
        about: "the same C, compiled by the system C compiler at -O2",
        available: true,
        build: |s| match s.native {
            Some(f) => Ok(Box::new(NativeExec(f))),
            None => Err("no native build".to_string()),
        },
    },
];

/// The engines built into this binary, in table order.
pub fn engines() -> impl Iterator<Item = &'static EngineSpec> {
    ENGINES.iter().filter(|e| e.available)
}

/// The engine called `name`.
pub fn engine(name: &str) -> Option<&'static EngineSpec> {
    ENGINES.iter().find(|e| e.name == name)
}

/// A C workload at one ISA level, with everything its engines need: the
/// owner of the bytecode (and of the loaded ELF object) that [`Subject`]s
/// borrow.
#[derive(Debug)]
pub struct Prepared {
    /// The workload.
    pub workload: CWorkload,
    /// The ISA level.
    pub cpu: Cpu,
    bytecode: Vec<u8>,
    loaded: Option<LoadedProgram>,
}

impl Prepared {
    /// Loads `w`'s code for `cpu`.
    pub fn new(w: &CWorkload, cpu: Cpu) -> Result<Prepared, String> {
        let loaded = match w.code {
            crate::c_workloads::Code::Elf(..) => Some(w.load_elf(cpu)?),
            crate::c_workloads::Code::Raw(_) => None,
        };
        let bytecode = match &loaded {
            Some(l) => l.program().to_bytes(),
            None => w.bytecode(cpu)?.into_owned(),
        };
        Ok(Prepared {
            workload: *w,
            cpu,
            bytecode,
            loaded,
        })
    }

    /// The subject for inputs of `input_len` bytes.
    pub fn subject(&self, input_len: usize) -> Subject<'_> {
        Subject {
            bytecode: &self.bytecode,
            needs: self.workload.needs,
            loaded: self.loaded.as_ref(),
            native: Some(self.workload.native),
            input_len,
        }
    }

    /// Instructions cranebpf's interpreter executes on `input` (the count
    /// behind "ns per eBPF instruction"), with r0.
    pub fn insn_count(&self, input: &mut [u8]) -> Result<(u64, u64), String> {
        let mut exec = CranebpfExec::new(&self.subject(input.len()), None)?;
        let out = exec.outcome(input);
        let r0 = out.result.map_err(|f| f.to_string())?;
        Ok((out.insn_count, r0))
    }
}

fn jit_options(opt_level: &str) -> JitOptions {
    let mut o = JitOptions::default();
    o.verifier = false;
    o.opt_level = opt_level.to_string();
    o
}

/// The JIT with its memory bounds checks off, to show what they cost.
fn unchecked_jit_options() -> JitOptions {
    // SAFETY: used only on this crate's workloads, our own programs whose
    // every access stays inside the memory they are given: the checked
    // engines run each of them on the same inputs without a fault
    // (`tests/c_workloads.rs`, `tests/checks_off.rs`), and the runs here are
    // the same programs on the same inputs.
    unsafe { jit_options("speed").without_bounds_checks() }
}

/// A cranebpf engine's prepared program ([`cranebpf::Prepared`], by its
/// [`Engine`]); for an ELF
/// program, run through the loader's run driver (kernel helpers and maps).
struct CranebpfExec {
    prepared: Box<dyn cranebpf::Prepared>,
    loaded: Option<LoadedProgram>,
    /// The stack of runs without the driver, reused across runs.
    stack: Box<Stack>,
}

impl CranebpfExec {
    fn new(s: &Subject<'_>, jit: Option<JitOptions>) -> Result<CranebpfExec, String> {
        let (prog, helpers, loaded) = match s.loaded {
            Some(l) => {
                // The object's maps are shared by the cranebpf engines of one
                // `Prepared` (clones share maps); filling resets the counters.
                let l = l.clone();
                if s.needs == Needs::Flows {
                    let map = l
                        .map("flows")
                        .ok_or_else(|| "the object has no `flows` map".to_string())?;
                    native_helpers::fill_flows(map)?;
                }
                (l.program().clone(), l.helpers().clone(), Some(l))
            }
            None => {
                let prog = Program::from_bytes(s.bytecode).map_err(|e| e.to_string())?;
                let mut h = Helpers::new();
                match s.needs {
                    Needs::Nothing => {}
                    Needs::Mix => {
                        h.register(1, "mix", |_, a| Ok(native_helpers::mix(a[0], a[1])));
                    }
                    Needs::Flows => return Err("the flows map needs the ELF object".to_string()),
                }
                (prog, h, None)
            }
        };
        let engine: Box<dyn Engine> = match jit {
            Some(options) => Box::new(JitEngine {
                options,
                name: None,
            }),
            None => Box::new(InterpreterEngine),
        };
        let prepared = engine.prepare(&prog, helpers).map_err(|e| e.to_string())?;
        Ok(CranebpfExec {
            prepared,
            loaded,
            stack: Stack::boxed(),
        })
    }

    fn outcome(&mut self, input: &mut [u8]) -> RunOutcome {
        let opts = RunOptions::default();
        match &self.loaded {
            Some(l) => l.run_mem(input, &opts, &*self.prepared),
            None => {
                // As `Vm::run_input`: r1 = input (0 if empty), r2 = length.
                let mut mem = MemoryMap::new();
                let args = if input.is_empty() {
                    [0; 5]
                } else {
                    let r = mem.add_mut(input);
                    [r.start, r.len, 0, 0, 0]
                };
                self.prepared
                    .run(&mut self.stack, &mut mem, args, &opts, None)
            }
        }
    }
}

impl Exec for CranebpfExec {
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        self.outcome(input).result.map_err(|f| f.to_string())
    }

    fn code_size(&self) -> Option<usize> {
        self.prepared.code_size()
    }
}

fn cranebpf_exec(s: &Subject<'_>, jit: Option<JitOptions>) -> Result<Box<dyn Exec>, String> {
    Ok(Box::new(CranebpfExec::new(s, jit)?))
}

struct NativeExec(NativeFn);

impl Exec for NativeExec {
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        // SAFETY: every workload reads and writes only inside `[p, p + len)`
        // (and the map values its helpers return) for the inputs it is
        // benchmarked on; pointer and length come from one live slice.
        Ok(unsafe { (self.0)(input.as_mut_ptr(), input.len() as u64) })
    }
}

/// Whether `bytecode` has a bpf-to-bpf call (`call` with src = 1).
fn has_local_call(bytecode: &[u8]) -> bool {
    bytecode
        .chunks_exact(8)
        .any(|s| s[0] == 0x85 && s[1] >> 4 == 1)
}

// ---------------------------------------------------------------- rbpf

#[derive(Clone, Copy, PartialEq, Eq)]
enum RbpfMode {
    Interp,
    Jit,
    Cranelift,
}

struct RbpfExec {
    vm: rbpf::EbpfVmRaw<'static>,
    mode: RbpfMode,
}

/// rbpf sets r1 to the input but leaves r2 (the length) at 0, so its copy
/// of the program starts with `mov r2, input_len`; relative jump and call
/// offsets are unchanged. One extra instruction per run. The copy is leaked
/// (rbpf's VM borrows its program for its whole life); runners are made a
/// bounded number of times per process.
fn rbpf_program(bytecode: &[u8], input_len: usize) -> Result<&'static [u8], String> {
    let len =
        i32::try_from(input_len).map_err(|_| "input too large for rbpf prologue".to_string())?;
    let mut prog = vec![0xb7, 0x02, 0, 0];
    prog.extend_from_slice(&len.to_le_bytes());
    prog.extend_from_slice(bytecode);
    Ok(Box::leak(prog.into_boxed_slice()))
}

fn rbpf_mix(a: u64, b: u64, _: u64, _: u64, _: u64) -> u64 {
    native_helpers::mix(a, b)
}

fn rbpf_lookup(_map: u64, key: u64, _: u64, _: u64, _: u64) -> u64 {
    // SAFETY: rbpf passes guest registers through unchecked; the `hashmap`
    // workload passes a pointer to a 16-byte key on rbpf's stack (host
    // memory), which the correctness test checks against native.
    unsafe { native_helpers::map_lookup(key as usize as *const u8) }
}

fn rbpf_update(_map: u64, key: u64, value: u64, flags: u64, _: u64) -> u64 {
    // SAFETY: as in `rbpf_lookup`; `value` points to a 24-byte value on
    // rbpf's stack.
    unsafe {
        native_helpers::map_update(
            key as usize as *const u8,
            value as usize as *const u8,
            flags,
        )
    }
}

fn rbpf_exec(s: &Subject<'_>, mode: RbpfMode) -> Result<Box<dyn Exec>, String> {
    if mode != RbpfMode::Interp && !cfg!(target_arch = "x86_64") {
        return Err("rbpf's JITs are built for x86-64 only here".to_string());
    }
    if mode == RbpfMode::Cranelift && has_local_call(s.bytecode) {
        // rbpf 0.4.1's Cranelift JIT treats every `call` as a helper call.
        return Err("no bpf-to-bpf calls in rbpf's Cranelift JIT".to_string());
    }
    if mode == RbpfMode::Jit && s.needs == Needs::Flows {
        // rbpf 0.4.1's x86 JIT enters the program body through a `call`
        // (its exit path) after 16-byte-aligned pushes, so helpers run with
        // the stack 8 bytes off the SysV alignment; the map helpers (std's
        // SSE hash table) then segfault on aligned stack accesses.
        return Err(
            "rbpf's JIT calls helpers with a misaligned stack (segfaults in the map helpers)"
                .to_string(),
        );
    }
    if mode == RbpfMode::Cranelift && s.needs == Needs::Flows {
        // Its bounds checks allow only the input, mbuff and stack (no
        // `register_allowed_memory`), and a failed check is a Cranelift
        // trap: SIGILL, the process dies.
        return Err(
            "rbpf's Cranelift JIT traps (SIGILL) on map values a helper returns".to_string(),
        );
    }
    let prog = rbpf_program(s.bytecode, s.input_len)?;
    let mut vm = rbpf::EbpfVmRaw::new(Some(prog)).map_err(|e| e.to_string())?;
    let helpers: &[(u32, rbpf::ebpf::Helper)] = match s.needs {
        Needs::Nothing => &[],
        Needs::Mix => &[(1, rbpf_mix)],
        Needs::Flows => &[(1, rbpf_lookup), (2, rbpf_update)],
    };
    for &(id, f) in helpers {
        vm.register_helper(id, f).map_err(|e| e.to_string())?;
    }
    if s.needs == Needs::Flows {
        // rbpf's interpreter checks accesses against the input, the stack and
        // these ranges: the map values the lookup helper returns.
        let map = native_helpers::flows_map();
        for k in 0..native_helpers::FLOWS {
            if let Some(v) = map.lookup_ref(&native_helpers::flow_key(k)) {
                vm.register_allowed_memory(v.addr()..v.addr() + v.len() as u64);
            }
        }
    }
    match mode {
        RbpfMode::Interp => {}
        RbpfMode::Jit => vm.jit_compile().map_err(|e| e.to_string())?,
        RbpfMode::Cranelift => rbpf_cranelift_compile(&mut vm)?,
    }
    Ok(Box::new(RbpfExec { vm, mode }))
}

#[cfg(feature = "peers")]
fn rbpf_cranelift_compile(vm: &mut rbpf::EbpfVmRaw<'static>) -> Result<(), String> {
    // rbpf's Cranelift translator panics (`unimplemented!`) on instructions
    // it lacks; report that as a refusal.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| vm.cranelift_compile()))
        .map_err(|p| format!("rbpf's Cranelift JIT panicked: {}", panic_message(&*p)))?
        .map_err(|e| e.to_string())
}

#[cfg(not(feature = "peers"))]
fn rbpf_cranelift_compile(_: &mut rbpf::EbpfVmRaw<'static>) -> Result<(), String> {
    Err("not built (cargo feature `peers`)".to_string())
}

impl Exec for RbpfExec {
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        let (ptr, len) = (input.as_mut_ptr(), input.len());
        // SAFETY: `ptr..ptr+len` is the live, exclusively borrowed `input`;
        // the slice made here is used only for this call (rbpf's signature
        // wants the VM's lifetime, which the call does not actually retain),
        // and `input` is not touched until it returns.
        let mem: &'static mut [u8] = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
        match self.mode {
            RbpfMode::Interp => self.vm.execute_program(mem),
            // SAFETY: rbpf's x86 JIT code checks no bounds; the workloads
            // access only `[r1, r1 + r2)`, their stack frames and map values,
            // which the correctness test checks with the interpreters.
            RbpfMode::Jit => unsafe { self.vm.execute_program_jit(mem) },
            RbpfMode::Cranelift => rbpf_cranelift_run(&self.vm, mem),
        }
        .map_err(|e| e.to_string())
    }
}

#[cfg(feature = "peers")]
fn rbpf_cranelift_run(
    vm: &rbpf::EbpfVmRaw<'static>,
    mem: &'static mut [u8],
) -> Result<u64, std::io::Error> {
    vm.execute_program_cranelift(mem)
}

#[cfg(not(feature = "peers"))]
fn rbpf_cranelift_run(
    _: &rbpf::EbpfVmRaw<'static>,
    _: &'static mut [u8],
) -> Result<u64, std::io::Error> {
    Err(std::io::Error::other("not built"))
}

// ---------------------------------------------------------------- sbpf

#[cfg(feature = "peers")]
fn sbpf_exec(s: &Subject<'_>, jit: bool) -> Result<Box<dyn Exec>, String> {
    crate::sbpf::prepare(s, jit)
}

#[cfg(not(feature = "peers"))]
fn sbpf_exec(_: &Subject<'_>, _: bool) -> Result<Box<dyn Exec>, String> {
    Err("not built (cargo feature `peers`)".to_string())
}

/// The text of a caught panic (a peer engine's), or "" if it has none.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
