//! The driver: signatures, function ranges, and the per-function loop that
//! makes blocks and variables and calls `translate_insn` once per
//! instruction.
//!
//! Blocks: one Cranelift block per budget-block leader of the program's
//! [`Cfg`] (the rule is [`cranebpf_runtime::analysis::budget`]'s). Every jump target and every
//! instruction after a jump, call, exit or legacy packet load is a leader, so
//! each jump lands on the start of a Cranelift block. Before an instruction
//! the driver sets the source location to its pc, so every CLIF instruction
//! shows which eBPF instruction it came from.

use crate::env::LowerEnv;
use crate::plan::{function_range, BudgetMode, BudgetPlan, FunctionRange};
use crate::sig::mem_check_signature;
use cranebpf_runtime::abi;
use cranebpf_runtime::analysis::frame::{self, FrameFacts, RegFacts};
use cranebpf_runtime::analysis::proof::access_operand;
use cranebpf_runtime::{Cfg, Insn, LddwKind, Program, Reg};
use cranelift_codegen::entity::EntityRef;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    self, types::I64, Block, BlockArg, InstBuilder, MemFlagsData, SourceLoc, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Why a program could not be lowered. The validator rejects every program
/// that would produce one of these, so they indicate a validator gap.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LowerError {
    /// A jump or call names a pc that is not an instruction of the right
    /// function.
    BadTarget {
        /// The jump or call.
        pc: usize,
    },
    /// The instruction writes r10 (r10-relative accesses are proven in-frame
    /// on the assumption that r10 never changes).
    WritesFramePointer {
        /// The instruction.
        pc: usize,
    },
    /// The last instruction of a function can fall through past its end.
    FallsOffEnd {
        /// The last instruction.
        pc: usize,
    },
    /// A form the engines do not run (e.g. LDDW map pseudo-loads).
    Unsupported {
        /// The instruction.
        pc: usize,
        /// What is not supported.
        what: &'static str,
    },
    /// There is no function with this index.
    NoSuchFunction {
        /// The index asked for.
        index: usize,
    },
    /// The proof in [`LowerOptions::proof`] is not about this program: it
    /// has a fact for `got` instructions, the program has `expected`.
    ProofMismatch {
        /// Instructions in the program.
        expected: usize,
        /// Access facts in the proof.
        got: usize,
    },
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LowerError::BadTarget { pc } => write!(f, "pc {pc}: jump or call target is invalid"),
            LowerError::WritesFramePointer { pc } => write!(f, "pc {pc}: writes r10"),
            LowerError::FallsOffEnd { pc } => {
                write!(f, "pc {pc}: control falls off the end of the function")
            }
            LowerError::Unsupported { pc, what } => write!(f, "pc {pc}: unsupported {what}"),
            LowerError::NoSuchFunction { index } => write!(f, "no function {index}"),
            LowerError::ProofMismatch { expected, got } => write!(
                f,
                "the proof has facts for {got} instructions, the program has {expected}"
            ),
        }
    }
}

impl std::error::Error for LowerError {}

/// Options of the lowering.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LowerOptions {
    /// Emit the bounds checks of `bounds.rs` (default `true`). With
    /// `false`, loads, stores and atomics use the computed address as is:
    /// the code may read and write any host memory, so it must only ever
    /// run programs that are trusted not to stray (benchmarks measuring
    /// the cost of the checks). The JIT gates this behind an `unsafe fn`.
    /// Atomic alignment and the legacy packet bound are still checked.
    pub bounds_checks: bool,
    /// What a verifier proved about the program (default `None`). An
    /// access whose instruction is [`AccessFact::Proven`](cranebpf_runtime::analysis::proof::AccessFact)
    /// in it gets no bounds check (`bounds.rs`, step 0). The proof must
    /// keep the soundness contract of [`cranebpf_runtime::analysis::proof`]:
    /// a wrong `Proven` fact lets the program touch host memory it may not.
    /// Accesses the frame analysis proves in-frame are unchecked with or
    /// without a proof.
    pub proof: Option<std::sync::Arc<cranebpf_runtime::analysis::proof::Proof>>,
    /// Audit mode (default `false`): every check step 0 would drop is
    /// emitted anyway, and its failure is a
    /// [`FaultKind::ProofViolation`](cranebpf_runtime::FaultKind) at the
    /// access instead of an out-of-bounds fault. For tests and the
    /// differential harness: any such fault means the proof was wrong.
    pub audit: bool,
    /// Helpers to call directly, by id: the address of each one's
    /// `extern "C" fn(r1..r5) -> r0` (`cranebpf_runtime::DirectFn`), which
    /// touches no VM memory and cannot fail (default empty: every helper
    /// goes through the trampoline). See `call.rs`.
    pub direct_helpers: std::collections::BTreeMap<u32, u64>,
    /// Keep the registers, the budget counter and the input limits in a
    /// stack slot of the native frame (the *home slot*) instead of SSA
    /// variables (default `false`): every read is a load and every write a
    /// store, so no value of the program lives across a block boundary.
    /// Slower code, but a register allocator that gives each value live
    /// across a block its own spill slot (Cranelift's single-pass one)
    /// then keeps a frame of constant size however many blocks the
    /// function has, and allocates in linear time. The JIT lowers a
    /// function this way when it has more than `FAST_TIER_MAX_BLOCKS`
    /// blocks.
    pub registers_in_memory: bool,
}

impl Default for LowerOptions {
    fn default() -> LowerOptions {
        LowerOptions {
            bounds_checks: true,
            proof: None,
            audit: false,
            direct_helpers: std::collections::BTreeMap::new(),
            registers_in_memory: false,
        }
    }
}

/// The functions of `program`, entry first then in pc order, as instruction
/// index ranges: [`Program::functions`] as the program's [`Cfg`] maps them
/// to instruction indices.
pub fn function_ranges(program: &Program) -> Vec<FunctionRange> {
    (0..program.functions().len())
        .filter_map(|f| function_range(program, f))
        .collect()
}

/// Builds the check adapter into `func` (signature
/// [`check_adapter_signature`]): it calls the host memory-check thunk
/// ([`LowerEnv::mem_check_thunk`], convention `host_cc`) with the context
/// and the context's `fault_addr`, `fault_size` and `fault_access`, and
/// returns nothing; the thunk's verdict reaches the caller
/// through the context's `fault_kind` (non-zero: refused). Because the
/// adapter preserves all registers, JIT code can keep its values in
/// registers across the cold slow path of a bounds check.
pub fn lower_check_adapter(env: &mut dyn LowerEnv, host_cc: CallConv, func: &mut ir::Function) {
    let mut fctx = FunctionBuilderContext::new();
    let thunk_addr = env.mem_check_thunk();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let sig = b.import_signature(mem_check_signature(host_cc));
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let vmp = b.block_params(block)[0];
    let mut args = vec![vmp];
    for off in [
        abi::OFF_FAULT_ADDR,
        abi::OFF_FAULT_SIZE,
        abi::OFF_FAULT_ACCESS,
    ] {
        args.push(b.ins().load(I64, MemFlagsData::trusted(), vmp, off));
    }
    let thunk = b.ins().iconst(I64, thunk_addr as i64);
    b.ins().call_indirect(sig, thunk, &args);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: host_cc,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
}

/// Builds the host-callable entry wrapper into `func` (whose signature must
/// be [`entry_signature`]`(host_cc)`): it calls eBPF function 0 with r10 = the stack
/// top, r1..r5 as given and the other registers 0, and returns r0. Whether
/// the run faulted is read from the context's `fault_kind`.
pub fn lower_entry(env: &mut dyn LowerEnv, host_cc: CallConv, func: &mut ir::Function) {
    let mut fctx = FunctionBuilderContext::new();
    let callee = env.make_function_ref(func, 0);
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let block = b.create_block();
    b.append_block_params_for_function_params(block);
    b.switch_to_block(block);
    let p = b.block_params(block).to_vec();
    let fp = b.ins().load(
        I64,
        MemFlagsData::trusted().with_readonly(),
        p[0],
        abi::OFF_STACK_TOP,
    );
    let zero = b.ins().iconst(I64, 0);
    let args = [
        p[0], fp, zero, p[1], p[2], p[3], p[4], p[5], zero, zero, zero, zero,
    ];
    let call = b.ins().call(callee, &args);
    let r0 = b.inst_results(call)[0];
    b.ins().return_(&[r0]);
    b.seal_all_blocks();
    b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: host_cc,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
}

/// The state of one function's lowering. Family files (`alu.rs`, `mem.rs`,
/// …) add methods; `translate.rs` dispatches to them.
pub(crate) struct Lower<'a> {
    /// The builder, positioned in the block of the current instruction.
    pub b: FunctionBuilder<'a>,
    /// The program's control-flow graph.
    pub cfg: &'a Cfg,
    /// The embedder.
    pub env: &'a mut dyn LowerEnv,
    /// Calling convention of the host thunks.
    pub host_cc: CallConv,
    /// One variable per register r0..r10.
    pub regs: [Variable; 11],
    /// The budget counter `remaining` (see `budget.rs`), kept in a variable
    /// and written back to the context before every return and local call.
    pub rem: Variable,
    /// The input-check limits `lim(len, size)` of `bounds.rs`, index
    /// `4 * is_write + log2(size)` (`len` is `input_len` for reads and
    /// `input_wlen` for writes). Computed from the context at entry and
    /// again after every call (only a helper can change the lengths) and
    /// passed through block parameters, so that they are computed once
    /// there and never inside a loop.
    pub lims: [Variable; 8],
    /// The home slot of `regs`, `rem` and `lims` (8 bytes each, at
    /// [`home_offset`]) under [`LowerOptions::registers_in_memory`]; `None`
    /// when they are SSA variables.
    pub home: Option<ir::StackSlot>,
    /// Whether any access of the function may take the inline input step
    /// (`bounds.rs`, step 2): false when bounds checks are off, or when
    /// every load, store and atomic is `Proven` in the proof, there is no
    /// legacy packet load and audit mode is off. Then `lims` are never
    /// read, and neither computed.
    pub needs_input_lims: bool,
    /// Frame-pointer facts before the instruction being translated.
    pub facts: RegFacts,
    /// The lowering options.
    pub opts: LowerOptions,
    /// Whether a return must carry r1..r5: false for the entry function
    /// when no local call targets it (only the entry wrapper sees its
    /// results, and it reads r0 alone), which frees those registers.
    pub returns_args: bool,
    /// The VM context pointer (entry block parameter).
    pub vm: Value,
    /// The cold fault block of the fault site [`Lower::fault_args`] made
    /// last: params `(kind, pc, addr, size, access, adj, remaining)`. Each
    /// site has a block of its own, which stores its parameters into the
    /// context and jumps to [`Lower::fault_return`]: a block shared by
    /// every site would carry seven parameters from thousands of
    /// predecessors, which costs the register allocator more than linear
    /// time.
    pub fault_block: Block,
    /// Every fault site, filled at the end of the function.
    pub fault_sites: Vec<FaultSite>,
    /// The shared cold block that returns status [`abi::STATUS_FAULT`].
    pub fault_return: Block,
    /// Block of each leader in this function, by instruction index, in the
    /// copy being built.
    pub blocks: HashMap<usize, Block>,
    /// Block of each leader in the checked copy (see `budget.rs`).
    pub checked_blocks: HashMap<usize, Block>,
    /// Which copy is being built.
    pub budget_mode: BudgetMode,
    /// Leaders (by instruction index) where the fast copy checks the
    /// budget.
    pub checkpoints: HashSet<usize>,
    /// What the fast copy compares `remaining` with at a checkpoint
    /// ([`crate::plan::BudgetPlan::threshold`]).
    pub threshold: u64,
    /// pc of the instruction being translated.
    pub pc: usize,
    /// Instruction index of the instruction being translated.
    pub index: usize,
    /// Length of the budget block being translated.
    pub block_len: u32,
    /// 1-based position of the current instruction in its budget block.
    pub pos: u32,
    /// The planted bug, if any (see [`crate::PlantedBug`]).
    pub bug: Option<crate::PlantedBug>,
    /// Lazily made references to other compiled functions, by index.
    pub func_refs: HashMap<usize, ir::FuncRef>,
    /// Lazily imported signatures of the host thunks.
    pub helper_sig: Option<ir::SigRef>,
    /// See `helper_sig`.
    pub check_sig: Option<ir::SigRef>,
    /// The check adapter, once asked for (`Some(None)`: the embedder has
    /// none).
    pub check_adapter: Option<Option<ir::FuncRef>>,
}

/// A fault site: its cold block, and under
/// [`LowerOptions::registers_in_memory`] the constants it records itself
/// (pc, size, access, count adjustment) instead of receiving them.
pub(crate) struct FaultSite {
    block: Block,
    consts: Option<[u64; 4]>,
}

/// Builds eBPF function `index` of `program` into `func`, whose signature
/// must be [`function_signature`]. `host_cc` is the calling convention of
/// the host thunks (the target's default).
pub fn lower_function(
    program: &Program,
    index: usize,
    env: &mut dyn LowerEnv,
    host_cc: CallConv,
    func: &mut ir::Function,
) -> Result<(), LowerError> {
    lower_function_with(program, index, env, host_cc, &LowerOptions::default(), func)
}

/// [`lower_function`] with explicit [`LowerOptions`].
///
/// The phases: find the function's range in the graph, refuse what the
/// lowering cannot build, plan the budget copies, emit the entry block,
/// make one block per leader and copy, then build each copy instruction by
/// instruction, and finish with the fault blocks.
pub fn lower_function_with(
    program: &Program,
    index: usize,
    env: &mut dyn LowerEnv,
    host_cc: CallConv,
    opts: &LowerOptions,
    func: &mut ir::Function,
) -> Result<(), LowerError> {
    let range = function_range(program, index).ok_or(LowerError::NoSuchFunction { index })?;
    if let Some(proof) = &opts.proof {
        let (expected, got) = (program.insns().len(), proof.accesses().len());
        if expected != got {
            return Err(LowerError::ProofMismatch { expected, got });
        }
    }
    let cfg = program.cfg();
    let insns = &program.insns()[range.first..range.end];
    check_supported(insns)?;
    let plan = BudgetPlan::new(cfg, range, opts.proof.as_deref());
    let frame_facts = FrameFacts::analyze(cfg, program.insns(), range.first, range.end);

    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(func, &mut fctx);
    let vars = Vars::declare(&mut b);
    debug_assert_eq!(home_offset(vars.lims[7]) + 8, HOME_FAULT_KIND);
    let home = opts.registers_in_memory.then(|| {
        b.create_sized_stack_slot(ir::StackSlotData::new(
            ir::StackSlotKind::ExplicitSlot,
            HOME_SLOT_BYTES,
            3,
        ))
    });
    let vmp = emit_entry_block(&mut b, &vars, home);
    let pass_blocks = create_leader_blocks(&mut b, cfg, range, plan.passes);
    // A function's first instruction always leads a budget block (it is
    // the program start or a local-call target).
    let first_block = *pass_blocks[0]
        .get(&range.first)
        .ok_or(LowerError::BadTarget { pc: range.start_pc })?;
    let fault_return = b.create_block();
    b.set_cold_block(fault_return);

    let bug = crate::env::planted_bug(env);
    let opts = LowerOptions {
        // A planted unsound proof is only ever audited.
        audit: opts.audit || bug.is_some_and(crate::PlantedBug::is_unsound_proof),
        ..opts.clone()
    };
    let needs_input_lims = needs_input_lims(program, range, &opts);
    let mut lw = Lower {
        b,
        cfg,
        env,
        host_cc,
        regs: vars.regs,
        rem: vars.rem,
        lims: vars.lims,
        home,
        needs_input_lims,
        facts: frame::entry_facts(),
        opts,
        returns_args: index != 0 || cfg.is_call_target(range.start_pc),
        vm: vmp,
        fault_block: fault_return,
        fault_sites: Vec::new(),
        fault_return,
        blocks: pass_blocks[0].clone(),
        checked_blocks: pass_blocks[pass_blocks.len() - 1].clone(),
        budget_mode: plan.passes[0],
        checkpoints: plan.checkpoints.clone(),
        threshold: plan.threshold,
        pc: range.start_pc,
        index: range.first,
        block_len: 0,
        pos: 0,
        bug,
        func_refs: HashMap::new(),
        helper_sig: None,
        check_sig: None,
        check_adapter: None,
    };

    lw.reload_input_bounds();
    lw.b.ins().jump(first_block, &[]);
    for (blocks, &mode) in pass_blocks.into_iter().zip(plan.passes) {
        lw.build_copy(range, insns, mode, blocks, &plan, &frame_facts)?;
    }
    lw.emit_fault_blocks();
    lw.b.seal_all_blocks();
    lw.b.finalize(cranelift_codegen::isa::TargetFrontendConfig {
        default_call_conv: host_cc,
        pointer_width: target_lexicon::PointerWidth::U64,
        page_size_align_log2: 12,
    });
    Ok(())
}

/// Refuses what the lowering cannot build: writes to r10 (r10-relative
/// accesses are proven in-frame on the assumption that r10 never changes)
/// and LDDW pseudo-loads.
fn check_supported(insns: &[(usize, Insn)]) -> Result<(), LowerError> {
    for &(pc, insn) in insns {
        if insn.written_reg() == Some(Reg::R10) {
            return Err(LowerError::WritesFramePointer { pc });
        }
        if let Insn::Lddw { kind, .. } = insn {
            if kind != LddwKind::Imm64 {
                return Err(LowerError::Unsupported {
                    pc,
                    what: "LDDW pseudo-load (src != 0)",
                });
            }
        }
    }
    Ok(())
}

/// See [`Lower::needs_input_lims`]: whether some access of the function
/// `range` is checked (and so may read the input limits).
fn needs_input_lims(program: &Program, range: FunctionRange, opts: &LowerOptions) -> bool {
    if !opts.bounds_checks {
        return false;
    }
    if opts.audit {
        return true;
    }
    let insns = &program.insns()[range.first..range.end];
    insns.iter().enumerate().any(|(k, (_, insn))| {
        let proven = || {
            opts.proof
                .as_ref()
                .is_some_and(|p| p.is_proven(range.first + k))
        };
        match insn {
            Insn::LdAbs { .. } | Insn::LdInd { .. } => true,
            // r10 + off inside the frame is proven without a proof (and
            // any other frame access is at worst stack-only).
            other => match access_operand(other) {
                Some((base, off, size)) => {
                    let in_frame =
                        base == Reg::R10 && frame::entry_facts()[10].proves_in_frame(off, size);
                    !in_frame && !proven()
                }
                None => false,
            },
        }
    })
}

/// The variables of one function: registers, budget counter, input limits.
struct Vars {
    regs: [Variable; 11],
    rem: Variable,
    lims: [Variable; 8],
}

impl Vars {
    fn declare(b: &mut FunctionBuilder<'_>) -> Vars {
        Vars {
            regs: std::array::from_fn(|_| b.declare_var(I64)),
            rem: b.declare_var(I64),
            lims: std::array::from_fn(|_| b.declare_var(I64)),
        }
    }
}

/// The size of the home slot: r0..r10, the budget counter and the eight
/// input limits, 8 bytes each, then the fault kind and address a branch to
/// a fault site leaves for it ([`HOME_FAULT_KIND`], [`HOME_FAULT_ADDR`]).
const HOME_SLOT_BYTES: u32 = 8 * 23;
/// Where a fault site's kind waits in the home slot.
const HOME_FAULT_KIND: i32 = 8 * 20;
/// Where a fault site's address waits in the home slot.
const HOME_FAULT_ADDR: i32 = 8 * 21;
/// Where [`Lower::stash`] leaves a value for [`Lower::carry`].
const HOME_CARRY: i32 = 8 * 22;

/// The offset of `var` in the home slot: its index, as [`Vars::declare`]
/// declares the registers, then the budget counter, then the limits, before
/// any other variable.
fn home_offset(var: Variable) -> i32 {
    8 * var.index() as i32
}

/// Writes `v` to `var` at the builder's position: a definition, or a store
/// to its place in the home slot.
fn write_var(b: &mut FunctionBuilder<'_>, home: Option<ir::StackSlot>, var: Variable, v: Value) {
    match home {
        Some(ss) => {
            b.ins().stack_store(I64, v, ss, home_offset(var));
        }
        None => b.def_var(var, v),
    }
}

/// Emits the entry block: binds the parameters to r10 and r0..r9 and loads
/// the budget counter. Returns the VM context pointer.
fn emit_entry_block(
    b: &mut FunctionBuilder<'_>,
    vars: &Vars,
    home: Option<ir::StackSlot>,
) -> Value {
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let vmp = params[0];
    write_var(b, home, vars.regs[10], params[1]);
    for r in 0..10 {
        write_var(b, home, vars.regs[r], params[2 + r]);
    }
    let remaining = b
        .ins()
        .load(I64, MemFlagsData::trusted(), vmp, abi::OFF_REMAINING);
    write_var(b, home, vars.rem, remaining);
    vmp
}

/// One Cranelift block per leader of the function and per copy, by
/// instruction index. The checked copy's blocks are cold when a fast copy
/// exists.
fn create_leader_blocks(
    b: &mut FunctionBuilder<'_>,
    cfg: &Cfg,
    range: FunctionRange,
    passes: &[BudgetMode],
) -> Vec<HashMap<usize, Block>> {
    let mut pass_blocks = Vec::with_capacity(passes.len());
    for &mode in passes {
        let mut blocks = HashMap::new();
        for i in (range.first..range.end).filter(|&i| cfg.block_len(i) > 0) {
            let blk = b.create_block();
            if mode == BudgetMode::Checked && passes.len() > 1 {
                b.set_cold_block(blk);
            }
            blocks.insert(i, blk);
        }
        pass_blocks.push(blocks);
    }
    pass_blocks
}

impl Lower<'_> {
    /// Builds one copy (`mode`) of the function `range` (`insns` are its
    /// instructions) into the leader blocks `blocks`.
    ///
    /// Blocks are sealed as soon as all their predecessors exist, so that
    /// the SSA builder adds block parameters only where a register really
    /// differs between predecessors (sealing late makes every use in a loop
    /// a parameter, which the register allocator pays for). A leader is
    /// sealed when it is entered, unless a later instruction jumps back to
    /// it; then after the last such jump. (The fast copy's jumps into the
    /// checked copy all exist before the checked copy is built.)
    fn build_copy(
        &mut self,
        range: FunctionRange,
        insns: &[(usize, Insn)],
        mode: BudgetMode,
        blocks: HashMap<usize, Block>,
        plan: &BudgetPlan,
        frame_facts: &FrameFacts,
    ) -> Result<(), LowerError> {
        self.blocks = blocks;
        self.budget_mode = mode;
        let first_new = self.b.func.dfg.num_blocks();
        let mut seal_after: HashMap<usize, Vec<Block>> = HashMap::new();
        let mut open = false; // whether the current block still needs a terminator
        for (k, &(pc, insn)) in insns.iter().enumerate() {
            let i = range.first + k;
            self.pc = pc;
            self.index = i;
            self.b.set_srcloc(SourceLoc::new(pc as u32));
            // `blocks` holds exactly the leaders.
            if let Some(&block) = self.blocks.get(&i) {
                self.enter_leader(block, open, plan, &mut seal_after, frame_facts);
            }
            self.pos += 1;
            let falls_through = self.translate_insn(insn)?;
            frame::transfer(&mut self.facts, insn);
            for block in seal_after.remove(&i).unwrap_or_default() {
                self.b.seal_block(block);
            }
            open = falls_through;
            if falls_through && i + 1 == range.end {
                return Err(LowerError::FallsOffEnd { pc });
            }
        }
        // The checked copy of a function that has a fast copy runs only
        // near the end of a budget: all of it is cold.
        if mode == BudgetMode::Checked && plan.passes.len() > 1 {
            for k in first_new..self.b.func.dfg.num_blocks() {
                self.b.set_cold_block(Block::from_u32(k as u32));
            }
        }
        Ok(())
    }

    /// Enters the block of the leader being translated: closes the
    /// previous block if it falls through, seals the new one (now, or after
    /// its last back-edge), charges the block and loads its frame facts.
    fn enter_leader(
        &mut self,
        block: Block,
        open: bool,
        plan: &BudgetPlan,
        seal_after: &mut HashMap<usize, Vec<Block>>,
        frame_facts: &FrameFacts,
    ) {
        let i = self.index;
        if open {
            self.b.ins().jump(block, &[]);
        }
        self.b.switch_to_block(block);
        match plan.last_back_jump.get(&i) {
            Some(&last) => seal_after.entry(last).or_default().push(block),
            None => self.b.seal_block(block),
        }
        let n = self.cfg.block_len(i);
        self.block_len = n;
        self.pos = 0;
        self.before_block(n);
        // Unreachable leaders get the entry facts (r10 is never written).
        self.facts = frame_facts
            .at_leader(i)
            .copied()
            .unwrap_or_else(frame::entry_facts);
    }
}

impl Lower<'_> {
    /// Reads register `r` as an i64.
    pub fn get(&mut self, r: Reg) -> Value {
        self.read_var(self.regs[r.index()])
    }

    /// Writes register `r` (an i64).
    pub fn set(&mut self, r: Reg, v: Value) {
        self.write_var(self.regs[r.index()], v);
    }

    /// Reads variable `var` (a register, the budget counter or a limit):
    /// its SSA value, or a load from the home slot.
    pub fn read_var(&mut self, var: Variable) -> Value {
        match self.home {
            Some(ss) => self.b.ins().stack_load(I64, I64, ss, home_offset(var)),
            None => self.b.use_var(var),
        }
    }

    /// Writes variable `var`: an SSA definition, or a store to the home
    /// slot.
    pub fn write_var(&mut self, var: Variable, v: Value) {
        write_var(&mut self.b, self.home, var, v);
    }

    /// Before a branch: keeps `v` for the blocks it leads to, which take it
    /// back with [`Lower::carry`]. With registers in memory it waits in
    /// the home slot (one value at a time), so that it does not live across
    /// the block boundary; otherwise nothing is emitted.
    pub fn stash(&mut self, v: Value) {
        if let Some(ss) = self.home {
            self.b.ins().stack_store(I64, v, ss, HOME_CARRY);
        }
    }

    /// At the start of a block the branch after [`Lower::stash`]`(v)` leads
    /// to: `v` itself, or its copy reloaded from the home slot.
    pub fn carry(&mut self, v: Value) -> Value {
        match self.home {
            Some(ss) => self.b.ins().stack_load(I64, I64, ss, HOME_CARRY),
            None => v,
        }
    }

    /// An i64 constant.
    pub fn iconst(&mut self, v: u64) -> Value {
        self.b.ins().iconst(I64, v as i64)
    }

    /// Loads a u64 field of the VM context. `fixed` fields never change
    /// during a run and may be hoisted and merged.
    pub fn vm_load(&mut self, offset: i32, fixed: bool) -> Value {
        let flags = if fixed {
            MemFlagsData::trusted().with_readonly().with_can_move()
        } else {
            MemFlagsData::trusted()
        };
        self.b.ins().load(I64, flags, self.vm, offset)
    }

    /// Stores a u64 field of the VM context.
    pub fn vm_store(&mut self, offset: i32, v: Value) {
        self.b
            .ins()
            .store(MemFlagsData::trusted(), v, self.vm, offset);
    }

    /// The block of the current jump's target ([`Cfg::target`]) in this
    /// function.
    pub fn target_block(&self) -> Result<Block, LowerError> {
        self.cfg
            .target(self.index)
            .and_then(|t| self.blocks.get(&t).copied())
            .ok_or(LowerError::BadTarget { pc: self.pc })
    }

    /// The block of the instruction after the current one, which leads.
    pub fn next_block(&self) -> Result<Block, LowerError> {
        self.blocks
            .get(&(self.index + 1))
            .copied()
            .ok_or(LowerError::BadTarget { pc: self.pc })
    }

    /// Makes a fault site at the current instruction: a new cold
    /// [`Lower::fault_block`], and the arguments a branch to it passes,
    /// which record `kind` with `addr`, `size`, `access` and the count
    /// adjustment of the current position (block length minus 1-based
    /// position).
    ///
    /// A conditional branch to the site (or to any cold path) names it as
    /// its *second* target: Cranelift orders blocks by a reverse postorder
    /// that explores the first target first, so a first-named cold block
    /// lands after all the code its branch leads to, and the values it
    /// uses stay live across that code (quadratic register allocation on
    /// large functions).
    pub fn fault_args(
        &mut self,
        kind: Value,
        addr: Value,
        size: u64,
        access: u64,
    ) -> Vec<BlockArg> {
        let adj = u64::from(self.block_len.saturating_sub(self.pos));
        self.fault_args_adj(kind, addr, size, access, adj)
    }

    /// [`Lower::fault_args`] with an explicit count adjustment.
    pub fn fault_args_adj(
        &mut self,
        kind: Value,
        addr: Value,
        size: u64,
        access: u64,
        adj: u64,
    ) -> Vec<BlockArg> {
        let site = self.b.create_block();
        self.b.set_cold_block(site);
        self.fault_block = site;
        let consts = [self.pc as u64, size, access, adj];
        if let Some(ss) = self.home {
            // No block parameters (the single-pass allocator would give
            // each its own spill slot): the dynamic operands wait in the
            // home slot, the budget counter is there already, and the
            // site materialises the constants itself.
            self.b.ins().stack_store(I64, kind, ss, HOME_FAULT_KIND);
            self.b.ins().stack_store(I64, addr, ss, HOME_FAULT_ADDR);
            self.fault_sites.push(FaultSite {
                block: site,
                consts: Some(consts),
            });
            return Vec::new();
        }
        let [pc, size, access, adj] = consts.map(|c| self.iconst(c));
        let rem = self.read_var(self.rem);
        for _ in 0..7 {
            self.b.append_block_param(site, I64);
        }
        self.fault_sites.push(FaultSite {
            block: site,
            consts: None,
        });
        vec![
            kind.into(),
            pc.into(),
            addr.into(),
            size.into(),
            access.into(),
            adj.into(),
            rem.into(),
        ]
    }

    /// Jumps to the fault block with a fault of constant `kind` and no
    /// address (budget, call depth).
    pub fn jump_fault(&mut self, kind: u64) {
        let k = self.iconst(kind);
        let zero = self.iconst(0);
        let args = self.fault_args(k, zero, 0, 0);
        self.b.ins().jump(self.fault_block, &args);
    }

    /// Fills the cold fault blocks: each site's stores its seven
    /// parameters into the context and jumps to the shared block, which
    /// returns status [`abi::STATUS_FAULT`].
    fn emit_fault_blocks(&mut self) {
        self.b.set_srcloc(SourceLoc::default());
        for site in std::mem::take(&mut self.fault_sites) {
            self.b.switch_to_block(site.block);
            let p = self.fault_site_values(&site);
            for (v, off) in p.iter().zip([
                abi::OFF_FAULT_KIND,
                abi::OFF_FAULT_PC,
                abi::OFF_FAULT_ADDR,
                abi::OFF_FAULT_SIZE,
                abi::OFF_FAULT_ACCESS,
                abi::OFF_FAULT_ADJ,
                abi::OFF_REMAINING,
            ]) {
                self.vm_store(off, *v);
            }
            self.b.ins().jump(self.fault_return, &[]);
        }
        self.b.switch_to_block(self.fault_return);
        let zero = self.iconst(0);
        let status = self.iconst(abi::STATUS_FAULT);
        self.b
            .ins()
            .return_(&[zero, zero, zero, zero, zero, zero, status]);
    }

    /// The seven values a fault site records, in the order of
    /// [`Lower::fault_args`]: its block parameters, or (registers in
    /// memory) what the home slot holds and the site's constants.
    fn fault_site_values(&mut self, site: &FaultSite) -> Vec<Value> {
        match (site.consts, self.home) {
            (Some([pc, size, access, adj]), Some(ss)) => {
                let kind = self.b.ins().stack_load(I64, I64, ss, HOME_FAULT_KIND);
                let addr = self.b.ins().stack_load(I64, I64, ss, HOME_FAULT_ADDR);
                let [pc, size, access, adj] = [pc, size, access, adj].map(|c| self.iconst(c));
                let rem = self.read_var(self.rem);
                vec![kind, pc, addr, size, access, adj, rem]
            }
            _ => self.b.block_params(site.block).to_vec(),
        }
    }

    /// Reloads the input lengths from the context (after a call: a helper
    /// may have removed the input region).
    /// Computes the input-check limits (see [`Lower::lims`]) and continues
    /// in a new block that receives them as parameters (Cranelift would
    /// otherwise recompute these pure values at each use, inside loops).
    pub fn reload_input_bounds(&mut self) {
        if !self.needs_input_lims {
            return;
        }
        let mut vals: Vec<Value> = Vec::with_capacity(8);
        for off in [abi::OFF_INPUT_LEN, abi::OFF_INPUT_WLEN] {
            let len = self.vm_load(off, false);
            for k in 0..4u32 {
                let size = 1i64 << k;
                // lim = len >= size ? len - size + 1 : 0
                let fits = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, len, size);
                let room = self.b.ins().iadd_imm_s(len, 1 - size);
                let zero = self.iconst(0);
                vals.push(self.b.ins().select(fits, room, zero));
            }
        }
        if self.home.is_some() {
            // Into the home slot: a block of eight parameters after every
            // call would cost the single-pass allocator eight slots each.
            for (var, v) in self.lims.into_iter().zip(vals) {
                self.write_var(var, v);
            }
            return;
        }
        let next = self.b.create_block();
        for _ in 0..8 {
            self.b.append_block_param(next, I64);
        }
        let args: Vec<BlockArg> = vals.into_iter().map(BlockArg::from).collect();
        self.b.ins().jump(next, &args);
        self.b.switch_to_block(next);
        self.b.seal_block(next);
        let params = self.b.block_params(next).to_vec();
        for (var, v) in self.lims.into_iter().zip(params) {
            self.write_var(var, v);
        }
    }

    /// Writes the budget counter back to the context.
    pub fn store_remaining(&mut self) {
        let rem = self.read_var(self.rem);
        self.vm_store(abi::OFF_REMAINING, rem);
    }

    /// Returns from the function with the current r0..r5 and `status`
    /// (after writing the budget counter back).
    pub fn return_with(&mut self, status: u64) {
        self.store_remaining();
        let mut vals: Vec<Value> = Vec::with_capacity(7);
        vals.push(self.get(Reg::R0));
        for r in 1..6u8 {
            let v = if self.returns_args {
                self.read_var(self.regs[r as usize])
            } else {
                self.iconst(0)
            };
            vals.push(v);
        }
        vals.push(self.iconst(status));
        self.b.ins().return_(&vals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::ModuleFreeEnv;
    use crate::sig::function_signature;
    use cranebpf_runtime::{AluOp, AtomicOp, CallKind, Endian, JmpCond, Size, Src, Width};
    use cranelift_codegen::ir::{Opcode, UserFuncName};

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }

    /// Every instruction form, straight-line, plus a local function.
    fn every_form() -> Program {
        let mut v = Vec::new();
        for w in [Width::W32, Width::W64] {
            for op in AluOp::ALL {
                v.push(Insn::Alu {
                    w,
                    op,
                    dst: r(0),
                    src: Src::Imm(3),
                });
                v.push(Insn::Alu {
                    w,
                    op,
                    dst: r(0),
                    src: Src::Reg(r(2)),
                });
            }
            v.push(Insn::Neg { w, dst: r(0) });
            for cond in JmpCond::ALL {
                v.push(Insn::Jmp {
                    w,
                    cond,
                    dst: r(0),
                    src: Src::Reg(r(2)),
                    off: 0,
                });
            }
            v.push(Insn::MovSx {
                w,
                dst: r(0),
                src: r(2),
                bits: 8,
            });
        }
        for kind in [Endian::Le, Endian::Be, Endian::Swap] {
            v.push(Insn::End {
                kind,
                dst: r(0),
                bits: 16,
            });
        }
        for size in [Size::B, Size::H, Size::W, Size::DW] {
            v.push(Insn::Ldx {
                size,
                sx: false,
                dst: r(0),
                src: r(1),
                off: 0,
            });
            v.push(Insn::Ldx {
                size,
                sx: false,
                dst: r(0),
                src: r(10),
                off: -8,
            });
            v.push(Insn::St {
                size,
                dst: r(1),
                off: 0,
                imm: 1,
            });
            v.push(Insn::Stx {
                size,
                dst: r(10),
                src: r(0),
                off: -16,
            });
            if size != Size::DW {
                v.push(Insn::LdInd {
                    size,
                    src: r(2),
                    imm: 0,
                });
            }
        }
        for size in [Size::W, Size::DW] {
            for op in [AtomicOp::Add, AtomicOp::Xchg, AtomicOp::Cmpxchg] {
                v.push(Insn::Atomic {
                    size,
                    op,
                    fetch: true,
                    dst: r(1),
                    src: r(2),
                    off: 0,
                });
            }
        }
        v.push(Insn::Call {
            kind: CallKind::Helper,
            imm: 5,
        });
        v.push(Insn::Callx { reg: r(2) });
        v.push(Insn::Call {
            kind: CallKind::Local,
            imm: 1,
        });
        v.push(Insn::Exit);
        v.push(Insn::Exit);
        Program::from_insns(&v).expect("test program loads")
    }

    /// With registers in memory no value but the context pointer is used
    /// outside the block that defines it, and no block but the entry has
    /// parameters: what keeps the single-pass allocator's frame constant
    /// (it gives every value live across a block a slot of its own).
    #[test]
    fn registers_in_memory_keep_every_value_in_its_block() {
        let p = every_form();
        let mut env = ModuleFreeEnv::default();
        let opts = LowerOptions {
            registers_in_memory: true,
            ..LowerOptions::default()
        };
        for i in 0..function_ranges(&p).len() {
            let mut f = ir::Function::with_name_signature(
                UserFuncName::user(0, i as u32),
                function_signature(),
            );
            lower_function_with(&p, i, &mut env, CallConv::SystemV, &opts, &mut f).expect("lowers");
            let entry = f.layout.entry_block().expect("an entry block");
            let vm = f.dfg.block_params(entry)[0];
            for block in f.layout.blocks() {
                if block != entry {
                    assert!(
                        f.dfg.block_params(block).is_empty(),
                        "{block} has parameters"
                    );
                }
                for inst in f.layout.block_insts(block) {
                    for v in f.dfg.inst_values(inst) {
                        let v = f.dfg.resolve_aliases(v);
                        let home = match f.dfg.value_def(v) {
                            ir::ValueDef::Result(d, _) => f.layout.inst_block(d),
                            ir::ValueDef::Param(b, _) => Some(b),
                            _ => None,
                        };
                        assert!(
                            v == vm || home == Some(block),
                            "{v} (from {home:?}) used in {block}: {}",
                            f.dfg.display_inst(inst)
                        );
                    }
                }
            }
        }
    }

    /// The architecture invariant: no reachable trapping instruction (the
    /// guarded divisions are the only `can_trap` opcodes, and their
    /// divisors are never 0 or -1), and every memory access is `notrap`.
    #[test]
    fn no_trapping_instructions_and_all_accesses_notrap() {
        let p = every_form();
        let mut env = ModuleFreeEnv::default();
        let mut accesses = 0;
        for i in 0..function_ranges(&p).len() {
            let mut f = ir::Function::with_name_signature(
                UserFuncName::user(0, i as u32),
                function_signature(),
            );
            lower_function(&p, i, &mut env, CallConv::SystemV, &mut f).expect("lowers");
            for block in f.layout.blocks() {
                for inst in f.layout.block_insts(block) {
                    let data = &f.dfg.insts[inst];
                    let op = data.opcode();
                    assert!(
                        !matches!(
                            op,
                            Opcode::Trap
                                | Opcode::Trapz
                                | Opcode::Trapnz
                                | Opcode::UaddOverflowTrap
                        ),
                        "trap instruction {op}"
                    );
                    if let Some(flags) = data.memflags_data(&f.dfg) {
                        accesses += 1;
                        assert!(flags.notrap(), "{op} without notrap");
                    } else if op.can_trap() {
                        assert!(
                            matches!(
                                op,
                                Opcode::Udiv | Opcode::Urem | Opcode::Sdiv | Opcode::Srem
                            ),
                            "unexpected trapping opcode {op}"
                        );
                    }
                }
            }
        }
        assert!(accesses > 20);
    }

    #[test]
    fn programs_writing_r10_are_refused() {
        // The decoder/validator should already refuse these; the lowering
        // checks again because r10-relative elision depends on it.
        let insns = [
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Mov,
                dst: Reg::R10,
                src: Src::Imm(0),
            },
            Insn::Exit,
        ];
        if let Ok(p) = Program::from_insns(&insns) {
            let mut f =
                ir::Function::with_name_signature(UserFuncName::user(0, 0), function_signature());
            let e = lower_function(
                &p,
                0,
                &mut ModuleFreeEnv::default(),
                CallConv::SystemV,
                &mut f,
            );
            assert_eq!(e, Err(LowerError::WritesFramePointer { pc: 0 }));
        }
    }
}
