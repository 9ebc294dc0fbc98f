//! What the driver decides about a function before building any CLIF: its
//! instruction range, its budget checkpoints and which copies to build
//! (the scheme is `budget.rs`'s module doc).
//!
//! Everything here is read from the program's [`Cfg`]; nothing re-derives a
//! jump target. This module imports no other module of the crate, so both
//! the driver (`func.rs`) and the budget accounting (`budget.rs`) can use it
//! without importing each other.

use cranebpf_runtime::{Cfg, Program};
use std::collections::{HashMap, HashSet};

/// One eBPF function: instruction indices `[first, end)` into
/// [`Program::insns`], and its first pc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FunctionRange {
    /// Slot index of the first instruction.
    pub start_pc: usize,
    /// Index into [`Program::insns`] of the first instruction.
    pub first: usize,
    /// One past the index of the last instruction.
    pub end: usize,
}

/// Function `index` of `program` (an index into [`Program::functions`]), if
/// it exists and holds an instruction. O(1).
pub(crate) fn function_range(program: &Program, index: usize) -> Option<FunctionRange> {
    let r = program.cfg().function_insns(index)?;
    let &(start_pc, _) = program.insns().get(r.start)?;
    (r.start < r.end).then_some(FunctionRange {
        start_pc,
        first: r.start,
        end: r.end,
    })
}

/// Which copy of a function is being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BudgetMode {
    /// Compare at checkpoints only.
    Fast,
    /// Compare at every leader.
    Checked,
}

/// The budget plan of one function; indices are instruction indices.
pub(crate) struct BudgetPlan {
    /// Leaders where the fast copy compares: the function start, every
    /// back-edge target and every instruction after a local call.
    pub checkpoints: HashSet<usize>,
    /// For each back-edge target: the index of the last jump back to it
    /// (the block is sealed after that jump is built).
    pub last_back_jump: HashMap<usize, usize>,
    /// The copies to build, in order: the fast one (only for a function
    /// with a loop), then the checked one.
    pub passes: &'static [BudgetMode],
    /// Instructions in the function: no forward path from a checkpoint to
    /// the next charges more.
    pub function_len: u64,
}

impl BudgetPlan {
    /// The plan of the function `range` of the program whose graph is `cfg`.
    pub fn new(cfg: &Cfg, range: FunctionRange) -> BudgetPlan {
        let mut checkpoints = HashSet::from([range.first]);
        for i in range.first..range.end {
            if cfg.block_len(i) == 0 {
                continue;
            }
            match cfg.block_of(i) {
                Some(block) if block.callee.is_some() && block.end < range.end => {
                    checkpoints.insert(block.end);
                }
                _ => {}
            }
        }
        let edges = cfg.back_edges();
        let lo = edges.partition_point(|&(from, _)| from < range.first);
        let hi = edges.partition_point(|&(from, _)| from < range.end);
        let mut last_back_jump = HashMap::new();
        for &(from, to) in &edges[lo..hi] {
            last_back_jump.insert(to, from);
            checkpoints.insert(to);
        }
        let passes: &'static [BudgetMode] = if last_back_jump.is_empty() {
            &[BudgetMode::Checked]
        } else {
            &[BudgetMode::Fast, BudgetMode::Checked]
        };
        let function_len = cfg.block_lens()[range.first..range.end]
            .iter()
            .map(|&n| u64::from(n))
            .sum();
        BudgetPlan {
            checkpoints,
            last_back_jump,
            passes,
            function_len,
        }
    }
}
