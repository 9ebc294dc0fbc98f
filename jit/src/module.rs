//! Compiling a program into executable memory: [`JitProgram`] owns one
//! `JITModule` per program and frees its code on drop.

use crate::error::JitError;
use crate::host::{self, EntryFn};
use crate::isa::{host_isa, JitOptions};
use crate::proof::Convention;
use cranebpf_lower::{
    check_adapter_signature, entry_signature, function_ranges, function_signature,
    lower_check_adapter, lower_entry, lower_function_with, LowerEnv, LowerOptions, PlantedBug,
};
use cranebpf_runtime::analysis::stack_use::zero_bytes;
use cranebpf_runtime::analysis::verifier::VerifyConfig;
use cranebpf_runtime::elf::LoadedProgram;
use cranebpf_runtime::engine::rules::check_program;
use cranebpf_runtime::engine::scratch::with_stack;
use cranebpf_runtime::engine::Prepared;
use cranebpf_runtime::{
    Helpers, MemoryMap, Program, Region, RunOptions, RunOutcome, Stack, STACK_SIZE,
};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, FuncRef, UserFuncName};
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::Context;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::ModuleReloc;
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use std::any::Any;
use std::fmt;
use std::sync::OnceLock;

/// The JIT's [`LowerEnv`]: functions are module declarations, thunks are the
/// real host functions.
struct JitEnv<'m> {
    module: &'m mut JITModule,
    ids: &'m [FuncId],
    /// Only read with the `planted-bugs` feature.
    #[cfg_attr(not(feature = "planted-bugs"), allow(dead_code))]
    bug: Option<PlantedBug>,
    /// The shared check adapter's declaration, if there is one.
    check_adapter: Option<FuncId>,
}

impl LowerEnv for JitEnv<'_> {
    fn make_function_ref(&mut self, func: &mut ir::Function, index: usize) -> FuncRef {
        // `lower_function` only asks for indices of `function_ranges`, all of
        // which were declared.
        self.module.declare_func_in_func(self.ids[index], func)
    }

    fn helper_trampoline(&self) -> u64 {
        host::helper_trampoline as *const () as usize as u64
    }

    fn mem_check_thunk(&self) -> u64 {
        host::mem_check_thunk as *const () as usize as u64
    }

    fn make_check_adapter_ref(&mut self, func: &mut ir::Function) -> Option<FuncRef> {
        let id = self.check_adapter?;
        Some(self.module.declare_func_in_func(id, func))
    }

    #[cfg(feature = "planted-bugs")]
    fn planted_bug(&self) -> Option<PlantedBug> {
        self.bug
    }
}

/// A program compiled to native code for the host, with its helpers.
///
/// Reusable across runs; each run gets a zeroed stack (the thread's reused
/// scratch stack, zeroed as far as the program can observe it, unless the
/// caller passes its own to [`Prepared::run`]) and a fresh context.
pub struct JitProgram {
    /// `Some` until drop; owns the executable memory.
    module: Option<JITModule>,
    entry: EntryFn,
    helpers: Helpers,
    code_size: usize,
    /// Stack bytes a run on the reused scratch stack zeroes
    /// (`cranebpf_runtime::analysis::stack_use`).
    stack_zero: usize,
    /// The entry condition the proof compiled in assumed, and the copy for
    /// runs that break it (`crate::proof`).
    guard: Option<Box<Guard>>,
}

/// A guarded proof's fallback: runs that break [`Guard::convention`] run a
/// copy compiled, on first need, with the proof that assumes nothing.
struct Guard {
    convention: Convention,
    program: Program,
    opts: JitOptions,
    bug: Option<PlantedBug>,
    fallback: OnceLock<Result<JitProgram, JitError>>,
}

// SAFETY: after `finalize_definitions` the module's code memory is read-only
// and executable and is never written again until `free_memory` in `Drop`
// (which needs `&mut self`, so no run can be in progress). A run shares
// nothing mutable between threads: its context, stack and host state are
// local to the `run_with` call, the helpers are `Send + Sync`, and the
// module's bookkeeping (names, declarations) is only touched at compile time
// and at drop. So the program may be moved to and shared between threads.
unsafe impl Send for JitProgram {}
// SAFETY: see `Send` above; `&JitProgram` only allows running.
unsafe impl Sync for JitProgram {}

impl fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JitProgram")
            .field("code_size", &self.code_size)
            .finish_non_exhaustive()
    }
}

impl JitProgram {
    /// Compiles `program` for the host with default options.
    pub fn new(program: &Program, helpers: Helpers) -> Result<JitProgram, JitError> {
        JitProgram::with_options(program, helpers, &JitOptions::default())
    }

    /// Compiles `program` for the host.
    pub fn with_options(
        program: &Program,
        helpers: Helpers,
        opts: &JitOptions,
    ) -> Result<JitProgram, JitError> {
        JitProgram::compile(program, helpers, opts, None, Convention::Mem)
    }

    /// Compiles a program loaded from an object: with [`VerifyMode::Elide`]
    /// (or `Strict`) its checks are dropped by the proof made under
    /// [`VerifyConfig::for_loaded`] (its type's entry, its maps, its global
    /// data), guarded at each run's entry like the raw-memory proof
    /// ([`crate::proof`]): a run through another driver runs checked code.
    ///
    /// [`VerifyMode::Elide`]: crate::VerifyMode::Elide
    pub fn for_loaded(loaded: &LoadedProgram, opts: &JitOptions) -> Result<JitProgram, JitError> {
        let conf = VerifyConfig::for_loaded(loaded);
        JitProgram::compile(
            loaded.program(),
            loaded.helpers().clone(),
            opts,
            None,
            Convention::Loaded(std::sync::Arc::new(conf)),
        )
    }

    /// Compiles `program` with a known semantic bug planted in the generated
    /// code (see [`PlantedBug`]): for tests proving that a differential
    /// harness catches a wrong JIT. Only with the `planted-bugs` feature.
    #[cfg(feature = "planted-bugs")]
    pub fn with_planted_bug(
        program: &Program,
        helpers: Helpers,
        bug: PlantedBug,
    ) -> Result<JitProgram, JitError> {
        JitProgram::compile(
            program,
            helpers,
            &JitOptions::default(),
            Some(bug),
            Convention::Mem,
        )
    }

    fn compile(
        program: &Program,
        helpers: Helpers,
        opts: &JitOptions,
        bug: Option<PlantedBug>,
        want: Convention,
    ) -> Result<JitProgram, JitError> {
        // The load-time engine rules (unregistered static helper, BTF call,
        // LDDW pseudo-load, bad target, fall-through off the end) live in
        // one function that the interpreter calls too, so the JIT rejects
        // exactly the programs the interpreter rejects, with its errors.
        check_program(program, &helpers)?;
        let isa = host_isa(opts, 0)?;
        let adapter = shared_check_adapter(opts);
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        if let Some(a) = adapter {
            builder.symbol(CHECK_ADAPTER, a as *const u8);
        }
        let mut module = JITModule::new(builder);
        let (mut lower_opts, convention) = lower_options(program, &helpers, opts, &want)?;
        lower_opts.direct_helpers = direct_helpers(&helpers);
        match compile_into(&mut module, program, opts, &lower_opts, bug, adapter) {
            Ok((entry_id, code_size)) => {
                let ptr = module.get_finalized_function(entry_id);
                // SAFETY: `entry_id` is the entry wrapper, compiled with
                // `entry_signature(host_cc)` = (i64 x 6) -> i64 in the host's
                // default calling convention, which is `extern "C"`'s.
                let entry = unsafe { std::mem::transmute::<*const u8, EntryFn>(ptr) };
                Ok(JitProgram {
                    module: Some(module),
                    entry,
                    helpers,
                    code_size,
                    stack_zero: zero_bytes(program),
                    guard: Guard::new(convention, program, opts, bug),
                })
            }
            Err(e) => {
                // SAFETY: nothing of this module ever ran or escaped.
                unsafe { module.free_memory() };
                Err(e)
            }
        }
    }

    /// Total bytes of machine code.
    pub fn code_size(&self) -> usize {
        self.code_size
    }

    /// The helpers the program was compiled with.
    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// Runs once with the given memory map, r1..r5, options and user data,
    /// on this thread's scratch stack (`cranebpf_runtime::engine::scratch`),
    /// zeroed where the program can see it.
    pub fn run_with(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        with_stack(|stack| self.run_on(stack, self.stack_zero, mem, args, opts, user))
    }

    /// Runs with `input` as the only region besides the stack (read-write;
    /// r1 = its address or 0 if empty, r2 = its length), on a stack the
    /// caller reuses and does not read (zeroed as far as the program can
    /// observe it), with `map` (empty, and empty again afterwards) for the
    /// run's regions. The cheapest entry (see [`crate::RunContext`]).
    #[inline]
    pub(crate) fn run_input_on(
        &self,
        stack: &mut Stack,
        map: &mut MemoryMap<'_>,
        input: &mut [u8],
        opts: &RunOptions,
    ) -> RunOutcome {
        let (region, args) = if input.is_empty() {
            (None, [0; 5])
        } else {
            let r = Region {
                start: input.as_mut_ptr() as u64,
                len: input.len() as u64,
                writable: true,
            };
            (Some(r), [r.start, r.len, 0, 0, 0])
        };
        // SAFETY: `input` is borrowed mutably for the whole call, so its
        // region is live, writable memory nothing else touches meanwhile.
        unsafe { self.run_regions_on(stack, map, region, &[], args, opts) }
    }

    /// Runs with `input` (the input region: the inline bounds check and the
    /// LD_ABS/LD_IND packet) and `more` as the regions besides the stack,
    /// r1..r5 = `args`, on a stack the caller reuses and does not read.
    /// `map` must be empty and is empty again afterwards: the regions enter
    /// it only if a helper or an out-of-line check needs it (the stack as
    /// region 0, then the input region), so a run that stays in compiled
    /// code builds no map at all.
    ///
    /// # Safety
    /// Every region of `input` and `more` must be memory valid for the
    /// accesses it grants (reads; writes if writable) for the whole call,
    /// and not accessed through Rust references meanwhile.
    #[inline]
    pub(crate) unsafe fn run_regions_on(
        &self,
        stack: &mut Stack,
        map: &mut MemoryMap<'_>,
        input: Option<Region>,
        more: &[Region],
        args: [u64; 5],
        opts: &RunOptions,
    ) -> RunOutcome {
        if let Some(g) = &self.guard {
            // SAFETY: per this function's contract.
            if let Some(out) = unsafe { self.run_guarded(g, stack, map, input, more, args, opts) } {
                return out;
            }
        }
        let stack_region = stack.prepare_top(self.stack_zero);
        let run = host::Entry {
            entry: self.entry,
            helpers: &self.helpers,
            stack_start: stack_region.start,
            input,
            args,
            budget: opts.budget,
        };
        // SAFETY: `entry` is this program's finalized entry wrapper,
        // compiled against `host`'s thunks, and `self.module` keeps it
        // mapped; the stack is borrowed mutably for this whole call, and
        // the other pending regions are valid per this function's contract.
        unsafe { run.call(map, Some(more), None) }
    }

    /// A run that breaks the proof's entry convention takes the guard's
    /// fallback (as `run_on` does): its outcome, or `None` if the
    /// convention holds.
    ///
    /// # Safety
    /// As for [`JitProgram::run_regions_on`].
    #[cold]
    #[allow(clippy::too_many_arguments)]
    unsafe fn run_guarded(
        &self,
        g: &Guard,
        stack: &mut Stack,
        map: &mut MemoryMap<'_>,
        input: Option<Region>,
        more: &[Region],
        args: [u64; 5],
        opts: &RunOptions,
    ) -> Option<RunOutcome> {
        // SAFETY: the regions are valid per this function's contract; `map`
        // is emptied before this function returns.
        unsafe { add_regions(map, input, more) };
        let out = if g.convention.holds(map, &args) {
            None
        } else {
            Some(g.run_fallback(self, stack, self.stack_zero, map, args, opts, None))
        };
        host::clear(map);
        out
    }

    /// Many runs on `stack` with one context (see [`host::Batch`]), each
    /// with its own input region and `more` regions besides (the inline
    /// check covering `more[0]` if `inline_more`), over `map` (empty):
    /// `None` for a program whose proof is guarded (its runs take
    /// [`JitProgram::run_regions_on`]).
    ///
    /// # Safety
    /// `more` must be valid memory for the accesses it grants while the
    /// batch lives.
    pub(crate) unsafe fn batch<'r, 'a>(
        &'r self,
        stack: &'r mut Stack,
        more: &'r [Region],
        inline_more: bool,
        map: &'r mut MemoryMap<'a>,
    ) -> Option<host::Batch<'r, 'a>> {
        if self.guard.is_some() {
            return None;
        }
        // SAFETY: `entry` is this program's finalized entry wrapper, kept
        // mapped by `self.module` while `self` is borrowed; `more` per this
        // function's contract.
        Some(unsafe {
            host::Batch::new(
                self.entry,
                &self.helpers,
                stack,
                self.stack_zero,
                more,
                more.first().copied().filter(|_| inline_more),
                map,
            )
        })
    }

    /// Runs on `stack`, zeroing its top `zero` bytes first.
    fn run_on(
        &self,
        stack: &mut Stack,
        zero: usize,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        if let Some(g) = &self.guard {
            if !g.convention.holds(mem, &args) {
                return g.run_fallback(self, stack, zero, mem, args, opts, user);
            }
        }
        // SAFETY: `entry` is this program's finalized entry wrapper, compiled
        // against `host`'s thunks, and `self.module` keeps it mapped.
        unsafe {
            host::run_with(
                self.entry,
                &self.helpers,
                stack,
                zero,
                mem,
                args,
                opts,
                user,
            )
        }
    }
}

/// The one place the JIT runs: on a stack the caller provides (zeroed first,
/// region 0 during the run, holding the final contents afterwards), as the
/// interpreter's.
impl Prepared for JitProgram {
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.run_on(stack, STACK_SIZE, mem, args, opts, user)
    }

    fn run_reused(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.run_on(stack, self.stack_zero, mem, args, opts, user)
    }

    fn code_size(&self) -> Option<usize> {
        Some(JitProgram::code_size(self))
    }
}

impl Drop for JitProgram {
    fn drop(&mut self) {
        if let Some(m) = self.module.take() {
            // SAFETY: `&mut self` proves no run is in progress, and `entry`
            // is dropped with `self`, so no pointer into the code survives.
            unsafe { m.free_memory() };
        }
    }
}

impl Guard {
    /// The guard of a program compiled under `convention` (none for
    /// [`Convention::Any`]).
    fn new(
        convention: Convention,
        program: &Program,
        opts: &JitOptions,
        bug: Option<PlantedBug>,
    ) -> Option<Box<Guard>> {
        (convention != Convention::Any).then(|| {
            Box::new(Guard {
                convention,
                program: program.clone(),
                opts: opts.clone(),
                bug,
                fallback: OnceLock::new(),
            })
        })
    }

    /// Runs `main`'s program through the unguarded copy (compiled now if
    /// this is the first run that needs it).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    fn run_fallback(
        &self,
        main: &JitProgram,
        stack: &mut Stack,
        zero: usize,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        let fallback = self.fallback.get_or_init(|| {
            JitProgram::compile(
                &self.program,
                main.helpers.clone(),
                &self.opts,
                self.bug,
                Convention::Any,
            )
        });
        match fallback {
            Ok(p) => p.run_on(stack, zero, mem, args, opts, user),
            // The same program and options compiled once already; if the
            // copy still fails, the interpreter (the reference) runs it.
            Err(_) => {
                let interp =
                    cranebpf_runtime::Interpreter::new(&self.program, main.helpers.clone());
                match interp {
                    Ok(i) => Prepared::run(&i, stack, mem, args, opts, user),
                    Err(e) => RunOutcome {
                        result: Err(cranebpf_runtime::engine::opaque_fault(e.to_string())),
                        insn_count: 0,
                    },
                }
            }
        }
    }
}

/// Adds `input` (if any) and `more` to `mem`.
///
/// # Safety
/// As for [`MemoryMap::add_raw`]: each region is memory valid for the
/// accesses it grants while it is in `mem`.
unsafe fn add_regions(mem: &mut MemoryMap<'_>, input: Option<Region>, more: &[Region]) {
    // SAFETY: per this function's contract.
    unsafe {
        if let Some(r) = input {
            mem.add_raw(r);
        }
        for r in more {
            mem.add_raw(*r);
        }
    }
}

/// The helpers compiled code calls directly (registered with
/// [`Helpers::register_direct`]), by id: their C-ABI addresses.
fn direct_helpers(helpers: &Helpers) -> std::collections::BTreeMap<u32, u64> {
    helpers
        .ids()
        .filter_map(|id| Some((id, helpers.direct(id)? as usize as u64)))
        .collect()
}

/// The lowering options that `opts` asks for (with the proof
/// [`crate::proof::obtain`] gives for `program` under `want`), and the
/// convention runs must meet to use them.
fn lower_options(
    program: &Program,
    helpers: &Helpers,
    opts: &JitOptions,
    want: &Convention,
) -> Result<(LowerOptions, Convention), JitError> {
    let mut l = LowerOptions::default();
    l.bounds_checks = opts.bounds_checks();
    let (proof, convention) = crate::proof::obtain(program, helpers, opts, want)?;
    l.proof = proof;
    l.audit = opts.audit;
    Ok((l, convention))
}

/// Declares, lowers and defines every function and the entry wrapper, then
/// finalizes. Returns the entry's id and the total code size.
///
/// Each eBPF function compiles with the ISA of the size of its IR
/// ([`crate::isa::tier_for`]); the entry wrapper, which only forwards its
/// arguments, with the fast tier's. The check adapter is the process's
/// shared one ([`shared_check_adapter`]), imported by name.
fn compile_into(
    module: &mut JITModule,
    program: &Program,
    opts: &JitOptions,
    lower_opts: &LowerOptions,
    bug: Option<PlantedBug>,
    adapter: Option<usize>,
) -> Result<(FuncId, usize), JitError> {
    let host_cc = module.isa().default_call_conv();
    let ranges = function_ranges(program);
    if ranges.is_empty() {
        return Err(JitError::codegen("the program has no instructions".into()));
    }
    if ranges.len() > MAX_FUNCTIONS {
        return Err(JitError::too_large(
            "functions",
            ranges.len(),
            MAX_FUNCTIONS,
        ));
    }
    let sig = function_signature();
    let mut ids = Vec::with_capacity(ranges.len());
    for i in 0..ranges.len() {
        ids.push(module.declare_function(&format!("bpf_fn{i}"), Linkage::Local, &sig)?);
    }
    let entry_sig = entry_signature(host_cc);
    let entry_id = module.declare_function("bpf_entry", Linkage::Local, &entry_sig)?;
    let check_adapter = match adapter {
        Some(_) => Some(module.declare_function(
            CHECK_ADAPTER,
            Linkage::Import,
            &check_adapter_signature(),
        )?),
        None => None,
    };

    with_context(|ctx| {
        let mut code_size = 0usize;
        for (i, &id) in ids.iter().enumerate() {
            ctx.func =
                ir::Function::with_name_signature(UserFuncName::user(0, i as u32), sig.clone());
            let mut env = JitEnv {
                module: &mut *module,
                ids: &ids,
                bug,
                check_adapter,
            };
            lower_function_with(program, i, &mut env, host_cc, lower_opts, &mut ctx.func)?;
            let (mut size, blocks) = (ctx.func.dfg.num_insts(), ctx.func.dfg.num_blocks());
            let mut tier_opts = std::borrow::Cow::Borrowed(opts);
            if crate::isa::registers_in_memory(opts, size, blocks) {
                // Too many blocks for the fast tier's frame: again, with
                // the registers in the home slot (see `FAST_TIER_MAX_BLOCKS`).
                let mut in_memory = lower_opts.clone();
                in_memory.registers_in_memory = true;
                ctx.func =
                    ir::Function::with_name_signature(UserFuncName::user(0, i as u32), sig.clone());
                lower_function_with(program, i, &mut env, host_cc, &in_memory, &mut ctx.func)?;
                size = ctx.func.dfg.num_insts();
                let r = ranges[i];
                let results = call_results(&program.insns()[r.first..r.end]);
                tier_opts = std::borrow::Cow::Owned(crate::isa::memory_tier(opts, results));
            }
            let isa = host_isa(&tier_opts, size)?;
            code_size += define_with(module, id, ctx, &*isa)?;
        }
        ctx.func = ir::Function::with_name_signature(UserFuncName::user(1, 0), entry_sig);
        let mut env = JitEnv {
            module: &mut *module,
            ids: &ids,
            bug,
            check_adapter,
        };
        lower_entry(&mut env, host_cc, &mut ctx.func);
        code_size += define_with(module, entry_id, ctx, &*fast_isa(opts)?)?;
        module.finalize_definitions()?;
        Ok((entry_id, code_size))
    })
}

/// How many values the calls among `insns` define: one per helper call
/// (r0), seven per local call (r0..r5 and the status).
fn call_results(insns: &[(usize, cranebpf_runtime::Insn)]) -> usize {
    use cranebpf_runtime::{CallKind, Insn};
    insns
        .iter()
        .map(|(_, i)| match i {
            Insn::Call {
                kind: CallKind::Helper,
                ..
            } => 1,
            Insn::Call {
                kind: CallKind::Local,
                ..
            } => 7,
            _ => 0,
        })
        .sum()
}

/// The most eBPF functions (the entry and its bpf-to-bpf callees) the JIT
/// compiles in one program: each is a Cranelift function with a fixed cost
/// (about 50 µs), so this bounds a program's compile time by the count
/// alone to well under a second. The kernel allows 256; the interpreter
/// has no such limit. Past it, compiling fails with [`JitError::limit`].
pub const MAX_FUNCTIONS: usize = 4096;

/// The name the shared check adapter is imported by.
const CHECK_ADAPTER: &str = "cranebpf_check_adapter";

/// The ISA of the fast tier under `opts` (its verifier setting).
fn fast_isa(opts: &JitOptions) -> Result<cranelift_codegen::isa::OwnedTargetIsa, JitError> {
    let mut fast = opts.clone();
    fast.fast_tier_above = 0;
    host_isa(&fast, usize::MAX)
}

/// Compiles `ctx.func` with `isa` and defines it as `id` in `module`, then
/// clears `ctx`. Returns the size of its code.
fn define_with(
    module: &mut JITModule,
    id: FuncId,
    ctx: &mut Context,
    isa: &dyn TargetIsa,
) -> Result<usize, JitError> {
    let mut control = ControlPlane::default();
    ctx.compile(isa, &mut control)
        .map_err(|e| JitError::codegen(format!("{:?}", e.inner)))?;
    let code = ctx
        .compiled_code()
        .ok_or_else(|| JitError::codegen("no compiled code after compiling".into()))?;
    let align = u64::from(code.buffer.alignment)
        .max(u64::from(isa.function_alignment().minimum))
        .max(isa.symbol_alignment());
    let relocs: Vec<ModuleReloc> = code
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    let size = code.code_buffer().len();
    module.define_function_bytes(id, align, code.code_buffer(), &relocs)?;
    ctx.clear();
    Ok(size)
}

thread_local! {
    /// This thread's Cranelift context, reused from one compile to the next
    /// (its allocations, the register allocator's among them, are kept).
    static CONTEXT: std::cell::RefCell<Option<Context>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's reusable Cranelift context (a new one if it
/// is already in use, as in a compile nested in a compile).
fn with_context<T>(f: impl FnOnce(&mut Context) -> T) -> T {
    let mut ctx = CONTEXT
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(Context::new);
    let out = f(&mut ctx);
    ctx.clear();
    CONTEXT.with(|c| *c.borrow_mut() = Some(ctx));
    out
}

/// The address of the process's one check adapter (see
/// [`lower_check_adapter`]), compiled on first need into a module that is
/// never freed: it is the same code for every program (it calls the one
/// memory-check thunk), so no program compiles its own. `None` where the
/// checks call the thunk directly (riscv64), or if it could not be built.
fn shared_check_adapter(opts: &JitOptions) -> Option<usize> {
    // On riscv64 the `preserve_all` adapter's code dies with SIGILL
    // (seen under qemu-riscv64 with Cranelift 0.135, in every cold
    // bounds check): there the checks call the thunk directly, which
    // costs only speed on the cold path.
    if cfg!(target_arch = "riscv64") {
        return None;
    }
    static ADAPTER: OnceLock<Option<Adapter>> = OnceLock::new();
    ADAPTER
        .get_or_init(|| build_check_adapter(opts).ok())
        .as_ref()
        .map(|a| a.addr)
}

/// The process's check adapter: its address, and the module holding its
/// code, which is never freed. The module stays reachable from the static
/// that holds this, so leak checkers (valgrind in the C ABI tests) see it
/// as kept, not lost.
struct Adapter {
    addr: usize,
    _module: *mut JITModule,
}

// SAFETY: the module is never touched again after it is built; the pointer
// only keeps it reachable.
unsafe impl Send for Adapter {}
// SAFETY: as above.
unsafe impl Sync for Adapter {}

/// Compiles the check adapter into a module of its own and leaks the
/// module, so that the code stays mapped for the life of the process.
fn build_check_adapter(opts: &JitOptions) -> Result<Adapter, JitError> {
    let isa = fast_isa(opts)?;
    let host_cc = isa.default_call_conv();
    let mut module = JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()));
    let sig = check_adapter_signature();
    let id = module.declare_function(CHECK_ADAPTER, Linkage::Local, &sig)?;
    let mut ctx = Context::new();
    ctx.func = ir::Function::with_name_signature(UserFuncName::user(2, 0), sig);
    lower_check_adapter(&mut NoFunctions, host_cc, &mut ctx.func);
    define_with(&mut module, id, &mut ctx, &*isa)?;
    module.finalize_definitions()?;
    let addr = module.get_finalized_function(id) as usize;
    // The code must outlive every program that calls it: the module is
    // never freed (one per process).
    Ok(Adapter {
        addr,
        _module: Box::into_raw(Box::new(module)),
    })
}

/// The environment of the check adapter's lowering, which references no
/// eBPF function and no adapter.
struct NoFunctions;

impl LowerEnv for NoFunctions {
    fn make_function_ref(&mut self, func: &mut ir::Function, index: usize) -> FuncRef {
        // Never called: the adapter calls only the thunk, by address.
        let _ = index;
        let sig = func.import_signature(function_signature());
        let name = func.declare_imported_user_function(ir::UserExternalName::new(0, 0));
        func.import_function(ir::ExtFuncData {
            name: ir::ExternalName::user(name),
            signature: sig,
            colocated: false,
            patchable: false,
        })
    }

    fn helper_trampoline(&self) -> u64 {
        host::helper_trampoline as *const () as usize as u64
    }

    fn mem_check_thunk(&self) -> u64 {
        host::mem_check_thunk as *const () as usize as u64
    }
}
