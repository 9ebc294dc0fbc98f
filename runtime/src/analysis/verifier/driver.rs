//! The driver: path-sensitive exploration of the program with state
//! pruning, like the kernel's `do_check`.
//!
//! One path at a time runs from the entry; at each conditional jump whose
//! both ways are feasible it continues with the fall-through and pushes the
//! taken way on a stack. At every block leader it looks at the
//! **checkpoints** stored there:
//! - a *complete* checkpoint (every path below it has ended) that
//!   subsumes the current state prunes the path: whatever the path would
//!   do was already verified from a larger state;
//! - an *in-progress* checkpoint is always an ancestor of the current path
//!   (the stack is LIFO); if it subsumes the current state, the path came
//!   back around a loop without progress and the loop may not terminate;
//! - otherwise the state (dead registers dropped) becomes a new checkpoint.
//!
//! Pruning only against complete checkpoints keeps every concrete run
//! inside explored steps, each used at most once: a run's instruction count
//! is bounded by the instructions processed, and each back-edge by the
//! number of times the exploration took it. Those counts become
//! [`LoopFact::Bounded`](crate::analysis::proof::LoopFact::Bounded).
//!
//! Exploration stops at the complexity limit, at a loop without progress
//! and at what the verifier does not model (`callx`).

use super::config::VerifyConfig;
use super::error::ErrorKind;
use super::liveness::{live_in, RegSet};
use super::log::Log;
use super::num::Num;
use super::state::{Frame, Ptr, PtrKind, StackModel, State, Value};
use super::step::Step;
use super::{alu, branch, helpers, mem};
use crate::analysis::proof::RegionKind;
use crate::isa::asm::disassemble_insn;
use crate::isa::insn::{CallKind, Insn, LddwKind};
use crate::{Program, MAX_CALL_DEPTH};
use std::collections::HashMap;

/// In elide mode the path exploration gets this share of the complexity
/// limit (1/32); past it the widening fallback (`widen.rs`), which finishes
/// where the exploration cannot, takes over with the whole limit.
const ELIDE_PATH_SHARE: u64 = 32;

/// In elide mode a back-edge taken more often than this (over all paths)
/// ends the path exploration at once, and the widening fallback takes
/// over: a loop bounded only by the input length never converges, and
/// exploring it to the limit cost up to 240 ms. Loops with a constant
/// bound above this lose their trip bound (their budget test stays), not
/// their accesses: the fallback proves those from the loop condition.
const ELIDE_TRIPS: u64 = 64;

/// Checkpoints kept per instruction, and in all (memory bound).
const CHECKPOINTS_PER_INSN: usize = 64;
const CHECKPOINTS_TOTAL: usize = 65_536;

/// Counters of one exploration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Instructions processed (the complexity measure).
    pub processed: u64,
    /// Checkpoints stored.
    pub checkpoints: usize,
    /// Paths pruned at a checkpoint.
    pub pruned: u64,
    /// Paths explored.
    pub paths: u64,
}

/// A stored state at a block leader.
struct Checkpoint {
    state: State,
    parent: Option<usize>,
    /// Live paths and in-progress checkpoints directly below (0: complete).
    branches: u32,
}

/// One path being explored.
struct Path {
    st: State,
    at: usize,
    cp: Option<usize>,
}

/// Why the exploration stopped early, and where.
pub(super) struct Stop {
    pub at: usize,
    pub state: String,
    pub kind: ErrorKind,
}

/// What an explored program yields.
pub(super) struct Explored {
    /// Per instruction: the region every visit proved, or why some did not
    /// (`None`: not a memory access, or never reached).
    pub facts: Vec<Option<Result<RegionKind, String>>>,
    /// Times each back-edge `(from, to)` was taken.
    pub trips: HashMap<(usize, usize), u64>,
    pub stats: Stats,
}

/// How control leaves an instruction.
pub(super) enum Flow {
    Next,
    Goto(usize),
    Fork(Option<State>, Option<State>, usize),
    End,
    Stop(ErrorKind),
}

/// The exploration (see the module docs).
pub(super) struct Explorer<'a> {
    pub(super) prog: &'a Program,
    pub(super) conf: &'a VerifyConfig,
    live: Vec<RegSet>,
    cps: Vec<Checkpoint>,
    at_insn: Vec<Vec<usize>>,
    work: Vec<Path>,
    back: HashMap<(usize, usize), u64>,
    pub(super) facts: Vec<Option<Result<RegionKind, String>>>,
    pub(super) stats: Stats,
    /// Instructions the path exploration may process.
    limit: u64,
    /// A back-edge was taken more than [`ELIDE_TRIPS`] times (elide mode).
    too_many_trips: bool,
    pub log: Log,
}

impl<'a> Explorer<'a> {
    /// An exploration of `prog` under `conf`.
    pub fn new(prog: &'a Program, conf: &'a VerifyConfig) -> Explorer<'a> {
        let n = prog.insns().len();
        let back = prog.cfg().back_edges().iter().map(|&e| (e, 0)).collect();
        Explorer {
            prog,
            conf,
            live: live_in(prog.insns(), prog.cfg()),
            cps: Vec::new(),
            at_insn: vec![Vec::new(); n],
            work: Vec::new(),
            back,
            facts: vec![None; n],
            stats: Stats::default(),
            limit: if conf.strict {
                conf.complexity_limit
            } else {
                conf.complexity_limit / ELIDE_PATH_SHARE
            },
            too_many_trips: false,
            log: Log::new(conf.log),
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Explores every path from `entry`.
    pub fn run(&mut self, entry: State) -> Result<Explored, Stop> {
        self.work.push(Path {
            st: entry,
            at: 0,
            cp: None,
        });
        while let Some(mut path) = self.work.pop() {
            self.stats.paths += 1;
            self.run_path(&mut path)?;
        }
        Ok(Explored {
            facts: std::mem::take(&mut self.facts),
            trips: std::mem::take(&mut self.back),
            stats: self.stats,
        })
    }

    /// Runs one path until it ends or is pruned.
    fn run_path(&mut self, path: &mut Path) -> Result<(), Stop> {
        loop {
            self.stats.processed += 1;
            if self.stats.processed > self.limit || self.too_many_trips {
                let limit = self.limit;
                return Err(self.stop(path, ErrorKind::TooComplex { limit }));
            }
            if self.prog.cfg().block_len(path.at) > 0 && self.checkpoint(path)? {
                self.finish(path.cp);
                return Ok(());
            }
            let before = self.conf.strict.then(|| path.st.clone());
            let insn = self.prog.insns()[path.at].1;
            let mut step = Step::new(self.conf);
            let flow = self.exec(&mut path.st, &insn, path.at, &mut step);
            self.record(path.at, &insn, &mut step);
            if self.conf.strict {
                if let Some(kind) = step.issues.into_iter().next() {
                    return Err(Stop {
                        at: path.at,
                        state: before.map(|s| s.to_string()).unwrap_or_default(),
                        kind,
                    });
                }
            }
            let (pc, st) = (self.prog.insns()[path.at].0, &path.st);
            self.log
                .line(|| format!("{pc}: {:<28} ; {st}", disassemble_insn(&insn)));
            match flow {
                Flow::Next => path.at += 1,
                Flow::Goto(t) => self.goto(path, t),
                Flow::Fork(taken, fall, t) => match (taken, fall) {
                    (Some(a), Some(b)) => {
                        self.take_edge(path.at, t);
                        if let Some(c) = path.cp {
                            self.cps[c].branches += 1;
                        }
                        self.work.push(Path {
                            st: a,
                            at: t,
                            cp: path.cp,
                        });
                        path.st = b;
                        path.at += 1;
                    }
                    (Some(a), None) => {
                        path.st = a;
                        self.goto(path, t);
                    }
                    (None, Some(b)) => {
                        path.st = b;
                        path.at += 1;
                    }
                    (None, None) => {
                        self.finish(path.cp);
                        return Ok(());
                    }
                },
                Flow::End => {
                    self.finish(path.cp);
                    return Ok(());
                }
                Flow::Stop(kind) => return Err(self.stop(path, kind)),
            }
        }
    }

    pub(super) fn stop_at(&self, at: usize, st: &State, kind: ErrorKind) -> Stop {
        Stop {
            at,
            state: st.to_string(),
            kind,
        }
    }

    fn stop(&self, path: &Path, kind: ErrorKind) -> Stop {
        Stop {
            at: path.at,
            state: path.st.to_string(),
            kind,
        }
    }

    /// Counts a taken back-edge.
    fn take_edge(&mut self, from: usize, to: usize) {
        if let Some(n) = self.back.get_mut(&(from, to)) {
            *n += 1;
            self.too_many_trips |= !self.conf.strict && *n > ELIDE_TRIPS;
        }
    }

    fn goto(&mut self, path: &mut Path, t: usize) {
        self.take_edge(path.at, t);
        path.at = t;
    }

    /// Merges one visit's access verdict into the instruction's fact.
    pub(super) fn record(&mut self, at: usize, insn: &Insn, step: &mut Step) {
        let Some(v) = step.access.take() else {
            return;
        };
        let legacy = matches!(insn, Insn::LdAbs { .. } | Insn::LdInd { .. });
        let slot = &mut self.facts[at];
        *slot = match (slot.take(), v) {
            (Some(Err(e)), _) => Some(Err(e)),
            (_, Err(e)) => Some(Err(e)),
            (Some(Ok(a)), Ok(_)) => Some(Ok(a)),
            (None, Ok(b)) => Some(Ok(b)),
        };
        debug_assert!(
            !legacy || matches!(slot, Some(Err(_))),
            "legacy loads stay checked"
        );
    }

    /// Marks the end of a path below checkpoint `cp`.
    fn finish(&mut self, mut cp: Option<usize>) {
        while let Some(c) = cp {
            let b = &mut self.cps[c].branches;
            *b = b.saturating_sub(1);
            if *b > 0 {
                break;
            }
            cp = self.cps[c].parent;
        }
    }

    /// The checkpoint logic at a leader (see the module docs): `true` if
    /// the path is pruned.
    fn checkpoint(&mut self, path: &mut Path) -> Result<bool, Stop> {
        for &c in &self.at_insn[path.at] {
            let cp = &self.cps[c];
            if cp.state.subsumes(&path.st) {
                if cp.branches == 0 {
                    self.stats.pruned += 1;
                    let pc = self.prog.insns()[path.at].0;
                    self.log.line(|| format!("{pc}: safe (pruned)"));
                    return Ok(true);
                }
                return Err(self.stop(path, ErrorKind::Loop { header: path.at }));
            }
        }
        if self.at_insn[path.at].len() >= CHECKPOINTS_PER_INSN
            || self.cps.len() >= CHECKPOINTS_TOTAL
        {
            return Ok(false);
        }
        let state = self.clean(&path.st, path.at);
        self.cps.push(Checkpoint {
            state,
            parent: path.cp,
            branches: 1,
        });
        let c = self.cps.len() - 1;
        self.at_insn[path.at].push(c);
        path.cp = Some(c);
        self.stats.checkpoints += 1;
        Ok(false)
    }

    /// `st` with dead registers forgotten (caller frames: what is live
    /// where they resume, r0-r5 excluded since the return sets them).
    fn clean(&self, st: &State, at: usize) -> State {
        let mut s = st.clone();
        let n = s.frames.len();
        for (i, f) in s.frames.iter_mut().enumerate() {
            let live = if i + 1 == n {
                self.live[at]
            } else {
                let resume = s_ret(&st.frames[i + 1]);
                self.live.get(resume).copied().unwrap_or(0) & !0b11_1111
            };
            for r in 0..10 {
                if live & (1 << r) == 0 {
                    f.regs[r] = Value::NotInit;
                }
            }
        }
        s.drop_lonely_ids();
        s
    }

    /// The transfer function of one instruction.
    pub(super) fn exec(&mut self, st: &mut State, insn: &Insn, at: usize, step: &mut Step) -> Flow {
        let target = || self.prog.cfg().target(at);
        match *insn {
            Insn::Alu { w, op, dst, src } => alu::alu(st, w, op, dst, src, step),
            Insn::Neg { w, dst } => alu::neg(st, w, dst, step),
            Insn::MovSx { w, dst, src, bits } => alu::movsx(st, w, dst, src, bits, step),
            Insn::End { kind, dst, bits } => alu::endian(st, kind, dst, bits, step),
            Insn::Lddw {
                dst,
                kind,
                imm,
                next_imm,
            } => {
                let v = if kind == LddwKind::Imm64 {
                    Value::scalar(Num::konst(Insn::lddw_value(imm, next_imm)))
                } else {
                    step.issue(ErrorKind::Unsupported {
                        what: "an unresolved LDDW pseudo-load".into(),
                    });
                    Value::UNKNOWN
                };
                st.set(dst.index(), v);
            }
            Insn::LdAbs { size, .. } | Insn::LdInd { size, .. } => {
                if let Insn::LdInd { src, .. } = insn {
                    step.read(st, src.index());
                }
                // Checked at run time by definition (out of bounds ends the
                // program with 0), as in the kernel; an issue only for
                // program types without them.
                if !self.conf.legacy_loads {
                    step.issue(ErrorKind::Unsupported {
                        what: "LD_ABS/LD_IND are not allowed for this program type".into(),
                    });
                }
                step.access = Some(Err("legacy packet load (checked at run time)".into()));
                st.set(0, Value::loaded(size));
            }
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => mem::load(st, size, sx, dst, src, off, step),
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                let v = Value::scalar(Num::konst(crate::sem::st_imm_value(imm)));
                mem::store(st, size, dst, off, v, step);
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                let v = step.read(st, src.index());
                mem::store(st, size, dst, off, v, step);
            }
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => mem::atomic(st, size, op, fetch, dst, src, off, step),
            Insn::Ja { .. } => {
                return match target() {
                    Some(t) => Flow::Goto(t),
                    None => Flow::End,
                }
            }
            Insn::Jmp {
                w, cond, dst, src, ..
            } => {
                let (a, b) = branch::branch(st, w, cond, dst, src, step);
                return match target() {
                    Some(t) => Flow::Fork(a, b, t),
                    None => Flow::End,
                };
            }
            Insn::Call {
                kind: CallKind::Helper,
                imm,
            } => helpers::call(st, imm as u32, step),
            Insn::Call {
                kind: CallKind::Local,
                ..
            } => return self.call_local(st, at, step),
            Insn::Call {
                kind: CallKind::Btf,
                imm,
            } => {
                step.issue(ErrorKind::Unsupported {
                    what: format!("kfunc call (BTF id {imm})"),
                });
                mem::forget_all_spills(st);
                for r in 1..=5 {
                    st.set(r, Value::NotInit);
                }
                st.set(0, Value::UNKNOWN);
            }
            Insn::Callx { reg } => {
                // The kernel has no `callx`; a constant target is a helper
                // call all the same (clang -O0 emits these).
                step.issue(ErrorKind::Unsupported {
                    what: "callx (indirect helper call)".into(),
                });
                match st.reg(reg.index()) {
                    Value::Scalar(s) if s.n.umax <= u32::MAX as u64 && s.n.as_const().is_some() => {
                        helpers::call(st, s.n.umin as u32, step)
                    }
                    _ => {
                        return Flow::Stop(ErrorKind::Unsupported {
                            what: "callx with a target that is not a constant".into(),
                        })
                    }
                }
            }
            Insn::Exit => return self.exit(st, step),
        }
        Flow::Next
    }

    /// `call local`: a new frame with the caller's r1-r5.
    fn call_local(&mut self, st: &mut State, at: usize, step: &mut Step) -> Flow {
        let Some(t) = self.prog.cfg().target(at) else {
            return Flow::End;
        };
        let depth = st.frames.len();
        if depth >= MAX_CALL_DEPTH {
            // The engines fault here (call depth): the path ends.
            step.issue(ErrorKind::Unsupported {
                what: format!("call depth exceeds {MAX_CALL_DEPTH} frames"),
            });
            return Flow::End;
        }
        let mut regs = [Value::NotInit; 11];
        regs[1..6].copy_from_slice(&st.cur().regs[1..6]);
        regs[10] = Value::Ptr(Ptr::at(PtrKind::Stack { frame: depth as u8 }, 0));
        st.frames.push(Frame {
            regs,
            stack: StackModel::default(),
            ret: at + 1,
        });
        Flow::Goto(t)
    }

    /// `exit`: the end of the path at depth 0, else a return to the caller.
    fn exit(&mut self, st: &mut State, step: &mut Step) -> Flow {
        let r0 = step.read(st, 0);
        if st.depth() == 0 {
            return Flow::End;
        }
        let Some(f) = st.frames.pop() else {
            return Flow::End;
        };
        let gone = st.frames.len() as u8;
        st.invalidate(|p| matches!(p.kind, PtrKind::Stack { frame } if frame >= gone));
        let r0 = match r0 {
            Value::Ptr(Ptr {
                kind: PtrKind::Stack { frame },
                ..
            }) if frame >= gone => Value::UNKNOWN,
            v => v,
        };
        for r in 1..=5 {
            st.set(r, Value::NotInit);
        }
        st.set(0, r0);
        Flow::Goto(f.ret)
    }
}

/// Where a frame resumes its caller.
fn s_ret(f: &Frame) -> usize {
    f.ret
}
