//! Context rewriting.
//!
//! Kernel UAPI contexts such as `struct xdp_md` declare 32-bit fields
//! (`data`, `data_end`) that programs cast to pointers. As the kernel's
//! verifier does (`convert_ctx_access`), the loader rewrites every access to
//! the context into an access to a **shadow** context that the runtime builds
//! per run, where pointer fields are full 64-bit host addresses (see
//! [`CtxLayout`]). The number of slots never changes: only the access's size
//! and offset do. Stores are rewritten the same way, to fields the layout
//! marks writable.
//!
//! Which loads read the context is found by a forward data-flow analysis: r1
//! holds the context at entry; `mov` copies it, 8-byte stack spills and fills
//! keep it, and a local call passes it on in r1-r5. A load whose base register
//! may or may not hold the context depending on the path
//! ([`CtxError::Ambiguous`]), a context access the layout refuses (an
//! unknown field, a store to a read-only field, a misaligned or partial
//! access: [`CtxError::BadAccess`]) or arithmetic on the context pointer
//! followed by a dereference is refused, never guessed.

use super::layout::{AccessFault, CtxLayout, Resolved};
use crate::isa::cfg::Cfg;
use crate::isa::decode::decode_all;
use crate::isa::encode::encode_all;
use crate::isa::insn::{AluOp, CallKind, Insn, RawInsn, Reg, Size, Src, Width};
use std::collections::BTreeMap;
use std::fmt;

/// Why context rewriting refused a program.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtxError {
    /// The slots did not decode.
    Decode(crate::DecodeError),
    /// An access to the context the layout refuses.
    BadAccess {
        /// Slot index.
        pc: usize,
        /// The context struct.
        ctx: &'static str,
        /// The field at that offset, if any.
        field: Option<&'static str>,
        /// Offset.
        offset: i16,
        /// Size in bytes.
        size: u64,
        /// Whether it was a store.
        write: bool,
        /// Why.
        fault: AccessFault,
    },
    /// A memory access through a register that holds the context on some
    /// paths and not on others, or holds a pointer computed from it.
    Ambiguous {
        /// Slot index.
        pc: usize,
        /// The base register.
        reg: u8,
    },
}

impl fmt::Display for CtxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CtxError::Decode(e) => write!(f, "invalid instruction at {e}"),
            CtxError::BadAccess {
                pc,
                ctx,
                field,
                offset,
                size,
                write,
                fault,
            } => {
                let what = if *write { "store to" } else { "load from" };
                let name = field.map_or(String::new(), |n| format!(" ({ctx}.{n})"));
                write!(
                    f,
                    "pc {pc}: invalid {size}-byte {what} struct {ctx} at offset {offset}{name}: {}",
                    fault.describe()
                )
            }
            CtxError::Ambiguous { pc, reg } => write!(
                f,
                "pc {pc}: r{reg} holds the context (or a pointer derived from it) on some paths only"
            ),
        }
    }
}

impl std::error::Error for CtxError {}

/// What a register or stack slot holds, for the analysis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum V {
    /// Not the context.
    Other,
    /// The context pointer, unmodified.
    Ctx,
    /// The context on some paths, or a pointer computed from it.
    Mixed,
}

impl V {
    fn join(self, o: V) -> V {
        if self == o {
            self
        } else {
            V::Mixed
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct State {
    regs: [V; 11],
    /// 8-byte stack slots of the current frame by r10-relative offset; absent
    /// means `Other`.
    stack: BTreeMap<i16, V>,
}

impl State {
    fn entry(args: [V; 5]) -> State {
        let mut regs = [V::Other; 11];
        regs[1..6].copy_from_slice(&args);
        State {
            regs,
            stack: BTreeMap::new(),
        }
    }

    /// Joins `o` into `self`; returns whether `self` changed.
    fn join_from(&mut self, o: &State) -> bool {
        let before = self.clone();
        for (a, b) in self.regs.iter_mut().zip(o.regs) {
            *a = a.join(b);
        }
        let keys: Vec<i16> = self.stack.keys().chain(o.stack.keys()).copied().collect();
        for k in keys {
            let a = self.stack.get(&k).copied().unwrap_or(V::Other);
            let b = o.stack.get(&k).copied().unwrap_or(V::Other);
            self.stack.insert(k, a.join(b));
        }
        self.stack.retain(|_, v| *v != V::Other);
        *self != before
    }

    fn clobber_stack(&mut self, off: i16, size: u64) {
        let (lo, hi) = (i32::from(off), i32::from(off) + size as i32);
        self.stack
            .retain(|&k, _| i32::from(k) + 8 <= lo || i32::from(k) >= hi);
    }
}

/// Rewrites the context loads of `slots` for `layout` (see the module docs).
/// Returns the rewritten slots.
///
/// The phases: decode and build the control-flow graph, find the context
/// loads by a forward analysis over the graph's blocks, then rewrite each
/// load's size and offset.
pub fn rewrite_ctx(slots: &[RawInsn], layout: &CtxLayout) -> Result<Vec<RawInsn>, CtxError> {
    let insns = decode_all(slots).map_err(CtxError::Decode)?;
    let cfg = Cfg::new(&insns);
    let accesses = find_ctx_accesses(&insns, &cfg, layout)?;
    Ok(rewrite_accesses(slots, &insns, &cfg, &accesses))
}

/// The context accesses of the program (pc to shadow access), found by a forward
/// data-flow over the blocks of `cfg`. States are kept at block leaders
/// only (one stack map per block, not per instruction) and carried through
/// a block instruction by instruction.
fn find_ctx_accesses(
    insns: &[(usize, Insn)],
    cfg: &Cfg,
    layout: &CtxLayout,
) -> Result<BTreeMap<usize, Resolved>, CtxError> {
    // States before each leader, by instruction index.
    let mut states: Vec<Option<State>> = vec![None; insns.len()];
    let mut work: Vec<usize> = Vec::new();
    let mut loads: BTreeMap<usize, Resolved> = BTreeMap::new();
    // Entry: r1 is the context.
    if !insns.is_empty() {
        let ctx_in_r1 = [V::Ctx, V::Other, V::Other, V::Other, V::Other];
        flow(&mut states, &mut work, 0, &State::entry(ctx_in_r1));
    }
    while let Some(leader) = work.pop() {
        let (Some(mut s), Some(block)) = (states[leader].clone(), cfg.block_of(leader)) else {
            continue;
        };
        let mut call_args = None;
        for &(pc, insn) in &insns[block.first..block.end] {
            call_args = s.step(pc, insn, layout, &mut loads)?;
        }
        if let (Some(callee), Some(args)) = (block.callee, call_args) {
            flow(&mut states, &mut work, callee, &State::entry(args));
        }
        for &next in &block.succs {
            flow(&mut states, &mut work, next, &s);
        }
    }
    Ok(loads)
}

/// Joins `s` into the state before leader `i` and queues it if it changed.
fn flow(states: &mut [Option<State>], work: &mut Vec<usize>, i: usize, s: &State) {
    let Some(slot) = states.get_mut(i) else {
        return;
    };
    let changed = match slot {
        Some(old) => old.join_from(s),
        None => {
            *slot = Some(s.clone());
            true
        }
    };
    if changed {
        work.push(i);
    }
}

/// The slots with every context access in `accesses` moved to its shadow
/// field.
fn rewrite_accesses(
    slots: &[RawInsn],
    insns: &[(usize, Insn)],
    cfg: &Cfg,
    accesses: &BTreeMap<usize, Resolved>,
) -> Vec<RawInsn> {
    let mut out = slots.to_vec();
    for (&pc, r) in accesses {
        let Some(i) = cfg.index_of_pc(pc) else {
            continue;
        };
        let (size, off) = (r.shadow_size, r.shadow_offset);
        let new = match insns[i].1 {
            Insn::Ldx { sx, dst, src, .. } => Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            },
            Insn::St { dst, imm, .. } => Insn::St {
                size,
                dst,
                off,
                imm,
            },
            Insn::Stx { dst, src, .. } => Insn::Stx {
                size,
                dst,
                src,
                off,
            },
            _ => continue,
        };
        if let Some(raw) = encode_all(&[new]).first() {
            out[pc] = *raw;
        }
    }
    out
}

impl State {
    /// Applies the instruction at `pc` to the state, recording context
    /// loads in `loads`. For a local call, returns the callee's r1-r5.
    fn step(
        &mut self,
        pc: usize,
        insn: Insn,
        layout: &CtxLayout,
        loads: &mut BTreeMap<usize, Resolved>,
    ) -> Result<Option<[V; 5]>, CtxError> {
        match insn {
            Insn::Alu { w, op, dst, src } => self.step_alu(w, op, dst, src),
            Insn::Neg { dst, .. } | Insn::End { dst, .. } => {
                if self.regs[dst.index()] != V::Other {
                    self.regs[dst.index()] = V::Mixed;
                }
            }
            Insn::MovSx { dst, src, .. } => {
                self.regs[dst.index()] = if self.regs[src.index()] == V::Other {
                    V::Other
                } else {
                    V::Mixed
                };
            }
            Insn::Lddw { dst, .. } => self.regs[dst.index()] = V::Other,
            Insn::LdAbs { .. } | Insn::LdInd { .. } => self.regs[0] = V::Other,
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => {
                let v = self.step_ldx(pc, size, sx, src, off, layout, loads)?;
                self.regs[dst.index()] = v;
            }
            Insn::St { size, dst, off, .. } => {
                if dst == Reg::R10 {
                    self.clobber_stack(off, size.bytes());
                } else if self.base(pc, dst)? == V::Ctx {
                    let r = access(layout, pc, off, size, true, false)?;
                    loads.insert(pc, r);
                }
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                if dst == Reg::R10 {
                    self.clobber_stack(off, size.bytes());
                    let v = self.regs[src.index()];
                    // Only spills inside the frame are kept (one outside
                    // faults by the frame rule): at most 64 disjoint slots
                    // per state, however many spills the program has
                    // (issue 17: 4 095 spills took 2.7 GB).
                    if size == Size::DW && v != V::Other && crate::sem::frame_access_ok(off, 8) {
                        self.stack.insert(off, v);
                    }
                } else if self.base(pc, dst)? == V::Ctx {
                    let r = access(layout, pc, off, size, true, false)?;
                    loads.insert(pc, r);
                }
            }
            Insn::Atomic { size, dst, off, .. } => {
                if dst == Reg::R10 {
                    self.clobber_stack(off, size.bytes());
                } else if self.base(pc, dst)? == V::Ctx {
                    return Err(CtxError::BadAccess {
                        pc,
                        ctx: layout.name,
                        field: layout.name_at(off),
                        offset: off,
                        size: size.bytes(),
                        write: true,
                        fault: AccessFault::Atomic,
                    });
                }
                if let Some(r) = insn.written_reg() {
                    self.regs[r.index()] = V::Other;
                }
            }
            Insn::Ja { .. } | Insn::Jmp { .. } | Insn::Exit => {}
            Insn::Call {
                kind: CallKind::Local,
                ..
            } => {
                let r = &self.regs;
                let args = [r[1], r[2], r[3], r[4], r[5]];
                self.regs[0..=5].fill(V::Other);
                return Ok(Some(args));
            }
            Insn::Call { .. } | Insn::Callx { .. } => self.regs[0..=5].fill(V::Other),
        }
        Ok(None)
    }

    /// The value of base register `reg` of an access at `pc`; a context
    /// pointer on some paths only is refused.
    fn base(&self, pc: usize, reg: Reg) -> Result<V, CtxError> {
        match self.regs[reg.index()] {
            V::Mixed => Err(CtxError::Ambiguous { pc, reg: reg.num() }),
            v => Ok(v),
        }
    }

    /// ALU: a 64-bit `mov` copies the value, anything else mixes a context
    /// pointer into `Mixed`.
    fn step_alu(&mut self, w: Width, op: AluOp, dst: Reg, src: Src) {
        let sv = match src {
            Src::Reg(r) => self.regs[r.index()],
            Src::Imm(_) => V::Other,
        };
        let is_mov = op == AluOp::Mov;
        self.regs[dst.index()] = if is_mov && w == Width::W64 {
            sv
        } else if is_mov {
            if sv == V::Other {
                V::Other
            } else {
                V::Mixed
            }
        } else if self.regs[dst.index()] != V::Other || sv != V::Other {
            V::Mixed
        } else {
            V::Other
        };
    }

    /// LDX: an 8-byte fill from the stack keeps the spilled value; a load
    /// through the context must match a field (and is recorded).
    #[allow(clippy::too_many_arguments)]
    fn step_ldx(
        &self,
        pc: usize,
        size: Size,
        sx: bool,
        src: Reg,
        off: i16,
        layout: &CtxLayout,
        loads: &mut BTreeMap<usize, Resolved>,
    ) -> Result<V, CtxError> {
        if src == Reg::R10 {
            return Ok(if size == Size::DW {
                self.stack.get(&off).copied().unwrap_or(V::Other)
            } else {
                V::Other
            });
        }
        if self.base(pc, src)? == V::Ctx {
            loads.insert(pc, access(layout, pc, off, size, false, sx)?);
        }
        Ok(V::Other)
    }
}

/// The shadow access for a context access at `pc`, or the refusal.
fn access(
    layout: &CtxLayout,
    pc: usize,
    off: i16,
    size: Size,
    write: bool,
    sx: bool,
) -> Result<Resolved, CtxError> {
    layout
        .resolve(off, size, write, sx)
        .map_err(|fault| CtxError::BadAccess {
            pc,
            ctx: layout.name,
            field: layout.name_at(off),
            offset: off,
            size: size.bytes(),
            write,
            fault,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::{AluOp, JmpCond, Width};

    fn r(n: u8) -> Reg {
        Reg::new(n).unwrap()
    }
    fn ldx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
        Insn::Ldx {
            size,
            sx: false,
            dst: r(dst),
            src: r(src),
            off,
        }
    }
    fn mov(dst: u8, src: Src) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: r(dst),
            src,
        }
    }
    fn rewrite(insns: &[Insn]) -> Result<Vec<Insn>, CtxError> {
        let out = rewrite_ctx(&encode_all(insns), &CtxLayout::xdp_md())?;
        Ok(decode_all(&out)
            .unwrap()
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    #[test]
    fn xdp_data_loads_become_64_bit() {
        let got = rewrite(&[
            ldx(Size::W, 2, 1, 4),
            mov(6, Src::Reg(r(1))),
            ldx(Size::W, 3, 6, 0),
            ldx(Size::W, 4, 6, 12),
            ldx(Size::W, 5, 2, 0),
            mov(0, Src::Imm(2)),
            Insn::Exit,
        ])
        .unwrap();
        assert_eq!(got[0], ldx(Size::DW, 2, 1, 8));
        assert_eq!(got[2], ldx(Size::DW, 3, 6, 0));
        assert_eq!(got[3], ldx(Size::W, 4, 6, 24));
        // r2 holds packet data, not the context: untouched.
        assert_eq!(got[4], ldx(Size::W, 5, 2, 0));
    }

    #[test]
    fn xdp_spill_fill_and_local_call_keep_ctx() {
        let got = rewrite(&[
            Insn::Stx {
                size: Size::DW,
                dst: r(10),
                src: r(1),
                off: -8,
            },
            mov(1, Src::Imm(0)),
            ldx(Size::DW, 7, 10, -8),
            mov(1, Src::Reg(r(7))),
            Insn::Call {
                kind: CallKind::Local,
                imm: 2,
            },
            ldx(Size::W, 0, 7, 16),
            Insn::Exit,
            ldx(Size::W, 0, 1, 20),
            Insn::Exit,
        ])
        .unwrap();
        assert_eq!(got[5], ldx(Size::W, 0, 7, 28));
        assert_eq!(got[7], ldx(Size::W, 0, 1, 32));
    }

    #[test]
    fn xdp_bad_accesses_are_refused() {
        assert_eq!(
            rewrite(&[ldx(Size::H, 0, 1, 0), Insn::Exit]),
            Err(CtxError::BadAccess {
                pc: 0,
                ctx: "xdp_md",
                field: Some("data"),
                offset: 0,
                size: 2,
                write: false,
                fault: AccessFault::Partial,
            })
        );
        assert_eq!(
            rewrite(&[
                Insn::St {
                    size: Size::W,
                    dst: r(1),
                    off: 0,
                    imm: 1
                },
                Insn::Exit
            ]),
            Err(CtxError::BadAccess {
                pc: 0,
                ctx: "xdp_md",
                field: Some("data"),
                offset: 0,
                size: 4,
                write: true,
                fault: AccessFault::ReadOnly,
            })
        );
        let add = Insn::Alu {
            w: Width::W64,
            op: AluOp::Add,
            dst: r(1),
            src: Src::Imm(4),
        };
        assert_eq!(
            rewrite(&[add, ldx(Size::W, 0, 1, 0), Insn::Exit]),
            Err(CtxError::Ambiguous { pc: 1, reg: 1 })
        );
        let jeq = Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Eq,
            dst: r(2),
            src: Src::Imm(0),
            off: 1,
        };
        assert_eq!(
            rewrite(&[
                jeq,
                mov(1, Src::Reg(r(10))),
                ldx(Size::W, 0, 1, 0),
                Insn::Exit
            ]),
            Err(CtxError::Ambiguous { pc: 2, reg: 1 })
        );
    }

    fn rewrite_skb(kind: super::super::SkbKind, insns: &[Insn]) -> Result<Vec<Insn>, CtxError> {
        let layout = CtxLayout::sk_buff(kind);
        let out = rewrite_ctx(&encode_all(insns), &layout)?;
        Ok(decode_all(&out)
            .unwrap()
            .into_iter()
            .map(|(_, i)| i)
            .collect())
    }

    #[test]
    fn skb_stores_move_to_the_shadow_and_bad_ones_name_the_field() {
        use super::super::SkbKind::{SchedCls, SocketFilter};
        let stx = |size, off| Insn::Stx {
            size,
            dst: r(1),
            src: r(2),
            off,
        };
        // tc: skb->mark = r2 becomes a store below r1, into the shadow.
        let got = rewrite_skb(SchedCls, &[stx(Size::W, 8), Insn::Exit]).unwrap();
        assert_eq!(got[0], stx(Size::W, -136));
        // A socket filter may not write mark: refused with the field and pc.
        let e = rewrite_skb(
            SocketFilter,
            &[mov(0, Src::Imm(0)), stx(Size::W, 8), Insn::Exit],
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "pc 1: invalid 4-byte store to struct __sk_buff at offset 8 (__sk_buff.mark): \
             the field is read-only"
        );
        // Misaligned, partial, unknown, refused to the type.
        for (insn, what) in [
            (ldx(Size::W, 0, 1, 2), "not a multiple"),
            (ldx(Size::H, 0, 1, 76), "whole-field"),
            (ldx(Size::W, 0, 1, 196), "no field"),
            (ldx(Size::W, 0, 1, 92), "sk_skb"),
        ] {
            let e = rewrite_skb(SchedCls, &[insn, Insn::Exit]).unwrap_err();
            assert!(e.to_string().contains(what), "{e}");
        }
        let e = rewrite_skb(SocketFilter, &[ldx(Size::W, 0, 1, 76), Insn::Exit]).unwrap_err();
        assert!(
            e.to_string()
                .contains("(__sk_buff.data): not available to socket filters"),
            "{e}"
        );
    }
}
