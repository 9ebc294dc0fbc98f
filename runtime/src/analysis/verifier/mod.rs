//! The static verifier: proves, before a program runs, which memory
//! accesses stay in bounds and which loops terminate, and hands the lowering
//! a [`Proof`]. In strict mode it refuses, kernel-style, what it cannot
//! prove.
//!
//! It is an abstract interpreter over the program's [`Cfg`](crate::Cfg),
//! path-sensitive with state pruning like the Linux verifier:
//! - [`state`]: per register a type (scalar; pointer to a frame, the
//!   context, the packet and its end, the input and its end, a map value
//!   (or null), a ring-buffer record (or null)) and a value, known bits
//!   ([`tnum`]) and signed and unsigned ranges ([`num`]); per frame the
//!   stack bytes written and the spills (pointers keep their type through
//!   8-byte spills);
//! - transfer functions per family: [`alu`], [`mem`] (and the one rule that
//!   proves an access), [`branch`] (what a conditional jump teaches:
//!   ranges, null tests, packet and input bounds), [`helpers`] (helper
//!   signatures); bpf-to-bpf calls push a frame in the [`driver`];
//! - [`driver`]: the exploration, checkpoints and pruning, loop detection,
//!   the complexity limit; [`liveness`] lets stored states forget dead
//!   registers;
//! - [`config`]: what runs look like ([`VerifyConfig`]: program kind and
//!   context layout, maps, global data, known helpers);
//! - [`error`] and [`log`]: strict mode's refusal and the state log.
//!
//! Modes: *elide* (`strict: false`) never refuses: an access not proven on
//! every path is [`AccessFact::Unproven`] and stays checked at run time. If
//! the exploration cannot finish (complexity limit, a loop without
//! progress) a path-insensitive fallback with widening ([`widen`]) proves
//! what it can and no loop bounded; if that cannot finish either (or on
//! `callx` to a non-constant), the proof proves nothing. *Strict* refuses the first
//! unproven access, uninitialised read, unfollowed pointer operation,
//! unknown helper or unbounded loop with a [`VerifyError`]. (Off is not
//! calling the verifier.)
//!
//! Legacy packet loads (LD_ABS/LD_IND) are checked at run time by
//! definition, in every mode: they are never refused, and the proof calls
//! them `NotMemory` (nothing to prove: out of the packet, the program ends
//! with 0), as [`Proof::from_frame`] does.
//!
//! ```
//! use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
//! use cranebpf_runtime::asm::assemble;
//! use cranebpf_runtime::Program;
//!
//! // Read the first input byte if there is one.
//! let prog = Program::from_insns(&assemble(
//!     "mov %r0, 0
//!      jeq %r2, 0, +1
//!      ldxb %r0, [%r1+0]
//!      exit",
//! )?)?;
//! let v = verify(&prog, &VerifyConfig::mem().strict(true))?;
//! assert_eq!(v.proof.coverage(), (1, 1));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod alu;
mod branch;
pub mod config;
mod driver;
pub mod error;
mod helpers;
mod liveness;
mod log;
mod mem;
pub mod num;
pub mod planted;
pub mod state;
mod step;
mod tie;
pub mod tnum;
mod widen;

pub use config::{CtxPtr, CtxRegion, Entry, MapInfo, VerifyConfig, COMPLEXITY_LIMIT};
pub use driver::Stats;
pub use error::{ErrorKind, VerifyError};

use crate::analysis::proof::{AccessFact, LoopFact, Proof, RegionKind};
use crate::isa::asm::disassemble_insn;
use crate::Program;
use num::Num;
use state::{Ptr, PtrKind, Scalar, State, Value};

/// A verified program: the proof and how it was found.
#[derive(Clone, Debug)]
pub struct Verified {
    /// One fact per instruction, one per back-edge.
    pub proof: Proof,
    /// Exploration counters.
    pub stats: Stats,
    /// Why verification could not finish (elide mode only; then the proof
    /// proves nothing).
    pub incomplete: Option<String>,
    /// The state log (empty unless asked for).
    pub log: Vec<String>,
}

/// Verifies `prog` under `conf` (see the module docs).
pub fn verify(prog: &Program, conf: &VerifyConfig) -> Result<Verified, VerifyError> {
    if conf.strict {
        if let Some(e) = static_refusal(prog) {
            return Err(e);
        }
    }
    let mut ex = driver::Explorer::new(prog, conf);
    let result = ex.run(entry_state(conf));
    let log = std::mem::take(&mut ex.log).finish();
    match result {
        Ok(out) => Ok(Verified {
            proof: proof_of(prog, &out),
            stats: out.stats,
            incomplete: None,
            log,
        }),
        Err(stop) => {
            let (pc, insn) = prog.insns()[stop.at];
            if !conf.strict
                && matches!(
                    stop.kind,
                    ErrorKind::TooComplex { .. } | ErrorKind::Loop { .. }
                )
            {
                if let Some(v) = fallback(prog, conf, &stop, pc) {
                    return Ok(v);
                }
            }
            if conf.strict {
                return Err(VerifyError {
                    pc,
                    insn: disassemble_insn(&insn),
                    state: stop.state,
                    kind: stop.kind,
                });
            }
            let why = format!("verification stopped at pc {pc}: {}", stop.kind);
            Ok(Verified {
                proof: nothing_proven(prog, &why),
                stats: ex.stats(),
                incomplete: Some(why),
                log,
            })
        }
    }
}

/// What strict mode refuses before any exploration, as the kernel's
/// `check_cfg` does: an instruction no path of the control-flow graph
/// reaches (branch conditions aside), and `callx` anywhere (the kernel has
/// no such instruction).
fn static_refusal(prog: &Program) -> Option<VerifyError> {
    let insns = prog.insns();
    let refuse = |i: usize, what: &str| {
        let (pc, insn) = insns[i];
        Some(VerifyError {
            pc,
            insn: disassemble_insn(&insn),
            state: String::new(),
            kind: ErrorKind::Unsupported { what: what.into() },
        })
    };
    if let Some(i) = insns
        .iter()
        .position(|(_, insn)| matches!(insn, crate::Insn::Callx { .. }))
    {
        return refuse(i, "callx (the kernel has no indirect calls)");
    }
    let cfg = prog.cfg();
    let mut seen = vec![false; insns.len()];
    let mut work = vec![0usize];
    while let Some(leader) = work.pop() {
        let Some(block) = cfg.block_of(leader) else {
            continue;
        };
        if seen[block.first] {
            continue;
        }
        seen[block.first..block.end].fill(true);
        work.extend(block.succs.iter().copied());
        work.extend(block.callee);
    }
    match seen.iter().position(|s| !s) {
        Some(i) => refuse(i, "unreachable instruction"),
        None => None,
    }
}

/// Elide mode's path-insensitive fallback (`widen.rs`) after the
/// exploration stopped at `stop`: accesses proven from converged states, no
/// loop proven bounded; `None` if it cannot finish either.
fn fallback(
    prog: &Program,
    conf: &VerifyConfig,
    stop: &driver::Stop,
    pc: usize,
) -> Option<Verified> {
    let mut ex = driver::Explorer::new(prog, conf);
    ex.widen(entry_state(conf), conf.complexity_limit).ok()?;
    let why = format!(
        "path exploration stopped at pc {pc} ({}); accesses proven by widening",
        stop.kind
    );
    let mut proof = facts_proof(prog, &ex.facts);
    for &(from, to) in prog.cfg().back_edges() {
        proof.push_loop(LoopFact::Unproven {
            from,
            to,
            reason: why.clone(),
        });
    }
    Some(Verified {
        proof,
        stats: ex.stats(),
        incomplete: None,
        log: Vec::new(),
    })
}

/// The entry state `conf` describes.
fn entry_state(conf: &VerifyConfig) -> State {
    let unknown = Value::UNKNOWN;
    let mut args = [unknown; 5];
    match &conf.entry {
        Entry::Mem { .. } => {
            args[0] = Value::Ptr(Ptr::at(PtrKind::Input, 0));
            // The input is a slice: at most isize::MAX bytes.
            args[1] = Value::Scalar(Scalar {
                is_len: true,
                ..Scalar::of(Num::urange(0, i64::MAX as u64))
            });
        }
        // Context offsets are from r1 (the `__sk_buff` shadow lies before it).
        Entry::Ctx { .. } => args[0] = Value::Ptr(Ptr::at(PtrKind::Ctx, 0)),
        Entry::Opaque => {}
    }
    State::entry(args)
}

/// Whether `insn` touches memory (the instructions a fact is about).
fn is_memory(insn: &crate::Insn) -> bool {
    use crate::Insn::*;
    matches!(
        insn,
        Ldx { .. } | St { .. } | Stx { .. } | Atomic { .. } | LdAbs { .. } | LdInd { .. }
    )
}

/// The proof of a finished exploration.
fn proof_of(prog: &Program, out: &driver::Explored) -> Proof {
    let mut p = facts_proof(prog, &out.facts);
    for &(from, to) in prog.cfg().back_edges() {
        let max_trips = out.trips.get(&(from, to)).copied().unwrap_or(0);
        p.push_loop(LoopFact::Bounded {
            from,
            to,
            max_trips,
        });
    }
    p
}

/// The access facts of an exploration, as a proof without loop facts.
/// Legacy packet loads stay `NotMemory`, as in [`Proof::from_frame`]: their
/// out-of-packet case is semantics (the program ends with 0), not a fault,
/// so there is nothing to prove and they are never elided.
fn facts_proof(prog: &Program, facts: &[Option<Result<RegionKind, String>>]) -> Proof {
    let mut p = Proof::empty(prog.insns().len());
    for (i, f) in facts.iter().enumerate() {
        if is_legacy(&prog.insns()[i].1) {
            continue;
        }
        match f {
            Some(Ok(region)) => p.set_access(i, AccessFact::Proven { region: *region }),
            Some(Err(reason)) => p.set_access(
                i,
                AccessFact::Unproven {
                    reason: reason.clone(),
                },
            ),
            None => {}
        }
    }
    p
}

/// Whether `insn` is a legacy packet load (LD_ABS/LD_IND).
fn is_legacy(insn: &crate::Insn) -> bool {
    matches!(insn, crate::Insn::LdAbs { .. } | crate::Insn::LdInd { .. })
}

/// A proof of nothing, every access and loop saying `why`.
fn nothing_proven(prog: &Program, why: &str) -> Proof {
    let mut p = Proof::empty(prog.insns().len());
    for (i, (_, insn)) in prog.insns().iter().enumerate() {
        if is_memory(insn) && !is_legacy(insn) {
            p.set_access(
                i,
                AccessFact::Unproven {
                    reason: why.to_string(),
                },
            );
        }
    }
    for &(from, to) in prog.cfg().back_edges() {
        p.push_loop(LoopFact::Unproven {
            from,
            to,
            reason: why.to_string(),
        });
    }
    p
}
