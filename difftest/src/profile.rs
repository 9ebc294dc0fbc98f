//! Generating inside an engine's profile: what the generator is asked for
//! ([`gen_config`]), how a generated case is fitted to the engine's
//! [`Profile`] ([`fit`]), and, for an engine that reports r0 only (a
//! plugin process), the wrapper that folds the final input into r0
//! ([`with_digest`]).
//!
//! This is the one place that reads a profile for generation: the
//! generators of [`crate::gen`] know nothing of profiles.
//!
//! - An engine with everything ([`Profile::FULL`], checked bounds, exact
//!   faults, host memory) gets the full generator.
//! - Any other engine gets the kernel-acceptable subset
//!   ([`GenConfig::kernel`]): no helpers, no packet loads, no wild jumps or
//!   out-of-bounds accesses, every read of initialised memory, so that an
//!   engine without bounds checks is safe to run and a translated address
//!   space is never observed; without local calls, no local functions.
//! - [`fit`] then rewrites what is still outside the profile into its
//!   nearest form inside, keeping every instruction's slot count (so no
//!   offset changes): v4 additions become their v3 forms (`sdiv` → `div`,
//!   `movsx` → `mov`, sign-extending loads → loads, `bswap` → `le`,
//!   `gotol` → `ja`), `jmp32` becomes `jmp` for a v2 engine, atomics become
//!   plain stores, helper calls, `callx` and packet loads become
//!   `mov r0, 0`. A case it cannot fit (a v2 jump for a v1 engine, a local
//!   call, a map `lddw`) is left out and counted.

use crate::case::Case;
use crate::gen::GenConfig;
use cranebpf_runtime::engine::profile::{Gap, HelperSupport, IsaVersion, MemoryModel};
use cranebpf_runtime::engine::{Capabilities, Profile};
use cranebpf_runtime::{AluOp, CallKind, Endian, Insn, Reg, Size, Src, Width};

/// Whether `caps` is everything the full generator may exercise.
pub fn is_full(caps: &Capabilities) -> bool {
    caps.profile == Profile::FULL
        && caps.checks_bounds
        && caps.fault_detail
        && caps.reports_memory
        && caps.profile.memory == MemoryModel::Host
}

/// The generator configuration for an engine of `caps`, from `base` (the
/// full generator's).
pub fn gen_config(caps: &Capabilities, base: &GenConfig) -> GenConfig {
    if is_full(caps) {
        return *base;
    }
    let mut g = GenConfig::kernel();
    g.budget = base.budget;
    if !caps.profile.local_calls {
        g.max_functions = 0;
    }
    g
}

/// `case` rewritten into `profile` (see the module docs), or the first
/// instruction that cannot be.
pub fn fit(case: &Case, profile: &Profile) -> Result<Case, (usize, Gap)> {
    let mut insns = Vec::with_capacity(case.insns.len());
    for (i, &insn) in case.insns.iter().enumerate() {
        insns.push(fit_insn(insn, profile).ok_or_else(|| {
            let gap = profile.gap(&insn).unwrap_or(Gap::Isa(IsaVersion::V4));
            (i, gap)
        })?);
    }
    Ok(Case {
        insns,
        ..case.clone()
    })
}

/// `insn` inside `profile`, or `None` if it has no same-size form there.
fn fit_insn(insn: Insn, profile: &Profile) -> Option<Insn> {
    let insn = if profile.isa < IsaVersion::V4 {
        to_v3(insn)?
    } else {
        insn
    };
    let insn = match insn {
        Insn::Jmp {
            w: Width::W32,
            cond,
            dst,
            src,
            off,
        } if profile.isa < IsaVersion::V3 => Insn::Jmp {
            w: Width::W64,
            cond,
            dst,
            src,
            off,
        },
        Insn::Atomic {
            size,
            dst,
            src,
            off,
            ..
        } if !profile.atomics => Insn::Stx {
            size,
            dst,
            src,
            off,
        },
        Insn::LdAbs { .. } | Insn::LdInd { .. } if !profile.packet_loads => zero_r0(),
        Insn::Callx { .. } if !profile.callx => zero_r0(),
        Insn::Call {
            kind: CallKind::Helper | CallKind::Btf,
            ..
        } if profile.helpers == HelperSupport::None => zero_r0(),
        other => other,
    };
    match profile.gap(&insn) {
        None => Some(insn),
        Some(_) => None,
    }
}

/// The v3 form of a v4 addition (itself otherwise).
fn to_v3(insn: Insn) -> Option<Insn> {
    Some(match insn {
        Insn::Alu {
            w,
            op: op @ (AluOp::Sdiv | AluOp::Smod),
            dst,
            src,
        } => Insn::Alu {
            w,
            op: if op == AluOp::Sdiv {
                AluOp::Div
            } else {
                AluOp::Mod
            },
            dst,
            src,
        },
        Insn::MovSx { w, dst, src, .. } => Insn::Alu {
            w,
            op: AluOp::Mov,
            dst,
            src: Src::Reg(src),
        },
        Insn::Ldx {
            size,
            sx: true,
            dst,
            src,
            off,
        } => Insn::Ldx {
            size,
            sx: false,
            dst,
            src,
            off,
        },
        Insn::Ja { off, wide: true } => Insn::Ja {
            off: i16::try_from(off).ok()? as i32,
            wide: false,
        },
        Insn::End {
            kind: Endian::Swap,
            dst,
            bits,
        } => Insn::End {
            kind: Endian::Le,
            dst,
            bits,
        },
        other => other,
    })
}

fn zero_r0() -> Insn {
    Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Imm(0),
    }
}

/// FNV-1a's 32-bit prime, the multiplier of the digest.
const DIGEST_PRIME: i32 = 0x0100_0193;

/// `case` wrapped so that r0 at the end digests everything a comparison
/// would compare in memory: a new entry function saves r1 in r6, calls the
/// original program as a local function (its relative offsets unchanged:
/// it follows the wrapper), then folds r0 and every 8 bytes of the input
/// into r0 (`r0 = r0 * P ^ word`). For an engine that reports r0 only.
/// The input's length must be a multiple of 8 (generated inputs are).
pub fn with_digest(case: &Case) -> Case {
    let words = case.input.len() / 8;
    let mut fold = Vec::with_capacity(3 * words + 1);
    for k in 0..words {
        fold.push(Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: Reg::R1,
            src: Reg::R6,
            off: (8 * k) as i16,
        });
        fold.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Mul,
            dst: Reg::R0,
            src: Src::Imm(DIGEST_PRIME),
        });
        fold.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Xor,
            dst: Reg::R0,
            src: Src::Reg(Reg::R1),
        });
    }
    fold.push(Insn::Exit);
    let mut insns = vec![
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R6,
            src: Src::Reg(Reg::R1),
        },
        Insn::Call {
            kind: CallKind::Local,
            imm: fold.len() as i32,
        },
    ];
    insns.extend(fold);
    insns.extend_from_slice(&case.insns);
    Case {
        insns,
        ..case.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::execute;
    use crate::gen::generate;
    use cranebpf_runtime::InterpreterEngine;

    #[test]
    fn fitted_cases_stay_inside_the_profile_and_load() {
        let mut p = Profile::FULL;
        p.isa = IsaVersion::V3;
        p.atomics = false;
        p.helpers = HelperSupport::None;
        p.callx = false;
        p.packet_loads = false;
        let mut fitted = 0;
        for seed in 0..200 {
            let case = generate(seed, &GenConfig::default());
            if let Ok(c) = fit(&case, &p) {
                assert_eq!(p.first_gap(&c.insns), None, "seed {seed}");
                assert!(c.program().is_ok(), "seed {seed}");
                assert_eq!(c.slots(), case.slots());
                fitted += 1;
            }
        }
        assert!(fitted > 150, "{fitted}");
    }

    #[test]
    fn the_digest_folds_r0_and_the_final_input() {
        let case = generate(7, &GenConfig::kernel());
        let wrapped = with_digest(&case);
        let plain = execute(&InterpreterEngine, &case).unwrap();
        let digest = execute(&InterpreterEngine, &wrapped).unwrap();
        // The wrapper leaves the input as the program did.
        assert_eq!(plain.input, digest.input);
        let Ok(crate::state::Value::Scalar(r0)) = plain.result else {
            panic!("{:?}", plain.result)
        };
        let want = plain.input.chunks_exact(8).fold(r0, |h, w| {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            h.wrapping_mul(DIGEST_PRIME as u64) ^ u64::from_le_bytes(b)
        });
        assert_eq!(digest.result, Ok(crate::state::Value::Scalar(want)));
    }
}
