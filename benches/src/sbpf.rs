//! solana-sbpf 0.26 as a peer (cargo feature `peers`).
//!
//! SBPF is Solana's eBPF dialect. The programs run as SBPF **v3**, the
//! version closest to eBPF: it has 32-bit jumps and resolves `call` with
//! src = 1 as a relative bpf-to-bpf call (v0 resolves calls through a table
//! of hashed symbol names instead). What differs from eBPF and how the suite
//! deals with it:
//! - memory is a virtual address space translated on every access (input at
//!   `MM_INPUT_START`, stack at `MM_STACK_START`): r1 and r2 are set to the
//!   input's virtual address and length;
//! - helpers ("syscalls") are keyed by a hash of their name: the `call 1` of
//!   the `helpers` workload is rewritten to the hash of the registered
//!   function's name;
//! - there are no maps, and a helper cannot return a host pointer for the
//!   program to dereference (every region must be mapped up front), so the
//!   `hashmap` workload is not run;
//! - the instruction set lacks eBPF v4's additions (sign-extending loads and
//!   moves, `bswap`, signed division), which its verifier refuses.

use crate::c_workloads::Needs;
use crate::native_helpers;
use crate::subject::{Exec, Subject};
use solana_sbpf::aligned_memory::AlignedMemory;
use solana_sbpf::ebpf;
use solana_sbpf::elf::Executable;
use solana_sbpf::error::ProgramResult;
use solana_sbpf::memory_region::{MemoryMapping, MemoryRegion};
use solana_sbpf::program::{BuiltinProgram, FunctionRegistry, SBPFVersion};
use solana_sbpf::verifier::RequisiteVerifier;
use solana_sbpf::vm::{CallFrame, Config, ContextObject, EbpfVm, ExecutionMode};
use std::ptr::NonNull;
use std::sync::Arc;

const VERSION: SBPFVersion = SBPFVersion::V3;
const MIX_NAME: &str = "cranebpf_bench_mix";

/// The context object: an instruction meter that never runs out, and the
/// memory mapping of the current input.
struct Ctx {
    remaining: u64,
    mapping: Option<MemoryMapping>,
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

solana_sbpf::declare_builtin_function!(
    /// The `mix` helper.
    SbpfMix,
    fn rust(
        _ctx: &mut Ctx,
        a: u64,
        b: u64,
        _c: u64,
        _d: u64,
        _e: u64,
    ) -> Result<u64, Box<dyn std::error::Error>> {
        Ok(native_helpers::mix(a, b))
    }
);

struct SbpfExec {
    exe: Executable<Ctx>,
    jit: bool,
    stack: AlignedMemory<{ ebpf::HOST_ALIGN }>,
    frames: Vec<CallFrame>,
    ctx: Ctx,
    /// Input the mapping was built for.
    mapped: (usize, usize),
}

/// Prepares `s` for solana-sbpf's interpreter or JIT.
pub fn prepare(s: &Subject<'_>, jit: bool) -> Result<Box<dyn Exec>, String> {
    if jit && !cfg!(target_arch = "x86_64") {
        return Err("solana-sbpf's JIT emits x86-64 only".to_string());
    }
    let mut loader = BuiltinProgram::new_loader(Config::default());
    let mut text = s.bytecode.to_vec();
    match s.needs {
        Needs::Nothing => {}
        Needs::Mix => {
            loader
                .register_definition::<SbpfMix>(MIX_NAME)
                .map_err(|e| e.to_string())?;
            let key = ebpf::hash_symbol_name(MIX_NAME.as_bytes());
            for slot in text.chunks_exact_mut(8) {
                if slot[0] == 0x85 && slot[1] >> 4 == 0 && slot[4..8] == 1i32.to_le_bytes() {
                    slot[4..8].copy_from_slice(&key.to_le_bytes());
                }
            }
        }
        Needs::Flows => {
            return Err("no maps, and helpers cannot hand out host pointers".to_string());
        }
    }
    let loader = Arc::new(loader);
    let exe = Executable::from_text_bytes(&text, loader, VERSION, FunctionRegistry::default())
        .map_err(|e| e.to_string())?;
    exe.verify::<RequisiteVerifier>()
        .map_err(|e| e.to_string())?;
    if jit {
        exe.jit_compile().map_err(|e| e.to_string())?;
    }
    let config = exe.get_config();
    let stack = AlignedMemory::zero_filled(config.stack_size());
    let frames = vec![CallFrame::default(); config.max_call_depth];
    Ok(Box::new(SbpfExec {
        exe,
        jit,
        stack,
        frames,
        ctx: Ctx {
            remaining: u64::MAX / 2,
            mapping: None,
        },
        mapped: (0, usize::MAX),
    }))
}

impl Exec for SbpfExec {
    fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        let key = (input.as_mut_ptr() as usize, input.len());
        if self.mapped != key || self.ctx.mapping.is_none() {
            let regions = vec![
                self.exe.get_ro_region(),
                MemoryRegion::new(&mut self.stack, ebpf::MM_STACK_START),
                MemoryRegion::new(input as *mut [u8], ebpf::MM_INPUT_START),
            ];
            // SAFETY: the regions are the executable's read-only section,
            // `self.stack` and `input`; the mapping is rebuilt whenever the
            // input's address or length changes, and is used only inside
            // `run`, while `input` is exclusively borrowed and `self.stack`
            // is not otherwise touched.
            let mapping = unsafe { MemoryMapping::new(regions, self.exe.get_config(), VERSION) }
                .map_err(|e| e.to_string())?;
            self.ctx.mapping = Some(mapping);
            self.mapped = key;
        }
        self.ctx.remaining = u64::MAX / 2;
        let stack_len = self.stack.len();
        let loader = self.exe.get_loader().clone();
        let mut vm = EbpfVm::new(loader, VERSION, &mut self.ctx, stack_len);
        vm.registers[1] = ebpf::MM_INPUT_START;
        vm.registers[2] = input.len() as u64;
        let mut mode = if self.jit {
            ExecutionMode::Jit
        } else {
            ExecutionMode::Interpreted
        };
        let (_, result) = vm.execute_program(&self.exe, &mut mode, &mut self.frames);
        match result {
            ProgramResult::Ok(v) => Ok(v),
            ProgramResult::Err(e) => Err(e.to_string()),
        }
    }

    fn code_size(&self) -> Option<usize> {
        self.exe
            .get_compiled_program()
            .map(|p| p.machine_code_length())
    }
}
