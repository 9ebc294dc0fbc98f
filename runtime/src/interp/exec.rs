//! The run loop: one arm per instruction form, calling [`crate::sem`].

use super::predecode::{Op, Operand, Slot};
use crate::engine::fault::{Access, Fault, FaultKind, HelperError};
use crate::engine::run::RunOutcome;
use crate::host::helpers::{HelperCtx, HelperFn, Helpers};
use crate::host::mem::{MemoryMap, Region, MAX_CALL_DEPTH, STACK_FRAME_SIZE};
use crate::isa::insn::{AtomicOp, Reg, Size};
use crate::sem;
use std::any::Any;
use std::sync::atomic::Ordering::SeqCst;

/// The user state as the loop holds it.
pub(super) type User<'u> = Option<&'u mut (dyn Any + Send)>;

/// What a run starts from.
pub(super) struct Entry {
    /// r1..r5.
    pub args: [u64; 5],
    /// r10 of the entry function.
    pub stack_top: u64,
    /// The LD_ABS/LD_IND packet, if r1 starts a region.
    pub packet: Option<Region>,
    /// The instruction budget.
    pub budget: Option<u64>,
}

/// Runs `code` to its final `exit` or a fault and counts instructions.
pub(super) fn run(
    code: &[Slot],
    helpers: &Helpers,
    entry: Entry,
    mem: &mut MemoryMap<'_>,
    mut user: User<'_>,
) -> RunOutcome {
    let mut m = Machine::new(&entry);
    match execute(code, helpers, &mut m, mem, &mut user) {
        Ok(r0) => RunOutcome {
            result: Ok(r0),
            insn_count: m.counter.charged,
        },
        Err(kind) => RunOutcome {
            insn_count: m.counter.count_at_fault(m.i, &kind),
            result: Err(Fault {
                kind,
                pc: code.get(m.i).map_or(0, |s| s.pc),
            }),
        },
    }
}

/// The loop. On `Err`, `m.i` is the index of the faulting instruction.
fn execute(
    code: &[Slot],
    helpers: &Helpers,
    m: &mut Machine,
    mem: &mut MemoryMap<'_>,
    user: &mut User<'_>,
) -> Result<u64, FaultKind> {
    loop {
        // In range: see the invariant in `predecode`.
        let slot = &code[m.i];
        if slot.block_len != 0 {
            m.counter.enter_block(m.i, slot.block_len)?;
        }
        let mut next = m.i + 1;
        match slot.op {
            /**** ALU, ALU64: RFC 9669 §4.1, §4.2. `sem` zero-extends 32-bit results. ****/
            Op::Alu { w, op, dst, src } => m.set(dst, sem::alu(w, op, m.get(dst), m.operand(src))),
            Op::Neg { w, dst } => m.set(dst, sem::neg(w, m.get(dst))),
            Op::MovSx { w, dst, src, bits } => m.set(dst, sem::movsx(w, m.get(src), bits)),
            Op::End { kind, dst, bits } => m.set(dst, sem::byteorder(kind, bits, m.get(dst))),
            Op::Lddw { dst, value } => m.set(dst, value),

            /**** Loads and stores: §5.1, §5.2. Addresses wrap; the map checks bounds. ****/
            Op::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                let a = frame_checked(m, src, off, size, Access::Read)?;
                let raw = mem.load(a, size)?;
                m.set(dst, sem::ldx_value(size, sx, raw));
            }
            Op::St {
                size,
                dst,
                off,
                value,
            } => mem.store(
                frame_checked(m, dst, off, size, Access::Write)?,
                size,
                value,
            )?,
            Op::Stx {
                size,
                dst,
                src,
                off,
            } => {
                let a = frame_checked(m, dst, off, size, Access::Write)?;
                mem.store(a, size, m.get(src))?;
            }

            /**** Atomics: §5.3, real atomic operations. ****/
            Op::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => {
                let a = frame_checked(m, dst, off, size, Access::ReadWrite)?;
                exec_atomic(m, mem, size, op, fetch, a, src)?;
            }

            /**** Legacy packet loads: §5.5. Out of the packet ends the run with r0 = 0. ****/
            Op::LdPacket { size, index, imm } => match exec_ld_packet(m, mem, size, index, imm)? {
                Some(v) => m.set(Reg::R0, v),
                None => return Ok(0),
            },

            /**** Jumps: §4.3. Targets are code indices. ****/
            Op::Ja { target } => next = target,
            Op::Jmp {
                w,
                cond,
                dst,
                src,
                target,
            } => {
                if sem::jmp_taken(w, cond, m.get(dst), m.operand(src)) {
                    next = target;
                }
            }

            /**** Calls and exit: §4.3.1 and the engine contract (module docs). ****/
            Op::CallHelper { id, ref func } => {
                let r0 = call_helper(id, &**func, m.args(), mem, user)?;
                m.set(Reg::R0, r0);
            }
            Op::Callx { reg } => {
                let id = m.get(reg);
                let (id, helper) = helpers.get_u64(id).ok_or_else(|| unknown_helper(id))?;
                let r0 = call_helper(id, &*helper.func, m.args(), mem, user)?;
                m.set(Reg::R0, r0);
            }
            Op::CallLocal { target } => {
                m.push_frame(next)?;
                next = target;
            }
            Op::Exit => match m.pop_frame() {
                Some(ret) => next = ret,
                None => return Ok(m.get(Reg::R0)),
            },
        }
        m.i = next;
    }
}

/// The effective address `base + off`, wrapping (§5.1).
#[inline]
pub(super) fn addr(base: u64, off: i16) -> u64 {
    base.wrapping_add(off as i64 as u64)
}

/// The effective address of an access through `base`, after the frame rule
/// ([`sem::frame_access_ok`]): through r10, outside the current frame, it
/// faults out of bounds at that address.
#[inline]
fn frame_checked(
    m: &Machine,
    base: Reg,
    off: i16,
    size: Size,
    access: Access,
) -> Result<u64, FaultKind> {
    let a = addr(m.get(base), off);
    if base == Reg::R10 && !sem::frame_access_ok(off, size.bytes()) {
        return Err(outside_frame(a, size, access));
    }
    Ok(a)
}

#[cold]
pub(super) fn outside_frame(addr: u64, size: Size, access: Access) -> FaultKind {
    FaultKind::OutOfBounds {
        addr,
        size: size.bytes(),
        access,
    }
}

/// `op` on the atomic cell `a` (an `AtomicU32` or `AtomicU64`) with operand
/// `v` and, for CMPXCHG, expected value `r0`, both of the cell's width;
/// evaluates to the old memory value. Written once for both widths, so the
/// two cannot drift apart.
macro_rules! atomic_rmw {
    ($op:expr, $a:expr, $v:expr, $r0:expr) => {
        match $op {
            // sem::atomic_new_value: old + src (wrapping in the access width).
            AtomicOp::Add => $a.fetch_add($v, SeqCst),
            // sem::atomic_new_value: old | src.
            AtomicOp::Or => $a.fetch_or($v, SeqCst),
            // sem::atomic_new_value: old & src.
            AtomicOp::And => $a.fetch_and($v, SeqCst),
            // sem::atomic_new_value: old ^ src.
            AtomicOp::Xor => $a.fetch_xor($v, SeqCst),
            // sem::atomic_new_value: src.
            AtomicOp::Xchg => $a.swap($v, SeqCst),
            // sem::cmpxchg_matches: old == r0 in the access width; then
            // sem::atomic_new_value: src.
            AtomicOp::Cmpxchg => $a
                .compare_exchange($r0, $v, SeqCst, SeqCst)
                .unwrap_or_else(|old| old),
        }
    };
}

/// An atomic read-modify-write at `addr` with operand register `src`
/// (§5.3), with the hardware operation that computes each `sem` rule.
///
/// The arms (in `atomic_rmw!`) are in the order of
/// [`sem::atomic_new_value`]'s, and the comment above each names the rule it
/// performs; the lowering's `translate_atomic` has the same arms in the same
/// order. A unit test (`interp/tests.rs`) checks every operation, width and
/// FETCH flag against the `sem` functions.
fn exec_atomic(
    m: &mut Machine,
    mem: &MemoryMap<'_>,
    size: Size,
    op: AtomicOp,
    fetch: bool,
    addr: u64,
    src: Reg,
) -> Result<(), FaultKind> {
    let old = atomic_rmw_at(mem, size, op, addr, m.get(src), m.get(Reg::R0))?;
    // sem::atomic_fetch_reg: which register, if any, receives
    // sem::atomic_fetch_result (`old`, zero-extended for W).
    if let Some(r) = sem::atomic_fetch_reg(op, fetch, src) {
        m.set(r, sem::atomic_fetch_result(size, old));
    }
    Ok(())
}

/// The memory half of [`exec_atomic`]: `op` at `addr` with operand `v` and
/// CMPXCHG's expected `r0`; evaluates to the old memory value. (Shared with
/// the fast tier.)
pub(super) fn atomic_rmw_at(
    mem: &MemoryMap<'_>,
    size: Size,
    op: AtomicOp,
    addr: u64,
    v: u64,
    r0: u64,
) -> Result<u64, FaultKind> {
    Ok(match size {
        Size::W => mem
            .with_atomic32(addr, |a| atomic_rmw!(op, a, v as u32, r0 as u32))?
            .into(),
        _ => mem.with_atomic64(addr, |a| atomic_rmw!(op, a, v, r0))?,
    })
}

/// A legacy packet load: `Some(r0)`, or `None` if the bytes are not all
/// inside the packet (the run then ends with r0 = 0).
fn exec_ld_packet(
    m: &Machine,
    mem: &MemoryMap<'_>,
    size: Size,
    index: Option<Reg>,
    imm: i32,
) -> Result<Option<u64>, FaultKind> {
    ld_packet(m.packet, index.map_or(0, |r| m.get(r)), mem, size, imm)
}

/// [`exec_ld_packet`] with the index register's value (0 for LD_ABS).
/// (Shared with the fast tier.)
pub(super) fn ld_packet(
    packet: Option<Region>,
    index: u64,
    mem: &MemoryMap<'_>,
    size: Size,
    imm: i32,
) -> Result<Option<u64>, FaultKind> {
    let Some(packet) = packet else {
        return Ok(None);
    };
    let addr = sem::packet_addr(packet.start, index, imm);
    if !packet.allows(addr, size.bytes(), Access::Read) {
        return Ok(None);
    }
    // The map's bounds rule still guards the host access (a helper may have
    // removed the packet region).
    let raw = mem.load(addr, size)?;
    Ok(Some(sem::packet_value(size, raw)))
}

/// Calls a helper body with r1..r5 and the run's memory and user state.
/// (Shared with the fast tier, as are the `#[cold]` fault constructors.)
pub(super) fn call_helper(
    id: u32,
    func: &HelperFn,
    args: [u64; 5],
    mem: &mut MemoryMap<'_>,
    user: &mut User<'_>,
) -> Result<u64, FaultKind> {
    let mut ctx = HelperCtx {
        mem,
        user: match user {
            Some(u) => Some(&mut **u),
            None => None,
        },
    };
    func(&mut ctx, args).map_err(|error| helper_failed(id, error))
}

#[cold]
pub(super) fn unknown_helper(id: u64) -> FaultKind {
    FaultKind::UnknownHelper { id }
}

#[cold]
fn helper_failed(id: u32, error: HelperError) -> FaultKind {
    FaultKind::Helper { id, error }
}

#[cold]
pub(super) fn budget_exhausted(budget: u64) -> FaultKind {
    FaultKind::Budget { budget }
}

#[cold]
pub(super) fn call_too_deep() -> FaultKind {
    FaultKind::CallDepth {
        limit: MAX_CALL_DEPTH as u64,
    }
}

/// A caller's state saved by a local call.
struct Frame {
    /// Code index to continue at after the callee's `exit`.
    ret: usize,
    /// The caller's r6..r9.
    saved: [u64; 4],
}

/// The machine state of one run.
struct Machine {
    /// r0..r10.
    regs: [u64; 11],
    /// Index of the current instruction in the code.
    i: usize,
    /// Callers of the running function; its length is the call depth.
    frames: Vec<Frame>,
    /// r10 of the entry function.
    stack_top: u64,
    /// The LD_ABS/LD_IND packet.
    packet: Option<Region>,
    /// Instruction counting and the budget.
    counter: Counter,
}

impl Machine {
    fn new(e: &Entry) -> Machine {
        let mut regs = [0u64; 11];
        regs[1..6].copy_from_slice(&e.args);
        regs[Reg::R10.index()] = e.stack_top;
        Machine {
            regs,
            i: 0,
            frames: Vec::new(),
            stack_top: e.stack_top,
            packet: e.packet,
            counter: Counter {
                budget: e.budget,
                charged: 0,
                before_block: 0,
                leader: 0,
            },
        }
    }

    #[inline]
    fn get(&self, r: Reg) -> u64 {
        self.regs[r.index()]
    }

    #[inline]
    fn set(&mut self, r: Reg, v: u64) {
        self.regs[r.index()] = v;
    }

    #[inline]
    fn operand(&self, src: Operand) -> u64 {
        match src {
            Operand::Reg(r) => self.get(r),
            Operand::Imm(v) => v,
        }
    }

    /// r1..r5, the helper arguments.
    fn args(&self) -> [u64; 5] {
        [
            self.regs[1],
            self.regs[2],
            self.regs[3],
            self.regs[4],
            self.regs[5],
        ]
    }

    /// r10 for call depth `depth`.
    fn frame_pointer(&self, depth: usize) -> u64 {
        self.stack_top
            .wrapping_sub((depth as u64).wrapping_mul(STACK_FRAME_SIZE))
    }

    /// Enters a local callee that will return to code index `ret`.
    fn push_frame(&mut self, ret: usize) -> Result<(), FaultKind> {
        let depth = self.frames.len() + 1;
        if depth >= MAX_CALL_DEPTH {
            return Err(call_too_deep());
        }
        let saved = [self.regs[6], self.regs[7], self.regs[8], self.regs[9]];
        self.frames.push(Frame { ret, saved });
        self.regs[Reg::R10.index()] = self.frame_pointer(depth);
        Ok(())
    }

    /// Returns from a local callee: restores r6..r10 and gives the return
    /// index, or `None` if the entry function is exiting.
    fn pop_frame(&mut self) -> Option<usize> {
        let f = self.frames.pop()?;
        self.regs[6..10].copy_from_slice(&f.saved);
        self.regs[Reg::R10.index()] = self.frame_pointer(self.frames.len());
        Some(f.ret)
    }
}

/// Instruction counting by the rule in [`crate::analysis::budget`].
struct Counter {
    budget: Option<u64>,
    /// Instructions charged so far (whole blocks).
    charged: u64,
    /// `charged` before the current block was entered.
    before_block: u64,
    /// Code index of the current block's leader.
    leader: usize,
}

impl Counter {
    /// Rule 2: entering a block of `n` instructions led by code index `i`.
    #[inline]
    fn enter_block(&mut self, i: usize, n: u32) -> Result<(), FaultKind> {
        let after = self.charged.saturating_add(n as u64);
        if let Some(budget) = self.budget {
            if after > budget {
                return Err(budget_exhausted(budget));
            }
        }
        self.before_block = self.charged;
        self.leader = i;
        self.charged = after;
        Ok(())
    }

    /// Rule 3: the count after `kind` stopped the run at code index `i`.
    fn count_at_fault(&self, i: usize, kind: &FaultKind) -> u64 {
        match kind {
            // Nothing of the refused block ran.
            FaultKind::Budget { .. } => self.charged,
            // The faulting instruction is the k-th of its block, k = i - leader + 1.
            _ => self
                .before_block
                .saturating_add(i.saturating_sub(self.leader) as u64)
                .saturating_add(1),
        }
    }
}
