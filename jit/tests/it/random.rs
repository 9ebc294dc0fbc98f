//! Random differential sweep: generated programs (forward jumps only, so
//! they terminate) run under both engines with budgets; any difference is a
//! bug. Fixed, printed seeds.

use crate::harness::*;
use cranebpf::insn::*;
use cranebpf::Program;

/// xorshift64*: small, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn imm(&mut self) -> i32 {
        if self.below(2) == 0 {
            self.pick(&[0, 1, -1, 2, 7, 31, 32, 63, 64, i32::MIN, i32::MAX, 0x8000])
        } else {
            self.next() as i32
        }
    }
}

/// Registers the body may write (never r1, the input pointer, or r10).
const DSTS: [u8; 8] = [0, 3, 4, 5, 6, 7, 8, 9];

fn random_insn(g: &mut Rng, remaining: usize) -> Insn {
    let dst = r(g.pick(&DSTS));
    // r10 never flows into values: each engine has its own stack address.
    let src = r(g.below(10) as u8);
    let w = g.pick(&[Width::W32, Width::W64]);
    let size = g.pick(&[Size::B, Size::H, Size::W, Size::DW]);
    match g.below(20) {
        0..=5 => Insn::Alu {
            w,
            op: g.pick(&AluOp::ALL),
            dst,
            src: if g.below(2) == 0 {
                Src::Reg(src)
            } else {
                Src::Imm(g.imm())
            },
        },
        6 => Insn::Neg { w, dst },
        7 => {
            let (w, bits) = g.pick(&[
                (Width::W32, 8),
                (Width::W32, 16),
                (Width::W64, 8),
                (Width::W64, 16),
                (Width::W64, 32),
            ]);
            Insn::MovSx { w, dst, src, bits }
        }
        8 => Insn::End {
            kind: g.pick(&[Endian::Le, Endian::Be, Endian::Swap]),
            dst,
            bits: g.pick(&[16, 32, 64]),
        },
        9 => lddw(dst.num(), g.next()),
        10 => {
            let base = g.pick(&[1u8, 1, 10, 0]);
            let off = if base == 10 {
                -(g.below(530) as i16) + 8
            } else {
                g.below(80) as i16 - 8
            };
            Insn::Ldx {
                size,
                sx: size != Size::DW && g.below(2) == 0,
                dst,
                src: r(base),
                off,
            }
        }
        11 => {
            let base = g.pick(&[1u8, 10]);
            let off = if base == 10 {
                -(g.below(530) as i16) + 8
            } else {
                g.below(80) as i16 - 8
            };
            if g.below(2) == 0 {
                Insn::St {
                    size,
                    dst: r(base),
                    off,
                    imm: g.imm(),
                }
            } else {
                Insn::Stx {
                    size,
                    dst: r(base),
                    src,
                    off,
                }
            }
        }
        12 => {
            let base = g.pick(&[1u8, 10]);
            let off = if base == 10 {
                -(g.below(64) as i16) * 4
            } else {
                g.below(20) as i16 * 4 - 4
            };
            let op = g.pick(&[
                AtomicOp::Add,
                AtomicOp::Or,
                AtomicOp::And,
                AtomicOp::Xor,
                AtomicOp::Xchg,
                AtomicOp::Cmpxchg,
            ]);
            let fetch = matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) || g.below(2) == 0;
            Insn::Atomic {
                size: g.pick(&[Size::W, Size::DW]),
                op,
                fetch,
                dst: r(base),
                src: r(g.pick(&DSTS)),
                off,
            }
        }
        13..=15 if remaining > 1 => Insn::Jmp {
            w,
            cond: g.pick(&JmpCond::ALL),
            dst: r(g.below(10) as u8),
            src: if g.below(2) == 0 {
                Src::Reg(src)
            } else {
                Src::Imm(g.imm())
            },
            off: g.below(remaining as u64) as i16,
        },
        16 => {
            let size = g.pick(&[Size::B, Size::H, Size::W]);
            if g.below(2) == 0 {
                Insn::LdAbs {
                    size,
                    imm: g.below(70) as i32 - 2,
                }
            } else {
                Insn::LdInd {
                    size,
                    src: r(g.pick(&DSTS)),
                    imm: g.below(70) as i32 - 2,
                }
            }
        }
        17 => Insn::Call {
            kind: CallKind::Helper,
            imm: g.pick(&[5, 7]),
        },
        18 if g.below(4) == 0 => Insn::Callx {
            reg: r(g.pick(&DSTS)),
        },
        _ => Insn::Alu {
            w,
            op: AluOp::Mov,
            dst,
            src: Src::Imm(g.imm()),
        },
    }
}

/// Lays out `body` followed by `exit` at slot `base`: converts jump
/// offsets (generated in instructions) to slots and points local calls at
/// slot `callee` (if any; else they become `mov r0, 0`).
fn layout(body: &[Insn], base: i64, callee: Option<i64>) -> Vec<Insn> {
    let len = body.len();
    let mut slot_of = Vec::with_capacity(len + 1);
    let mut s = base;
    for insn in body {
        slot_of.push(s);
        s += insn.slots() as i64;
    }
    slot_of.push(s); // the final exit
    let mut out = Vec::with_capacity(len + 1);
    for (i, insn) in body.iter().enumerate() {
        let mut insn = *insn;
        match &mut insn {
            Insn::Jmp { off, .. } => {
                let target = (i + 1 + *off as usize).min(len);
                *off = (slot_of[target] - slot_of[i] - 1) as i16;
            }
            Insn::Call {
                kind: CallKind::Local,
                imm,
            } => match callee {
                Some(c) => *imm = (c - slot_of[i] - 1) as i32,
                None => insn = mov(0, 0),
            },
            _ => {}
        }
        out.push(insn);
    }
    out.push(Insn::Exit);
    out
}

fn random_program(g: &mut Rng) -> Vec<Insn> {
    // Give every register an interesting value from the input first.
    let mut v: Vec<Insn> = DSTS
        .iter()
        .enumerate()
        .map(|(i, &d)| Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: r(d),
            src: r(1),
            off: 8 * i as i16,
        })
        .collect();
    let len = 5 + g.below(25) as usize;
    let body: Vec<Insn> = (0..len).map(|i| random_insn(g, len - i)).collect();
    // A second function, called by the body's local calls.
    let sub_len = 1 + g.below(8) as usize;
    let sub: Vec<Insn> = (0..sub_len).map(|i| random_insn(g, sub_len - i)).collect();
    let main_slots: i64 = body.iter().map(|i| i.slots() as i64).sum::<i64>() + 1;
    let base = v.len() as i64;
    v.extend(layout(&body, base, Some(base + main_slots)));
    v.extend(layout(&sub, base + main_slots, None));
    v
}

#[test]
fn random_programs_agree() {
    let h = helpers();
    let (mut ran, mut rejected) = (0, 0);
    for seed in 1..=400u64 {
        let mut g = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let insns = random_program(&mut g);
        let p = match Program::from_insns(&insns) {
            Ok(p) => p,
            Err(_) => {
                rejected += 1;
                continue;
            }
        };
        let mut mem = [0u8; 64];
        for c in mem.chunks_mut(8) {
            let v = if g.below(3) == 0 {
                g.pick(&[0, 1, u64::MAX, 1 << 63, 0xffff_ffff, 0x8000_0000])
            } else {
                g.next()
            };
            c.copy_from_slice(&v.to_le_bytes());
        }
        check_with(&p, &h, &mem, &format!("seed {seed}: {insns:?}"));
        ran += 1;
    }
    eprintln!("random: {ran} programs ran, {rejected} rejected by the loader");
    assert!(ran > 300, "too many rejected programs: {rejected}");
}
