//! Every engine that runs the benchmark programs, behind one interface.
//!
//! [`engines`] is the list: each entry is one [`EngineSpec`] with a name,
//! its kind, and what prepares a program ([`Subject`]) for repeated runs
//! ([`Exec`]). An entry is built from any runtime [`Engine`]
//! ([`EngineSpec::from_engine`]): cranebpf's interpreter and JIT tiers, the
//! peers of the `cranebpf-peers` crate (rbpf; with the `peers` feature rbpf's
//! Cranelift JIT and solana-sbpf), or an embedder's own engine, which joins
//! the suite with [`register`]. Native code is the one entry that is not an
//! engine.

use crate::c_workloads::{CWorkload, Cpu, NativeFn, Needs};
use crate::native_helpers;
pub use crate::subject::{Exec, Subject};
use cranebpf::{
    Engine, FastInterpreterEngine, Helpers, InterpreterEngine, JitEngine, JitOptions, MemoryMap,
    Program, RunOptions, RunOutcome, Stack,
};
use cranebpf_peers::{RbpfEngine, RbpfMode};
use cranebpf_runtime::elf::LoadedProgram;
use std::sync::{LazyLock, Mutex};

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

/// Where an entry's prepared programs come from.
enum Source {
    /// The natively compiled C.
    Native,
    /// An engine; an ELF workload runs through the loaded object's run
    /// driver (its maps and kernel helpers).
    Engine(Box<dyn Engine>),
    /// A peer engine configured for each workload (its own helpers and
    /// allowed memory), run on the raw bytecode.
    Peer(fn(&Subject<'_>) -> Result<Box<dyn Engine>, String>),
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
    source: Source,
}

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSpec")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A string that lives as long as the suite's engine list.
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

impl EngineSpec {
    /// An entry for any engine: named by [`Engine::name`], an interpreter
    /// unless [`kind`](EngineSpec::kind) says otherwise, unchecked if its
    /// capabilities say it checks no bounds.
    pub fn from_engine(engine: Box<dyn Engine>) -> EngineSpec {
        let name = leak(engine.name());
        EngineSpec {
            name,
            kind: Kind::Interpreter,
            peer: false,
            unchecked: !engine.capabilities().checks_bounds,
            about: name,
            available: true,
            source: Source::Engine(engine),
        }
    }

    /// Sets the kind.
    pub fn kind(mut self, kind: Kind) -> EngineSpec {
        self.kind = kind;
        self
    }

    /// Marks the entry as another project's engine.
    pub fn peer(mut self) -> EngineSpec {
        self.peer = true;
        self
    }

    /// Sets the one-line description.
    pub fn about(mut self, about: &str) -> EngineSpec {
        self.about = leak(about);
        self
    }

    /// Marks the entry as unchecked (no memory safety checks).
    pub fn unchecked(mut self, unchecked: bool) -> EngineSpec {
        self.unchecked = unchecked;
        self
    }

    /// A peer of `cranebpf-peers`, configured per workload by `build`;
    /// `available` if built in.
    fn peer_entry(
        name: &'static str,
        kind: Kind,
        unchecked: bool,
        about: &'static str,
        available: bool,
        build: fn(&Subject<'_>) -> Result<Box<dyn Engine>, String>,
    ) -> EngineSpec {
        EngineSpec {
            name,
            kind,
            peer: true,
            unchecked,
            about,
            available,
            source: Source::Peer(build),
        }
    }

    /// Prepares `s` for this engine (compiling it, for a JIT). Errors say why
    /// the engine refuses the program.
    pub fn prepare(&self, s: &Subject<'_>) -> Result<Box<dyn Exec>, String> {
        if !self.available {
            return Err("not built (cargo feature `peers`)".to_string());
        }
        match &self.source {
            Source::Native => match s.native {
                Some(f) => Ok(Box::new(NativeExec(f))),
                None => Err("no native build".to_string()),
            },
            Source::Engine(e) => Ok(Box::new(EngineExec::new(s, &**e, true)?)),
            Source::Peer(build) => Ok(Box::new(EngineExec::new(s, &*build(s)?, false)?)),
        }
    }
}

fn cranebpf_entry(jit: Option<JitOptions>, kind: Kind, about: &str) -> EngineSpec {
    let engine: Box<dyn Engine> = match jit {
        Some(options) => Box::new(JitEngine {
            options,
            name: None,
        }),
        None => Box::new(InterpreterEngine),
    };
    EngineSpec::from_engine(engine).kind(kind).about(about)
}

/// Every built-in engine, in table order (unavailable ones included: see
/// [`engines`]).
pub static ENGINES: LazyLock<Vec<EngineSpec>> = LazyLock::new(|| {
    let heavy = cfg!(feature = "peers");
    vec![
        cranebpf_entry(None, Kind::Interpreter, "cranebpf's reference interpreter")
            .named("cranebpf-interp"),
        EngineSpec::from_engine(Box::new(FastInterpreterEngine))
            .about("cranebpf's fast interpreter tier (specialised ops, block-charged budget)")
            .named("cranebpf-interp-fast"),
        cranebpf_entry(
            Some(jit_options("speed")),
            Kind::Jit,
            "cranebpf's Cranelift JIT, opt_level speed (the default)",
        )
        .named("cranebpf-jit"),
        cranebpf_entry(
            Some(jit_options("none")),
            Kind::Jit,
            "cranebpf's JIT, opt_level none (the fast-compile tier)",
        )
        .named("cranebpf-jit-fast"),
        cranebpf_entry(
            Some(elide_jit_options()),
            Kind::Jit,
            "cranebpf's JIT dropping the checks the load-time proof covers (verify = elide)",
        )
        .named("cranebpf-jit-elide"),
        cranebpf_entry(
            Some(unchecked_jit_options()),
            Kind::Jit,
            "cranebpf's JIT with bounds checks off (unsafe; benchmarks only)",
        )
        .named("cranebpf-jit-unchecked")
        .unchecked(true),
        EngineSpec::peer_entry(
            "rbpf-interp",
            Kind::Interpreter,
            false,
            "rbpf 0.4.1 interpreter (cranebpf-peers adapter)",
            true,
            |s| rbpf_engine(s, RbpfMode::Interp),
        ),
        EngineSpec::peer_entry(
            "rbpf-jit",
            Kind::Jit,
            true,
            "rbpf 0.4.1 x86-64 JIT (no memory checks)",
            true,
            |s| rbpf_engine(s, RbpfMode::Jit),
        ),
        EngineSpec::peer_entry(
            "rbpf-cranelift",
            Kind::Jit,
            false,
            "rbpf 0.4.1 Cranelift JIT (feature `cranelift`, Cranelift 0.127)",
            heavy,
            |s| rbpf_engine(s, RbpfMode::Cranelift),
        ),
        EngineSpec::peer_entry(
            "sbpf-interp",
            Kind::Interpreter,
            false,
            "solana-sbpf 0.26.0 interpreter, SBPF v3, default Config",
            heavy,
            |s| sbpf_engine(s, "sbpf-interp"),
        ),
        EngineSpec::peer_entry(
            "sbpf-jit",
            Kind::Jit,
            false,
            "solana-sbpf 0.26.0 x86-64 JIT, SBPF v3, default Config",
            heavy,
            |s| sbpf_engine(s, "sbpf-jit"),
        ),
        EngineSpec {
            name: "native",
            kind: Kind::Native,
            peer: false,
            unchecked: true,
            about: "the same C, compiled by the system C compiler at -O2",
            available: true,
            source: Source::Native,
        },
    ]
});

impl EngineSpec {
    /// Renames the entry (the table's name for a built-in engine).
    fn named(mut self, name: &'static str) -> EngineSpec {
        self.name = name;
        self
    }
}

/// Engines added with [`register`], after the built-in ones.
static REGISTERED: Mutex<Vec<&'static EngineSpec>> = Mutex::new(Vec::new());

/// Adds an engine to the suite (after the built-in ones, before nothing
/// else): every later [`engines`] lists it, so the tables, the chart and
/// the correctness test include it. The entry lives for the rest of the
/// process.
pub fn register(spec: EngineSpec) -> &'static EngineSpec {
    let spec: &'static EngineSpec = Box::leak(Box::new(spec));
    REGISTERED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(spec);
    spec
}

/// The engines built into this binary and those [`register`]ed, in table
/// order (native last).
pub fn engines() -> impl Iterator<Item = &'static EngineSpec> {
    let registered = REGISTERED.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let (native, built_in): (Vec<_>, Vec<_>) = ENGINES
        .iter()
        .filter(|e| e.available)
        .partition(|e| e.kind == Kind::Native);
    built_in.into_iter().chain(registered).chain(native)
}

/// The engine called `name` (built in or registered).
pub fn engine(name: &str) -> Option<&'static EngineSpec> {
    ENGINES
        .iter()
        .find(|e| e.name == name)
        .or_else(|| engines().find(|e| e.name == name))
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
        let mut exec = EngineExec::new(&self.subject(input.len()), &InterpreterEngine, true)?;
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

/// The JIT dropping the checks the verifier's proof covers.
fn elide_jit_options() -> JitOptions {
    let mut o = jit_options("speed");
    o.verify = cranebpf::VerifyMode::Elide;
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

/// An engine's prepared program. With `driver`, an ELF program runs
/// through the loaded object's run driver (kernel helpers and maps);
/// without, on the raw bytecode with r1 = input, r2 = its length.
struct EngineExec {
    prepared: Box<dyn cranebpf::Prepared>,
    loaded: Option<LoadedProgram>,
    /// The stack of runs without the driver, reused across runs.
    stack: Box<Stack>,
}

impl EngineExec {
    fn new(s: &Subject<'_>, engine: &dyn Engine, driver: bool) -> Result<EngineExec, String> {
        let (prog, helpers, loaded) = match s.loaded {
            Some(l) if driver => {
                // The object's maps are shared by the engines of one
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
            _ => {
                let prog = Program::from_bytes(s.bytecode).map_err(|e| e.to_string())?;
                let mut h = Helpers::new();
                match s.needs {
                    Needs::Nothing => {}
                    Needs::Mix => {
                        // It touches no VM memory and cannot fail: the
                        // JIT calls it directly.
                        h.register_direct(1, "mix", direct_mix);
                    }
                    // A peer gives its own map helpers (see `rbpf_engine`).
                    Needs::Flows if !driver => {}
                    Needs::Flows => return Err("the flows map needs the ELF object".to_string()),
                }
                (prog, h, None)
            }
        };
        let prepared = engine.prepare(&prog, helpers).map_err(|e| e.to_string())?;
        Ok(EngineExec {
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

impl Exec for EngineExec {
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        self.outcome(input).result.map_err(|f| f.to_string())
    }

    fn code_size(&self) -> Option<usize> {
        self.prepared.code_size()
    }
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

/// Helper 1 of the `helpers` workload as a direct C-ABI helper.
extern "C" fn direct_mix(a: u64, b: u64, _: u64, _: u64, _: u64) -> u64 {
    native_helpers::mix(a, b)
}

// ---------------------------------------------------------------- peers

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

/// rbpf's engine of `mode` for `s`: the workload's helpers as plain
/// functions (rbpf's own helper call, what the suite times), and for the
/// map workload the native flows map's values as allowed memory.
fn rbpf_engine(s: &Subject<'_>, mode: RbpfMode) -> Result<Box<dyn Engine>, String> {
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
    let mut e = RbpfEngine::new(mode);
    match s.needs {
        Needs::Nothing => {}
        Needs::Mix => e = e.native_helper(1, rbpf_mix),
        Needs::Flows => {
            e = e
                .native_helper(1, rbpf_lookup)
                .native_helper(2, rbpf_update);
            // rbpf's interpreter checks accesses against the input, the
            // stack and these ranges: the map values the lookup returns.
            let map = native_helpers::flows_map();
            for k in 0..native_helpers::FLOWS {
                if let Some(v) = map.lookup_ref(&native_helpers::flow_key(k)) {
                    e = e.allow_memory(v.addr()..v.addr() + v.len() as u64);
                }
            }
        }
    }
    Ok(Box::new(e))
}

/// solana-sbpf's engine called `name`, if the workload fits it.
fn sbpf_engine(s: &Subject<'_>, name: &str) -> Result<Box<dyn Engine>, String> {
    if s.needs == Needs::Flows {
        return Err("no maps, and helpers cannot hand out host pointers".to_string());
    }
    cranebpf_peers::engine(name).ok_or_else(|| "not built (cargo feature `peers`)".to_string())
}

/// The text of a caught panic (a peer engine's), or "" if it has none.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    cranebpf_peers::panic_message(p)
}
