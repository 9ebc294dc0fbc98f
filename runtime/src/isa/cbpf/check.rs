//! The classic checker: which `sock_filter` arrays may run.
//!
//! [`CbpfProgram::new`] checks an array the way the kernel checks a classic
//! filter before it accepts it (`SO_ATTACH_FILTER`, seccomp), and, for a
//! seccomp filter, the extra rules seccomp adds. Rules, in the order they
//! are checked (the error names the first broken one and the instruction):
//!
//! **Size**
//! - [`CheckRule::Empty`], [`CheckRule::TooLong`]: 1 to [`MAX_INSNS`] instructions.
//!
//! **Each instruction** (in index order)
//! - [`CheckRule::UnknownOpcode`]: `code` is one the kernel knows ([`Op::decode`]).
//! - [`CheckRule::ScratchIndex`]: `ld/ldx/st/stx M[k]` have `k < 16`.
//! - [`CheckRule::DivisionByZero`]: `div #0` and `mod #0` are refused (by X
//!   is allowed; a zero X ends the filter with 0 at run time).
//! - [`CheckRule::ShiftTooFar`]: `lsh #k`/`rsh #k` have `k < 32`.
//! - [`CheckRule::JumpOutOfRange`]: every jump target (`i + 1 + k`, `i + 1 +
//!   jt`, `i + 1 + jf`) is an instruction of the filter. Jumps only go
//!   forward, so every filter ends.
//! - Seccomp only: [`CheckRule::NotForSeccomp`] (no packet loads other than
//!   `ld [k]`, no `ldx msh`) and [`CheckRule::SeccompDataOffset`] (`ld [k]`
//!   reads an aligned word of `struct seccomp_data`: `k % 4 == 0`, `k < 64`).
//!
//! **The whole filter**
//! - [`CheckRule::NoFinalReturn`]: the last instruction is `ret`.
//! - [`CheckRule::ScratchUninitialised`]: no path reads `M[k]` before writing
//!   it. This is a forward data-flow over the jump graph (the set of words
//!   written on every path to an instruction); unreachable instructions
//!   constrain nothing.
//!
//! Unused fields (`jt`/`jf` of a non-jump, `k` of `tax`) are not checked,
//! as the kernel does not check them.

use crate::isa::cbpf::insn::{AluOp, LoadSize, Op, Operand, SockFilter};
use std::fmt;

/// The most instructions a classic filter may have (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// Scratch words `M[0..16]` (`BPF_MEMWORDS`).
pub const SCRATCH_WORDS: u32 = 16;

/// Bytes of `struct seccomp_data`.
pub const SECCOMP_DATA_LEN: u32 = 64;

/// What the filter is for: the rules and the meaning of loads differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// A packet filter (libpcap, `SO_ATTACH_FILTER`): loads read the packet.
    Socket,
    /// A seccomp filter: `ld [k]` reads a word of `struct seccomp_data`.
    Seccomp,
}

/// The rule a filter breaks; see the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckRule {
    /// No instructions.
    Empty,
    /// More than [`MAX_INSNS`] instructions.
    TooLong {
        /// The filter's length.
        len: usize,
    },
    /// A `code` the kernel does not know.
    UnknownOpcode {
        /// The code.
        code: u16,
    },
    /// `M[k]` with `k >= 16`.
    ScratchIndex {
        /// The index.
        k: u32,
    },
    /// `div #0` or `mod #0`.
    DivisionByZero,
    /// `lsh`/`rsh` by a constant of 32 or more.
    ShiftTooFar {
        /// The shift.
        k: u32,
    },
    /// A jump lands past the last instruction.
    JumpOutOfRange {
        /// The target index.
        target: u64,
        /// The filter's length.
        len: usize,
    },
    /// The last instruction is not `ret`.
    NoFinalReturn,
    /// `M[k]` may be read before any write to it.
    ScratchUninitialised {
        /// The index.
        k: u32,
    },
    /// An instruction seccomp refuses (packet loads other than `ld [k]`).
    NotForSeccomp {
        /// The code.
        code: u16,
    },
    /// `ld [k]` outside `struct seccomp_data` or not 4-aligned.
    SeccompDataOffset {
        /// The offset.
        k: u32,
    },
}

impl fmt::Display for CheckRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckRule::Empty => write!(f, "the filter has no instructions"),
            CheckRule::TooLong { len } => {
                write!(f, "the filter has {len} instructions (at most {MAX_INSNS})")
            }
            CheckRule::UnknownOpcode { code } => write!(f, "unknown opcode {code:#06x}"),
            CheckRule::ScratchIndex { k } => {
                write!(f, "scratch index M[{k}] is out of range (M[0]..M[15])")
            }
            CheckRule::DivisionByZero => write!(f, "division or modulo by the constant 0"),
            CheckRule::ShiftTooFar { k } => write!(f, "shift by {k} (at most 31)"),
            CheckRule::JumpOutOfRange { target, len } => write!(
                f,
                "jump to instruction {target}, past the end of the filter ({len} instructions)"
            ),
            CheckRule::NoFinalReturn => write!(f, "the last instruction is not a ret"),
            CheckRule::ScratchUninitialised { k } => {
                write!(f, "M[{k}] may be read before it is written")
            }
            CheckRule::NotForSeccomp { code } => write!(
                f,
                "opcode {code:#06x} is not allowed in a seccomp filter (only `ld [k]` reads seccomp_data)"
            ),
            CheckRule::SeccompDataOffset { k } => write!(
                f,
                "ld [{k}] is not an aligned word of struct seccomp_data (offsets 0, 4, .., 60)"
            ),
        }
    }
}

/// Why a filter was refused: the rule and the index of the instruction
/// that breaks it (0 for the size rules, the last index for
/// [`CheckRule::NoFinalReturn`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckError {
    /// Index of the offending instruction.
    pub index: usize,
    /// The rule.
    pub rule: CheckRule,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cBPF instruction {}: {}", self.index, self.rule)
    }
}

impl std::error::Error for CheckError {}

/// A classic filter that passed the checker, with its decoded instructions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CbpfProgram {
    filters: Vec<SockFilter>,
    ops: Vec<Op>,
    flavor: Flavor,
}

impl CbpfProgram {
    /// Checks `filters` by the rules of the module docs.
    pub fn new(filters: Vec<SockFilter>, flavor: Flavor) -> Result<CbpfProgram, CheckError> {
        let err = |index, rule| Err(CheckError { index, rule });
        if filters.is_empty() {
            return err(0, CheckRule::Empty);
        }
        if filters.len() > MAX_INSNS {
            return err(0, CheckRule::TooLong { len: filters.len() });
        }
        let mut ops = Vec::with_capacity(filters.len());
        for (i, f) in filters.iter().enumerate() {
            let op = check_insn(*f, i, filters.len(), flavor)
                .map_err(|rule| CheckError { index: i, rule })?;
            ops.push(op);
        }
        let last = filters.len() - 1;
        if !matches!(ops[last], Op::Ret { .. }) {
            return err(last, CheckRule::NoFinalReturn);
        }
        check_scratch_init(&ops)?;
        Ok(CbpfProgram {
            filters,
            ops,
            flavor,
        })
    }

    /// The instructions, as given.
    pub fn filters(&self) -> &[SockFilter] {
        &self.filters
    }

    /// The decoded instructions, one per filter instruction.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// What the filter was checked for.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The bytes of the filter (8 per instruction, little-endian), as
    /// `setsockopt(SO_ATTACH_FILTER)` and seccomp take them.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.filters.iter().flat_map(|f| f.to_bytes()).collect()
    }
}

/// Decodes one instruction and checks its own rules.
fn check_insn(f: SockFilter, i: usize, len: usize, flavor: Flavor) -> Result<Op, CheckRule> {
    let op = Op::decode(f).ok_or(CheckRule::UnknownOpcode { code: f.code })?;
    let in_range = |dist: u64| {
        let target = i as u64 + 1 + dist;
        if target < len as u64 {
            Ok(())
        } else {
            Err(CheckRule::JumpOutOfRange { target, len })
        }
    };
    match op {
        Op::LdMem { k } | Op::LdxMem { k } | Op::St { k } | Op::Stx { k } if k >= SCRATCH_WORDS => {
            return Err(CheckRule::ScratchIndex { k })
        }
        Op::Alu {
            op: AluOp::Div | AluOp::Mod,
            src: Operand::K(0),
        } => return Err(CheckRule::DivisionByZero),
        Op::Alu {
            op: AluOp::Lsh | AluOp::Rsh,
            src: Operand::K(k),
        } if k >= 32 => return Err(CheckRule::ShiftTooFar { k }),
        Op::Ja { k } => in_range(k as u64)?,
        Op::Jmp { jt, jf, .. } => {
            in_range(jt as u64)?;
            in_range(jf as u64)?;
        }
        _ => {}
    }
    if flavor == Flavor::Seccomp {
        check_seccomp(f, op)?;
    }
    Ok(op)
}

/// The extra rules of a seccomp filter.
fn check_seccomp(f: SockFilter, op: Op) -> Result<(), CheckRule> {
    match op {
        Op::LdAbs {
            size: LoadSize::W,
            k,
        } => {
            if k % 4 != 0 || k >= SECCOMP_DATA_LEN {
                return Err(CheckRule::SeccompDataOffset { k });
            }
            Ok(())
        }
        Op::LdAbs { .. } | Op::LdInd { .. } | Op::LdxMsh { .. } => {
            Err(CheckRule::NotForSeccomp { code: f.code })
        }
        _ => Ok(()),
    }
}

/// [`CheckRule::ScratchUninitialised`]: `written[i]` is the set of scratch
/// words written on every path from the entry to instruction `i` (a bit
/// per word). Jumps go forward only, so one pass in index order sees every
/// predecessor of `i` before `i`.
fn check_scratch_init(ops: &[Op]) -> Result<(), CheckError> {
    // None: not reached (yet); Some(bits): the intersection over the paths so far.
    let mut written: Vec<Option<u16>> = vec![None; ops.len()];
    written[0] = Some(0);
    for (i, op) in ops.iter().enumerate() {
        let Some(mut bits) = written[i] else { continue };
        if let Some(k) = op.reads_scratch() {
            if bits & (1 << k) == 0 {
                return Err(CheckError {
                    index: i,
                    rule: CheckRule::ScratchUninitialised { k },
                });
            }
        }
        if let Some(k) = op.writes_scratch() {
            bits |= 1 << k;
        }
        let mut flow = |target: usize| {
            if let Some(slot) = written.get_mut(target) {
                *slot = Some(slot.map_or(bits, |b| b & bits));
            }
        };
        match *op {
            Op::Ret { .. } => {}
            Op::Ja { k } => flow(i + 1 + k as usize),
            Op::Jmp { jt, jf, .. } => {
                flow(i + 1 + jt as usize);
                flow(i + 1 + jf as usize);
            }
            _ => flow(i + 1),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::cbpf::insn::code::*;

    fn check(f: &[SockFilter]) -> Result<CbpfProgram, CheckError> {
        CbpfProgram::new(f.to_vec(), Flavor::Socket)
    }

    fn rule(f: &[SockFilter]) -> (usize, CheckRule) {
        let e = check(f).unwrap_err();
        (e.index, e.rule)
    }

    #[test]
    fn check_accepts_a_tcpdump_filter() {
        // tcpdump -dd ip
        let f = [
            SockFilter::stmt(LD | H | ABS, 12),
            SockFilter::jump(JMP | JEQ | K, 0x800, 0, 1),
            SockFilter::stmt(RET | K, 65535),
            SockFilter::stmt(RET | K, 0),
        ];
        assert_eq!(check(&f).unwrap().ops().len(), 4);
    }

    #[test]
    fn check_refuses_each_rule_at_its_instruction() {
        let ret0 = SockFilter::stmt(RET | K, 0);
        assert_eq!(rule(&[]), (0, CheckRule::Empty));
        assert_eq!(
            rule(&vec![ret0; MAX_INSNS + 1]),
            (0, CheckRule::TooLong { len: 4097 })
        );
        assert_eq!(
            rule(&[ret0, SockFilter::stmt(RET | 0x08, 0), ret0]),
            (1, CheckRule::UnknownOpcode { code: 0x0e })
        );
        assert_eq!(
            rule(&[SockFilter::stmt(ST, 16), ret0]),
            (0, CheckRule::ScratchIndex { k: 16 })
        );
        assert_eq!(
            rule(&[SockFilter::stmt(ALU | DIV | K, 0), ret0]),
            (0, CheckRule::DivisionByZero)
        );
        assert_eq!(
            rule(&[SockFilter::stmt(ALU | MOD | K, 0), ret0]),
            (0, CheckRule::DivisionByZero)
        );
        assert_eq!(
            rule(&[SockFilter::stmt(ALU | LSH | K, 32), ret0]),
            (0, CheckRule::ShiftTooFar { k: 32 })
        );
        assert_eq!(
            rule(&[SockFilter::jump(JMP | JEQ | K, 0, 0, 1), ret0]),
            (0, CheckRule::JumpOutOfRange { target: 2, len: 2 })
        );
        assert_eq!(
            rule(&[SockFilter::stmt(JMP | JA, 1), ret0]),
            (0, CheckRule::JumpOutOfRange { target: 2, len: 2 })
        );
        assert_eq!(
            rule(&[ret0, SockFilter::stmt(LD | IMM, 1)]),
            (1, CheckRule::NoFinalReturn)
        );
        assert_eq!(
            rule(&[SockFilter::stmt(LD | MEM, 3), ret0]),
            (0, CheckRule::ScratchUninitialised { k: 3 })
        );
    }

    #[test]
    fn check_scratch_needs_a_write_on_every_path() {
        let f = [
            SockFilter::jump(JMP | JEQ | K, 0, 0, 1), // 0: jt 1, jf 2
            SockFilter::stmt(ST, 2),                  // 1
            SockFilter::stmt(LD | MEM, 2),            // 2: from 0 M[2] is unwritten
            SockFilter::stmt(RET | A, 0),
        ];
        assert_eq!(rule(&f), (2, CheckRule::ScratchUninitialised { k: 2 }));
        let f = [
            SockFilter::stmt(ST, 2),
            SockFilter::jump(JMP | JEQ | K, 0, 0, 1),
            SockFilter::stmt(STX, 3),
            SockFilter::stmt(LD | MEM, 2),
            SockFilter::stmt(RET | A, 0),
        ];
        assert!(check(&f).is_ok());
    }

    #[test]
    fn check_seccomp_allows_only_aligned_seccomp_data_words() {
        let ret = SockFilter::stmt(RET | A, 0);
        let sc = |f: SockFilter| CbpfProgram::new(vec![f, ret], Flavor::Seccomp);
        assert!(sc(SockFilter::stmt(LD | W | ABS, 60)).is_ok());
        assert_eq!(
            sc(SockFilter::stmt(LD | W | ABS, 64)).unwrap_err().rule,
            CheckRule::SeccompDataOffset { k: 64 }
        );
        assert_eq!(
            sc(SockFilter::stmt(LD | W | ABS, 2)).unwrap_err().rule,
            CheckRule::SeccompDataOffset { k: 2 }
        );
        assert_eq!(
            sc(SockFilter::stmt(LD | B | ABS, 0)).unwrap_err().rule,
            CheckRule::NotForSeccomp { code: 0x30 }
        );
        assert_eq!(
            sc(SockFilter::stmt(LDX | B | MSH, 0)).unwrap_err().rule,
            CheckRule::NotForSeccomp { code: 0xb1 }
        );
    }

    #[test]
    fn check_error_names_index_and_rule() {
        let e = rule(&[SockFilter::stmt(ST, 20), SockFilter::stmt(RET | K, 0)]);
        let msg = CheckError {
            index: e.0,
            rule: e.1,
        }
        .to_string();
        assert_eq!(
            msg,
            "cBPF instruction 0: scratch index M[20] is out of range (M[0]..M[15])"
        );
    }
}
