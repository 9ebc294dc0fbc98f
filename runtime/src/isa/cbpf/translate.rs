//! The translator: a checked classic filter becomes an ordinary eBPF
//! [`Program`], so the validator, both engines and the differential
//! harness apply to it unchanged.
//!
//! # Semantics (the kernel's, which libpcap's `bpf_filter` shares)
//!
//! - **Registers.** A is r0 and X is r7, both 32-bit values kept
//!   zero-extended (every write to them is a 32-bit operation or a
//!   zero-extending load), so `ret a` is a bare `exit`. r6 holds the context
//!   (the [`PacketMeta`] of a packet filter, the `seccomp_data` of a seccomp
//!   filter); r8 is scratch. A and X start at 0.
//! - **Scratch memory.** `M[k]` is the word at `r10 - 64 + 4k` of the eBPF
//!   stack. The checker guarantees a write before every read.
//! - **ALU** is 32-bit (`alu32`), shifts by X take X mod 32 (as the kernel's
//!   eBPF and its JITs do; libpcap 1.10's `bpf_filter` makes A 0 for a
//!   shift of 32 or more instead, the one difference from libpcap). **Division and modulo
//!   by X = 0 end the filter with 0** (the checker refuses by constant 0).
//! - **Jumps** compare A, unsigned, with k (as a 32-bit value: `jmp32`) or
//!   X.
//! - **Packet loads** (packet filters): `ld [k]`, `ldh`, `ldb` and the
//!   `[x + k]` forms become LD_ABS/LD_IND, which read big-endian bytes of the
//!   input region; a load not wholly inside the packet ends the filter with
//!   0, as in the kernel and libpcap. `[x + k]` is computed without
//!   wrapping (`X + k` in 64 bits), so an offset past 4 GiB is out of the
//!   packet, as in libpcap. `ldx msh` saves A, reads the byte with LD_ABS and
//!   restores A.
//! - **Lengths and ancillary data** (packet filters): `ld/ldx #pktlen` and
//!   `ld [SKF_AD_OFF + n]` read [`PacketMeta`] through r6, which the caller
//!   passes in r2 ([`PACKET_FILTER_ARGS`]). `SKF_AD_ALU_XOR_X` is `A ^= X`.
//!   Refused, with [`TranslateError`]: the netlink, payload-offset and
//!   random ancillary loads, and loads relative to the network or link
//!   header (`SKF_NET_OFF`, `SKF_LL_OFF`), which need the kernel's view of
//!   the socket buffer.
//! - **seccomp**: `ld [k]` reads the native-endian word at offset k of
//!   `struct seccomp_data` (r1 at entry), and `#pktlen` is 64.

use crate::isa::cbpf::check::{CbpfProgram, Flavor, SCRATCH_WORDS, SECCOMP_DATA_LEN};
use crate::isa::cbpf::insn::{skf, AluOp, Cond, LoadSize, Op, Operand, RetVal};
use crate::isa::cbpf::meta::PacketMeta;
use crate::isa::insn::{self as e, Insn, JmpCond, Reg, Size, Src, Width};
use crate::isa::program::{LoadError, Program};
use std::fmt;

/// How a translated packet filter is called: r1 = the packet (the input
/// region, `caplen` bytes), r2 = the address of a region holding
/// [`PacketMeta::to_bytes`]. A seccomp filter takes r1 = the 64 bytes of
/// `struct seccomp_data`.
pub const PACKET_FILTER_ARGS: &str = "r1 = packet, r2 = PacketMeta";

/// A: the accumulator.
const A: Reg = Reg::R0;
/// X: the index register.
const X: Reg = Reg::R7;
/// The context: packet metadata or seccomp data.
const CTX: Reg = Reg::R6;
/// Scratch for `ldx msh` and far `[x + k]` loads.
const TMP: Reg = Reg::R8;

/// Why a checked filter has no translation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TranslateError {
    /// An ancillary or special-offset load this runtime cannot give.
    Unsupported {
        /// Index of the cBPF instruction.
        index: usize,
        /// What it asks for.
        what: &'static str,
    },
    /// The eBPF output did not load (a translator bug; the message says
    /// where).
    Output(LoadError),
}

impl fmt::Display for TranslateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TranslateError::Unsupported { index, what } => write!(
                f,
                "cBPF instruction {index}: {what} cannot be translated (no userspace equivalent)"
            ),
            TranslateError::Output(e) => write!(f, "translated program: {e}"),
        }
    }
}

impl std::error::Error for TranslateError {}

/// A jump in the output whose target is a cBPF instruction, patched once
/// every instruction's output position is known.
struct Fixup {
    /// Index of the eBPF jump.
    at: usize,
    /// Index of the cBPF target.
    target: usize,
}

/// The output being built.
struct Out {
    insns: Vec<Insn>,
    fixups: Vec<Fixup>,
}

impl Out {
    fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    /// A jump (conditional or not) to cBPF instruction `target`.
    fn jump_to(&mut self, insn: Insn, target: usize) {
        self.fixups.push(Fixup {
            at: self.insns.len(),
            target,
        });
        self.insns.push(insn);
    }
}

/// Translates a checked filter to eBPF.
pub fn translate(prog: &CbpfProgram) -> Result<Program, TranslateError> {
    let flavor = prog.flavor();
    let mut out = Out {
        insns: Vec::with_capacity(prog.ops().len() * 2 + 4),
        fixups: Vec::new(),
    };
    prologue(&mut out, flavor);
    let mut starts = Vec::with_capacity(prog.ops().len());
    for (i, op) in prog.ops().iter().enumerate() {
        starts.push(out.insns.len());
        translate_op(&mut out, i, *op, flavor)?;
    }
    patch_jumps(&mut out, &starts);
    Program::from_insns(&out.insns).map_err(TranslateError::Output)
}

/// Whether a translated program reads its context (the [`PacketMeta`] of
/// a packet filter, the `seccomp_data` of a seccomp filter): a run of one
/// that does not may leave it out.
pub fn reads_context(program: &Program) -> bool {
    program
        .insns()
        .iter()
        .any(|(_, i)| matches!(i, Insn::Ldx { src, .. } if *src == CTX))
}

/// The context into r6; A and X to 0.
fn prologue(out: &mut Out, flavor: Flavor) {
    let ctx = match flavor {
        Flavor::Socket => Reg::R2,
        Flavor::Seccomp => Reg::R1,
    };
    out.push(mov64(CTX, Src::Reg(ctx)));
    out.push(mov32(A, Src::Imm(0)));
    out.push(mov32(X, Src::Imm(0)));
}

/// Every jump's offset, now that each cBPF instruction's output start is known.
fn patch_jumps(out: &mut Out, starts: &[usize]) {
    for f in &out.fixups {
        // `starts` has an entry for every target: the checker keeps targets
        // inside the filter. The offset fits in i16: at most 4096 cBPF
        // instructions of at most 6 eBPF ones each.
        let off = starts[f.target] as i64 - (f.at as i64 + 1);
        match &mut out.insns[f.at] {
            Insn::Ja { off: o, .. } => *o = off as i32,
            Insn::Jmp { off: o, .. } => *o = off as i16,
            _ => {}
        }
    }
}

/// One cBPF instruction.
fn translate_op(out: &mut Out, i: usize, op: Op, flavor: Flavor) -> Result<(), TranslateError> {
    match op {
        /**** Loads into A ****/
        Op::LdImm { k } => out.push(mov32(A, imm(k))),
        Op::LdMem { k } => out.push(ldxw(A, Reg::R10, scratch(k))),
        Op::LdLen => out.push(len_into(A, flavor)),
        Op::LdAbs { size, k } => load_abs(out, i, size, k, flavor)?,
        Op::LdInd { size, k } => load_ind(out, size, k),
        /**** Loads into X ****/
        Op::LdxImm { k } => out.push(mov32(X, imm(k))),
        Op::LdxMem { k } => out.push(ldxw(X, Reg::R10, scratch(k))),
        Op::LdxLen => out.push(len_into(X, flavor)),
        Op::LdxMsh { k } => load_msh(out, i, k)?,
        /**** Scratch stores ****/
        Op::St { k } => out.push(stxw(scratch(k), A)),
        Op::Stx { k } => out.push(stxw(scratch(k), X)),
        /**** ALU: 32-bit; division by X = 0 returns 0 ****/
        Op::Alu { op, src } => alu(out, op, src),
        Op::Neg => out.push(Insn::Neg {
            w: Width::W32,
            dst: A,
        }),
        Op::Tax => out.push(mov64(X, Src::Reg(A))),
        Op::Txa => out.push(mov64(A, Src::Reg(X))),
        /**** Jumps: forward, unsigned 32-bit compares ****/
        Op::Ja { k } => out.jump_to(ja(), i + 1 + k as usize),
        Op::Jmp { cond, src, jt, jf } => cond_jump(out, i, cond, src, jt, jf),
        /**** Return ****/
        Op::Ret { val } => {
            if let RetVal::K(k) = val {
                out.push(mov32(A, imm(k)));
            }
            out.push(Insn::Exit);
        }
    }
    Ok(())
}

/// `ld [k]` and its sizes: packet bytes, ancillary data, or a seccomp word.
fn load_abs(
    out: &mut Out,
    i: usize,
    size: LoadSize,
    k: u32,
    flavor: Flavor,
) -> Result<(), TranslateError> {
    if flavor == Flavor::Seccomp {
        // The checker allows only aligned words inside seccomp_data.
        debug_assert!(k < SECCOMP_DATA_LEN && size == LoadSize::W);
        out.push(ldxw(A, CTX, k as i16));
        return Ok(());
    }
    if k >= skf::AD_OFF {
        return load_ancillary(out, i, k - skf::AD_OFF);
    }
    if k >= skf::LL_OFF {
        return Err(TranslateError::Unsupported {
            index: i,
            what: "a load relative to the network or link-layer header (SKF_NET_OFF, SKF_LL_OFF)",
        });
    }
    // From 0x8000_0000 on, imm is negative: the load is outside the
    // packet, so the filter returns 0, as in the kernel and libpcap.
    out.push(Insn::LdAbs {
        size: ebpf_size(size),
        imm: k as i32,
    });
    Ok(())
}

/// `ld [SKF_AD_OFF + anc]`.
fn load_ancillary(out: &mut Out, i: usize, anc: u32) -> Result<(), TranslateError> {
    if anc == skf::AD_ALU_XOR_X {
        out.push(alu32(e::AluOp::Xor, Src::Reg(X)));
        return Ok(());
    }
    match PacketMeta::offset_of_ancillary(anc) {
        Some(off) => {
            out.push(ldxw(A, CTX, off));
            Ok(())
        }
        None => Err(TranslateError::Unsupported {
            index: i,
            what: match anc {
                skf::AD_NLATTR | skf::AD_NLATTR_NEST => {
                    "a netlink attribute search (SKF_AD_NLATTR)"
                }
                skf::AD_PAY_OFFSET => "the payload offset (SKF_AD_PAY_OFFSET)",
                skf::AD_RANDOM => "a random number (SKF_AD_RANDOM)",
                _ => "an unknown ancillary load (SKF_AD_OFF + n)",
            },
        }),
    }
}

/// `ld [x + k]`: the offset `X + k` without wrapping.
fn load_ind(out: &mut Out, size: LoadSize, k: u32) {
    let size = ebpf_size(size);
    if k <= i32::MAX as u32 {
        out.push(Insn::LdInd {
            size,
            src: X,
            imm: k as i32,
        });
    } else {
        // k does not fit a positive imm: TMP = (u64)k + X, exact.
        out.push(mov32(TMP, imm(k)));
        out.push(Insn::Alu {
            w: Width::W64,
            op: e::AluOp::Add,
            dst: TMP,
            src: Src::Reg(X),
        });
        out.push(Insn::LdInd {
            size,
            src: TMP,
            imm: 0,
        });
    }
}

/// `ldxb 4*([k]&0xf)`: LD_ABS writes r0 (A), so A is saved around it.
fn load_msh(out: &mut Out, i: usize, k: u32) -> Result<(), TranslateError> {
    if k >= skf::LL_OFF {
        return Err(TranslateError::Unsupported {
            index: i,
            what: "`ldx msh` at a special offset (SKF_*_OFF)",
        });
    }
    out.push(mov64(TMP, Src::Reg(A)));
    out.push(Insn::LdAbs {
        size: Size::B,
        imm: k as i32,
    });
    out.push(alu32(e::AluOp::And, Src::Imm(0xf)));
    out.push(alu32(e::AluOp::Lsh, Src::Imm(2)));
    out.push(mov64(X, Src::Reg(A)));
    out.push(mov64(A, Src::Reg(TMP)));
    Ok(())
}

/// `A = A op src`, 32-bit; `div x`/`mod x` first return 0 if X is 0.
fn alu(out: &mut Out, op: AluOp, src: Operand) {
    let op = match op {
        AluOp::Add => e::AluOp::Add,
        AluOp::Sub => e::AluOp::Sub,
        AluOp::Mul => e::AluOp::Mul,
        AluOp::Div => e::AluOp::Div,
        AluOp::Mod => e::AluOp::Mod,
        AluOp::And => e::AluOp::And,
        AluOp::Or => e::AluOp::Or,
        AluOp::Xor => e::AluOp::Xor,
        AluOp::Lsh => e::AluOp::Lsh,
        AluOp::Rsh => e::AluOp::Rsh,
    };
    let src = match src {
        Operand::K(k) => imm(k),
        Operand::X => {
            if matches!(op, e::AluOp::Div | e::AluOp::Mod) {
                // if X != 0 skip the early return
                out.push(Insn::Jmp {
                    w: Width::W32,
                    cond: JmpCond::Ne,
                    dst: X,
                    src: Src::Imm(0),
                    off: 2,
                });
                out.push(mov32(A, Src::Imm(0)));
                out.push(Insn::Exit);
            }
            Src::Reg(X)
        }
    };
    out.push(alu32(op, src));
}

/// `jCOND src, jt, jf`: one conditional jump where a distance is 0 (with
/// the inverse condition when only `jf` is taken), else a conditional jump
/// and a `ja`.
fn cond_jump(out: &mut Out, i: usize, cond: Cond, src: Operand, jt: u8, jf: u8) {
    let (t, f) = (i + 1 + jt as usize, i + 1 + jf as usize);
    let src = match src {
        Operand::K(k) => imm(k),
        Operand::X => Src::Reg(X),
    };
    let jmp = |cond| Insn::Jmp {
        w: Width::W32,
        cond,
        dst: A,
        src,
        off: 0,
    };
    let (c, inverse) = match cond {
        Cond::Eq => (JmpCond::Eq, Some(JmpCond::Ne)),
        Cond::Gt => (JmpCond::Gt, Some(JmpCond::Le)),
        Cond::Ge => (JmpCond::Ge, Some(JmpCond::Lt)),
        Cond::Set => (JmpCond::Set, None),
    };
    if jt == jf {
        if jt != 0 {
            out.jump_to(ja(), t);
        }
        return;
    }
    match (jt, jf, inverse) {
        (_, 0, _) => out.jump_to(jmp(c), t),
        (0, _, Some(inv)) => out.jump_to(jmp(inv), f),
        _ => {
            out.jump_to(jmp(c), t);
            out.jump_to(ja(), f);
        }
    }
}

/// `#pktlen`: the wire length from the metadata, or 64 for seccomp.
fn len_into(dst: Reg, flavor: Flavor) -> Insn {
    match flavor {
        Flavor::Socket => ldxw(dst, CTX, 0),
        Flavor::Seccomp => mov32(dst, imm(SECCOMP_DATA_LEN)),
    }
}

/// The stack offset of `M[k]` (`k < 16`, checked).
fn scratch(k: u32) -> i16 {
    debug_assert!(k < SCRATCH_WORDS, "scratch index {k} was not checked");
    -(4 * SCRATCH_WORDS as i16) + 4 * k as i16
}

fn imm(k: u32) -> Src {
    Src::Imm(k as i32)
}

fn ebpf_size(size: LoadSize) -> Size {
    match size {
        LoadSize::W => Size::W,
        LoadSize::H => Size::H,
        LoadSize::B => Size::B,
    }
}

fn mov32(dst: Reg, src: Src) -> Insn {
    Insn::Alu {
        w: Width::W32,
        op: e::AluOp::Mov,
        dst,
        src,
    }
}

fn mov64(dst: Reg, src: Src) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: e::AluOp::Mov,
        dst,
        src,
    }
}

fn alu32(op: e::AluOp, src: Src) -> Insn {
    Insn::Alu {
        w: Width::W32,
        op,
        dst: A,
        src,
    }
}

fn ldxw(dst: Reg, src: Reg, off: i16) -> Insn {
    Insn::Ldx {
        size: Size::W,
        sx: false,
        dst,
        src,
        off,
    }
}

fn stxw(off: i16, src: Reg) -> Insn {
    Insn::Stx {
        size: Size::W,
        dst: Reg::R10,
        src,
        off,
    }
}

fn ja() -> Insn {
    Insn::Ja {
        off: 0,
        wide: false,
    }
}
