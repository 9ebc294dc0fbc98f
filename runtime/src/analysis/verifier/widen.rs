//! Elide mode's fallback when the path exploration cannot finish (a loop
//! bounded only by the input length reaches the complexity limit): a
//! path-insensitive abstract interpretation to a fixpoint.
//!
//! One state per (instruction, call chain): the states reaching a point are
//! joined, and after two joins at the same point further ones widen (a bound
//! that grew jumps to its extreme), so every chain of states is finite. The
//! transfer functions are the driver's, unchanged. When the iteration has
//! converged, every stored state is stepped once more and the access
//! verdicts of those steps become the facts: each state over-approximates
//! every concrete state reaching its point, so a verdict proven from it
//! holds on every run. Nothing is proven about termination (the budget
//! stays): every loop is [`LoopFact::Unproven`](crate::analysis::proof::LoopFact).

use super::driver::{Explorer, Flow, Stop};
use super::error::ErrorKind;
use super::state::{Combine, State};
use super::step::Step;
use std::collections::{BTreeSet, HashMap};

/// A program point: an instruction index and the return points of the
/// frames below the running one.
type Point = (usize, Vec<usize>);

/// Joins at one point before widening starts.
const JOINS_BEFORE_WIDENING: u32 = 2;

fn point(at: usize, st: &State) -> Point {
    (at, st.frames.iter().skip(1).map(|f| f.ret).collect())
}

impl Explorer<'_> {
    /// Runs the fallback from `entry`, within `limit` steps.
    pub(super) fn widen(&mut self, entry: State, limit: u64) -> Result<(), Stop> {
        let mut states: HashMap<Point, State> = HashMap::new();
        let mut joins: HashMap<Point, u32> = HashMap::new();
        // The lowest point first: a loop's header joins its first two
        // trips before their successors run on (so the ties of `tie.rs`
        // are found between constants).
        let mut work: BTreeSet<Point> = BTreeSet::new();
        let start = point(0, &entry);
        states.insert(start.clone(), entry);
        work.insert(start);
        let mut steps = 0u64;
        while let Some(p) = work.pop_first() {
            steps += 1;
            let Some(mut st) = states.get(&p).cloned() else {
                continue;
            };
            if steps > limit {
                return Err(self.stop_at(p.0, &st, ErrorKind::TooComplex { limit }));
            }
            let insn = self.prog.insns()[p.0].1;
            let mut step = Step::new(self.conf);
            let flow = self.exec(&mut st, &insn, p.0, &mut step);
            for (t, s) in successors(p.0, st, flow).map_err(|k| {
                self.stop_at(p.0, &State::entry([super::state::Value::UNKNOWN; 5]), k)
            })? {
                let q = point(t, &s);
                let merged = match states.get(&q) {
                    None => Some(s),
                    Some(old) => {
                        let n = joins.entry(q.clone()).or_insert(0);
                        *n += 1;
                        let how = if *n > JOINS_BEFORE_WIDENING {
                            Combine::Widen
                        } else {
                            Combine::Join
                        };
                        let new = old.combine(&s, how).ok_or_else(|| {
                            self.stop_at(
                                t,
                                old,
                                ErrorKind::Unsupported {
                                    what: "frames that differ at one point".into(),
                                },
                            )
                        })?;
                        (!new.same_facts(old)).then_some(new)
                    }
                };
                if let Some(m) = merged {
                    states.insert(q.clone(), m);
                    work.insert(q);
                }
            }
        }
        self.stats.processed = steps;
        // The verdicts, from the converged states only.
        for ((at, _), st) in states {
            let mut st = st;
            let insn = self.prog.insns()[at].1;
            let mut step = Step::new(self.conf);
            self.exec(&mut st, &insn, at, &mut step);
            self.record(at, &insn, &mut step);
        }
        Ok(())
    }
}

/// Where control goes after one step, with the state on each edge.
fn successors(at: usize, st: State, flow: Flow) -> Result<Vec<(usize, State)>, ErrorKind> {
    Ok(match flow {
        Flow::Next => vec![(at + 1, st)],
        Flow::Goto(t) => vec![(t, st)],
        Flow::Fork(a, b, t) => a
            .map(|a| (t, a))
            .into_iter()
            .chain(b.map(|b| (at + 1, b)))
            .collect(),
        Flow::End => Vec::new(),
        Flow::Stop(kind) => return Err(kind),
    })
}
