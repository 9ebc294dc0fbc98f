//! cranebpf: a userspace eBPF runtime (RFC 9669) with a reference
//! interpreter and a Cranelift JIT.
//!
//! A [`Program`] is bytecode that decoded strictly and passed the validator.
//! A [`Vm`] runs it with one of two interchangeable [`EngineKind`]s: the
//! interpreter (the oracle) or the JIT, which lowers each eBPF function to
//! Cranelift IR (crate `cranebpf-lower`) and compiles it for the host. Both
//! take the same [`Helpers`], return the same [`Fault`]s and count
//! instructions by the same budget rule, so they agree on every program and
//! input.
//!
//! Run contract: r1 = input pointer (0 if empty), r2 = input length, r10 =
//! stack top, other registers 0; the stack is one zeroed region of
//! [`STACK_SIZE`] bytes per run (see the interpreter's module docs for the
//! whole engine contract, which both engines follow).
//!
//! The JIT targets the host (x86-64, aarch64 or riscv64); [`clif_text`] and
//! [`native_disasm`] also work for the other [`SUPPORTED_TARGETS`].
//! Generated code contains no trapping instruction and the library installs
//! no signal handler: every fault is an explicit check that returns to the
//! host. [`JitProgram`] is the compiled form; [`Vm`] wraps either engine.
//! [`ObjectVm`] prepares every program of a loaded ELF object
//! ([`cranebpf_runtime::elf::ProgramSet`]) and runs chains of tail calls.
//! Classic BPF runs through the same engines after translation:
//! [`filter::PacketFilter`] (tcpdump/libpcap filters) and
//! [`seccomp::SeccompFilter`] (seccomp policies).
//!
//! ```
//! use cranebpf::{Program, Helpers, Vm};
//! use cranebpf::insn::{Insn, Reg, Size};
//!
//! // r0 = *(u32 *)(r1 + 0); exit
//! let prog = Program::from_insns(&[
//!     Insn::Ldx { size: Size::W, sx: false, dst: Reg::R0, src: Reg::R1, off: 0 },
//!     Insn::Exit,
//! ])?;
//! let vm = Vm::jit(&prog, Helpers::new())?;
//! let mut input = [0x78, 0x56, 0x34, 0x12];
//! assert_eq!(vm.run(&mut input)?, 0x1234_5678);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod context;
mod engines;
mod error;
pub mod filter;
mod host;
mod isa;
mod module;
mod proof;
pub mod seccomp;
mod set;
mod tier;
mod tools;
pub mod trace;

pub use context::RunContext;
pub use cranebpf_lower::PlantedBug;
pub use cranebpf_runtime::engine::{Capabilities, Engine, PrepareError, Prepared};
pub use cranebpf_runtime::kernel::tail::{ChainOutcome, ChainPrograms};
pub use cranebpf_runtime::{
    Access, EngineError, Fault, FaultKind, Helper, HelperCtx, HelperError, Helpers, Interpreter,
    LoadError, MemoryMap, Program, Region, RunOptions, RunOutcome, Stack, MAX_CALL_DEPTH,
    STACK_FRAME_SIZE, STACK_SIZE,
};
pub use cranebpf_runtime::{FastInterpreter, FastInterpreterEngine, InterpreterEngine};
pub use engines::{planted_bug_engine, JitEngine};
pub use error::{JitError, Limit};
pub use isa::{
    JitOptions, VerifyMode, FAST_TIER, FAST_TIER_ABOVE, FAST_TIER_MAX_BLOCKS, SUPPORTED_TARGETS,
};
pub use module::{JitProgram, MAX_FUNCTIONS};
pub use set::ObjectVm;
pub use tools::{clif_text, native_disasm};

/// The assembler and disassembler (the conformance suite's syntax).
pub use cranebpf_runtime::asm;

/// The instruction model, for building programs in code.
pub mod insn {
    pub use cranebpf_runtime::{
        AluOp, AtomicOp, CallKind, Endian, Insn, JmpCond, LddwKind, RawInsn, Reg, Size, Src, Width,
    };
}

use cranebpf_runtime::engine::scratch::{with_regions, with_stack, with_storage};
use std::any::Any;
use std::fmt;

/// Which engine a [`Vm`] runs programs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// The reference interpreter.
    Interpreter,
    /// Native code compiled by Cranelift for the host.
    Jit,
}

/// Why a [`Vm`] could not be made.
#[derive(Debug)]
#[non_exhaustive]
pub enum VmError {
    /// The program uses a feature no engine supports (both engines report
    /// the same error for the same program and helpers).
    Engine(EngineError),
    /// The JIT could not compile the program.
    Jit(JitError),
}

impl fmt::Display for VmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VmError::Engine(e) => write!(f, "{e}"),
            VmError::Jit(e) => write!(f, "{e}"),
        }
    }
}

/// `Display` is the cause's message, so `source()` is `None` (each message
/// prints once).
impl std::error::Error for VmError {}

impl From<JitError> for VmError {
    fn from(e: JitError) -> VmError {
        match e.engine_error() {
            Some(ee) => VmError::Engine(ee.clone()),
            None => VmError::Jit(e),
        }
    }
}

impl From<EngineError> for VmError {
    fn from(e: EngineError) -> VmError {
        VmError::Engine(e)
    }
}

enum Inner {
    Interp(Interpreter),
    Jit(Box<JitProgram>),
    Tiered(Box<tier::Tiered>),
}

/// A program ready to run with one engine. Reusable across runs, and
/// `Send + Sync`: runs on several threads at once do not interfere.
pub struct Vm {
    inner: Inner,
}

impl fmt::Debug for Vm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vm")
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}

impl Vm {
    /// Prepares `program` for `engine`.
    pub fn new(program: &Program, helpers: Helpers, engine: EngineKind) -> Result<Vm, VmError> {
        match engine {
            EngineKind::Jit => Ok(Vm {
                inner: Inner::Jit(Box::new(JitProgram::new(program, helpers)?)),
            }),
            EngineKind::Interpreter => Ok(Vm {
                inner: Inner::Interp(Interpreter::new(program, helpers)?),
            }),
        }
    }

    /// Prepares `program` for the interpreter.
    pub fn interpreter(program: &Program, helpers: Helpers) -> Result<Vm, VmError> {
        Vm::new(program, helpers, EngineKind::Interpreter)
    }

    /// Compiles `program` with the JIT.
    pub fn jit(program: &Program, helpers: Helpers) -> Result<Vm, VmError> {
        Vm::new(program, helpers, EngineKind::Jit)
    }

    /// Compiles `program` with the JIT and explicit code generation options.
    pub fn jit_with(program: &Program, helpers: Helpers, opts: &JitOptions) -> Result<Vm, VmError> {
        Ok(Vm {
            inner: Inner::Jit(Box::new(JitProgram::with_options(program, helpers, opts)?)),
        })
    }

    /// A tiered VM: its runs go to the interpreter while the JIT compiles
    /// `program` with `opts` on a background thread, and to the compiled
    /// code once it is ready (see `tier.rs`). The time to the first result
    /// is the interpreter's load time. Results, faults and instruction
    /// counts are those of either engine, which agree. Load errors are
    /// reported at once; if the compilation fails, the VM stays on the
    /// interpreter ([`Vm::jit_error`]).
    pub fn tiered(program: &Program, helpers: Helpers, opts: &JitOptions) -> Result<Vm, VmError> {
        Vm::tiered_after(program, helpers, opts, 0)
    }

    /// [`Vm::tiered`], keeping the first `interp_calls` runs on the
    /// interpreter even if the JIT is ready earlier (to place the switch
    /// in tests, or to skip compiled code for a program run only a few
    /// times).
    pub fn tiered_after(
        program: &Program,
        helpers: Helpers,
        opts: &JitOptions,
        interp_calls: u64,
    ) -> Result<Vm, VmError> {
        let t = tier::Tiered::new(program, helpers, opts, interp_calls)?;
        Ok(Vm {
            inner: Inner::Tiered(Box::new(t)),
        })
    }

    /// For a tiered VM: blocks until the background compilation ended and
    /// returns whether compiled code is now available. `true` for the JIT,
    /// `false` for the interpreter.
    pub fn wait_for_jit(&self) -> bool {
        match &self.inner {
            Inner::Interp(_) => false,
            Inner::Jit(_) => true,
            Inner::Tiered(t) => t.wait(),
        }
    }

    /// For a tiered VM whose background compilation failed: why.
    pub fn jit_error(&self) -> Option<&JitError> {
        match &self.inner {
            Inner::Tiered(t) => t.jit_error(),
            _ => None,
        }
    }

    /// Bytes of machine code, for the JIT (and a tiered VM once compiled).
    pub fn code_size(&self) -> Option<usize> {
        match &self.inner {
            Inner::Interp(_) => None,
            Inner::Jit(p) => Some(p.code_size()),
            Inner::Tiered(t) => t.code_size(),
        }
    }

    /// The engine this VM runs with; for a tiered VM, `Jit` once compiled
    /// code is available, `Interpreter` before.
    pub fn engine(&self) -> EngineKind {
        match &self.inner {
            Inner::Interp(_) => EngineKind::Interpreter,
            Inner::Jit(_) => EngineKind::Jit,
            Inner::Tiered(t) if t.switched() => EngineKind::Jit,
            Inner::Tiered(_) => EngineKind::Interpreter,
        }
    }

    /// The compiled program of a JIT VM (not of a tiered one).
    pub(crate) fn as_jit(&self) -> Option<&JitProgram> {
        match &self.inner {
            Inner::Jit(p) => Some(p),
            _ => None,
        }
    }

    /// Runs with `input` as the (read-write) input region: r1 = its address
    /// (0 if empty), r2 = its length. Returns r0 or the fault.
    pub fn run(&self, input: &mut [u8]) -> Result<u64, Fault> {
        self.run_input(input, &RunOptions::default()).result
    }

    /// [`Vm::run`] with options, returning the whole outcome (result and
    /// instruction count).
    pub fn run_input(&self, input: &mut [u8], opts: &RunOptions) -> RunOutcome {
        // The JIT and the interpreter take the prebuilt-context entry on
        // this thread's scratch stack and region storage.
        match &self.inner {
            Inner::Jit(p) => {
                return with_stack(|s| {
                    with_storage(|r| {
                        let mut map = MemoryMap::with_storage(std::mem::take(r));
                        let out = p.run_input_on(s, &mut map, input, opts);
                        *r = map.into_storage();
                        out
                    })
                })
            }
            Inner::Interp(i) => {
                return with_stack(|s| with_storage(|r| i.run_input_on(s, r, input, opts)))
            }
            Inner::Tiered(_) => {}
        }
        with_regions(|mem| {
            let args = if input.is_empty() {
                [0; 5]
            } else {
                let r = mem.add_mut(input);
                [r.start, r.len, 0, 0, 0]
            };
            self.run_with(mem, args, opts, None)
        })
    }

    /// Runs with an explicit memory map and r1..r5. The input region (read
    /// by LD_ABS/LD_IND) is the region of `mem` that starts at r1. `user` is
    /// passed to helpers as [`HelperCtx::user`]. The run allocates nothing:
    /// its stack is this thread's reused scratch stack, zeroed as far as
    /// the program can observe it.
    pub fn run_with(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        match &self.inner {
            Inner::Interp(i) => i.run_with(mem, args, opts, user),
            Inner::Jit(p) => p.run_with(mem, args, opts, user),
            Inner::Tiered(t) => t.run_with(mem, args, opts, user),
        }
    }
}
