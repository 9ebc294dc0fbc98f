//! The fast tier's run loop: one `match` over [`Op`]s in a tight loop, the
//! registers, the budget charge and the call frames in locals, and a memory
//! fast path for the stack and the input.
//!
//! Every value is still computed by [`crate::sem`] (with the width and
//! condition constant, so each arm compiles to the bare operation), and
//! every fault, helper call, atomic and legacy packet load goes through the
//! reference's own functions (`super::super::exec`).

use super::super::exec::{
    addr, atomic_rmw_at, budget_exhausted, call_helper, call_too_deep, ld_packet, outside_frame,
    unknown_helper, User,
};
use super::code::{Code, Op, Target};
use crate::engine::fault::{Access, Fault, FaultKind};
use crate::engine::run::RunOutcome;
use crate::host::helpers::Helpers;
use crate::host::mem::{MemoryMap, Region, MAX_CALL_DEPTH, STACK_FRAME_SIZE};
use crate::isa::insn::JmpCond::*;
use crate::isa::insn::Size;
use crate::isa::insn::Width::{W32, W64};
use crate::sem;
use std::hint::select_unpredictable;
use std::ops::{Index, IndexMut};

/// What a run starts from.
pub(super) struct Entry {
    /// r1..r5.
    pub args: [u64; 5],
    /// The run's stack region (region 0 of the map).
    pub stack: Region,
    /// The LD_ABS/LD_IND packet (the input region), if r1 starts a region.
    pub packet: Option<Region>,
    /// The instruction budget.
    pub budget: Option<u64>,
}

/// How the loop ended: r0, or the op index that faulted and why; and the
/// instructions charged so far.
struct End {
    result: Result<u64, (usize, FaultKind)>,
    charged: u64,
}

/// Runs `code` to its final `exit` or a fault, counting instructions
/// exactly as the reference does.
pub(super) fn run(
    code: &Code,
    helpers: &Helpers,
    entry: &Entry,
    mem: &mut MemoryMap<'_>,
    mut user: User<'_>,
) -> RunOutcome {
    let end = execute(code, helpers, entry, mem, &mut user);
    match end.result {
        Ok(r0) => RunOutcome {
            result: Ok(r0),
            insn_count: end.charged,
        },
        Err((at, kind)) => {
            let meta = code.meta.get(at).copied().unwrap_or(super::code::Meta {
                pc: 0,
                block_len: 0,
                k: 0,
            });
            // Rule 3 of the budget: a refused block charged nothing; any
            // other fault counts its block up to the faulting instruction.
            let insn_count = match kind {
                FaultKind::Budget { .. } => end.charged,
                _ => end.charged - meta.block_len as u64 + meta.k as u64,
            };
            RunOutcome {
                result: Err(Fault {
                    kind,
                    pc: meta.pc as usize,
                }),
                insn_count,
            }
        }
    }
}

/// r0..r10, indexed by an op's register number (masked, so no bounds test).
struct Regs([u64; 16]);

impl Index<u8> for Regs {
    type Output = u64;
    #[inline(always)]
    fn index(&self, r: u8) -> &u64 {
        &self.0[(r & 15) as usize]
    }
}

impl IndexMut<u8> for Regs {
    #[inline(always)]
    fn index_mut(&mut self, r: u8) -> &mut u64 {
        &mut self.0[(r & 15) as usize]
    }
}

impl Regs {
    /// r1..r5, the helper arguments.
    #[inline]
    fn args(&self) -> [u64; 5] {
        [self.0[1], self.0[2], self.0[3], self.0[4], self.0[5]]
    }
}

/// A caller's state saved by a local call.
#[derive(Clone, Copy)]
struct Frame {
    /// Op index to continue at, and the length of the block it leads.
    ret: u32,
    ret_len: u32,
    /// The caller's r6..r9.
    saved: [u64; 4],
}

/// The loop. Faults carry the index of the op that faulted.
fn execute(
    code: &Code,
    helpers: &Helpers,
    e: &Entry,
    mem: &mut MemoryMap<'_>,
    user: &mut User<'_>,
) -> End {
    let ops = &code.ops[..];
    let mut r = Regs([0; 16]);
    r.0[1..6].copy_from_slice(&e.args);
    let stack_top = e.stack.start.wrapping_add(e.stack.len);
    r.0[10] = stack_top;
    let mut fast = FastRegions::new(e);
    let mut frames = [Frame {
        ret: 0,
        ret_len: 0,
        saved: [0; 4],
    }; MAX_CALL_DEPTH];
    let mut depth = 0usize;
    let budget = e.budget.unwrap_or(u64::MAX);
    let mut charged = 0u64;
    let mut i = 0usize;

    macro_rules! stop {
        ($at:expr, $kind:expr) => {
            return End {
                result: Err(($at, $kind)),
                charged,
            }
        };
    }
    // Rule 2 of the budget: entering the block of `n` that op `i` leads.
    macro_rules! enter {
        ($n:expr) => {{
            let after = charged.saturating_add($n as u64);
            if after > budget {
                stop!(i, budget_exhausted(budget));
            }
            charged = after;
        }};
    }
    // A block-ending jump: to `to.at` if taken, else to the next op. The
    // choice is a data select, not a host branch, so a program's
    // unpredictable branches cost the loop only its one dispatch.
    macro_rules! branch {
        ($taken:expr, $to:expr) => {{
            let to: Target = $to;
            let taken: bool = $taken;
            i = select_unpredictable(taken, to.at as usize, i);
            enter!(select_unpredictable(taken, to.len, to.next_len));
        }};
    }
    // The value of a fallible step, or a fault at the current op.
    macro_rules! tri {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(kind) => stop!(i - 1, kind),
            }
        };
    }

    loop {
        // In range: every target is an op index and the last op is `exit`
        // or `ja` (see the reference's predecode invariant).
        let at = i;
        i += 1;
        // Matched in place, so each arm loads only its own fields.
        match ops[at] {
            /**** ALU, ALU64: §4.1, §4.2. ****/
            Op::Add64R { d, s } => r[d] = sem::add(W64, r[d], r[s]),
            Op::Add64I { d, k } => r[d] = sem::add(W64, r[d], k),
            Op::Add32R { d, s } => r[d] = sem::add(W32, r[d], r[s]),
            Op::Add32I { d, k } => r[d] = sem::add(W32, r[d], k),
            Op::Sub64R { d, s } => r[d] = sem::sub(W64, r[d], r[s]),
            Op::Sub64I { d, k } => r[d] = sem::sub(W64, r[d], k),
            Op::Sub32R { d, s } => r[d] = sem::sub(W32, r[d], r[s]),
            Op::Sub32I { d, k } => r[d] = sem::sub(W32, r[d], k),
            Op::Mul64R { d, s } => r[d] = sem::mul(W64, r[d], r[s]),
            Op::Mul64I { d, k } => r[d] = sem::mul(W64, r[d], k),
            Op::Mul32R { d, s } => r[d] = sem::mul(W32, r[d], r[s]),
            Op::Mul32I { d, k } => r[d] = sem::mul(W32, r[d], k),
            Op::Div64R { d, s } => r[d] = sem::div(W64, r[d], r[s]),
            Op::Div64I { d, k } => r[d] = sem::div(W64, r[d], k),
            Op::Div32R { d, s } => r[d] = sem::div(W32, r[d], r[s]),
            Op::Div32I { d, k } => r[d] = sem::div(W32, r[d], k),
            Op::Sdiv64R { d, s } => r[d] = sem::sdiv(W64, r[d], r[s]),
            Op::Sdiv64I { d, k } => r[d] = sem::sdiv(W64, r[d], k),
            Op::Sdiv32R { d, s } => r[d] = sem::sdiv(W32, r[d], r[s]),
            Op::Sdiv32I { d, k } => r[d] = sem::sdiv(W32, r[d], k),
            Op::Mod64R { d, s } => r[d] = sem::umod(W64, r[d], r[s]),
            Op::Mod64I { d, k } => r[d] = sem::umod(W64, r[d], k),
            Op::Mod32R { d, s } => r[d] = sem::umod(W32, r[d], r[s]),
            Op::Mod32I { d, k } => r[d] = sem::umod(W32, r[d], k),
            Op::Smod64R { d, s } => r[d] = sem::smod(W64, r[d], r[s]),
            Op::Smod64I { d, k } => r[d] = sem::smod(W64, r[d], k),
            Op::Smod32R { d, s } => r[d] = sem::smod(W32, r[d], r[s]),
            Op::Smod32I { d, k } => r[d] = sem::smod(W32, r[d], k),
            Op::Or64R { d, s } => r[d] = sem::or(W64, r[d], r[s]),
            Op::Or64I { d, k } => r[d] = sem::or(W64, r[d], k),
            Op::Or32R { d, s } => r[d] = sem::or(W32, r[d], r[s]),
            Op::Or32I { d, k } => r[d] = sem::or(W32, r[d], k),
            Op::And64R { d, s } => r[d] = sem::and(W64, r[d], r[s]),
            Op::And64I { d, k } => r[d] = sem::and(W64, r[d], k),
            Op::And32R { d, s } => r[d] = sem::and(W32, r[d], r[s]),
            Op::And32I { d, k } => r[d] = sem::and(W32, r[d], k),
            Op::Xor64R { d, s } => r[d] = sem::xor(W64, r[d], r[s]),
            Op::Xor64I { d, k } => r[d] = sem::xor(W64, r[d], k),
            Op::Xor32R { d, s } => r[d] = sem::xor(W32, r[d], r[s]),
            Op::Xor32I { d, k } => r[d] = sem::xor(W32, r[d], k),
            Op::Lsh64R { d, s } => r[d] = sem::lsh(W64, r[d], r[s]),
            Op::Lsh64I { d, k } => r[d] = sem::lsh(W64, r[d], k),
            Op::Lsh32R { d, s } => r[d] = sem::lsh(W32, r[d], r[s]),
            Op::Lsh32I { d, k } => r[d] = sem::lsh(W32, r[d], k),
            Op::Rsh64R { d, s } => r[d] = sem::rsh(W64, r[d], r[s]),
            Op::Rsh64I { d, k } => r[d] = sem::rsh(W64, r[d], k),
            Op::Rsh32R { d, s } => r[d] = sem::rsh(W32, r[d], r[s]),
            Op::Rsh32I { d, k } => r[d] = sem::rsh(W32, r[d], k),
            Op::Arsh64R { d, s } => r[d] = sem::arsh(W64, r[d], r[s]),
            Op::Arsh64I { d, k } => r[d] = sem::arsh(W64, r[d], k),
            Op::Arsh32R { d, s } => r[d] = sem::arsh(W32, r[d], r[s]),
            Op::Arsh32I { d, k } => r[d] = sem::arsh(W32, r[d], k),
            Op::Mov64R { d, s } => r[d] = sem::mov(W64, r[d], r[s]),
            Op::Mov64I { d, k } => r[d] = sem::mov(W64, r[d], k),
            Op::Mov32R { d, s } => r[d] = sem::mov(W32, r[d], r[s]),
            Op::Mov32I { d, k } => r[d] = sem::mov(W32, r[d], k),
            Op::Neg64 { d } => r[d] = sem::neg(W64, r[d]),
            Op::Neg32 { d } => r[d] = sem::neg(W32, r[d]),
            Op::MovSx { w, d, s, bits } => r[d] = sem::movsx(w, r[s], bits),
            Op::End { kind, d, bits } => r[d] = sem::byteorder(kind, bits, r[d]),
            Op::Lddw { d, k } => r[d] = k,

            /**** Loads and stores: §5.1, §5.2. ****/
            Op::LdxB { d, s, off } => r[d] = tri!(fast.load(mem, addr(r[s], off), Size::B)),
            Op::LdxH { d, s, off } => r[d] = tri!(fast.load(mem, addr(r[s], off), Size::H)),
            Op::LdxW { d, s, off } => r[d] = tri!(fast.load(mem, addr(r[s], off), Size::W)),
            Op::LdxDw { d, s, off } => r[d] = tri!(fast.load(mem, addr(r[s], off), Size::DW)),
            Op::LdxSx { size, d, s, off } => {
                let raw = tri!(fast.load(mem, addr(r[s], off), size));
                r[d] = sem::ldx_value(size, true, raw);
            }
            Op::StB { d, off, k } => tri!(fast.store(mem, addr(r[d], off), Size::B, k)),
            Op::StH { d, off, k } => tri!(fast.store(mem, addr(r[d], off), Size::H, k)),
            Op::StW { d, off, k } => tri!(fast.store(mem, addr(r[d], off), Size::W, k)),
            Op::StDw { d, off, k } => tri!(fast.store(mem, addr(r[d], off), Size::DW, k)),
            Op::StxB { d, s, off } => tri!(fast.store(mem, addr(r[d], off), Size::B, r[s])),
            Op::StxH { d, s, off } => tri!(fast.store(mem, addr(r[d], off), Size::H, r[s])),
            Op::StxW { d, s, off } => tri!(fast.store(mem, addr(r[d], off), Size::W, r[s])),
            Op::StxDw { d, s, off } => tri!(fast.store(mem, addr(r[d], off), Size::DW, r[s])),
            Op::OutsideFrame { off, size, access } => {
                stop!(i - 1, outside_frame(addr(r[10], off), size, access))
            }
            Op::Atomic {
                size,
                op,
                fetch,
                d,
                src,
                off,
            } => {
                let s = src.index() as u8;
                let old = tri!(atomic_rmw_at(mem, size, op, addr(r[d], off), r[s], r[0]));
                // sem::atomic_fetch_reg: which register, if any, receives
                // sem::atomic_fetch_result.
                if let Some(f) = sem::atomic_fetch_reg(op, fetch, src) {
                    r[f.index() as u8] = sem::atomic_fetch_result(size, old);
                }
            }
            Op::LdPacket {
                size,
                index,
                imm,
                next_len,
            } => {
                let index = index.map_or(0, |x| r[x]);
                match tri!(ld_packet(e.packet, index, mem, size, imm)) {
                    Some(v) => r[0] = v,
                    None => {
                        return End {
                            result: Ok(0),
                            charged,
                        }
                    }
                }
                enter!(next_len);
            }

            /**** Jumps: §4.3; each charges the block it enters. ****/
            Op::Jeq64R { d, s, to } => branch!(sem::jmp_taken(W64, Eq, r[d], r[s]), to),
            Op::Jeq64I { d, k, to } => branch!(sem::jmp_taken(W64, Eq, r[d], k), to),
            Op::Jeq32R { d, s, to } => branch!(sem::jmp_taken(W32, Eq, r[d], r[s]), to),
            Op::Jeq32I { d, k, to } => branch!(sem::jmp_taken(W32, Eq, r[d], k), to),
            Op::Jgt64R { d, s, to } => branch!(sem::jmp_taken(W64, Gt, r[d], r[s]), to),
            Op::Jgt64I { d, k, to } => branch!(sem::jmp_taken(W64, Gt, r[d], k), to),
            Op::Jgt32R { d, s, to } => branch!(sem::jmp_taken(W32, Gt, r[d], r[s]), to),
            Op::Jgt32I { d, k, to } => branch!(sem::jmp_taken(W32, Gt, r[d], k), to),
            Op::Jge64R { d, s, to } => branch!(sem::jmp_taken(W64, Ge, r[d], r[s]), to),
            Op::Jge64I { d, k, to } => branch!(sem::jmp_taken(W64, Ge, r[d], k), to),
            Op::Jge32R { d, s, to } => branch!(sem::jmp_taken(W32, Ge, r[d], r[s]), to),
            Op::Jge32I { d, k, to } => branch!(sem::jmp_taken(W32, Ge, r[d], k), to),
            Op::Jset64R { d, s, to } => branch!(sem::jmp_taken(W64, Set, r[d], r[s]), to),
            Op::Jset64I { d, k, to } => branch!(sem::jmp_taken(W64, Set, r[d], k), to),
            Op::Jset32R { d, s, to } => branch!(sem::jmp_taken(W32, Set, r[d], r[s]), to),
            Op::Jset32I { d, k, to } => branch!(sem::jmp_taken(W32, Set, r[d], k), to),
            Op::Jne64R { d, s, to } => branch!(sem::jmp_taken(W64, Ne, r[d], r[s]), to),
            Op::Jne64I { d, k, to } => branch!(sem::jmp_taken(W64, Ne, r[d], k), to),
            Op::Jne32R { d, s, to } => branch!(sem::jmp_taken(W32, Ne, r[d], r[s]), to),
            Op::Jne32I { d, k, to } => branch!(sem::jmp_taken(W32, Ne, r[d], k), to),
            Op::Jsgt64R { d, s, to } => branch!(sem::jmp_taken(W64, Sgt, r[d], r[s]), to),
            Op::Jsgt64I { d, k, to } => branch!(sem::jmp_taken(W64, Sgt, r[d], k), to),
            Op::Jsgt32R { d, s, to } => branch!(sem::jmp_taken(W32, Sgt, r[d], r[s]), to),
            Op::Jsgt32I { d, k, to } => branch!(sem::jmp_taken(W32, Sgt, r[d], k), to),
            Op::Jsge64R { d, s, to } => branch!(sem::jmp_taken(W64, Sge, r[d], r[s]), to),
            Op::Jsge64I { d, k, to } => branch!(sem::jmp_taken(W64, Sge, r[d], k), to),
            Op::Jsge32R { d, s, to } => branch!(sem::jmp_taken(W32, Sge, r[d], r[s]), to),
            Op::Jsge32I { d, k, to } => branch!(sem::jmp_taken(W32, Sge, r[d], k), to),
            Op::Jlt64R { d, s, to } => branch!(sem::jmp_taken(W64, Lt, r[d], r[s]), to),
            Op::Jlt64I { d, k, to } => branch!(sem::jmp_taken(W64, Lt, r[d], k), to),
            Op::Jlt32R { d, s, to } => branch!(sem::jmp_taken(W32, Lt, r[d], r[s]), to),
            Op::Jlt32I { d, k, to } => branch!(sem::jmp_taken(W32, Lt, r[d], k), to),
            Op::Jle64R { d, s, to } => branch!(sem::jmp_taken(W64, Le, r[d], r[s]), to),
            Op::Jle64I { d, k, to } => branch!(sem::jmp_taken(W64, Le, r[d], k), to),
            Op::Jle32R { d, s, to } => branch!(sem::jmp_taken(W32, Le, r[d], r[s]), to),
            Op::Jle32I { d, k, to } => branch!(sem::jmp_taken(W32, Le, r[d], k), to),
            Op::Jslt64R { d, s, to } => branch!(sem::jmp_taken(W64, Slt, r[d], r[s]), to),
            Op::Jslt64I { d, k, to } => branch!(sem::jmp_taken(W64, Slt, r[d], k), to),
            Op::Jslt32R { d, s, to } => branch!(sem::jmp_taken(W32, Slt, r[d], r[s]), to),
            Op::Jslt32I { d, k, to } => branch!(sem::jmp_taken(W32, Slt, r[d], k), to),
            Op::Jsle64R { d, s, to } => branch!(sem::jmp_taken(W64, Sle, r[d], r[s]), to),
            Op::Jsle64I { d, k, to } => branch!(sem::jmp_taken(W64, Sle, r[d], k), to),
            Op::Jsle32R { d, s, to } => branch!(sem::jmp_taken(W32, Sle, r[d], r[s]), to),
            Op::Jsle32I { d, k, to } => branch!(sem::jmp_taken(W32, Sle, r[d], k), to),
            Op::Ja { to } => {
                i = to.at as usize;
                enter!(to.len);
            }

            /**** Calls and exit: the engine contract (the reference's module docs). ****/
            Op::Call { h, next_len } => {
                let (id, func) = &code.calls[h as usize];
                r[0] = tri!(call_helper(*id, &**func, r.args(), mem, user));
                fast.refresh(mem);
                enter!(next_len);
            }
            Op::Callx { s, next_len } => {
                let id = r[s];
                let (id, helper) = tri!(helpers.get_u64(id).ok_or_else(|| unknown_helper(id)));
                r[0] = tri!(call_helper(id, &*helper.func, r.args(), mem, user));
                fast.refresh(mem);
                enter!(next_len);
            }
            Op::CallLocal { to } => {
                if depth + 1 >= MAX_CALL_DEPTH {
                    stop!(i - 1, call_too_deep());
                }
                frames[depth] = Frame {
                    ret: i as u32,
                    ret_len: to.next_len,
                    saved: [r.0[6], r.0[7], r.0[8], r.0[9]],
                };
                depth += 1;
                r.0[10] = frame_pointer(stack_top, depth);
                i = to.at as usize;
                enter!(to.len);
            }
            Op::Exit => {
                if depth == 0 {
                    return End {
                        result: Ok(r.0[0]),
                        charged,
                    };
                }
                depth -= 1;
                let f = frames[depth];
                r.0[6..10].copy_from_slice(&f.saved);
                r.0[10] = frame_pointer(stack_top, depth);
                i = f.ret as usize;
                enter!(f.ret_len);
            }
            Op::Charge { n } => enter!(n),
        }
    }
}

/// r10 for call depth `depth`.
#[inline]
fn frame_pointer(stack_top: u64, depth: usize) -> u64 {
    stack_top.wrapping_sub((depth as u64).wrapping_mul(STACK_FRAME_SIZE))
}

/// A region that allows nothing (a checked region a helper removed).
const NOWHERE: Region = Region {
    start: 0,
    len: 0,
    writable: false,
};

/// The two regions most accesses hit, the stack and the input, checked
/// inline with the map's own rule ([`Region::allows`]) before the map's
/// general search. Both are regions of the map at entry; after each helper
/// call (the only code that can remove a region during a run) each is kept
/// only if the map still holds it. An access the fast path does not cover
/// goes to [`MemoryMap::load`]/[`MemoryMap::store`], so the outcome is the
/// bounds rule's in every case.
struct FastRegions {
    stack: Region,
    input: Region,
}

impl FastRegions {
    fn new(e: &Entry) -> FastRegions {
        FastRegions {
            stack: e.stack,
            input: e.packet.unwrap_or(NOWHERE),
        }
    }

    /// Drops a region the map no longer holds.
    #[inline]
    fn refresh(&mut self, mem: &MemoryMap<'_>) {
        for r in [&mut self.stack, &mut self.input] {
            if *r != NOWHERE && !mem.contains(r) {
                *r = NOWHERE;
            }
        }
    }

    #[inline(always)]
    fn covers(&self, a: u64, size: Size, access: Access) -> bool {
        self.stack.allows(a, size.bytes(), access) || self.input.allows(a, size.bytes(), access)
    }

    /// [`MemoryMap::load`], inline for the stack and the input.
    #[inline(always)]
    fn load(&self, mem: &MemoryMap<'_>, a: u64, size: Size) -> Result<u64, FaultKind> {
        if !self.covers(a, size, Access::Read) {
            return mem.load(a, size);
        }
        let p = a as usize as *const u8;
        // SAFETY: `covers` proved `[a, a + size)` lies in the stack or the
        // input region, which the map holds (checked at entry and after
        // every helper call, the only code that can remove a region), and
        // every region of a map is valid for reads while it is used to run
        // a program. Reads are unaligned, as eBPF allows.
        let v = unsafe {
            match size {
                Size::B => p.read() as u64,
                Size::H => u16::from_le((p as *const u16).read_unaligned()) as u64,
                Size::W => u32::from_le((p as *const u32).read_unaligned()) as u64,
                Size::DW => u64::from_le((p as *const u64).read_unaligned()),
            }
        };
        Ok(v)
    }

    /// [`MemoryMap::store`], inline for the stack and the input.
    #[inline(always)]
    fn store(&self, mem: &MemoryMap<'_>, a: u64, size: Size, v: u64) -> Result<(), FaultKind> {
        if !self.covers(a, size, Access::Write) {
            return mem.store(a, size, v);
        }
        let p = a as usize as *mut u8;
        // SAFETY: as in `load`, and `covers` checked the region writable.
        unsafe {
            match size {
                Size::B => p.write(v as u8),
                Size::H => (p as *mut u16).write_unaligned((v as u16).to_le()),
                Size::W => (p as *mut u32).write_unaligned((v as u32).to_le()),
                Size::DW => (p as *mut u64).write_unaligned(v.to_le()),
            }
        }
        Ok(())
    }
}
