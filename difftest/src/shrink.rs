//! Minimising a failing case: greedy delta debugging that keeps every
//! candidate a valid program.
//!
//! [`candidates`] lists simpler variants of a case, most aggressive first:
//! removing runs of instructions (halves, quarters, ... single ones) with
//! every jump and call offset that crosses the removed run adjusted (a
//! target inside the run moves to the instruction after it), simplifying
//! immediates to 0 or 1, and zeroing the input. Candidates that fail the
//! loader are dropped. [`shrink`] repeatedly takes the first candidate that
//! still fails, until none does or the try limit is reached.

use crate::case::Case;
use cranebpf_runtime::{CallKind, Insn, Program, Src};

/// Simpler valid variants of `case`, most aggressive first.
pub fn candidates(case: &Case) -> Vec<Case> {
    let n = case.insns.len();
    let mut out = Vec::new();
    let mut k = n / 2;
    while k >= 1 {
        let mut start = 0;
        while start < n {
            let end = (start + k).min(n);
            if let Some(insns) = remove_range(&case.insns, start, end) {
                push_valid(&mut out, case, insns);
            }
            start += k;
        }
        if k == 1 {
            break;
        }
        k /= 2;
    }
    for i in 0..n {
        for simpler in simplify(case.insns[i]) {
            let mut insns = case.insns.clone();
            insns[i] = simpler;
            push_valid(&mut out, case, insns);
        }
    }
    if case.input.iter().any(|&b| b != 0) {
        out.push(Case {
            input: vec![0; case.input.len()],
            ..case.clone()
        });
    }
    out
}

fn push_valid(out: &mut Vec<Case>, case: &Case, insns: Vec<Insn>) {
    if !insns.is_empty() && Program::from_insns(&insns).is_ok() {
        out.push(Case {
            insns,
            ..case.clone()
        });
    }
}

/// Same-size simpler forms of an instruction: immediates 0 and 1.
fn simplify(insn: Insn) -> Vec<Insn> {
    let mut v = Vec::new();
    let small = |x: i32| -> Vec<i32> { [0, 1].into_iter().filter(|&s| s != x && x != 0).collect() };
    match insn {
        Insn::Alu {
            w,
            op,
            dst,
            src: Src::Imm(x),
        } => v.extend(small(x).into_iter().map(|s| Insn::Alu {
            w,
            op,
            dst,
            src: Src::Imm(s),
        })),
        Insn::St {
            size,
            dst,
            off,
            imm,
        } => v.extend(small(imm).into_iter().map(|s| Insn::St {
            size,
            dst,
            off,
            imm: s,
        })),
        Insn::Lddw {
            dst,
            kind,
            imm,
            next_imm,
        } if next_imm != 0 || imm != 0 => {
            v.push(Insn::Lddw {
                dst,
                kind,
                imm,
                next_imm: 0,
            });
            v.push(Insn::Lddw {
                dst,
                kind,
                imm: 0,
                next_imm,
            });
        }
        _ => {}
    }
    v
}

/// Removes instructions `start..end` (indices), adjusting jump and call
/// offsets: a target after the run moves back by the run's slots, a target
/// inside it moves to the instruction that followed it. `None` if an offset
/// would not fit its field.
pub fn remove_range(insns: &[Insn], start: usize, end: usize) -> Option<Vec<Insn>> {
    let mut pcs = Vec::with_capacity(insns.len() + 1);
    let mut pc = 0i64;
    for i in insns {
        pcs.push(pc);
        pc += i.slots() as i64;
    }
    pcs.push(pc);
    let (lo, hi) = (*pcs.get(start)?, *pcs.get(end)?);
    let w = hi - lo;
    let new_pc = |p: i64| if p >= hi { p - w } else { p };
    let new_target = |t: i64| {
        if t < lo {
            t
        } else if t >= hi {
            t - w
        } else {
            lo
        }
    };
    let mut out = Vec::with_capacity(insns.len() - (end - start));
    for (i, &insn) in insns.iter().enumerate() {
        if (start..end).contains(&i) {
            continue;
        }
        let p = pcs[i];
        let np = new_pc(p);
        let fix = |off: i64| new_target(p + 1 + off) - np - 1;
        out.push(retarget(insn, fix)?);
    }
    Some(out)
}

/// Shrinks `case` while `fails` holds, trying at most `max_tries`
/// candidates. Returns the smallest failing case found and the number of
/// candidates tried.
pub fn shrink(
    case: &Case,
    fails: &mut dyn FnMut(&Case) -> bool,
    max_tries: usize,
) -> (Case, usize) {
    let mut best = case.clone();
    let mut tries = 0;
    'outer: while tries < max_tries {
        for c in candidates(&best) {
            if tries >= max_tries {
                break 'outer;
            }
            tries += 1;
            if fails(&c) {
                best = c;
                continue 'outer;
            }
        }
        break;
    }
    (best, tries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::{AluOp, JmpCond, LddwKind, Reg, Width};

    fn mov(imm: i32) -> Insn {
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(imm),
        }
    }

    #[test]
    fn removal_adjusts_offsets_across_the_run() {
        // 0: jeq r0, 0, +3 (-> 4)   1: lddw (2 slots)   3: mov   4: exit
        let jeq = Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Eq,
            dst: Reg::R0,
            src: Src::Imm(0),
            off: 3,
        };
        let lddw = Insn::Lddw {
            dst: Reg::R1,
            kind: LddwKind::Imm64,
            imm: 1,
            next_imm: 2,
        };
        let prog = [jeq, lddw, mov(1), Insn::Exit];
        // Removing the lddw (2 slots): the jump to pc 4 becomes a jump to pc 2.
        let r = remove_range(&prog, 1, 2).unwrap();
        assert_eq!(r[0].jump_offset(), Some(1));
        // Removing the jump's target region keeps the target on the next insn.
        let r = remove_range(&prog, 2, 3).unwrap();
        assert_eq!(r[0].jump_offset(), Some(2)); // pc 3 = exit
                                                 // A backward jump over the removed run.
        let back = Insn::Ja {
            off: -3,
            wide: false,
        };
        let r = remove_range(&[mov(0), mov(1), mov(2), back, Insn::Exit], 1, 2).unwrap();
        assert_eq!(r[2].jump_offset(), Some(-2)); // still to the first mov
    }

    #[test]
    fn shrink_finds_the_one_needed_instruction() {
        let mut insns: Vec<Insn> = (0..20).map(mov).collect();
        insns.insert(7, mov(1000));
        insns.push(Insn::Exit);
        let case = Case {
            insns,
            input: vec![1, 2, 3],
            budget: 100,
            seed: 0,
        };
        let mut fails = |c: &Case| c.insns.contains(&mov(1000));
        let (small, _) = shrink(&case, &mut fails, 10_000);
        assert_eq!(small.insns, vec![mov(1000), Insn::Exit]);
        assert_eq!(small.input, vec![0, 0, 0]);
    }
}

/// `insn` with its jump or local-call offset rewritten by `fix` (old
/// relative offset -> new one); `None` if the new offset does not fit the
/// instruction's field. Other instructions come back unchanged.
pub(crate) fn retarget(insn: Insn, fix: impl Fn(i64) -> i64) -> Option<Insn> {
    Some(match insn {
        Insn::Ja { off, wide } => Insn::Ja {
            off: if wide {
                i32::try_from(fix(off as i64)).ok()?
            } else {
                i16::try_from(fix(off as i64)).ok()? as i32
            },
            wide,
        },
        Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off,
        } => Insn::Jmp {
            w,
            cond,
            dst,
            src,
            off: i16::try_from(fix(off as i64)).ok()?,
        },
        Insn::Call {
            kind: CallKind::Local,
            imm,
        } => Insn::Call {
            kind: CallKind::Local,
            imm: i32::try_from(fix(imm as i64)).ok()?,
        },
        other => other,
    })
}
