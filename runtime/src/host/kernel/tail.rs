//! Tail calls: `bpf_tail_call` (helper 12) over program arrays, and the
//! chain driver that runs one program after another. **This is the one place
//! their semantics are defined**; both engines get them from here.
//!
//! # Semantics
//!
//! `long bpf_tail_call(void *ctx, struct bpf_map *prog_array, u32 index)`,
//! checked in the kernel's order (`___bpf_prog_run`, `JMP_TAIL_CALL`):
//! 1. `index` (the low 32 bits of r3) ≥ `max_entries` → the call fails;
//! 2. the chain has already counted [`MAX_TAIL_CALL_CNT`] (33) tail calls →
//!    it fails; otherwise the counter is incremented, **also when the next
//!    check fails** (as the kernel does);
//! 3. the slot is empty, or names a program the run cannot enter (not
//!    loaded in the [`ProgramSet`](crate::host::elf::ProgramSet) driving the run;
//!    and under a single-program driver, which has no set, every tail call
//!    fails here) → it fails.
//!
//! A failed call returns and execution continues after it with
//! r0 = [`TAIL_CALL_FAILED`] (`-ENOENT`). The kernel leaves r0 unspecified
//! (its interpreter keeps the old r0, its x86 JIT clobbers it) and the
//! verifier treats it as unknown, so kernel-valid programs never read it.
//! r2 that is not a map handle, or a map that is not a program array, stops
//! the run with a helper fault (the kernel's verifier refuses such programs).
//!
//! A successful call does not return. The current program ends, with all its
//! bpf-to-bpf frames, and the target starts at its entry as a new run of its
//! engine over the same memory map: r1..r5 = the arguments the chain started
//! with (r1 = the context: the run's original r1, whatever the caller passed
//! as `ctx`), r10 = the top of a fresh zeroed stack, the same regions (the
//! packet, global data, map values exposed so far, XDP packet adjustments).
//! The instruction count is cumulative over the chain and the budget
//! ([`RunOptions::budget`]) applies to the whole chain: a segment starts
//! with what is left of it. The call instruction itself is counted; nothing
//! after it in the caller is.
//!
//! **Tail calls from subprograms** (call depth > 0) are refused **at load**
//! ([`ElfError::Unsupported`](crate::host::elf::ElfError::Unsupported)): the
//! kernel allows them since 5.10, but then the target returns to the
//! subprogram's caller, which this design does not model. (A `callx` whose
//! register holds 12 reaches the helper at any depth; it then ends every
//! frame, as described above.)
//!
//! # How engines leave a program
//!
//! No engine knows about tail calls. On success the helper records the
//! target in the run's [`KernelRun`] and returns a [`HelperError`]: the
//! engine stops with `FaultKind::Helper { id: 12 }` through its ordinary
//! fault path, so interpreter and JIT agree on the pc and the count. The
//! chain driver ([`drive`]) sees the pending target, treats that "fault" as
//! the end of the segment and starts the target: the caller's
//! [`Prepared`] program for that index ([`ChainPrograms`]). A fault (or exit) in any segment ends the chain; its pc is
//! in the program named by [`ChainOutcome::program`].

use super::KernelRun;
use crate::engine::fault::{Fault, FaultKind, HelperError};
use crate::engine::run::{RunOptions, RunOutcome};
use crate::engine::Prepared;
use crate::host::maps::{Map, MapType};
use crate::host::mem::MemoryMap;
use std::sync::Arc;

/// The kernel's `MAX_TAIL_CALL_CNT`: tail calls one chain may make.
pub const MAX_TAIL_CALL_CNT: u32 = 33;

/// r0 after a failed `bpf_tail_call`: `-ENOENT`.
pub const TAIL_CALL_FAILED: u64 = -2i64 as u64;

/// The message of the [`HelperError`] that carries a successful tail call
/// out of an engine (never seen by the embedder under [`drive`]).
pub const TAIL_CALL_EXIT: &str = "bpf_tail_call: leaving for the target program";

/// Tail-call state of one chain, kept in its [`KernelRun`].
#[derive(Debug)]
pub(crate) struct Chain {
    /// Which program indexes the driver can start.
    runnable: Arc<[bool]>,
    /// The kernel's `tail_call_cnt`.
    count: u32,
    /// The target of a tail call the current segment just made.
    pending: Option<usize>,
}

/// `bpf_tail_call` against `map` with slot `index`: `Ok(TAIL_CALL_FAILED)`
/// on failure, `Err(TAIL_CALL_EXIT)` with the target recorded on success.
/// See the module docs.
pub(crate) fn tail_call(run: &mut KernelRun, map: &Map, index: u32) -> Result<u64, HelperError> {
    if map.def().map_type != MapType::ProgArray {
        return Err(HelperError::new(format!(
            "bpf_tail_call: map {} is not a program array",
            map.name()
        )));
    }
    if index >= map.def().max_entries {
        return Ok(TAIL_CALL_FAILED);
    }
    let Some(chain) = run.chain.as_mut() else {
        return Ok(TAIL_CALL_FAILED);
    };
    if chain.count >= MAX_TAIL_CALL_CNT {
        return Ok(TAIL_CALL_FAILED);
    }
    chain.count += 1;
    let Some(target) = map.prog_at(index).map(|p| p as usize) else {
        return Ok(TAIL_CALL_FAILED);
    };
    if chain.runnable.get(target) != Some(&true) {
        return Ok(TAIL_CALL_FAILED);
    }
    chain.pending = Some(target);
    Err(HelperError::new(TAIL_CALL_EXIT))
}

/// The result of a chain of tail calls.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainOutcome {
    /// r0 of the last program's `exit`, or the fault that ended the chain;
    /// the count is cumulative over the chain.
    pub outcome: RunOutcome,
    /// The index (in [`Object::programs`](crate::host::elf::Object::programs)) of
    /// the program that was running when the chain ended: a fault's pc is
    /// an instruction of this program.
    pub program: usize,
    /// Successful tail calls made.
    pub tail_calls: u32,
}

/// The programs of a chain, prepared for one engine: program `index` of the
/// set (its index in [`Object::programs`](crate::host::elf::Object::programs)),
/// or `None` if it was not prepared. Implemented for slices and vectors of
/// `Option<P>` for any [`Prepared`] `P` (including `Box<dyn Prepared>`), so
/// `Vec<Option<Interpreter>>` is one.
pub trait ChainPrograms {
    /// The prepared program `index`.
    fn prepared(&self, index: usize) -> Option<&dyn Prepared>;
}

impl<P: Prepared> ChainPrograms for [Option<P>] {
    fn prepared(&self, index: usize) -> Option<&dyn Prepared> {
        self.get(index)?.as_ref().map(|p| p as &dyn Prepared)
    }
}

impl<P: Prepared> ChainPrograms for Vec<Option<P>> {
    fn prepared(&self, index: usize) -> Option<&dyn Prepared> {
        self.as_slice().prepared(index)
    }
}

/// Runs program `entry`, then each tail call's target, until a program
/// exits or faults, each segment with its program from `programs` on a zeroed
/// stack (the thread's scratch stack, [`Prepared::run_scratch`]). `run` is the run's [`KernelRun`] (as the run drivers make it);
/// `runnable[i]` says whether the set loaded program `i`.
pub(crate) fn drive(
    entry: usize,
    runnable: Arc<[bool]>,
    mem: &mut MemoryMap<'_>,
    args: [u64; 5],
    opts: &RunOptions,
    run: &mut KernelRun,
    programs: &(impl ChainPrograms + ?Sized),
) -> ChainOutcome {
    run.chain = Some(Chain {
        runnable,
        count: 0,
        pending: None,
    });
    let (mut program, mut count, mut tail_calls) = (entry, 0u64, 0u32);
    loop {
        let mut seg = *opts;
        seg.budget = opts.budget.map(|b| b.saturating_sub(count));
        let out = match programs.prepared(program) {
            Some(p) => p.run_scratch(mem, args, &seg, Some(&mut *run)),
            None => not_prepared(program),
        };
        count = count.saturating_add(out.insn_count);
        let pending = run.chain.as_mut().and_then(|c| c.pending.take());
        let result = match (out.result, pending) {
            (
                Err(Fault {
                    kind: FaultKind::Helper { id, .. },
                    ..
                }),
                Some(next),
            ) if id == super::HELPER_TAIL_CALL => {
                program = next;
                tail_calls += 1;
                continue;
            }
            // The budget is the chain's, not the segment's.
            (
                Err(Fault {
                    kind: FaultKind::Budget { .. },
                    pc,
                }),
                _,
            ) => Err(Fault {
                kind: FaultKind::Budget {
                    budget: opts.budget.unwrap_or(u64::MAX),
                },
                pc,
            }),
            (r, _) => r,
        };
        return ChainOutcome {
            outcome: RunOutcome {
                result,
                insn_count: count,
            },
            program,
            tail_calls,
        };
    }
}

/// The outcome of entering a program the set loaded but the caller did not
/// prepare: a fault of the tail call that reached it.
fn not_prepared(index: usize) -> RunOutcome {
    RunOutcome {
        result: Err(Fault {
            kind: FaultKind::Helper {
                id: super::HELPER_TAIL_CALL,
                error: HelperError::new(format!("program {index} is not prepared")),
            },
            pc: 0,
        }),
        insn_count: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::maps::MapDef;

    fn prog_array(slots: &[(u32, u32)]) -> Map {
        let def = MapDef {
            map_type: MapType::ProgArray,
            key_size: 4,
            value_size: 4,
            max_entries: 4,
            flags: 0,
        };
        let m = Map::new("progs", def).unwrap();
        for &(i, p) in slots {
            m.set_prog(i, p).unwrap();
        }
        m
    }

    fn run_with_chain(runnable: &[bool]) -> KernelRun {
        let mut run = KernelRun::new();
        run.chain = Some(Chain {
            runnable: runnable.into(),
            count: 0,
            pending: None,
        });
        run
    }

    fn count(run: &KernelRun) -> u32 {
        run.chain.as_ref().map_or(0, |c| c.count)
    }

    #[test]
    fn tail_call_checks_in_the_kernels_order() {
        let m = prog_array(&[(0, 1), (1, 5)]);
        let mut run = run_with_chain(&[true, true]);
        // Out of range: fails before the counter.
        assert_eq!(tail_call(&mut run, &m, 4), Ok(TAIL_CALL_FAILED));
        assert_eq!(count(&run), 0);
        // Empty slot, and a program outside the set: fail after counting.
        assert_eq!(tail_call(&mut run, &m, 2), Ok(TAIL_CALL_FAILED));
        assert_eq!(tail_call(&mut run, &m, 1), Ok(TAIL_CALL_FAILED));
        assert_eq!(count(&run), 2);
        // Success: recorded, and the engine is told to stop.
        assert_eq!(
            tail_call(&mut run, &m, 0),
            Err(HelperError::new(TAIL_CALL_EXIT))
        );
        assert_eq!(run.chain.as_ref().and_then(|c| c.pending), Some(1));
        assert_eq!(count(&run), 3);
    }

    #[test]
    fn tail_call_limit_counts_failed_attempts_too() {
        let m = prog_array(&[(0, 0)]);
        let mut run = run_with_chain(&[true]);
        for _ in 0..MAX_TAIL_CALL_CNT - 1 {
            assert_eq!(tail_call(&mut run, &m, 3), Ok(TAIL_CALL_FAILED)); // empty
        }
        assert!(tail_call(&mut run, &m, 0).is_err()); // the 33rd: succeeds
        assert_eq!(tail_call(&mut run, &m, 0), Ok(TAIL_CALL_FAILED)); // the 34th
        assert_eq!(count(&run), MAX_TAIL_CALL_CNT);
    }

    #[test]
    fn tail_call_needs_a_chain_and_a_program_array() {
        let m = prog_array(&[(0, 0)]);
        // No set driving the run: every tail call fails.
        assert_eq!(
            tail_call(&mut KernelRun::new(), &m, 0),
            Ok(TAIL_CALL_FAILED)
        );
        let def = MapDef {
            map_type: MapType::Array,
            key_size: 4,
            value_size: 4,
            max_entries: 4,
            flags: 0,
        };
        let array = Map::new("a", def).unwrap();
        let e = tail_call(&mut run_with_chain(&[true]), &array, 0).unwrap_err();
        assert!(e.message.contains("not a program array"), "{e}");
    }
}
