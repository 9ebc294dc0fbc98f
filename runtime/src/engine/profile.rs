//! What programs an engine can run: its [`Profile`] (instruction-set
//! version, atomics, calls, `callx`, legacy packet loads, helpers, memory
//! model), and [`Profile::first_gap`], which says whether a program stays
//! inside it and, if not, which instruction leaves it and why.
//!
//! cranebpf's own engines run everything ([`Profile::FULL`]). Another
//! project's engine declares less (rbpf has no atomics and no `callx`,
//! solana-sbpf has no eBPF v4 additions and no legacy packet loads); the
//! differential harness then generates only programs inside the profile,
//! so that what it reports is a divergence, not a known gap.

use crate::isa::insn::{AluOp, CallKind, Endian, Insn, JmpCond, LddwKind, Width};

/// An eBPF instruction-set version (the `-mcpu=vN` of clang); each adds
/// instructions to the previous one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IsaVersion {
    /// The original set.
    V1,
    /// v2: `jlt`, `jle`, `jslt`, `jsle`.
    V2,
    /// v3: the 32-bit jump class (`jmp32`).
    V3,
    /// v4: signed division and modulo, sign-extending moves and loads,
    /// `bswap`, and `gotol` (32-bit jump offset).
    V4,
}

/// Which helper calls an engine supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HelperSupport {
    /// No helper calls.
    None,
    /// Helpers that always return (a helper's error cannot stop the
    /// program).
    Infallible,
    /// Every helper, including one that fails and stops the program.
    Full,
}

/// How an engine addresses memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryModel {
    /// Pointers are host addresses (cranebpf, rbpf, the kernel).
    Host,
    /// Pointers are virtual addresses translated on every access, the stack
    /// and the input at fixed addresses of their own (solana-sbpf): pointer
    /// values, and where a wild access lands, differ by design.
    Translated,
}

/// What programs an engine runs. `#[non_exhaustive]`: start from
/// [`Profile::FULL`] and turn off what the engine lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Profile {
    /// The newest instruction-set version it implements.
    pub isa: IsaVersion,
    /// Atomic read-modify-write instructions.
    pub atomics: bool,
    /// bpf-to-bpf (local) calls.
    pub local_calls: bool,
    /// `callx` (a helper id in a register).
    pub callx: bool,
    /// Legacy packet loads (LD_ABS, LD_IND).
    pub packet_loads: bool,
    /// 64-bit immediate loads of map and address kinds (`lddw` with
    /// src ≠ 0), which need a loader's relocations.
    pub pseudo_lddw: bool,
    /// Helper calls.
    pub helpers: HelperSupport,
    /// How pointers relate to host memory.
    pub memory: MemoryModel,
}

impl Profile {
    /// Everything cranebpf's engines run.
    pub const FULL: Profile = Profile {
        isa: IsaVersion::V4,
        atomics: true,
        local_calls: true,
        callx: true,
        packet_loads: true,
        pseudo_lddw: true,
        helpers: HelperSupport::Full,
        memory: MemoryModel::Host,
    };

    /// The first instruction of `insns` outside this profile: its index
    /// and why. `None` if the whole program is inside.
    pub fn first_gap<'a>(&self, insns: impl IntoIterator<Item = &'a Insn>) -> Option<(usize, Gap)> {
        insns
            .into_iter()
            .enumerate()
            .find_map(|(i, insn)| self.gap(insn).map(|g| (i, g)))
    }

    /// Why `insn` is outside this profile, if it is.
    pub fn gap(&self, insn: &Insn) -> Option<Gap> {
        if let Some(v) = min_version(insn) {
            if v > self.isa {
                return Some(Gap::Isa(v));
            }
        }
        match *insn {
            Insn::Atomic { .. } if !self.atomics => Some(Gap::Atomics),
            Insn::LdAbs { .. } | Insn::LdInd { .. } if !self.packet_loads => Some(Gap::PacketLoads),
            Insn::Lddw { kind, .. } if kind != LddwKind::Imm64 && !self.pseudo_lddw => {
                Some(Gap::PseudoLddw)
            }
            Insn::Callx { .. } if !self.callx => Some(Gap::Callx),
            Insn::Call {
                kind: CallKind::Local,
                ..
            } if !self.local_calls => Some(Gap::LocalCalls),
            Insn::Call {
                kind: CallKind::Helper | CallKind::Btf,
                ..
            } if self.helpers == HelperSupport::None => Some(Gap::Helpers),
            _ => None,
        }
    }
}

impl Default for Profile {
    fn default() -> Profile {
        Profile::FULL
    }
}

/// The instruction-set version that introduced `insn`, if it is newer
/// than v1.
pub fn min_version(insn: &Insn) -> Option<IsaVersion> {
    match *insn {
        Insn::Alu {
            op: AluOp::Sdiv | AluOp::Smod,
            ..
        }
        | Insn::MovSx { .. }
        | Insn::Ldx { sx: true, .. }
        | Insn::Ja { wide: true, .. }
        | Insn::End {
            kind: Endian::Swap, ..
        } => Some(IsaVersion::V4),
        Insn::Jmp { w: Width::W32, .. } => Some(IsaVersion::V3),
        Insn::Jmp {
            cond: JmpCond::Lt | JmpCond::Le | JmpCond::Slt | JmpCond::Sle,
            ..
        } => Some(IsaVersion::V2),
        _ => None,
    }
}

/// Why an instruction is outside a [`Profile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Gap {
    /// It needs a newer instruction-set version.
    Isa(IsaVersion),
    /// An atomic instruction.
    Atomics,
    /// LD_ABS or LD_IND.
    PacketLoads,
    /// A map or address `lddw`.
    PseudoLddw,
    /// `callx`.
    Callx,
    /// A local call.
    LocalCalls,
    /// A helper call.
    Helpers,
}

impl std::fmt::Display for Gap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Gap::Isa(v) => write!(f, "needs eBPF {v:?}"),
            Gap::Atomics => write!(f, "an atomic instruction"),
            Gap::PacketLoads => write!(f, "a legacy packet load (LD_ABS/LD_IND)"),
            Gap::PseudoLddw => write!(f, "a map or address lddw"),
            Gap::Callx => write!(f, "callx"),
            Gap::LocalCalls => write!(f, "a local call"),
            Gap::Helpers => write!(f, "a helper call"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::{Reg, Src};

    #[test]
    fn gaps_name_the_first_instruction_outside() {
        let sdiv = Insn::Alu {
            w: Width::W64,
            op: AluOp::Sdiv,
            dst: Reg::R0,
            src: Src::Imm(3),
        };
        let call = Insn::Call {
            kind: CallKind::Helper,
            imm: 1,
        };
        let prog = [call, sdiv, Insn::Exit];
        assert_eq!(Profile::FULL.first_gap(&prog), None);
        let mut p = Profile::FULL;
        p.isa = IsaVersion::V3;
        assert_eq!(p.first_gap(&prog), Some((1, Gap::Isa(IsaVersion::V4))));
        p.helpers = HelperSupport::None;
        assert_eq!(p.first_gap(&prog), Some((0, Gap::Helpers)));
        p.helpers = HelperSupport::Infallible;
        assert_eq!(p.first_gap(&prog[..1]), None);
    }
}
