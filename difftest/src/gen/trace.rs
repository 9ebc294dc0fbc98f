//! Generated tracing programs ([`crate::trace`] runs and compares them):
//! a kprobe over the host's `struct pt_regs`, or a program over a context
//! the embedder declares ([`event_ctx`]), firing on random events.
//!
//! # Shape of a generated program
//!
//! ```text
//! mov r6, r1                   ; r6 = the context, kept
//! mov r7, 0                    ; r7 = the accumulator, returned
//! [r10-8] = 0; [r10-16] = 0    ; the buffer probe reads fill
//! r8 = ctx->mem                ; the host memory the event points at
//! steps ...                    ; each mixes what it read into r7
//! w0 = w7; exit
//! ```
//!
//! Steps read context fields (whole, and narrow where the layout allows),
//! write the writable ones, copy host memory with `bpf_probe_read_user`,
//! `_kernel` and their `_str` forms (inside the memory the event allows,
//! across its end, from the context, from NULL: the ones outside fail with
//! `-EFAULT` and a zeroed buffer), and call `bpf_get_current_pid_tgid`.

use super::Rng;
use cranebpf_runtime::ctx::{CtxLayout, PtRegs, TraceCtx};
use cranebpf_runtime::{AluOp, CallKind, Insn, Reg, Size, Src, Width};

/// Events per case.
pub const EVENTS: usize = 6;
/// Bytes of host memory each event allows probe reads of.
pub const MEM_LEN: usize = 64;

/// The context a generated program reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceKind {
    /// kprobe/uprobe: the host architecture's `struct pt_regs`, read-only;
    /// the memory pointer is the first argument.
    Kprobe,
    /// An embedder-declared struct ([`event_ctx`]) with read-only and
    /// writable fields; the memory pointer is its first field.
    Event,
}

/// The embedder's context of [`TraceKind::Event`]: `mem` (u64, the host
/// memory's address), `len` (u32), `flags` (u32, writable), `value` (u64,
/// writable), `code` (u16), `tag` (u8, writable) and `name` (16 writable
/// bytes), 48 bytes in all.
pub fn event_ctx() -> CtxLayout {
    TraceCtx::new("event", 48)
        .field("mem", 0, 8, false)
        .field("len", 8, 4, false)
        .field("flags", 12, 4, true)
        .field("value", 16, 8, true)
        .field("code", 24, 2, false)
        .field("tag", 26, 1, true)
        .bytes("name", 32, 16, true)
        .layout()
}

/// A generated tracing program and its events.
#[derive(Clone, Debug)]
pub struct TraceCase {
    /// The context it runs on.
    pub kind: TraceKind,
    /// The program.
    pub insns: Vec<Insn>,
    /// Per event: the context bytes (the memory pointer is filled in when
    /// the event fires) and the host memory it allows.
    pub events: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Where the memory pointer sits in the context of `kind`.
pub fn mem_offset(kind: TraceKind) -> usize {
    match kind {
        TraceKind::Event => 0,
        TraceKind::Kprobe => {
            const MARK: u64 = 0x5eed_0ff5_e7ab_c123;
            PtRegs::with_args(&[MARK])
                .as_bytes()
                .chunks(8)
                .position(|w| w == MARK.to_le_bytes())
                .map_or(0, |i| i * 8)
        }
    }
}

/// The context size of `kind`.
pub fn ctx_len(kind: TraceKind) -> usize {
    match kind {
        TraceKind::Event => 48,
        TraceKind::Kprobe => PtRegs::default().as_bytes().len(),
    }
}

/// The case of `seed` for `kind`: the same seed and kind give the same case.
pub fn generate_trace(seed: u64, kind: TraceKind) -> TraceCase {
    let mut rng = Rng::new(seed ^ 0x7ace_0000_0000);
    let steps = 4 + rng.below(12) as usize;
    let insns = program(&mut rng, kind, steps);
    let events = (0..EVENTS).map(|_| event(&mut rng, kind)).collect();
    TraceCase {
        kind,
        insns,
        events,
    }
}

/// Readable `(offset, size)` accesses of `kind`'s context.
pub fn readable(kind: TraceKind) -> Vec<(i16, Size)> {
    match kind {
        TraceKind::Kprobe => (0..ctx_len(kind) as i16 / 8)
            .map(|i| (i * 8, Size::DW))
            .collect(),
        TraceKind::Event => {
            let mut v = vec![
                (0, Size::DW),
                (8, Size::W),
                (12, Size::W),
                (16, Size::DW),
                (24, Size::H),
                (26, Size::B),
            ];
            // 4-byte fields in aligned parts, and the byte array anyhow
            // aligned.
            v.extend([(8, Size::H), (10, Size::H), (12, Size::B), (15, Size::B)]);
            v.extend((32..48).step_by(8).map(|o| (o, Size::DW)));
            v.extend([(36, Size::W), (42, Size::H), (47, Size::B)]);
            v
        }
    }
}

/// Writable `(offset, size)` accesses of `kind`'s context.
pub fn writable(kind: TraceKind) -> Vec<(i16, Size)> {
    match kind {
        TraceKind::Kprobe => Vec::new(),
        TraceKind::Event => vec![
            (12, Size::W),
            (16, Size::DW),
            (26, Size::B),
            (32, Size::DW),
            (44, Size::W),
            (46, Size::H),
        ],
    }
}

fn r(n: u8) -> Reg {
    const REGS: [Reg; 11] = [
        Reg::R0,
        Reg::R1,
        Reg::R2,
        Reg::R3,
        Reg::R4,
        Reg::R5,
        Reg::R6,
        Reg::R7,
        Reg::R8,
        Reg::R9,
        Reg::R10,
    ];
    REGS[usize::from(n).min(10)]
}

fn alu64(op: AluOp, dst: u8, src: Src) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op,
        dst: r(dst),
        src,
    }
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

/// `r7 = r7 * 33 + r0`.
fn mix() -> [Insn; 2] {
    [
        alu64(AluOp::Mul, 7, Src::Imm(33)),
        alu64(AluOp::Add, 7, Src::Reg(r(0))),
    ]
}

/// A program of `steps` steps.
fn program(rng: &mut Rng, kind: TraceKind, steps: usize) -> Vec<Insn> {
    let mut p = vec![
        alu64(AluOp::Mov, 6, Src::Reg(r(1))),
        alu64(AluOp::Mov, 7, Src::Imm(0)),
        Insn::St {
            size: Size::DW,
            dst: r(10),
            off: -8,
            imm: 0,
        },
        Insn::St {
            size: Size::DW,
            dst: r(10),
            off: -16,
            imm: 0,
        },
        ldx(Size::DW, 8, 6, mem_offset(kind) as i16),
    ];
    let (reads, writes) = (readable(kind), writable(kind));
    for _ in 0..steps {
        p.extend(step(rng, &reads, &writes));
    }
    p.push(Insn::Alu {
        w: Width::W32,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Reg(Reg::R7),
    });
    p.push(Insn::Exit);
    p
}

/// One step.
fn step(rng: &mut Rng, reads: &[(i16, Size)], writes: &[(i16, Size)]) -> Vec<Insn> {
    match rng.below(7) {
        2 if !writes.is_empty() => {
            let (off, size) = rng.pick(writes);
            vec![Insn::Stx {
                size,
                dst: r(6),
                src: r(7),
                off,
            }]
        }
        3 | 4 => {
            let helper = rng.pick(&[112, 113, 4]);
            probe_read(rng, helper)
        }
        5 => {
            let helper = rng.pick(&[114, 115, 45]);
            probe_read(rng, helper)
        }
        6 => {
            let mut v = vec![Insn::Call {
                kind: CallKind::Helper,
                imm: 14,
            }];
            v.extend(mix());
            v
        }
        _ => {
            let (off, size) = rng.pick(reads);
            let mut v = vec![ldx(size, 0, 6, off)];
            v.extend(mix());
            v
        }
    }
}

/// A probe read (`helper`) of 1-16 bytes into `[r10-16]` from the event's
/// memory at an offset that may run past it, from the context or from
/// NULL; mixes the result and both stack slots.
fn probe_read(rng: &mut Rng, helper: i32) -> Vec<Insn> {
    let len = 1 + rng.below(16) as i32;
    let mut v = vec![
        alu64(AluOp::Mov, 1, Src::Reg(r(10))),
        alu64(AluOp::Add, 1, Src::Imm(-16)),
        alu64(AluOp::Mov, 2, Src::Imm(len)),
    ];
    match rng.below(8) {
        0 => v.push(alu64(AluOp::Mov, 3, Src::Reg(r(6)))),
        1 => v.push(alu64(AluOp::Mov, 3, Src::Imm(0))),
        _ => {
            v.push(alu64(AluOp::Mov, 3, Src::Reg(r(8))));
            let off = rng.below(MEM_LEN as u64 + 8) as i32;
            v.push(alu64(AluOp::Add, 3, Src::Imm(off)));
        }
    }
    v.push(Insn::Call {
        kind: CallKind::Helper,
        imm: helper,
    });
    v.extend(mix());
    for off in [-16, -8] {
        v.push(ldx(Size::DW, 0, 10, off));
        v.extend(mix());
    }
    v
}

/// One event: random context bytes and host memory with NULs in it.
fn event(rng: &mut Rng, kind: TraceKind) -> (Vec<u8>, Vec<u8>) {
    let ctx = (0..ctx_len(kind)).map(|_| rng.below(256) as u8).collect();
    let mem = (0..MEM_LEN)
        .map(|_| {
            if rng.chance(10) {
                0
            } else {
                rng.below(256) as u8
            }
        })
        .collect();
    (ctx, mem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::Program;

    #[test]
    fn cases_validate_and_repeat() {
        for seed in 0..200 {
            for kind in [TraceKind::Kprobe, TraceKind::Event] {
                let a = generate_trace(seed, kind);
                assert_eq!(a.insns, generate_trace(seed, kind).insns);
                assert!(Program::from_insns(&a.insns).is_ok(), "seed {seed}");
                assert_eq!(a.events.len(), EVENTS);
            }
        }
    }

    #[test]
    fn the_memory_pointer_is_the_first_argument() {
        let off = mem_offset(TraceKind::Kprobe);
        let regs = PtRegs::with_args(&[0xabcd]).as_bytes();
        assert_eq!(regs[off..off + 8], 0xabcdu64.to_le_bytes());
    }
}
