//! Classifying a minimised divergence by the RFC 9669 rule involved: the
//! `sem/` function (or memory rule) of the first instruction after which
//! the reference's and the engine's states differ.
//!
//! [`culprit`] finds that instruction by cutting the program: the variant
//! cut at instruction `k` replaces it with a block that folds the scalar
//! registers among r0-r5, r7 and r8 into r0 and exits, so it shows the
//! state on first reaching `k` (every jump to `k` lands on the block; later
//! offsets are adjusted). Which registers hold pointers at `k` is probed on
//! the reference first ([`scalar_regs`]): a pointer's value depends on
//! where memory is, so folding it would make the cut inconclusive and the
//! blame would fall on a later instruction. The first `k`, in program
//! order, whose variant the two engines disagree on was reached with
//! different states: the instruction before it is the culprit. A variant
//! whose reference state still depends on addresses proves nothing and is
//! skipped. If no cut differs, only the final state does: the last
//! instruction before the final `exit` is blamed. [`class_of`] names the rule of an instruction;
//! [`Class`] is what reports are deduplicated by.

use crate::case::Case;
use crate::engine::{compare, execute_at, is_deterministic, Engine};
use crate::state::Value;
use cranebpf_runtime::{AluOp, AtomicOp, CallKind, Endian, Insn, Reg, Size, Src, Width};

/// A bug class: the rule whose result differs, e.g.
/// `sem::alu::mov [alu32 imm] (RFC 9669 §4.1)`.
pub type Class = String;

/// The index of the instruction blamed for `case`'s divergence between
/// `a` (the reference) and `b`, and its class.
pub fn culprit(a: &dyn Engine, b: &dyn Engine, case: &Case) -> (usize, Class) {
    let n = case.insns.len();
    for k in 0..n {
        let regs = scalar_regs(a, case, k);
        let Some(variant) = cut_with(case, k, &regs) else {
            continue;
        };
        if !compare(a, b, &variant).diffs.is_empty() && is_deterministic(a, &variant) {
            let i = k.saturating_sub(1);
            return (i, class_of(&case.insns[i]));
        }
    }
    let i = n.saturating_sub(2);
    let class = case
        .insns
        .get(i)
        .map_or_else(|| "empty program".to_string(), class_of);
    (i, class)
}

/// The registers a cut may fold: the ones the generators never use for
/// addresses (r6 holds the input, r9 is the address temporary, r10 the
/// frame).
const FOLDABLE: [Reg; 8] = [
    Reg::R0,
    Reg::R1,
    Reg::R2,
    Reg::R3,
    Reg::R4,
    Reg::R5,
    Reg::R7,
    Reg::R8,
];

/// `case` with instruction `k` replaced by the block that folds every
/// [`FOLDABLE`] register into r0 and exits, or `None` if an offset would
/// not fit.
pub fn cut_at(case: &Case, k: usize) -> Option<Case> {
    cut_with(case, k, &FOLDABLE)
}

/// `case` cut at `k` with a block folding only `regs`.
fn cut_with(case: &Case, k: usize, regs: &[Reg]) -> Option<Case> {
    let insns = splice(&case.insns, k, &fold_block(regs))?;
    Some(Case {
        insns,
        ..case.clone()
    })
}

/// The [`FOLDABLE`] registers that hold a scalar on first reaching `k` in
/// the reference `a`: the variant cut at `k` by `mov r0, rX; exit` exits
/// with the same plain number wherever memory is. A pointer (a value that
/// normalises to a region offset, or that moves with the arena) is left
/// out, and so is a register of a cut that faults before reaching `k`.
pub fn scalar_regs(a: &dyn Engine, case: &Case, k: usize) -> Vec<Reg> {
    FOLDABLE
        .into_iter()
        .filter(|&r| {
            let probe = [
                Insn::Alu {
                    w: Width::W64,
                    op: AluOp::Mov,
                    dst: Reg::R0,
                    src: Src::Reg(r),
                },
                Insn::Exit,
            ];
            let Some(insns) = splice(&case.insns, k, &probe) else {
                return false;
            };
            let variant = Case {
                insns,
                ..case.clone()
            };
            let here = execute_at(a, &variant, false).map(|s| s.result);
            let moved = execute_at(a, &variant, true).map(|s| s.result);
            matches!(here, Ok(Ok(Value::Scalar(_)))) && here == moved
        })
        .collect()
}

/// r0 = fold of `regs` (r0 itself only if listed, else r0 starts at 0);
/// exit.
fn fold_block(regs: &[Reg]) -> Vec<Insn> {
    let mut block = Vec::new();
    if !regs.contains(&Reg::R0) {
        block.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        });
    }
    for &r in regs.iter().filter(|&&r| r != Reg::R0) {
        block.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Mul,
            dst: Reg::R0,
            src: Src::Imm(0x0100_0193),
        });
        block.push(Insn::Alu {
            w: Width::W64,
            op: AluOp::Xor,
            dst: Reg::R0,
            src: Src::Reg(r),
        });
    }
    block.push(Insn::Exit);
    block
}

/// `insns` with instruction `k` replaced by `block`: a jump or call to
/// `k` lands on the block's start, targets after `k` move by the change in
/// length. `None` if an offset no longer fits its field.
pub fn splice(insns: &[Insn], k: usize, block: &[Insn]) -> Option<Vec<Insn>> {
    let mut pcs = Vec::with_capacity(insns.len() + 1);
    let mut pc = 0i64;
    for i in insns {
        pcs.push(pc);
        pc += i.slots() as i64;
    }
    pcs.push(pc);
    let at = *pcs.get(k)?;
    let old = insns.get(k)?.slots() as i64;
    let new: i64 = block.iter().map(|i| i.slots() as i64).sum();
    let moved = |p: i64| if p > at { p + new - old } else { p };
    let mut out = Vec::with_capacity(insns.len() + block.len());
    for (i, &insn) in insns.iter().enumerate() {
        if i == k {
            out.extend_from_slice(block);
            continue;
        }
        let p = pcs[i];
        let np = moved(p);
        let fix = |off: i64| moved(p + 1 + off) - np - 1;
        out.push(crate::shrink::retarget(insn, fix)?);
    }
    Some(out)
}

/// The rule an instruction follows: its `sem/` function (or the memory
/// rule), its form, and the RFC 9669 section.
pub fn class_of(insn: &Insn) -> Class {
    match *insn {
        Insn::Alu { w, op, src, .. } => format!(
            "sem::alu::{} [{} {}] (RFC 9669 §4.1)",
            alu_fn(op),
            width(w, "alu"),
            src_form(src)
        ),
        Insn::Neg { w, .. } => format!("sem::alu::neg [{}] (RFC 9669 §4.1)", width(w, "alu")),
        Insn::MovSx { w, bits, .. } => format!(
            "sem::alu::movsx [{} from {bits} bits] (RFC 9669 §4.1)",
            width(w, "alu")
        ),
        Insn::End { kind, bits, .. } => {
            let k = match kind {
                Endian::Le => "le",
                Endian::Be => "be",
                Endian::Swap => "bswap",
            };
            format!("sem::byteswap::byteorder [{k}{bits}] (RFC 9669 §4.2)")
        }
        Insn::Lddw { .. } => "lddw: Insn::lddw_value (RFC 9669 §5.4)".to_string(),
        Insn::LdAbs { size, .. } | Insn::LdInd { size, .. } => format!(
            "sem::mem::packet_value [{}] (RFC 9669 §5.5)",
            size_name(size)
        ),
        Insn::Ldx { size, sx, .. } => format!(
            "sem::mem::ldx_value [ldx{}{}] (RFC 9669 §5.1)",
            if sx { "s" } else { "" },
            size_name(size)
        ),
        Insn::St { size, .. } => format!(
            "sem::mem::st_imm_value [st{}] (RFC 9669 §5.1)",
            size_name(size)
        ),
        Insn::Stx { size, .. } => format!(
            "store: MemoryMap::store [stx{}] (RFC 9669 §5.1)",
            size_name(size)
        ),
        Insn::Atomic {
            size, op, fetch, ..
        } => format!(
            "sem::atomic::atomic_new_value [{}{}{}] (RFC 9669 §5.3)",
            atomic_name(op),
            if fetch { " fetch" } else { "" },
            if size == Size::W { " 32" } else { " 64" }
        ),
        Insn::Ja { wide, .. } => format!(
            "sem::jmp::jump_target [{}] (RFC 9669 §4.3)",
            if wide { "gotol" } else { "ja" }
        ),
        Insn::Jmp { w, cond, src, .. } => format!(
            "sem::jmp::jmp_taken [{} {:?} {}] (RFC 9669 §4.3)",
            width(w, "jmp"),
            cond,
            src_form(src)
        )
        .to_lowercase()
        .replace("rfc", "RFC"),
        Insn::Call { kind, .. } => format!(
            "call [{}] (RFC 9669 §4.3.1)",
            match kind {
                CallKind::Local => "local",
                CallKind::Helper => "helper",
                CallKind::Btf => "btf",
            }
        ),
        Insn::Callx { .. } => "callx (non-RFC)".to_string(),
        Insn::Exit => "exit (RFC 9669 §4.3)".to_string(),
    }
}

fn alu_fn(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "add",
        AluOp::Sub => "sub",
        AluOp::Mul => "mul",
        AluOp::Div => "div",
        AluOp::Sdiv => "sdiv",
        AluOp::Or => "or",
        AluOp::And => "and",
        AluOp::Lsh => "lsh",
        AluOp::Rsh => "rsh",
        AluOp::Mod => "umod",
        AluOp::Smod => "smod",
        AluOp::Xor => "xor",
        AluOp::Mov => "mov",
        AluOp::Arsh => "arsh",
    }
}

fn width(w: Width, class: &str) -> String {
    match w {
        Width::W32 => format!("{class}32"),
        Width::W64 => format!("{class}64"),
    }
}

fn src_form(src: Src) -> &'static str {
    match src {
        Src::Imm(_) => "imm",
        Src::Reg(_) => "reg",
    }
}

fn size_name(size: Size) -> &'static str {
    match size {
        Size::B => "b",
        Size::H => "h",
        Size::W => "w",
        Size::DW => "dw",
    }
}

fn atomic_name(op: AtomicOp) -> &'static str {
    match op {
        AtomicOp::Add => "add",
        AtomicOp::Or => "or",
        AtomicOp::And => "and",
        AtomicOp::Xor => "xor",
        AtomicOp::Xchg => "xchg",
        AtomicOp::Cmpxchg => "cmpxchg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::JmpCond;

    #[test]
    fn splice_keeps_jumps_to_and_past_the_cut() {
        let mov = |imm| Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(imm),
        };
        // 0: jeq r0, 0, +1 (-> 2)   1: mov   2: mov   3: exit
        let jeq = Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Eq,
            dst: Reg::R0,
            src: Src::Imm(0),
            off: 1,
        };
        let prog = [jeq, mov(1), mov(2), Insn::Exit];
        let block = [mov(7), mov(8), Insn::Exit];
        // Cut at 2: the jump still lands on the block's start.
        let r = splice(&prog, 2, &block).unwrap();
        assert_eq!(r[0].jump_offset(), Some(1));
        // Cut at 1: the jump's target moves past the 3-slot block.
        let r = splice(&prog, 1, &block).unwrap();
        assert_eq!(r[0].jump_offset(), Some(3));
        assert_eq!(r[4], mov(2));
    }

    #[test]
    fn classes_name_the_sem_function() {
        let mov32 = Insn::Alu {
            w: Width::W32,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Reg(Reg::R1),
        };
        assert_eq!(
            class_of(&mov32),
            "sem::alu::mov [alu32 reg] (RFC 9669 §4.1)"
        );
        let jsgt = Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Sgt,
            dst: Reg::R0,
            src: Src::Imm(1),
            off: 0,
        };
        assert_eq!(
            class_of(&jsgt),
            "sem::jmp::jmp_taken [jmp64 sgt imm] (RFC 9669 §4.3)"
        );
    }
}
