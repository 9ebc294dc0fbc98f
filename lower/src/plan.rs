//! What the driver decides about a function before building any CLIF: its
//! instruction range, its budget checkpoints and which copies to build
//! (the scheme is `budget.rs`'s module doc).
//!
//! Everything here is read from the program's [`Cfg`]; nothing re-derives a
//! jump target. This module imports no other module of the crate, so both
//! the driver (`func.rs`) and the budget accounting (`budget.rs`) can use it
//! without importing each other.

use cranebpf_runtime::analysis::proof::{LoopFact, Proof};
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
    /// back-edge target (except the free loop headers, see `budget.rs`)
    /// and every instruction after a local call.
    pub checkpoints: HashSet<usize>,
    /// For each back-edge target: the index of the last jump back to it
    /// (the block is sealed after that jump is built).
    pub last_back_jump: HashMap<usize, usize>,
    /// The copies to build, in order: the fast one (only for a function
    /// with a loop), then the checked one.
    pub passes: &'static [BudgetMode],
    /// What the fast copy compares `remaining` with at a checkpoint: the
    /// most this function can charge between two of its compares. The
    /// function's instruction count `L` (no forward path charges more),
    /// times `Π (1 + max_trips)` over the back-edges into free loop
    /// headers (see `budget.rs`).
    pub threshold: u64,
}

/// The largest threshold the plan accepts for free loop headers: beyond it
/// every loop header keeps its compare (a budget that large could not run
/// out in a lifetime, but the threshold must fit an immediate).
const MAX_THRESHOLD: u64 = 1 << 40;

impl BudgetPlan {
    /// The plan of the function `range` of the program whose graph is `cfg`.
    /// `proof` may make loop headers free (their back-edges proven
    /// bounded).
    pub fn new(cfg: &Cfg, range: FunctionRange, proof: Option<&Proof>) -> BudgetPlan {
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
        // Function start and after-call leaders always compare.
        let fixed = checkpoints.clone();
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
        let function_len: u64 = cfg.block_lens()[range.first..range.end]
            .iter()
            .map(|&n| u64::from(n))
            .sum();
        let (free, threshold) = free_headers(&edges[lo..hi], &fixed, proof, function_len);
        for h in &free {
            checkpoints.remove(h);
        }
        BudgetPlan {
            checkpoints,
            last_back_jump,
            passes,
            threshold,
        }
    }
}

/// The loop headers whose compare the fast copy drops, and the threshold
/// the remaining compares then use (`budget.rs` has the argument). A
/// header is free when every back-edge into it is `LoopFact::Bounded` in
/// `proof` and it is not a `fixed` checkpoint (the function start, an
/// instruction after a local call). Without a proof, or when the threshold
/// would exceed [`MAX_THRESHOLD`], none is free and the threshold is `len`.
fn free_headers(
    edges: &[(usize, usize)],
    fixed: &HashSet<usize>,
    proof: Option<&Proof>,
    len: u64,
) -> (HashSet<usize>, u64) {
    let none = (HashSet::new(), len);
    let Some(proof) = proof else {
        return none;
    };
    let trips = |from: usize, to: usize| {
        proof.loops().iter().find_map(|l| match *l {
            LoopFact::Bounded {
                from: f,
                to: t,
                max_trips,
            } if f == from && t == to => Some(max_trips),
            _ => None,
        })
    };
    let mut free: HashSet<usize> = edges
        .iter()
        .map(|&(_, to)| to)
        .filter(|to| !fixed.contains(to))
        .collect();
    for &(from, to) in edges {
        if trips(from, to).is_none() {
            free.remove(&to);
        }
    }
    let mut threshold = len;
    for &(from, to) in edges.iter().filter(|(_, to)| free.contains(to)) {
        let factor = trips(from, to).and_then(|m| m.checked_add(1));
        match factor.and_then(|f| threshold.checked_mul(f)) {
            Some(t) if t <= MAX_THRESHOLD => threshold = t,
            _ => return none,
        }
    }
    (free, threshold)
}
