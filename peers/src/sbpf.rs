//! solana-sbpf 0.26 (interpreter, x86-64 JIT) as an [`Engine`] (cargo
//! feature `heavy`).
//!
//! SBPF is Solana's eBPF dialect. Programs run as SBPF **v3**, the version
//! closest to eBPF: 32-bit jumps, `call` with src = 1 a relative local
//! call. Differences by design, normalised here once:
//! - **Address space.** Memory is a virtual address space translated on
//!   every access: the input is mapped at `MM_INPUT_START`, sbpf's own
//!   stack (frames of 4 KiB, each call a new frame) at `MM_STACK_START`.
//!   r1 = the input's virtual address (0 if empty), r2 = its length. Pointer
//!   values and where a wild access lands differ by design (the profile's
//!   memory model is `Translated`); the given [`Stack`] is not used. Other
//!   regions of the run's [`MemoryMap`] are not mapped.
//! - **Helpers** ("syscalls") are keyed by a hash of their name: each
//!   registered helper id below [`TRAMPOLINES`] becomes the syscall
//!   `cranebpf_helper_<id>`, and the adapter's copy of the program calls it
//!   by that hash. The helper runs with the run's [`MemoryMap`], but its
//!   pointer arguments are sbpf virtual addresses; a helper's error stops
//!   the run (interpreter and JIT).
//! - **Profile.** No eBPF v4 additions (sign-extending loads and moves,
//!   `bswap`, signed division, `gotol`: sbpf's verifier refuses them), no
//!   atomics, no `callx` as eBPF encodes it, no LD_ABS/LD_IND, no map
//!   `lddw`, no maps. The instruction meter is set from the budget (its
//!   count differs from the budget rule's, so counts are not compared), and
//!   faults say only that the run failed.

use crate::{peer_fault, StaticProgram};
use cranebpf_runtime::engine::profile::{IsaVersion, MemoryModel};
use cranebpf_runtime::engine::{Capabilities, Engine, PrepareError, Prepared, Profile};
use cranebpf_runtime::{HelperCtx, Helpers, MemoryMap, Program, RunOptions, RunOutcome, Stack};
use solana_sbpf::aligned_memory::AlignedMemory;
use solana_sbpf::ebpf;
use solana_sbpf::elf::Executable;
use solana_sbpf::error::ProgramResult;
use solana_sbpf::memory_region::{MemoryMapping, MemoryRegion};
use solana_sbpf::program::{
    BuiltinFunctionDefinition, BuiltinProgram, FunctionRegistry, SBPFVersion,
};
use solana_sbpf::verifier::RequisiteVerifier;
use solana_sbpf::vm::{CallFrame, Config, ContextObject, EbpfVm, ExecutionMode};
use std::any::Any;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};

const VERSION: SBPFVersion = SBPFVersion::V3;

/// Helper ids that become syscalls (0 to 255).
pub const TRAMPOLINES: u32 = 256;

/// solana-sbpf as a cranebpf [`Engine`].
#[derive(Clone, Copy, Debug)]
pub struct SbpfEngine {
    jit: bool,
}

impl SbpfEngine {
    /// The interpreter, or with `jit` the x86-64 JIT.
    pub fn new(jit: bool) -> SbpfEngine {
        SbpfEngine { jit }
    }
}

/// What solana-sbpf runs.
fn sbpf_profile() -> Profile {
    let mut p = Profile::FULL;
    p.isa = IsaVersion::V3;
    p.atomics = false;
    p.callx = false;
    p.packet_loads = false;
    p.pseudo_lddw = false;
    p.memory = MemoryModel::Translated;
    p
}

impl Engine for SbpfEngine {
    fn name(&self) -> &str {
        if self.jit {
            "sbpf-jit"
        } else {
            "sbpf-interp"
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::EXACT;
        c.counts_instructions = false;
        c.uses_given_stack = false;
        c.fault_detail = false;
        c.profile = sbpf_profile();
        c
    }

    fn prepare(
        &self,
        program: &Program,
        helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        if self.jit && !cfg!(target_arch = "x86_64") {
            return Err("solana-sbpf's JIT emits x86-64 only".into());
        }
        if let Some((i, gap)) = sbpf_profile().first_gap(program.insns().iter().map(|(_, i)| i)) {
            return Err(format!(
                "{}: instruction {i} is outside its profile: {gap}",
                self.name()
            )
            .into());
        }
        let mut loader = BuiltinProgram::new_loader(Config::default());
        for id in helpers.ids().filter(|&id| id < TRAMPOLINES) {
            register(id, &mut loader)?;
        }
        let text = StaticProgram::new(with_syscall_keys(program, &helpers));
        let exe = Executable::from_text_bytes(
            text.bytes(),
            Arc::new(loader),
            VERSION,
            FunctionRegistry::default(),
        )
        .map_err(|e| e.to_string())?;
        exe.verify::<RequisiteVerifier>()
            .map_err(|e| e.to_string())?;
        if self.jit {
            exe.jit_compile().map_err(|e| e.to_string())?;
        }
        let config = exe.get_config();
        let state = RunState {
            stack: AlignedMemory::zero_filled(config.stack_size()),
            frames: vec![CallFrame::default(); config.max_call_depth],
            ctx: Ctx {
                remaining: 0,
                mapping: None,
                helpers,
                mem: std::ptr::null_mut(),
            },
            mapped: (0, usize::MAX),
        };
        Ok(Box::new(SbpfPrepared {
            state: Mutex::new(state),
            exe,
            jit: self.jit,
            _text: text,
        }))
    }
}

/// The program's bytes with each helper call's id replaced by the hash of
/// its syscall's name.
fn with_syscall_keys(program: &Program, helpers: &Helpers) -> Vec<u8> {
    let mut text = program.to_bytes();
    for slot in text.chunks_exact_mut(8) {
        if slot[0] == 0x85 && slot[1] >> 4 == 0 {
            let id = u32::from_le_bytes([slot[4], slot[5], slot[6], slot[7]]);
            if id < TRAMPOLINES && helpers.get(id).is_some() {
                let key = ebpf::hash_symbol_name(syscall_name(id).as_bytes());
                slot[4..8].copy_from_slice(&key.to_le_bytes());
            }
        }
    }
    text
}

fn syscall_name(id: u32) -> String {
    format!("cranebpf_helper_{id}")
}

/// The context object: the instruction meter, the memory mapping of the
/// current input, and the helpers with the run's memory map.
struct Ctx {
    remaining: u64,
    mapping: Option<MemoryMapping>,
    helpers: Helpers,
    /// The run's memory map while a run is in progress (else null).
    mem: *mut MemoryMap<'static>,
}

impl ContextObject for Ctx {
    fn consume(&mut self, amount: u64) {
        self.remaining = self.remaining.saturating_sub(amount);
    }

    fn get_remaining(&self) -> u64 {
        self.remaining
    }

    fn active_mapping_ptr(&mut self) -> NonNull<MemoryMapping> {
        match &mut self.mapping {
            Some(m) => NonNull::from(m),
            // `run` builds the mapping before making the VM.
            None => NonNull::dangling(),
        }
    }
}

/// The syscall of helper `ID`.
struct Syscall<const ID: u32>;

impl<const ID: u32> BuiltinFunctionDefinition<Ctx> for Syscall<ID> {
    type Error = String;

    fn rust(ctx: &mut Ctx, a: u64, b: u64, c: u64, d: u64, e: u64) -> Result<u64, String> {
        if ctx.mem.is_null() {
            return Err("no run in progress".to_string());
        }
        // SAFETY: `mem` is set by `SbpfPrepared::run` to the run's memory
        // map, which it borrows exclusively for the whole run, and reset
        // to null before it returns.
        let mem = unsafe { &mut *ctx.mem };
        let mut hctx = HelperCtx { mem, user: None };
        match ctx.helpers.call(ID, &mut hctx, [a, b, c, d, e]) {
            Some(r) => r.map_err(|e| e.to_string()),
            None => Err(format!("helper {ID} is not registered")),
        }
    }
}

type Register = fn(&mut BuiltinProgram<Ctx>, &str) -> Result<(), solana_sbpf::elf::ElfError>;

macro_rules! row {
    ($b:expr) => {
        [
            Syscall::<{ $b }>::register,
            Syscall::<{ $b + 1 }>::register,
            Syscall::<{ $b + 2 }>::register,
            Syscall::<{ $b + 3 }>::register,
            Syscall::<{ $b + 4 }>::register,
            Syscall::<{ $b + 5 }>::register,
            Syscall::<{ $b + 6 }>::register,
            Syscall::<{ $b + 7 }>::register,
            Syscall::<{ $b + 8 }>::register,
            Syscall::<{ $b + 9 }>::register,
            Syscall::<{ $b + 10 }>::register,
            Syscall::<{ $b + 11 }>::register,
            Syscall::<{ $b + 12 }>::register,
            Syscall::<{ $b + 13 }>::register,
            Syscall::<{ $b + 14 }>::register,
            Syscall::<{ $b + 15 }>::register,
        ]
    };
}

/// The registration of each helper id's syscall: 16 rows of 16.
static TABLE: [[Register; 16]; 16] = [
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

/// Registers helper `id`'s syscall (`id` below [`TRAMPOLINES`]).
fn register(id: u32, loader: &mut BuiltinProgram<Ctx>) -> Result<(), PrepareError> {
    let i = (id % TRAMPOLINES) as usize;
    TABLE[i / 16][i % 16](loader, &syscall_name(id))?;
    Ok(())
}

/// What one run needs besides the executable; reused across runs.
struct RunState {
    stack: AlignedMemory<{ ebpf::HOST_ALIGN }>,
    frames: Vec<CallFrame>,
    ctx: Ctx,
    /// The input (address, length) the mapping was built for.
    mapped: (usize, usize),
}

struct SbpfPrepared {
    state: Mutex<RunState>,
    exe: Executable<Ctx>,
    jit: bool,
    // Last: the executable borrows it.
    _text: StaticProgram,
}

// SAFETY: the executable (program, loader, JIT code) and the run state
// (stack, frames, context, mapping of the last input) are tied to no
// thread; runs lock `state`, and the executable is only read.
unsafe impl Send for SbpfPrepared {}
// SAFETY: as above.
unsafe impl Sync for SbpfPrepared {}

impl Prepared for SbpfPrepared {
    fn run(
        &self,
        _stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        _user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let result = self.run_locked(mem, args, opts);
        RunOutcome {
            result: result.map_err(peer_fault),
            insn_count: 0,
        }
    }

    fn code_size(&self) -> Option<usize> {
        self.exe
            .get_compiled_program()
            .map(|p| p.machine_code_length())
    }
}

impl SbpfPrepared {
    fn run_locked(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
    ) -> Result<u64, String> {
        let mut guard = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *guard;
        let input = mem.input_region(args[0]);
        let (start, len) = input.map_or((0, 0), |r| (r.start as usize, r.len as usize));
        if st.mapped != (start, len) || st.ctx.mapping.is_none() {
            let mut regions = vec![
                self.exe.get_ro_region(),
                MemoryRegion::new(&mut st.stack, ebpf::MM_STACK_START),
            ];
            if len > 0 {
                // `start..start+len` is the input region of `mem`, lent
                // for this run; the mapping is rebuilt whenever the input's
                // address or length changes and is used only while a run
                // holds `mem` (see the SAFETY below).
                let bytes: *mut [u8] = std::ptr::slice_from_raw_parts_mut(start as *mut u8, len);
                regions.push(MemoryRegion::new(bytes, ebpf::MM_INPUT_START));
            }
            // SAFETY: the regions are the executable's read-only section,
            // the run state's stack and the input (see above).
            let mapping = unsafe { MemoryMapping::new(regions, self.exe.get_config(), VERSION) }
                .map_err(|e| e.to_string())?;
            st.ctx.mapping = Some(mapping);
            st.mapped = (start, len);
        }
        st.ctx.remaining = opts
            .budget
            .map_or(u64::MAX / 2, |b| b.saturating_mul(2).saturating_add(64));
        st.ctx.mem = (mem as *mut MemoryMap<'_>).cast();
        let stack_len = st.stack.len();
        let loader = self.exe.get_loader().clone();
        let mut vm = EbpfVm::new(loader, VERSION, &mut st.ctx, stack_len);
        vm.registers[1] = if len > 0 { ebpf::MM_INPUT_START } else { 0 };
        vm.registers[2] = args[1];
        let mut mode = if self.jit {
            ExecutionMode::Jit
        } else {
            ExecutionMode::Interpreted
        };
        let (_, result) = vm.execute_program(&self.exe, &mut mode, &mut st.frames);
        drop(vm);
        st.ctx.mem = std::ptr::null_mut();
        match result {
            ProgramResult::Ok(v) => Ok(v),
            ProgramResult::Err(e) => Err(e.to_string()),
        }
    }
}
