//! Tail-call semantics (`cranebpf_runtime::kernel::tail`) through both
//! engines, on `examples/bpf/tailcalls.o`: `again` (program 0) counts
//! itself in `buf[1]` and tail-calls slot `buf[0]`; `crash` (program 1)
//! counts itself and loads out of bounds at its pc 3. Expected values are
//! worked out from the programs' instructions and the budget rule: `again`
//! is 7 instructions in two blocks, `[0..=call]` (6) and `[exit]` (1).

use cranebpf::{ChainOutcome, EngineKind, ObjectVm, RunOptions};
use cranebpf_runtime::elf::{LoadOptions, Object};
use cranebpf_runtime::kernel::tail::{MAX_TAIL_CALL_CNT, TAIL_CALL_FAILED};
use cranebpf_runtime::{Access, Fault, FaultKind, Interpreter};
use std::path::PathBuf;

const ENGINES: [EngineKind; 2] = [EngineKind::Interpreter, EngineKind::Jit];
/// Instructions `again` runs up to and including its tail call.
const TO_CALL: u64 = 6;

fn object() -> Object {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/bpf/tailcalls.o");
    Object::parse(&std::fs::read(path).unwrap()).unwrap()
}

/// Runs the chain from `again` with slots `(slot, program)` filled and
/// `buf[0] = slot`; returns the outcome and `buf[1]`, after checking that
/// both engines agree exactly (the fault address is relative to the buffer).
fn chain(slots: &[(u32, u32)], slot: u32, budget: Option<u64>) -> (ChainOutcome, u32, u64) {
    let mut results = Vec::new();
    for engine in ENGINES {
        let obj = object();
        for &(i, p) in slots {
            obj.map("progs").unwrap().set_prog(i, p).unwrap();
        }
        let set = obj.load_set("again", LoadOptions::default()).unwrap();
        assert_eq!(set.entry_index(), 0);
        let vm = ObjectVm::new(set, engine).unwrap();
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&slot.to_le_bytes());
        let base = buf.as_ptr() as u64;
        let out = vm.run_mem(&mut buf, &RunOptions { budget });
        let entered = u32::from_le_bytes(buf[4..].try_into().unwrap());
        results.push((engine, out, entered, base));
    }
    let (_, a, ea, ba) = &results[0];
    let (_, b, eb, bb) = &results[1];
    let rel = |o: &ChainOutcome, base: u64| match &o.outcome.result {
        Err(Fault {
            kind: FaultKind::OutOfBounds { addr, size, access },
            pc,
        }) => (Some((addr.wrapping_sub(base), *size, *access, *pc)), None),
        r => (None, Some(r.clone())),
    };
    assert_eq!(rel(a, *ba), rel(b, *bb), "interpreter vs JIT: result");
    assert_eq!(
        (a.outcome.insn_count, a.program, a.tail_calls, ea),
        (b.outcome.insn_count, b.program, b.tail_calls, eb),
        "interpreter vs JIT"
    );
    (a.clone(), *ea, *ba)
}

#[test]
fn tail_call_out_of_range_index_fails_and_continues() {
    // max_entries is 8: slot 8 is out of range, even with slot 0 filled.
    let (out, entered, _) = chain(&[(0, 0)], 8, None);
    assert_eq!(out.outcome.result, Ok(TAIL_CALL_FAILED));
    assert_eq!(
        (out.outcome.insn_count, out.program, out.tail_calls, entered),
        (7, 0, 0, 1)
    );
    // Only the low 32 bits of the index count (the kernel's `u32 index`) is
    // not reachable from C here; u32::MAX is simply out of range.
    let (out, ..) = chain(&[(0, 0)], u32::MAX, None);
    assert_eq!(out.outcome.result, Ok(TAIL_CALL_FAILED));
}

#[test]
fn tail_call_to_an_empty_slot_fails_and_continues() {
    let (out, entered, _) = chain(&[(0, 0)], 5, None);
    assert_eq!(out.outcome.result, Ok(TAIL_CALL_FAILED));
    assert_eq!((out.outcome.insn_count, out.tail_calls, entered), (7, 0, 1));
}

#[test]
fn tail_call_chain_stops_after_33_tail_calls() {
    // `again` tail-calls itself: the entry plus 33 tail calls run, the 34th
    // fails and the last program returns its result.
    let (out, entered, _) = chain(&[(0, 0)], 0, None);
    assert_eq!(MAX_TAIL_CALL_CNT, 33);
    assert_eq!(out.outcome.result, Ok(TAIL_CALL_FAILED));
    assert_eq!(out.tail_calls, 33);
    assert_eq!(entered, 34);
    // Cumulative count: 33 segments end at their call, the last runs all 7.
    assert_eq!(out.outcome.insn_count, 33 * TO_CALL + 7);
}

#[test]
fn tail_call_budget_applies_to_the_whole_chain() {
    let total = 33 * TO_CALL + 7;
    let (out, ..) = chain(&[(0, 0)], 0, Some(total));
    assert_eq!(out.outcome.result, Ok(TAIL_CALL_FAILED));
    assert_eq!(out.outcome.insn_count, total);
    // One less: the last segment's `exit` block does not fit.
    let (out, entered, _) = chain(&[(0, 0)], 0, Some(total - 1));
    assert_eq!(
        out.outcome.result,
        Err(Fault {
            kind: FaultKind::Budget { budget: total - 1 },
            pc: 7
        })
    );
    assert_eq!(
        (out.outcome.insn_count, entered, out.tail_calls),
        (total - 1, 34, 33)
    );
    // Budget 100: segments of 6 fit while 6 remain: 16 segments (96), the
    // 17th faults at its first instruction.
    let (out, entered, _) = chain(&[(0, 0)], 0, Some(100));
    assert_eq!(
        out.outcome.result,
        Err(Fault {
            kind: FaultKind::Budget { budget: 100 },
            pc: 0
        })
    );
    assert_eq!(
        (out.outcome.insn_count, entered, out.tail_calls, out.program),
        (96, 16, 16, 0)
    );
}

#[test]
fn tail_call_fault_in_target_names_the_target() {
    let (out, entered, base) = chain(&[(1, 1)], 1, None);
    assert_eq!(
        out.outcome.result,
        Err(Fault {
            kind: FaultKind::OutOfBounds {
                addr: base + 4096,
                size: 4,
                access: Access::Read
            },
            pc: 3
        })
    );
    // `crash` is program 1; the count is `again` up to its call plus
    // `crash` up to its load.
    assert_eq!((out.program, out.tail_calls, entered), (1, 1, 2));
    assert_eq!(out.outcome.insn_count, TO_CALL + 4);
}

#[test]
fn tail_call_without_a_set_fails() {
    // The single-program driver has no set to enter: every tail call fails.
    let obj = object();
    obj.map("progs").unwrap().set_prog(0, 0).unwrap();
    let lp = obj.load("again").unwrap();
    let it = Interpreter::new(lp.program(), lp.helpers().clone()).unwrap();
    let mut buf = [0u8; 8];
    let out = lp.run_mem(&mut buf, &RunOptions::default(), &it);
    assert_eq!(out.result, Ok(TAIL_CALL_FAILED));
    assert_eq!(buf[4], 1);
}
