//! Program types and their contexts.
//!
//! A [`ProgramType`] says what a program receives in r1 (its context), how
//! the loader rewrites the program's context accesses, and which kernel
//! helpers it may call.
//!
//! # Context rewriting
//! Kernel UAPI contexts such as `struct xdp_md` declare 32-bit fields
//! (`data`, `data_end`) that programs cast to pointers. As the kernel's
//! verifier does (`convert_ctx_access`), the loader rewrites every load from
//! the context into a load from a **shadow** context that the runtime builds
//! per run, where pointer fields are full 64-bit host addresses. The number of
//! slots never changes: only the load's size and offset do.
//!
//! Which loads read the context is found by a forward data-flow analysis: r1
//! holds the context at entry; `mov` copies it, 8-byte stack spills and fills
//! keep it, and a local call passes it on in r1-r5. A load whose base register
//! may or may not hold the context depending on the path
//! ([`CtxError::Ambiguous`]), a context access that matches no field
//! ([`CtxError::BadAccess`]), a store to the context ([`CtxError::Write`]) or
//! arithmetic on the context pointer followed by a dereference is refused,
//! never guessed.

use crate::isa::cfg::Cfg;
use crate::isa::decode::decode_all;
use crate::isa::encode::encode_all;
use crate::isa::insn::{AluOp, CallKind, Insn, RawInsn, Reg, Size, Src, Width};
use std::collections::BTreeMap;
use std::fmt;

/// One field of a context as the program sees it, and where it lives in the
/// shadow context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxField {
    /// Field name, for errors.
    pub name: &'static str,
    /// Offset in the program's view.
    pub offset: i16,
    /// Size in the program's view.
    pub size: Size,
    /// Offset in the shadow context.
    pub shadow_offset: i16,
    /// Size of the load from the shadow context (DW for pointer fields).
    pub shadow_size: Size,
}

/// A context layout: the fields a program may load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    /// The C struct's name, for errors (e.g. `xdp_md`).
    pub name: &'static str,
    /// The loadable fields.
    pub fields: Vec<CtxField>,
    /// Size of the shadow context in bytes.
    pub shadow_size: usize,
}

/// `struct xdp_md` fields' offsets in the XDP shadow context's layout.
pub mod xdp_shadow {
    /// `data` as a 64-bit host address.
    pub const DATA: usize = 0;
    /// `data_end` as a 64-bit host address.
    pub const DATA_END: usize = 8;
    /// `data_meta` as a 64-bit host address (equal to `data`: no metadata).
    pub const DATA_META: usize = 16;
    /// `ingress_ifindex`, u32.
    pub const INGRESS_IFINDEX: usize = 24;
    /// `rx_queue_index`, u32.
    pub const RX_QUEUE_INDEX: usize = 28;
    /// `egress_ifindex`, u32.
    pub const EGRESS_IFINDEX: usize = 32;
    /// Shadow size in bytes.
    pub const SIZE: usize = 40;
}

impl CtxLayout {
    /// The kernel's `struct xdp_md { u32 data, data_end, data_meta,
    /// ingress_ifindex, rx_queue_index, egress_ifindex; }`, mapped onto the
    /// offsets in [`xdp_shadow`].
    pub fn xdp_md() -> CtxLayout {
        use xdp_shadow::*;
        let f = |name, offset, shadow_offset: usize, shadow_size| CtxField {
            name,
            offset,
            size: Size::W,
            shadow_offset: shadow_offset as i16,
            shadow_size,
        };
        CtxLayout {
            name: "xdp_md",
            fields: vec![
                f("data", 0, DATA, Size::DW),
                f("data_end", 4, DATA_END, Size::DW),
                f("data_meta", 8, DATA_META, Size::DW),
                f("ingress_ifindex", 12, INGRESS_IFINDEX, Size::W),
                f("rx_queue_index", 16, RX_QUEUE_INDEX, Size::W),
                f("egress_ifindex", 20, EGRESS_IFINDEX, Size::W),
            ],
            shadow_size: SIZE,
        }
    }

    fn field(&self, offset: i16, size: Size) -> Option<&CtxField> {
        self.fields
            .iter()
            .find(|f| f.offset == offset && f.size == size)
    }
}

/// What a program is: its context and the kernel helpers it may call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramType {
    /// Name (e.g. `xdp`).
    pub name: String,
    /// The context layout to rewrite; `None` passes r1 through unchanged.
    pub ctx: Option<CtxLayout>,
    /// Kernel helper ids the program may call; calling any other kernel
    /// helper id is a load error unless the embedder registers it.
    pub kernel_helpers: Vec<u32>,
}

/// Helpers every cranebpf program type gets: map lookup/update/delete (1-3),
/// ktime_get_ns (5), trace_printk (6), get_prandom_u32 (7),
/// get_smp_processor_id (8), tail_call (12, see [`crate::host::kernel::tail`]),
/// ring buffer output/reserve/submit/discard (130-133).
pub const COMMON_HELPERS: [u32; 12] = [1, 2, 3, 5, 6, 7, 8, 12, 130, 131, 132, 133];
/// `bpf_xdp_adjust_head`.
pub const HELPER_XDP_ADJUST_HEAD: u32 = 44;
/// `bpf_xdp_adjust_tail`.
pub const HELPER_XDP_ADJUST_TAIL: u32 = 65;

impl ProgramType {
    /// XDP: r1 is a `struct xdp_md *`; the result is an XDP action.
    pub fn xdp() -> ProgramType {
        let mut kernel_helpers = COMMON_HELPERS.to_vec();
        kernel_helpers.extend([HELPER_XDP_ADJUST_HEAD, HELPER_XDP_ADJUST_TAIL]);
        ProgramType {
            name: "xdp".into(),
            ctx: Some(CtxLayout::xdp_md()),
            kernel_helpers,
        }
    }

    /// cranebpf's memory-buffer type: r1 points to a writable buffer and r2
    /// holds its length (the conformance-suite convention); no rewriting.
    pub fn mem() -> ProgramType {
        ProgramType {
            name: "mem".into(),
            ctx: None,
            kernel_helpers: COMMON_HELPERS.to_vec(),
        }
    }

    /// The type for an ELF section name, as libbpf guesses it: `xdp`,
    /// `xdp/...`, `xdp.frags` are XDP; `cranebpf/mem...` and `mem...` are
    /// [`ProgramType::mem`]. Others: `None`.
    pub fn for_section(section: &str) -> Option<ProgramType> {
        let base = section.split('/').next().unwrap_or(section);
        match base {
            "xdp" | "xdp.frags" => Some(ProgramType::xdp()),
            "cranebpf" | "mem" => Some(ProgramType::mem()),
            _ => None,
        }
    }
}

/// Why context rewriting refused a program.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CtxError {
    /// The slots did not decode.
    Decode(crate::DecodeError),
    /// A load from the context at an offset and size that match no field.
    BadAccess {
        /// Slot index.
        pc: usize,
        /// The context struct.
        ctx: &'static str,
        /// Offset.
        offset: i16,
        /// Size in bytes.
        size: u64,
    },
    /// A store or atomic to the context.
    Write {
        /// Slot index.
        pc: usize,
        /// The context struct.
        ctx: &'static str,
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
                offset,
                size,
            } => write!(f, "pc {pc}: invalid {size}-byte access to struct {ctx} at offset {offset}"),
            CtxError::Write { pc, ctx } => write!(f, "pc {pc}: store to read-only struct {ctx}"),
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
    let loads = find_ctx_loads(&insns, &cfg, layout)?;
    Ok(rewrite_loads(slots, &insns, &cfg, &loads))
}

/// The context loads of the program (pc to field), found by a forward
/// data-flow over the blocks of `cfg`. States are kept at block leaders
/// only (one stack map per block, not per instruction) and carried through
/// a block instruction by instruction.
fn find_ctx_loads(
    insns: &[(usize, Insn)],
    cfg: &Cfg,
    layout: &CtxLayout,
) -> Result<BTreeMap<usize, CtxField>, CtxError> {
    // States before each leader, by instruction index.
    let mut states: Vec<Option<State>> = vec![None; insns.len()];
    let mut work: Vec<usize> = Vec::new();
    let mut loads: BTreeMap<usize, CtxField> = BTreeMap::new();
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

/// The slots with every context load in `loads` reading its shadow field.
fn rewrite_loads(
    slots: &[RawInsn],
    insns: &[(usize, Insn)],
    cfg: &Cfg,
    loads: &BTreeMap<usize, CtxField>,
) -> Vec<RawInsn> {
    let mut out = slots.to_vec();
    for (&pc, field) in loads {
        let Some(i) = cfg.index_of_pc(pc) else {
            continue;
        };
        if let (_, Insn::Ldx { dst, src, .. }) = insns[i] {
            let new = Insn::Ldx {
                size: field.shadow_size,
                sx: false,
                dst,
                src,
                off: field.shadow_offset,
            };
            if let Some(raw) = encode_all(&[new]).first() {
                out[pc] = *raw;
            }
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
        loads: &mut BTreeMap<usize, CtxField>,
    ) -> Result<Option<[V; 5]>, CtxError> {
        let write = || CtxError::Write {
            pc,
            ctx: layout.name,
        };
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
                    return Err(write());
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
                    if size == Size::DW && v != V::Other {
                        self.stack.insert(off, v);
                    }
                } else if self.base(pc, dst)? == V::Ctx {
                    return Err(write());
                }
            }
            Insn::Atomic { size, dst, off, .. } => {
                if dst == Reg::R10 {
                    self.clobber_stack(off, size.bytes());
                } else if self.base(pc, dst)? == V::Ctx {
                    return Err(write());
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
        loads: &mut BTreeMap<usize, CtxField>,
    ) -> Result<V, CtxError> {
        if src == Reg::R10 {
            return Ok(if size == Size::DW {
                self.stack.get(&off).copied().unwrap_or(V::Other)
            } else {
                V::Other
            });
        }
        if self.base(pc, src)? == V::Ctx {
            let field = layout
                .field(off, size)
                .filter(|_| !sx)
                .ok_or(CtxError::BadAccess {
                    pc,
                    ctx: layout.name,
                    offset: off,
                    size: size.bytes(),
                })?;
            loads.insert(pc, *field);
        }
        Ok(V::Other)
    }
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
                offset: 0,
                size: 2
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
            Err(CtxError::Write {
                pc: 0,
                ctx: "xdp_md"
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
}
