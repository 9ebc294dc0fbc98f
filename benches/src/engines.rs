//! Every engine that runs the C workloads, behind one [`Runner`] interface.

use crate::c_workloads::{CWorkload, Cpu};
use cranebpf::{Engine, Helpers, Program, RunOptions, Vm};

/// An engine a workload can run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// cranebpf's reference interpreter.
    CranebpfInterp,
    /// cranebpf's Cranelift JIT (default options: opt_level speed).
    CranebpfJit,
    /// rbpf 0.4's interpreter (`EbpfVmRaw::execute_program`).
    RbpfInterp,
    /// rbpf 0.4's x86-64 JIT (`EbpfVmRaw::execute_program_jit`).
    RbpfJit,
    /// The same C compiled natively.
    Native,
}

impl EngineKind {
    /// Every engine, in table order.
    pub const ALL: [EngineKind; 5] = [
        EngineKind::CranebpfInterp,
        EngineKind::CranebpfJit,
        EngineKind::RbpfInterp,
        EngineKind::RbpfJit,
        EngineKind::Native,
    ];

    /// Short name used in tables and benchmark ids.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::CranebpfInterp => "cranebpf-interp",
            EngineKind::CranebpfJit => "cranebpf-jit",
            EngineKind::RbpfInterp => "rbpf-interp",
            EngineKind::RbpfJit => "rbpf-jit",
            EngineKind::Native => "native",
        }
    }

    /// Whether this is a peer (another project's engine).
    pub fn is_peer(self) -> bool {
        matches!(self, EngineKind::RbpfInterp | EngineKind::RbpfJit)
    }

    /// Whether this engine interprets (as opposed to running machine code).
    pub fn is_interpreter(self) -> bool {
        matches!(self, EngineKind::CranebpfInterp | EngineKind::RbpfInterp)
    }
}

/// A workload prepared for one engine: compile cost is paid in
/// [`Runner::new`], [`Runner::run`] is what benchmarks time.
pub struct Runner {
    inner: Inner,
}

enum Inner {
    Cranebpf(Vm),
    Rbpf {
        vm: rbpf::EbpfVmRaw<'static>,
        jit: bool,
    },
    Native(CWorkload),
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner").finish_non_exhaustive()
    }
}

/// rbpf sets r1 to the input but leaves r2 (the length) at 0, so its copy of
/// the program starts with `mov r2, input_len`; relative jump offsets are
/// unchanged. One extra instruction per run. The copy is leaked (rbpf's VM
/// borrows its program for its whole life); runners are made a bounded number
/// of times per process.
fn rbpf_program(bytecode: &[u8], input_len: usize) -> Result<&'static [u8], String> {
    let len =
        i32::try_from(input_len).map_err(|_| "input too large for rbpf prologue".to_string())?;
    let mut prog = vec![0xb7, 0x02, 0, 0];
    prog.extend_from_slice(&len.to_le_bytes());
    prog.extend_from_slice(bytecode);
    Ok(Box::leak(prog.into_boxed_slice()))
}

impl Runner {
    /// Prepares `w` (bytecode for `cpu`) for `engine`, for inputs of
    /// `input_len` bytes. Errors say why the engine refuses the program.
    pub fn new(
        w: &CWorkload,
        cpu: Cpu,
        engine: EngineKind,
        input_len: usize,
    ) -> Result<Runner, String> {
        let bytecode = w.bytecode(cpu);
        let inner = match engine {
            EngineKind::CranebpfInterp | EngineKind::CranebpfJit => {
                let prog = Program::from_bytes(bytecode).map_err(|e| e.to_string())?;
                let e = if engine == EngineKind::CranebpfJit {
                    Engine::Jit
                } else {
                    Engine::Interpreter
                };
                Inner::Cranebpf(Vm::new(&prog, Helpers::new(), e).map_err(|e| e.to_string())?)
            }
            EngineKind::RbpfInterp | EngineKind::RbpfJit => {
                let prog = rbpf_program(bytecode, input_len)?;
                let mut vm = rbpf::EbpfVmRaw::new(Some(prog)).map_err(|e| e.to_string())?;
                let jit = engine == EngineKind::RbpfJit;
                if jit && !cfg!(target_arch = "x86_64") {
                    return Err("rbpf's JIT emits x86-64 only".to_string());
                }
                if jit {
                    vm.jit_compile().map_err(|e| e.to_string())?;
                }
                Inner::Rbpf { vm, jit }
            }
            EngineKind::Native => Inner::Native(*w),
        };
        Ok(Runner { inner })
    }

    /// Runs once on `input` (which must have the length given to
    /// [`Runner::new`]) and returns r0.
    pub fn run(&self, input: &mut [u8]) -> Result<u64, String> {
        match &self.inner {
            Inner::Cranebpf(vm) => vm.run(input).map_err(|f| f.to_string()),
            Inner::Rbpf { vm, jit } => {
                let (ptr, len) = (input.as_mut_ptr(), input.len());
                // SAFETY: `ptr..ptr+len` is the live, exclusively borrowed
                // `input`; the slice made here is used only for this call
                // (rbpf's signature wants the VM's lifetime, which the call
                // does not actually retain), and `input` is not touched
                // until it returns.
                let mem: &'static mut [u8] = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
                if *jit {
                    // SAFETY: rbpf's JIT code checks no bounds; the workloads
                    // access only `[r1, r1 + r2)` and their stack frame, which
                    // the correctness test checks with the interpreters.
                    unsafe { vm.execute_program_jit(mem) }.map_err(|e| e.to_string())
                } else {
                    vm.execute_program(mem).map_err(|e| e.to_string())
                }
            }
            Inner::Native(w) => Ok(w.run_native(input)),
        }
    }
}

/// Instructions cranebpf's interpreter executes for `w` at `cpu` on `input`
/// (the count behind "ns per eBPF instruction"), with r0.
pub fn insn_count(w: &CWorkload, cpu: Cpu, input: &mut [u8]) -> Result<(u64, u64), String> {
    let prog = Program::from_bytes(w.bytecode(cpu)).map_err(|e| e.to_string())?;
    let vm = Vm::interpreter(&prog, Helpers::new()).map_err(|e| e.to_string())?;
    let out = vm.run_input(input, &RunOptions::default());
    let r0 = out.result.map_err(|f| f.to_string())?;
    Ok((out.insn_count, r0))
}
