//! [`State`]: everything a run leaves behind that engines must agree on,
//! normalised so that states of different engines compare with `==`.
//!
//! # Normalisation
//!
//! Engines run the same case on different host memory: each run gets its own
//! arena holding the stack, the input and the scratch region (see
//! [`crate::engine::execute`]), at a base address that differs between runs
//! but with the same distances between the regions. So raw addresses are
//! never compared. A value that points into or near (within [`NEAR`] bytes
//! of) a region is reported as [`Value::Ptr`]`{ region, off }`, the offset
//! from the region's start. Fault addresses likewise as [`Addr::In`]; one
//! near no region but within [`FAR`] bytes of the stack is reported
//! relative to the stack (the distances are fixed, so that is exact), and
//! only a wilder one as [`Addr::Outside`].
//!
//! The known regions are the input, the scratch region and the stack; a
//! helper sees them in the map it gets. The final bytes of all three are
//! compared (the stack only between engines that run on the harness's
//! stack; the kernel does not). Generated programs never leave pointers in
//! r0 or in memory, so raw bytes compare.

use cranebpf_runtime::{Access, Fault, FaultKind, Region, RunOutcome, STACK_SIZE};
use std::fmt;

/// How far outside a region an address still counts as "near" it.
/// Smaller than the harness's guard gaps around its regions, so an access
/// just outside the stack is never attributed to the input or scratch
/// region, whatever the heap layout.
pub const NEAR: u64 = 32;

/// How far from the stack a fault address is still reported relative to it.
pub const FAR: u64 = 1 << 20;

/// The regions the harness can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RegionKind {
    /// The engine's stack.
    Stack,
    /// The input (r1 at entry).
    Input,
    /// The scratch region helper 3 returns.
    Scratch,
}

/// A register or argument value, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// A plain number.
    Scalar(u64),
    /// A pointer into or near a region: the offset from its start.
    Ptr {
        /// The region.
        region: RegionKind,
        /// `value - start` (negative below the start).
        off: i64,
    },
}

/// A fault address, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Addr {
    /// In or near a known region.
    In {
        /// The region.
        region: RegionKind,
        /// `addr - start`.
        off: i64,
    },
    /// Near no known region and more than [`FAR`] bytes from the stack.
    Outside,
}

/// Where the known regions were during one run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Layout {
    /// The regions with their kinds.
    pub regions: [Option<(RegionKind, Region)>; 3],
}

impl Layout {
    /// A layout of the input and scratch regions and, if known, the stack.
    pub fn new(input: Region, scratch: Region, stack: Option<Region>) -> Layout {
        Layout {
            regions: [
                Some((RegionKind::Input, input)),
                Some((RegionKind::Scratch, scratch)),
                stack.map(|s| (RegionKind::Stack, s)),
            ],
        }
    }

    /// The layout seen from inside a helper: each known region by its start
    /// (a region the program removed is not there).
    pub fn from_map(
        regions: &[Region],
        input_start: u64,
        scratch_start: u64,
        stack_start: u64,
    ) -> Layout {
        let mut l = Layout::default();
        for r in regions {
            let kind = if r.start == input_start {
                RegionKind::Input
            } else if r.start == scratch_start {
                RegionKind::Scratch
            } else if r.start == stack_start && r.len == STACK_SIZE as u64 {
                RegionKind::Stack
            } else {
                continue;
            };
            let slot = match kind {
                RegionKind::Input => 0,
                RegionKind::Scratch => 1,
                RegionKind::Stack => 2,
            };
            l.regions[slot] = Some((kind, *r));
        }
        l
    }

    /// The region `v` is in, or else nearest to within [`NEAR`] bytes, with
    /// the offset from its start.
    fn locate(&self, v: u64) -> Option<(RegionKind, i64)> {
        let mut best: Option<(u64, RegionKind, i64)> = None;
        for (kind, r) in self.regions.iter().flatten() {
            let end = r.start.wrapping_add(r.len);
            let dist = if v >= r.start && v < end {
                0
            } else if v < r.start {
                r.start - v
            } else {
                v - end + 1
            };
            if dist <= NEAR && best.is_none_or(|(d, _, _)| dist < d) {
                best = Some((dist, *kind, v.wrapping_sub(r.start) as i64));
            }
        }
        best.map(|(_, k, off)| (k, off))
    }

    /// `v` as a [`Value`].
    pub fn value(&self, v: u64) -> Value {
        match self.locate(v) {
            Some((region, off)) => Value::Ptr { region, off },
            None => Value::Scalar(v),
        }
    }

    /// `a` as an [`Addr`].
    pub fn addr(&self, a: u64) -> Addr {
        if let Some((region, off)) = self.locate(a) {
            return Addr::In { region, off };
        }
        let stack = self
            .regions
            .iter()
            .flatten()
            .find(|(k, _)| *k == RegionKind::Stack);
        match stack {
            Some((_, r)) if a.wrapping_sub(r.start).wrapping_add(FAR) <= 2 * FAR => Addr::In {
                region: RegionKind::Stack,
                off: a.wrapping_sub(r.start) as i64,
            },
            _ => Addr::Outside,
        }
    }
}

/// A fault kind with addresses normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NormKind {
    /// [`FaultKind::OutOfBounds`].
    OutOfBounds {
        /// The first byte.
        addr: Addr,
        /// Access size.
        size: u64,
        /// The access.
        access: Access,
    },
    /// [`FaultKind::Misaligned`].
    Misaligned {
        /// The first byte.
        addr: Addr,
        /// Access size.
        size: u64,
    },
    /// [`FaultKind::Budget`].
    Budget {
        /// The budget.
        budget: u64,
    },
    /// [`FaultKind::CallDepth`].
    CallDepth {
        /// The frame limit.
        limit: u64,
    },
    /// [`FaultKind::UnknownHelper`].
    UnknownHelper {
        /// The id.
        id: u64,
    },
    /// [`FaultKind::Helper`].
    Helper {
        /// The helper.
        id: u32,
        /// Its error message.
        message: String,
    },
    /// [`FaultKind::ProofViolation`]: an audited JIT found a proof wrong.
    /// Never normalised away: it is always a bug (see
    /// [`State::is_proof_violation`]).
    ProofViolation {
        /// The first byte.
        addr: Addr,
        /// Access size.
        size: u64,
        /// The access.
        access: Access,
    },
    /// A fault kind added to the runtime after this harness (printed).
    Other(String),
}

/// A fault, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NormFault {
    /// The faulting pc.
    pub pc: usize,
    /// What happened.
    pub kind: NormKind,
}

impl NormFault {
    /// Normalises `f` against `layout`.
    pub fn new(f: &Fault, layout: &Layout) -> NormFault {
        let kind = match &f.kind {
            FaultKind::OutOfBounds { addr, size, access } => NormKind::OutOfBounds {
                addr: layout.addr(*addr),
                size: *size,
                access: *access,
            },
            FaultKind::Misaligned { addr, size } => NormKind::Misaligned {
                addr: layout.addr(*addr),
                size: *size,
            },
            FaultKind::Budget { budget } => NormKind::Budget { budget: *budget },
            FaultKind::CallDepth { limit } => NormKind::CallDepth { limit: *limit },
            FaultKind::UnknownHelper { id } => NormKind::UnknownHelper { id: *id },
            FaultKind::Helper { id, error } => NormKind::Helper {
                id: *id,
                message: error.message.clone(),
            },
            FaultKind::ProofViolation { addr, size, access } => NormKind::ProofViolation {
                addr: layout.addr(*addr),
                size: *size,
                access: *access,
            },
            other => NormKind::Other(other.to_string()),
        };
        NormFault { pc: f.pc, kind }
    }
}

/// One helper call: the id and the five arguments, normalised.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HelperCall {
    /// The helper id.
    pub id: u32,
    /// r1..r5 at the call.
    pub args: [Value; 5],
}

/// How a run ended, for statistics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ending {
    /// Ran to `exit`.
    Exit,
    /// Stopped by a fault other than the budget.
    Fault,
    /// Ran out of budget.
    Budget,
}

/// The normalised final state of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct State {
    /// r0 at exit, or the fault.
    pub result: Result<Value, NormFault>,
    /// Instructions counted (the budget rule).
    pub insn_count: u64,
    /// The input's final bytes (including the dump of registers and stack
    /// generated programs write there).
    pub input: Vec<u8>,
    /// The scratch region's final bytes.
    pub scratch: Vec<u8>,
    /// The stack's final bytes (all frames; empty for an engine that does
    /// not run on the harness's stack, such as the kernel).
    pub stack: Vec<u8>,
    /// Every helper call, in order.
    pub helper_calls: Vec<HelperCall>,
}

impl State {
    /// Normalises a run's outcome.
    pub fn new(
        out: &RunOutcome,
        layout: &Layout,
        input: Vec<u8>,
        scratch: Vec<u8>,
        stack: Vec<u8>,
        helper_calls: Vec<HelperCall>,
    ) -> State {
        State {
            result: match &out.result {
                Ok(r0) => Ok(layout.value(*r0)),
                Err(f) => Err(NormFault::new(f, layout)),
            },
            insn_count: out.insn_count,
            input,
            scratch,
            stack,
            helper_calls,
        }
    }

    /// Whether the run stopped with a proof violation (an audited JIT
    /// found that a proven access fails its check): a verifier bug
    /// whatever the other engine did, so the harness always reports it
    /// and never counts it as a generator artefact.
    pub fn is_proof_violation(&self) -> bool {
        matches!(
            &self.result,
            Err(NormFault {
                kind: NormKind::ProofViolation { .. },
                ..
            })
        )
    }

    /// How the run ended.
    pub fn ending(&self) -> Ending {
        match &self.result {
            Ok(_) => Ending::Exit,
            Err(NormFault {
                kind: NormKind::Budget { .. },
                ..
            }) => Ending::Budget,
            Err(_) => Ending::Fault,
        }
    }

    /// Human-readable differences between `self` (engine `a`) and `other`
    /// (engine `b`); empty if the states are equal.
    pub fn diff(&self, other: &State, a: &str, b: &str) -> Vec<String> {
        let mut d = Vec::new();
        if self.result != other.result {
            d.push(format!(
                "result: {a} {} / {b} {}",
                show_result(&self.result),
                show_result(&other.result)
            ));
        }
        if self.insn_count != other.insn_count {
            d.push(format!(
                "instruction count: {a} {} / {b} {}",
                self.insn_count, other.insn_count
            ));
        }
        bytes_diff(&mut d, "input", &self.input, &other.input, a, b);
        bytes_diff(&mut d, "scratch", &self.scratch, &other.scratch, a, b);
        bytes_diff(&mut d, "stack", &self.stack, &other.stack, a, b);
        if self.helper_calls != other.helper_calls {
            let i = self
                .helper_calls
                .iter()
                .zip(&other.helper_calls)
                .position(|(x, y)| x != y)
                .unwrap_or(self.helper_calls.len().min(other.helper_calls.len()));
            d.push(format!(
                "helper calls differ at call #{i}: {a} {:?} / {b} {:?} ({} / {} calls)",
                self.helper_calls.get(i),
                other.helper_calls.get(i),
                self.helper_calls.len(),
                other.helper_calls.len()
            ));
        }
        d
    }
}

/// Reports the first differing byte of two buffers, and the 8-byte word
/// around it.
fn bytes_diff(d: &mut Vec<String>, what: &str, x: &[u8], y: &[u8], a: &str, b: &str) {
    if x == y {
        return;
    }
    let i = x
        .iter()
        .zip(y)
        .position(|(p, q)| p != q)
        .unwrap_or(x.len().min(y.len()));
    let word =
        |m: &[u8]| crate::case::hex(m.get(i & !7..((i & !7) + 8).min(m.len())).unwrap_or(&[]));
    d.push(format!(
        "{what} differs from byte {i}: {a} [{}] / {b} [{}] (bytes {}..)",
        word(x),
        word(y),
        i & !7
    ));
}

fn show_result(r: &Result<Value, NormFault>) -> String {
    match r {
        Ok(v) => format!("r0 = {v}"),
        Err(f) => f.to_string(),
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Scalar(v) => write!(f, "{v:#x}"),
            Value::Ptr { region, off } => write!(f, "{region:?}{off:+}"),
        }
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::In { region, off } => write!(f, "{region:?}{off:+}"),
            Addr::Outside => f.write_str("(outside every known region)"),
        }
    }
}

impl fmt::Display for NormFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fault at pc {}: ", self.pc)?;
        match &self.kind {
            NormKind::OutOfBounds { addr, size, access } => {
                write!(f, "out-of-bounds {access} of {size} bytes at {addr}")
            }
            NormKind::Misaligned { addr, size } => {
                write!(f, "misaligned {size}-byte atomic at {addr}")
            }
            NormKind::Budget { budget } => write!(f, "budget of {budget} exhausted"),
            NormKind::CallDepth { limit } => write!(f, "call depth limit {limit}"),
            NormKind::UnknownHelper { id } => write!(f, "unknown helper {id}"),
            NormKind::Helper { id, message } => write!(f, "helper {id} failed: {message}"),
            NormKind::ProofViolation { addr, size, access } => write!(
                f,
                "PROOF VIOLATION: proven {access} of {size} bytes at {addr} fails its check"
            ),
            NormKind::Other(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(start: u64, len: u64) -> Region {
        Region {
            start,
            len,
            writable: true,
        }
    }

    #[test]
    fn values_near_regions_become_offsets() {
        let l = Layout::new(region(0x10_0000, 100), region(0x10_0100, 32), None);
        assert_eq!(
            l.value(0x10_0000 + 5),
            Value::Ptr {
                region: RegionKind::Input,
                off: 5
            }
        );
        // Just past the input's end is nearer the input than the scratch.
        assert_eq!(
            l.addr(0x10_0000 + 101),
            Addr::In {
                region: RegionKind::Input,
                off: 101
            }
        );
        assert_eq!(
            l.addr(0x10_0100 - 3),
            Addr::In {
                region: RegionKind::Scratch,
                off: -3
            }
        );
        assert_eq!(l.value(7), Value::Scalar(7));
        assert_eq!(l.addr(u64::MAX), Addr::Outside);
    }

    #[test]
    fn diff_names_every_difference() {
        let s = State {
            result: Ok(Value::Scalar(1)),
            insn_count: 3,
            input: vec![0; 16],
            scratch: vec![],
            stack: vec![],
            helper_calls: vec![],
        };
        assert!(s.diff(&s.clone(), "a", "b").is_empty());
        let mut t = s.clone();
        t.result = Ok(Value::Scalar(2));
        t.insn_count = 4;
        t.input[9] = 1;
        let d = t.diff(&s, "a", "b");
        assert_eq!(d.len(), 3, "{d:?}");
        assert!(d[2].contains("byte 9"), "{d:?}");
    }
}
