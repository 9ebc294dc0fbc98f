//! Splitting a huge eBPF function into several Cranelift functions, so that
//! compile time stays linear in program size.
//!
//! Cranelift's passes (SSA construction, register allocation) cost more
//! than linear time in the size of one function: a function of `n` blocks
//! with values live across all of them costs about `n²`. An eBPF function
//! of more than [`SEGMENT_INSNS`] instructions or [`SEGMENT_BLOCKS`] blocks
//! is therefore cut, at budget block leaders, into *segments* of at most
//! about that many, and each
//! segment becomes a Cranelift function of its own (a *part*):
//!
//! - part 0 is a stub with [`crate::function_signature`] that callers call
//!   as before; it tail-calls part 1 at the function's first leader;
//! - part `k + 1` is segment `k`, with [`part_signature`]: the function
//!   signature plus a `resume` index. Its entry block reloads the budget
//!   counter and the input limits and dispatches (`br_table`) on `resume`
//!   to the leader (and budget copy) control enters at.
//!
//! A jump or fall-through to a leader of another segment becomes a
//! *crossing*: it writes the budget counter to the context and tail-calls
//! (`return_call`, convention `tail`) the target's part with `vm`, the
//! frame pointer, r0..r9 and the target's `resume` index. Exits and faults
//! return as in an unsplit function (the return goes to the function's
//! caller, since every crossing is a tail call). So registers, the count
//! and every fault are as before: the budget rule is per eBPF function and
//! unchanged (checkpoints and threshold come from the whole function's
//! [`crate::plan::BudgetPlan`]; a crossing keeps the copy it leaves), the
//! frame facts are the whole function's, and `LowerOptions` (the proof
//! among them) reach every part alike.
//!
//! Only leaders that some other segment enters get a `resume` index
//! ([`Segments::entries`]), so the dispatch adds predecessors (and SSA
//! block parameters) to those leaders alone. Everything here is computed
//! once per eBPF function ([`crate::FunctionPlan`]), so lowering all parts
//! is linear in the function's size.

use crate::func::Lower;
use crate::plan::{BudgetMode, FunctionRange};
use cranebpf_runtime::{Cfg, Insn, Reg};
use cranelift_codegen::ir::{
    types::{I32, I64},
    AbiParam, Block, InstBuilder, JumpTableData, Signature, Value,
};
use std::collections::HashMap;

/// The most instructions a segment starts with before the next leader
/// begins a new one. Segments are at most this long plus one budget
/// block.
pub const SEGMENT_INSNS: usize = 2048;

/// The most budget blocks (leaders) a segment holds: Cranelift's cost per
/// instruction grows with the number of blocks of a function too.
pub const SEGMENT_BLOCKS: usize = 256;

/// Signature of part `k >= 1` of a split function (convention `tail`):
/// [`crate::function_signature`] plus a last parameter, the `resume` index.
pub fn part_signature() -> Signature {
    let mut sig = crate::sig::function_signature();
    sig.params.push(AbiParam::new(I64));
    sig
}

/// How one eBPF function is cut (instruction indices).
#[derive(Clone, Debug)]
pub(crate) struct Segments {
    /// First instruction of each segment, ascending; `starts[0]` is the
    /// function's first instruction.
    pub starts: Vec<usize>,
    /// One past the function's last instruction.
    pub end: usize,
    /// For each segment: the leaders control can enter it at from outside
    /// (the stub, a jump or a fall-through from another segment), sorted.
    /// A leader's position here, times the number of budget copies, plus
    /// the copy's index, is its `resume` index.
    pub entries: Vec<Vec<usize>>,
}

impl Segments {
    /// Cuts the function `range` of the program `insns` with graph `cfg`.
    pub fn new(cfg: &Cfg, insns: &[(usize, Insn)], range: FunctionRange) -> Segments {
        let mut starts = vec![range.first];
        let mut leaders = 0;
        for i in range.first..range.end {
            if cfg.block_len(i) == 0 {
                continue;
            }
            if i - starts[starts.len() - 1] >= SEGMENT_INSNS || leaders >= SEGMENT_BLOCKS {
                starts.push(i);
                leaders = 0;
            }
            leaders += 1;
        }
        let mut segs = Segments {
            entries: vec![Vec::new(); starts.len()],
            starts,
            end: range.end,
        };
        if segs.starts.len() == 1 {
            return segs;
        }
        for (k, &s) in segs.starts.iter().enumerate() {
            segs.entries[k].push(s);
        }
        for (i, &(_, insn)) in insns.iter().enumerate().take(range.end).skip(range.first) {
            if !matches!(insn, Insn::Ja { .. } | Insn::Jmp { .. }) {
                continue;
            }
            if let Some(t) = cfg
                .target(i)
                .filter(|t| (range.first..range.end).contains(t))
            {
                let to = segs.segment_of(t);
                if to != segs.segment_of(i) {
                    segs.entries[to].push(t);
                }
            }
        }
        for e in &mut segs.entries {
            e.sort_unstable();
            e.dedup();
        }
        segs
    }

    /// Whether the function is cut at all.
    pub fn is_split(&self) -> bool {
        self.starts.len() > 1
    }

    /// The segment instruction `i` lies in.
    pub fn segment_of(&self, i: usize) -> usize {
        self.starts.partition_point(|&s| s <= i).saturating_sub(1)
    }

    /// Instruction range `[first, end)` of segment `k`.
    pub fn bounds(&self, k: usize) -> (usize, usize) {
        let first = self.starts[k];
        let end = self.starts.get(k + 1).copied().unwrap_or(self.end);
        (first, end)
    }

    /// The `resume` index of entering leader `t` in copy `pass` of
    /// `passes` copies, if `t` is an entry of its segment.
    pub fn resume_index(&self, t: usize, pass: usize, passes: usize) -> Option<u64> {
        let pos = self.entries[self.segment_of(t)].binary_search(&t).ok()?;
        Some((pos * passes + pass) as u64)
    }
}

/// What the lowering of one part knows about the split.
pub(crate) struct PartState<'a> {
    /// The function's cut.
    pub segs: &'a Segments,
    /// eBPF function index (for [`crate::LowerEnv::make_part_ref`]).
    pub function: usize,
    /// The budget copies, in order (for `resume` indices).
    pub passes: &'static [BudgetMode],
    /// The crossing block of each (target leader, copy), made on first use.
    pub crossings: HashMap<(usize, usize), Block>,
    /// Crossings made but not yet filled, in order of creation.
    pub pending: Vec<(Block, usize, usize)>,
    /// References to the other parts, by part number.
    pub part_refs: HashMap<usize, cranelift_codegen::ir::FuncRef>,
}

impl Lower<'_> {
    /// The block that leaves this part for leader `t` of another segment
    /// in the copy being built (filled by [`Lower::emit_crossings`]).
    pub(crate) fn crossing_block(&mut self, t: usize) -> Option<Block> {
        let mode = self.budget_mode;
        let split = self.split.as_mut()?;
        let pass = split.passes.iter().position(|&m| m == mode)?;
        if let Some(&b) = split.crossings.get(&(t, pass)) {
            return Some(b);
        }
        let b = self.b.create_block();
        split.crossings.insert((t, pass), b);
        split.pending.push((b, t, pass));
        Some(b)
    }

    /// Fills every crossing block: write the budget counter back and
    /// tail-call the target's part with the registers and the target's
    /// `resume` index.
    pub(crate) fn emit_crossings(&mut self) -> Result<(), crate::LowerError> {
        let pending = match self.split.as_mut() {
            Some(s) => std::mem::take(&mut s.pending),
            None => return Ok(()),
        };
        for (block, t, pass) in pending {
            self.b.switch_to_block(block);
            self.b.seal_block(block);
            let (part, resume) = match self.split.as_ref() {
                Some(s) => (
                    s.segs.segment_of(t) + 1,
                    s.segs.resume_index(t, pass, s.passes.len()),
                ),
                None => continue,
            };
            let resume = resume.ok_or(crate::LowerError::BadTarget { pc: self.pc })?;
            self.store_remaining();
            let resume = self.iconst(resume);
            self.tail_call_part(part, resume);
        }
        Ok(())
    }

    /// `return_call` part `part` of this function with vm, r10, r0..r9 and
    /// `resume`.
    pub(crate) fn tail_call_part(&mut self, part: usize, resume: Value) {
        let Some(split) = self.split.as_mut() else {
            return;
        };
        let fref = match split.part_refs.get(&part) {
            Some(&f) => f,
            None => {
                let f = self.env.make_part_ref(self.b.func, split.function, part);
                split.part_refs.insert(part, f);
                f
            }
        };
        let mut args = vec![self.vm, self.get(Reg::R10)];
        for r in 0..10u8 {
            args.push(self.b.use_var(self.regs[r as usize]));
        }
        args.push(resume);
        self.b.ins().return_call(fref, &args);
    }

    /// Ends the entry block of a segment's part: jump to the entry leader
    /// `resume` selects (`table[resume]`, the first one if out of range).
    pub(crate) fn dispatch(&mut self, resume: Value, table: &[Block]) {
        match table {
            [] => {}
            [only] => {
                self.b.ins().jump(*only, &[]);
            }
            [first, ..] => {
                let def = self.b.func.dfg.block_call(*first, &[]);
                let calls: Vec<_> = table
                    .iter()
                    .map(|&b| self.b.func.dfg.block_call(b, &[]))
                    .collect();
                let jt = self.b.create_jump_table(JumpTableData::new(def, &calls));
                let idx = self.b.ins().ireduce(I32, resume);
                self.b.ins().br_table(idx, jt);
            }
        }
    }
}

/// The per-copy leader blocks of a segment's entries, in `resume` order.
pub(crate) fn dispatch_table(
    entries: &[usize],
    pass_blocks: &[HashMap<usize, Block>],
) -> Option<Vec<Block>> {
    let mut table = Vec::with_capacity(entries.len() * pass_blocks.len());
    for &e in entries {
        for blocks in pass_blocks {
            table.push(*blocks.get(&e)?);
        }
    }
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{lower_part, FunctionPlan, LowerOptions, ModuleFreeEnv};
    use cranebpf_runtime::{AluOp, JmpCond, Program, Src, Width};
    use cranelift_codegen::ir::{self, UserFuncName};
    use cranelift_codegen::isa::CallConv;

    /// `n` blocks `jeq r1, 5, +1; add r0, 1`, then exit.
    fn jeq_chain(n: usize) -> Program {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Eq,
                dst: Reg::R1,
                src: Src::Imm(5),
                off: 1,
            });
            v.push(Insn::Alu {
                w: Width::W64,
                op: AluOp::Add,
                dst: Reg::R0,
                src: Src::Imm(1),
            });
        }
        v.push(Insn::Exit);
        Program::from_insns(&v).expect("loads")
    }

    /// The CLIF instructions of every part of function 0.
    fn part_sizes(p: &Program) -> Vec<usize> {
        let opts = LowerOptions::default();
        let plan = FunctionPlan::new(p, 0, &opts).expect("plans");
        let mut env = ModuleFreeEnv::default();
        (0..plan.parts())
            .map(|part| {
                let sig = if part == 0 {
                    crate::function_signature()
                } else {
                    part_signature()
                };
                let mut f = ir::Function::with_name_signature(UserFuncName::user(0, 0), sig);
                lower_part(p, &plan, part, &mut env, CallConv::SystemV, &opts, &mut f)
                    .expect("lowers");
                f.layout
                    .blocks()
                    .map(|b| f.layout.block_insts(b).count())
                    .sum()
            })
            .collect()
    }

    #[test]
    fn a_short_function_is_one_part() {
        assert_eq!(part_sizes(&jeq_chain(100)).len(), 1);
    }

    /// Structural linearity: the number of parts grows with the program,
    /// and no part grows beyond a bound set by the segment length.
    #[test]
    fn a_long_function_is_cut_into_bounded_parts() {
        let n = 4 * SEGMENT_INSNS; // 8 segments' worth of instructions
        let sizes = part_sizes(&jeq_chain(n));
        assert!(sizes.len() >= 8, "{sizes:?}");
        // Each segment has about SEGMENT_INSNS eBPF instructions; a part
        // emits a bounded number of CLIF instructions per eBPF one.
        let bound = 16 * (SEGMENT_INSNS + 2);
        assert!(sizes.iter().all(|&s| s <= bound), "{sizes:?}");
        // The stub is a handful of instructions.
        assert!(sizes[0] < 8, "{sizes:?}");
    }
}
