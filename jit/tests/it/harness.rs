//! The both-engines runner: every program runs under the interpreter and the
//! JIT, on the same input buffer (restored between runs, so input addresses
//! agree), without a budget and under a few small budgets, and the outcomes
//! must agree: r0 or fault (kind, pc; addresses compared relative to the
//! input region), instruction count, and final input memory.

use cranebpf::insn::*;
use cranebpf::{Fault, FaultKind, Helpers, MemoryMap, Program, RunOptions, RunOutcome, Vm};

/// Runs `vm` once on `buf` (conformance convention: r1 = buf or 0, r2 = len).
pub fn run_on(vm: &Vm, buf: &mut [u8], budget: Option<u64>) -> RunOutcome {
    let mut mem = MemoryMap::new();
    let args = if buf.is_empty() {
        [0; 5]
    } else {
        let r = mem.add_mut(buf);
        [r.start, r.len, 0, 0, 0]
    };
    vm.run_with(&mut mem, args, &RunOptions { budget }, None)
}

/// A fault with addresses made relative to the input region `[start, +len)`
/// when they are near it (within 1 MiB, all of it the test's own [`Arena`]);
/// other addresses (stack, wild) are replaced by a marker, since each engine
/// allocates its own stack.
fn normalize(f: &Fault, start: u64, len: u64) -> Fault {
    let rel = |addr: u64| {
        let off = addr.wrapping_sub(start);
        if start != 0 && off.wrapping_add(1 << 20) <= len + (2 << 20) {
            off
        } else {
            0xdead_0000_0000_0000
        }
    };
    let kind = match f.kind.clone() {
        FaultKind::OutOfBounds { addr, size, access } => FaultKind::OutOfBounds {
            addr: rel(addr),
            size,
            access,
        },
        FaultKind::Misaligned { addr, size } => FaultKind::Misaligned {
            addr: rel(addr),
            size,
        },
        k => k,
    };
    Fault { kind, pc: f.pc }
}

fn normalize_outcome(o: &RunOutcome, start: u64, len: u64) -> RunOutcome {
    RunOutcome {
        result: o.result.clone().map_err(|f| normalize(&f, start, len)),
        insn_count: o.insn_count,
    }
}

/// Runs both engines on `p` with `mem` and the given budget; asserts they
/// agree and returns the interpreter's outcome and final memory.
pub fn both(
    interp: &Vm,
    jit: &Vm,
    mem: &[u8],
    budget: Option<u64>,
    what: &str,
) -> (RunOutcome, Vec<u8>) {
    let mut arena = Arena::new(mem.len());
    both_in(interp, jit, mem, arena.buf(), budget, what)
}

/// A zeroed 4 MiB allocation whose middle holds the input, so no other
/// allocation (such as an engine's stack) lies within 1 MiB of it and
/// fault addresses can be classified by distance.
pub struct Arena {
    bytes: Vec<u8>,
    len: usize,
}

impl Arena {
    /// An arena for an input of `len` bytes.
    pub fn new(len: usize) -> Arena {
        Arena {
            bytes: vec![0; 4 << 20],
            len,
        }
    }

    /// The input buffer.
    pub fn buf(&mut self) -> &mut [u8] {
        &mut self.bytes[2 << 20..(2 << 20) + self.len]
    }
}

/// [`both`] in a caller-provided buffer (`buf.len() == mem.len()`), so that
/// repeated runs see the same input address.
pub fn both_in(
    interp: &Vm,
    jit: &Vm,
    mem: &[u8],
    buf: &mut [u8],
    budget: Option<u64>,
    what: &str,
) -> (RunOutcome, Vec<u8>) {
    buf.copy_from_slice(mem);
    let (start, len) = (buf.as_ptr() as u64, buf.len() as u64);
    let a = run_on(interp, buf, budget);
    let a_mem = buf.to_vec();
    buf.copy_from_slice(mem);
    let b = run_on(jit, buf, budget);
    let b_mem = buf.to_vec();
    assert_eq!(
        normalize_outcome(&a, start, len),
        normalize_outcome(&b, start, len),
        "{what}: interpreter (left) and JIT (right) disagree, budget {budget:?}"
    );
    assert_eq!(
        a_mem, b_mem,
        "{what}: final input memory differs, budget {budget:?}"
    );
    (a, a_mem)
}

/// Makes both engines for `p` (both must accept it).
pub fn engines(p: &Program, h: &Helpers) -> (Vm, Vm) {
    let i = Vm::interpreter(p, h.clone()).expect("interpreter accepts the program");
    let j = Vm::jit(p, h.clone()).expect("JIT compiles the program");
    (i, j)
}

/// The full check: both engines agree without a budget and under budgets
/// 0, 1, 2, count/2, count-1 and count. Returns the unbudgeted outcome.
pub fn check_with(p: &Program, h: &Helpers, mem: &[u8], what: &str) -> (RunOutcome, Vec<u8>) {
    check_with_jit(p, h, mem, what, &cranebpf::JitOptions::default())
}

/// [`check_with`], the JIT compiled with `opts`.
pub fn check_with_jit(
    p: &Program,
    h: &Helpers,
    mem: &[u8],
    what: &str,
    opts: &cranebpf::JitOptions,
) -> (RunOutcome, Vec<u8>) {
    let i = Vm::interpreter(p, h.clone()).expect("interpreter accepts the program");
    let j = Vm::jit_with(p, h.clone(), opts).expect("JIT compiles the program");
    let mut arena = Arena::new(mem.len());
    let (out, final_mem) = both_in(&i, &j, mem, arena.buf(), None, what);
    let n = out.insn_count;
    let mut budgets = vec![0, 1, 2, n / 2, n.saturating_sub(1), n];
    budgets.sort_unstable();
    budgets.dedup();
    for b in budgets {
        let (o, _) = both_in(&i, &j, mem, arena.buf(), Some(b), what);
        if b >= n && out.result.is_ok() {
            assert_eq!(
                o.result, out.result,
                "{what}: a budget of exactly {n} must suffice"
            );
        }
    }
    (out, final_mem)
}

/// [`check_with`] with the test helpers; returns the result.
pub fn check(p: &Program, mem: &[u8]) -> Result<u64, Fault> {
    check_with(p, &helpers(), mem, "program").0.result
}

/// [`check`] of instructions, expecting r0.
pub fn expect_r0(insns: &[Insn], mem: &[u8], r0: u64) {
    assert_eq!(check(&prog(insns), mem), Ok(r0), "{insns:?}");
}

// The builders and test helpers, declared once in the testkit.
pub use cranebpf_testkit::build::{alu, alur, helpers, lddw, mov, prog, r, EXIT};
