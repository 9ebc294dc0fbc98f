//! [`Cfg`]: the control-flow graph of a program, computed once.
//!
//! Every consumer of control flow (the validator, the budget partition,
//! the frame analysis, the context rewrite, the interpreter's predecoder
//! and the lowering) reads it here instead of deriving jump targets
//! itself. It holds, all indexed by **instruction index** (position in
//! [`crate::Program::insns`], LDDW counting once) unless said otherwise:
//!
//! - the instruction index of every slot that starts an instruction
//!   ([`Cfg::index_of_pc`], O(1));
//! - the target of every jump and local call ([`Cfg::target`]), computed
//!   with [`sem::jump_target`], the one place that knows `pc + 1 + off`;
//! - the functions ([`Cfg::functions`], [`Cfg::function_insns`]): pc 0 and
//!   every local-call target, in pc order, each running to the next start;
//!   [`Cfg::is_call_target`] is an O(1) lookup;
//! - the basic blocks of the budget rule (`analysis::budget`):
//!   [`Cfg::block_len`] for each leader, and [`Cfg::blocks`] with each
//!   block's successors ([`BasicBlock::succs`], [`BasicBlock::callee`]);
//! - the loop back-edges: jumps whose target is at or before them
//!   ([`Cfg::back_edges`]).
//!
//! Building it is one pass over the instructions plus a sort of the call
//! targets: O(program size), whatever the number of functions.
//!
//! The graph is built from decoded instructions in program order, validated
//! or not (the context rewrite runs before validation). Targets that do not
//! name an instruction are left out ([`Cfg::target`] is `None`); the
//! validator reports them.

use crate::isa::insn::{CallKind, Insn};
use crate::sem;
use std::fmt;
use std::ops::Range;

/// "No index" in the compact tables.
const NONE: u32 = u32::MAX;

/// A function of the program: `[start, end)` in slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Function {
    /// First slot: 0 for the entry function, else a local-call target.
    pub start: usize,
    /// One past the last slot: the next function's start, or the program length.
    pub end: usize,
}

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A basic block: instruction indices `[first, end)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicBlock {
    /// Index of the leader.
    pub first: usize,
    /// One past the index of the last instruction.
    pub end: usize,
    /// Successor leaders in this order: a jump's target, then the next
    /// instruction (for a conditional jump, a call or any instruction that
    /// falls through). Empty after `exit`; a `ja` has only its target. A
    /// target that names no instruction, or a next instruction past the
    /// end of the program, is left out.
    pub succs: Vec<usize>,
    /// For a block that ends in a local call: the callee's first
    /// instruction.
    pub callee: Option<usize>,
}

/// The control-flow graph of one program (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cfg {
    /// For each slot: the index of the instruction that starts there, or
    /// [`NONE`] (the second slot of an LDDW).
    index_of_slot: Vec<u32>,
    /// For each instruction: its jump or local-call target, or [`NONE`].
    targets: Vec<u32>,
    /// For each slot: whether a local call targets it.
    called: Vec<bool>,
    /// The functions, in pc order.
    functions: Vec<Function>,
    /// Instruction index range of each function.
    function_insns: Vec<Range<usize>>,
    /// For each instruction: the length of the block it leads, or 0.
    block_len: Vec<u32>,
    /// The basic blocks, in program order.
    blocks: Vec<BasicBlock>,
    /// For each instruction: the index into `blocks` of its block.
    block_of: Vec<u32>,
    /// Back-edges `(jump index, target index)`, in program order.
    back_edges: Vec<(usize, usize)>,
}

impl Cfg {
    /// Builds the graph of `insns`: pairs of pc and instruction in program
    /// order, as [`crate::decode_all`] returns them.
    pub fn new(insns: &[(usize, Insn)]) -> Cfg {
        let nslots = insns.last().map_or(0, |&(pc, i)| pc + i.slots());
        let index_of_slot = slot_index(insns, nslots);
        let lookup = |t: usize| index_of_slot.get(t).copied().filter(|&i| i != NONE);
        let targets: Vec<u32> = insns
            .iter()
            .map(|&(pc, insn)| {
                relative_offset(insn)
                    .and_then(|off| sem::jump_target(pc, off))
                    .and_then(lookup)
                    .unwrap_or(NONE)
            })
            .collect();
        let (functions, called) = functions(insns, &targets, nslots);
        let function_insns = functions
            .iter()
            .map(|f| {
                let at = |pc: usize| lookup(pc).map_or(insns.len(), |i| i as usize);
                at(f.start)..at(f.end)
            })
            .collect();
        let block_len = block_lengths(insns, &targets);
        let (blocks, block_of) = basic_blocks(insns, &targets, &block_len);
        let back_edges = back_edges(insns, &targets);
        Cfg {
            index_of_slot,
            targets,
            called,
            functions,
            function_insns,
            block_len,
            blocks,
            block_of,
            back_edges,
        }
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.targets.len()
    }

    /// Whether the program has no instructions.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The instruction index of the instruction that starts at slot `pc`.
    pub fn index_of_pc(&self, pc: usize) -> Option<usize> {
        self.index_of_slot
            .get(pc)
            .copied()
            .filter(|&i| i != NONE)
            .map(|i| i as usize)
    }

    /// The instruction index a jump or local call at index `i` goes to, if
    /// it is one and its target names an instruction.
    pub fn target(&self, i: usize) -> Option<usize> {
        self.targets
            .get(i)
            .copied()
            .filter(|&t| t != NONE)
            .map(|t| t as usize)
    }

    /// The functions: the entry function first, then every local-call
    /// target, in pc order; each runs to the next start.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// Instruction index range of function `f` (an index into
    /// [`Cfg::functions`]).
    pub fn function_insns(&self, f: usize) -> Option<Range<usize>> {
        self.function_insns.get(f).cloned()
    }

    /// The index into [`Cfg::functions`] of the function starting at `pc`.
    pub fn function_at(&self, pc: usize) -> Option<usize> {
        self.functions.binary_search_by_key(&pc, |f| f.start).ok()
    }

    /// The index into [`Cfg::functions`] of the function whose first
    /// instruction is the one at index `i`.
    pub fn function_at_index(&self, i: usize) -> Option<usize> {
        self.function_insns
            .binary_search_by_key(&i, |r| r.start)
            .ok()
    }

    /// The function slot `pc` lies in (the entry function for a pc past
    /// the end).
    pub fn function_of(&self, pc: usize) -> Function {
        let i = self.functions.partition_point(|f| f.start <= pc);
        self.functions
            .get(i.wrapping_sub(1))
            .copied()
            .unwrap_or(Function { start: 0, end: 0 })
    }

    /// Whether some local call targets slot `pc`.
    pub fn is_call_target(&self, pc: usize) -> bool {
        self.called.get(pc).copied().unwrap_or(false)
    }

    /// For each instruction: the length in instructions of the block it
    /// leads, or 0 if it does not lead one.
    pub fn block_lens(&self) -> &[u32] {
        &self.block_len
    }

    /// The length of the block instruction `i` leads, or 0.
    pub fn block_len(&self, i: usize) -> u32 {
        self.block_len.get(i).copied().unwrap_or(0)
    }

    /// The basic blocks, in program order.
    pub fn blocks(&self) -> &[BasicBlock] {
        &self.blocks
    }

    /// The block instruction `i` belongs to.
    pub fn block_of(&self, i: usize) -> Option<&BasicBlock> {
        self.block_of
            .get(i)
            .and_then(|&b| self.blocks.get(b as usize))
    }

    /// Back-edges `(jump, target)` by instruction index, in program order:
    /// every `ja` or conditional jump whose target is at or before it.
    /// Every cycle of the control flow within a function contains one.
    pub fn back_edges(&self) -> &[(usize, usize)] {
        &self.back_edges
    }
}

/// The relative offset of a jump (`off`) or local call (`imm`).
fn relative_offset(insn: Insn) -> Option<i64> {
    match insn {
        Insn::Call {
            kind: CallKind::Local,
            imm,
        } => Some(i64::from(imm)),
        other => other.jump_offset(),
    }
}

/// For each of `nslots` slots: the index of the instruction starting there.
fn slot_index(insns: &[(usize, Insn)], nslots: usize) -> Vec<u32> {
    let mut index = vec![NONE; nslots];
    for (i, &(pc, _)) in insns.iter().enumerate() {
        if let Some(slot) = index.get_mut(pc) {
            *slot = i as u32;
        }
    }
    index
}

/// The functions (pc 0 and every local-call target that names an
/// instruction, sorted, each running to the next start) and, per slot,
/// whether a local call targets it.
fn functions(
    insns: &[(usize, Insn)],
    targets: &[u32],
    nslots: usize,
) -> (Vec<Function>, Vec<bool>) {
    let mut called = vec![false; nslots];
    let mut entries = vec![0];
    for (&(_, insn), &t) in insns.iter().zip(targets) {
        if let (
            Insn::Call {
                kind: CallKind::Local,
                ..
            },
            true,
        ) = (insn, t != NONE)
        {
            let pc = insns[t as usize].0;
            called[pc] = true;
            entries.push(pc);
        }
    }
    entries.sort_unstable();
    entries.dedup();
    let ends = entries.iter().skip(1).copied().chain([nslots]);
    let functions = entries
        .iter()
        .zip(ends)
        .map(|(&start, end)| Function { start, end })
        .collect();
    (functions, called)
}

/// The budget rule's leaders (`analysis::budget`, rule 1) as block
/// lengths: for each instruction, the length of the block it leads or 0.
fn block_lengths(insns: &[(usize, Insn)], targets: &[u32]) -> Vec<u32> {
    let n = insns.len();
    let mut leader = vec![false; n];
    if n > 0 {
        leader[0] = true;
    }
    for (i, &(_, insn)) in insns.iter().enumerate() {
        if let Some(&t) = targets.get(i).filter(|&&t| t != NONE) {
            leader[t as usize] = true;
        }
        let ends_block = matches!(
            insn,
            Insn::Ja { .. }
                | Insn::Jmp { .. }
                | Insn::Call { .. }
                | Insn::Callx { .. }
                | Insn::Exit
                | Insn::LdAbs { .. }
                | Insn::LdInd { .. }
        );
        if ends_block && i + 1 < n {
            leader[i + 1] = true;
        }
    }
    let mut len = vec![0u32; n];
    let mut start = 0;
    for (i, _) in leader.iter().enumerate().skip(1).filter(|&(_, &l)| l) {
        len[start] = (i - start) as u32;
        start = i;
    }
    if n > 0 {
        len[start] = (n - start) as u32;
    }
    len
}

/// The blocks with their successors, and each instruction's block.
fn basic_blocks(
    insns: &[(usize, Insn)],
    targets: &[u32],
    block_len: &[u32],
) -> (Vec<BasicBlock>, Vec<u32>) {
    let n = insns.len();
    let mut blocks = Vec::new();
    let mut block_of = vec![NONE; n];
    for (first, &len) in block_len.iter().enumerate() {
        if len == 0 {
            continue;
        }
        let end = first + len as usize;
        let last = end - 1;
        let target = Some(targets[last])
            .filter(|&t| t != NONE)
            .map(|t| t as usize);
        let next = Some(end).filter(|&e| e < n);
        let (succs, callee) = match insns[last].1 {
            Insn::Exit => (vec![], None),
            Insn::Ja { .. } => (target.into_iter().collect(), None),
            Insn::Jmp { .. } => (target.into_iter().chain(next).collect(), None),
            Insn::Call {
                kind: CallKind::Local,
                ..
            } => (next.into_iter().collect(), target),
            _ => (next.into_iter().collect(), None),
        };
        block_of[first..end].fill(blocks.len() as u32);
        blocks.push(BasicBlock {
            first,
            end,
            succs,
            callee,
        });
    }
    (blocks, block_of)
}

/// Jumps whose target is at or before them, as `(jump, target)` indices.
fn back_edges(insns: &[(usize, Insn)], targets: &[u32]) -> Vec<(usize, usize)> {
    insns
        .iter()
        .zip(targets)
        .enumerate()
        .filter(|&(i, (&(_, insn), &t))| {
            insn.jump_offset().is_some() && t != NONE && t as usize <= i
        })
        .map(|(i, (_, &t))| (i, t as usize))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::{AluOp, JmpCond, Reg, Src, Width};
    use crate::Program;

    fn mov(imm: i32) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(imm),
        }
    }

    fn jeq(off: i16) -> Insn {
        Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Eq,
            dst: Reg::R0,
            src: Src::Imm(0),
            off,
        }
    }

    fn call(imm: i32) -> Insn {
        Insn::Call {
            kind: CallKind::Local,
            imm,
        }
    }

    #[test]
    fn functions_blocks_and_successors() {
        // 0: call +2 (-> 3)   1: mov   2: exit
        // 3: mov              4: jeq -2 (-> 3)   5: exit
        let p = Program::from_insns(&[call(2), mov(1), Insn::Exit, mov(2), jeq(-2), Insn::Exit])
            .expect("program loads");
        let cfg = p.cfg();
        assert_eq!(
            cfg.functions(),
            &[Function { start: 0, end: 3 }, Function { start: 3, end: 6 }]
        );
        assert_eq!(cfg.function_insns(1), Some(3..6));
        assert!(cfg.is_call_target(3) && !cfg.is_call_target(0));
        assert_eq!(cfg.block_lens(), &[1, 2, 0, 2, 0, 1]);
        assert_eq!(cfg.blocks()[0].succs, vec![1]);
        assert_eq!(cfg.blocks()[0].callee, Some(3));
        assert_eq!(cfg.blocks()[2].succs, vec![3, 5]);
        assert!(cfg.blocks()[1].succs.is_empty());
        assert_eq!(cfg.back_edges(), &[(4, 3)]);
        assert_eq!(cfg.target(4), Some(3));
        assert_eq!(cfg.function_of(4), Function { start: 3, end: 6 });
    }

    #[test]
    fn bad_targets_are_left_out() {
        let insns = [(0, jeq(5)), (1, Insn::Exit)];
        let cfg = Cfg::new(&insns);
        assert_eq!(cfg.target(0), None);
        assert_eq!(cfg.blocks()[0].succs, vec![1]);
    }
}
