//! Generated programs over the `__sk_buff` contexts: socket filters and tc
//! classifiers, run as those program types ([`crate::skb`] runs and
//! compares them, the kernel included).
//!
//! # Shape of a generated program
//!
//! ```text
//! mov r6, r1                   ; r6 = the context, kept
//! mov r7, 0                    ; r7 = the accumulator, returned
//! [r10-8] = 0; [r10-16] = 0    ; two stack slots helpers read and write
//! steps ...                    ; each mixes what it read into r7
//! w0 = w7; exit
//! ```
//!
//! Every step is one the kernel's verifier accepts by construction, so the
//! same program can run in the kernel: context reads (whole and narrow, of
//! every field the type exposes) and writes (of the writable fields),
//! LD_ABS/LD_IND (in *legacy* programs, which then never resize the
//! packet), `bpf_skb_load_bytes`, and for tc direct packet reads behind a
//! `data + N > data_end` test and the packet-writing helpers (store bytes,
//! checksum replace and diff, change head and tail, VLAN push and pop,
//! redirect). Each case carries its step boundaries, so a difference can be
//! traced to the first step whose prefix already differs.
//!
//! The frames are generated too: Ethernet II with IPv4 (TCP, UDP, ICMP),
//! IPv6 (UDP), ARP, and 802.1Q-tagged IPv4, with random addresses, ports
//! and payload lengths, each with its `__sk_buff` metadata (mark, priority,
//! cb) drawn at random.

use super::Rng;
use cranebpf_runtime::ctx::{SkbKind, SkbMeta};
use cranebpf_runtime::{AluOp, CallKind, Insn, JmpCond, Reg, Size, Src, Width};

/// Frames per case.
pub const FRAMES: usize = 6;

/// A generated program of one `__sk_buff` type and the frames it runs on.
#[derive(Clone, Debug)]
pub struct SkbCase {
    /// Socket filter or tc.
    pub kind: SkbKind,
    /// The program.
    pub insns: Vec<Insn>,
    /// The end of the prologue and of each step, as instruction indices.
    pub steps: Vec<usize>,
    /// Whether the program uses LD_ABS/LD_IND (and so never resizes).
    pub legacy: bool,
    /// The frames (whole Ethernet frames) and their context metadata.
    pub frames: Vec<(Vec<u8>, SkbMeta)>,
}

impl SkbCase {
    /// The program cut after step `k` (0: the prologue alone), with the
    /// epilogue: what a difference is traced with.
    pub fn prefix(&self, k: usize) -> Vec<Insn> {
        let end = self.steps[k.min(self.steps.len() - 1)];
        let mut p = self.insns[..end].to_vec();
        p.extend(epilogue());
        p
    }

    /// The instructions of step `k` (1-based, as [`SkbCase::prefix`]).
    pub fn step(&self, k: usize) -> &[Insn] {
        match (self.steps.get(k.wrapping_sub(1)), self.steps.get(k)) {
            (Some(&a), Some(&b)) => &self.insns[a..b],
            _ => &[],
        }
    }
}

/// The case of `seed` for `kind`: the same seed and kind give the same case.
pub fn generate_skb(seed: u64, kind: SkbKind) -> SkbCase {
    let mut rng = Rng::new(seed ^ 0x5b_0000_0000);
    let legacy = rng.below(3) == 0;
    let steps = 6 + rng.below(10) as usize;
    let (insns, bounds) = program(&mut rng, kind, legacy, steps);
    let frames = (0..FRAMES).map(|_| frame(&mut rng)).collect();
    SkbCase {
        kind,
        insns,
        steps: bounds,
        legacy,
        frames,
    }
}

/// Readable `(offset, size)` context accesses for `kind`, narrow ones
/// included: the fields both types expose, and for tc also `tc_classid`,
/// `tc_index`'s neighbours, `tstamp` and `hwtstamp`. (`data`/`data_end`
/// are read by the direct-access steps.)
pub fn readable(kind: SkbKind) -> Vec<(i16, Size)> {
    let mut u32s: Vec<i16> = vec![
        0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40, 44, 68, 84, 164, 176,
    ];
    let mut v = Vec::new();
    if kind == SkbKind::SchedCls {
        u32s.extend([72, 160]);
        v.push((152, Size::DW));
        v.push((184, Size::DW));
    }
    for o in u32s {
        v.extend([
            (o, Size::W),
            (o, Size::H),
            (o + 2, Size::H),
            (o + 3, Size::B),
        ]);
    }
    for o in (48..68).step_by(4) {
        v.extend([(o, Size::W), (o + 1, Size::B)]);
    }
    v.push((48, Size::DW));
    v
}

/// Writable `(offset, size)` context accesses for `kind`: `cb[]` for both,
/// and for tc `mark`, `priority`, `tc_index` and `tc_classid`.
pub fn writable(kind: SkbKind) -> Vec<(i16, Size)> {
    let mut v = vec![
        (48, Size::W),
        (52, Size::H),
        (60, Size::B),
        (64, Size::W),
        (56, Size::DW),
    ];
    if kind == SkbKind::SchedCls {
        // Not queue_mapping (12): the kernel ignores stores of 0xffff and
        // above, cranebpf keeps the low 16 bits (a documented difference).
        v.extend([(8, Size::W), (32, Size::W), (44, Size::W), (72, Size::W)]);
    }
    v
}

/// `w0 = w7; exit`.
pub fn epilogue() -> [Insn; 2] {
    [
        Insn::Alu {
            w: Width::W32,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Reg(Reg::R7),
        },
        Insn::Exit,
    ]
}

// ---------------------------------------------------------------------------
// Instruction builders (registers by number are always in range here).

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

fn r(n: u8) -> Reg {
    REGS[usize::from(n).min(10)]
}

fn alu64(op: AluOp, dst: u8, imm: i32) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op,
        dst: r(dst),
        src: Src::Imm(imm),
    }
}

fn alu64r(op: AluOp, dst: u8, src: u8) -> Insn {
    Insn::Alu {
        w: Width::W64,
        op,
        dst: r(dst),
        src: Src::Reg(r(src)),
    }
}

fn mov(dst: u8, imm: i32) -> Insn {
    alu64(AluOp::Mov, dst, imm)
}

fn movr(dst: u8, src: u8) -> Insn {
    alu64r(AluOp::Mov, dst, src)
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

fn stx(size: Size, dst: u8, src: u8, off: i16) -> Insn {
    Insn::Stx {
        size,
        dst: r(dst),
        src: r(src),
        off,
    }
}

fn st(size: Size, dst: u8, off: i16, imm: i32) -> Insn {
    Insn::St {
        size,
        dst: r(dst),
        off,
        imm,
    }
}

fn call(id: i32) -> Insn {
    Insn::Call {
        kind: CallKind::Helper,
        imm: id,
    }
}

/// `r7 = r7 * 33 + r0`: mixes a value into the accumulator.
fn mix() -> [Insn; 2] {
    [alu64(AluOp::Mul, 7, 33), alu64r(AluOp::Add, 7, 0)]
}

/// An argument that is the context (r1 = r6).
const CTX: i64 = i64::MIN;

/// Sets the arguments (`CTX` copies r6), calls helper `id` and mixes r0.
fn call_helper(id: i32, args: &[(u8, i64)]) -> Vec<Insn> {
    let mut v: Vec<Insn> = args
        .iter()
        .map(|&(reg, x)| {
            if x == CTX {
                movr(reg, 6)
            } else {
                mov(reg, x as i32)
            }
        })
        .collect();
    v.push(call(id));
    v.extend(mix());
    v
}

// ---------------------------------------------------------------------------
// The program.

/// A program of `steps` steps for `kind`, and its step boundaries.
fn program(rng: &mut Rng, kind: SkbKind, legacy: bool, steps: usize) -> (Vec<Insn>, Vec<usize>) {
    let tc = kind == SkbKind::SchedCls;
    let mut p = vec![
        movr(6, 1),
        mov(7, 0),
        st(Size::DW, 10, -8, 0),
        st(Size::DW, 10, -16, 0),
    ];
    let (reads, writes) = (readable(kind), writable(kind));
    let mut bounds = vec![p.len()];
    for _ in 0..steps {
        let choice = rng.below(if tc { 14 } else { 5 });
        p.extend(step(rng, choice, legacy, &reads, &writes));
        bounds.push(p.len());
    }
    p.extend(epilogue());
    (p, bounds)
}

/// One step; `choice` picks its family (0-4 for every type, 5-13 tc only).
fn step(
    rng: &mut Rng,
    choice: u64,
    legacy: bool,
    reads: &[(i16, Size)],
    writes: &[(i16, Size)],
) -> Vec<Insn> {
    match choice {
        2 => {
            let (off, size) = rng.pick(writes);
            vec![stx(size, 6, 7, off)]
        }
        3 if legacy => legacy_loads(rng),
        3 | 4 => load_bytes(rng),
        5 | 6 => direct_read(rng),
        7 => store_bytes(rng),
        8 => csum_replace(rng),
        9 => csum_diff(rng),
        10 if !legacy => change_size(rng),
        11 if !legacy => vlan(rng),
        12 => call_helper(39, &[(1, CTX), (2, rng.below(100) as i64)]),
        13 => call_helper(23, &[(1, rng.below(5) as i64), (2, rng.pick(&[0, 1, 2]))]),
        _ => {
            let (off, size) = rng.pick(reads);
            let mut v = vec![ldx(size, 0, 6, off)];
            v.extend(mix());
            v
        }
    }
}

/// LD_ABS then LD_IND of one size.
fn legacy_loads(rng: &mut Rng) -> Vec<Insn> {
    let size = rng.pick(&[Size::B, Size::H, Size::W]);
    let mut v = vec![Insn::LdAbs {
        size,
        imm: rng.below(80) as i32,
    }];
    v.extend(mix());
    v.push(mov(8, rng.below(40) as i32));
    v.push(Insn::LdInd {
        size,
        src: r(8),
        imm: rng.below(40) as i32,
    });
    v.extend(mix());
    v
}

/// `bpf_skb_load_bytes` into `[r10-16]`, then that slot mixed in.
fn load_bytes(rng: &mut Rng) -> Vec<Insn> {
    let len = 1 + rng.below(16) as i64;
    let mut v = vec![movr(3, 10), alu64(AluOp::Add, 3, -16)];
    v.extend(call_helper(
        26,
        &[(1, CTX), (2, rng.below(90) as i64), (4, len)],
    ));
    v.push(ldx(Size::DW, 0, 10, -16));
    v.extend(mix());
    v
}

/// A direct packet read behind `data + off + size > data_end`.
fn direct_read(rng: &mut Rng) -> Vec<Insn> {
    let off = rng.below(70) as i16;
    let size = rng.pick(&[Size::B, Size::H, Size::W, Size::DW]);
    let mut v = vec![
        ldx(Size::W, 2, 6, 76),
        ldx(Size::W, 3, 6, 80),
        movr(4, 2),
        alu64(AluOp::Add, 4, i32::from(off) + size.bytes() as i32),
        Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Gt,
            dst: r(4),
            src: Src::Reg(r(3)),
            off: 3,
        },
        ldx(size, 0, 2, off),
    ];
    v.extend(mix());
    v
}

/// `bpf_skb_store_bytes` of the accumulator's low bytes, with random flags.
fn store_bytes(rng: &mut Rng) -> Vec<Insn> {
    let len = 1 + rng.below(8) as i64;
    let mut v = vec![
        stx(Size::DW, 10, 7, -8),
        movr(3, 10),
        alu64(AluOp::Add, 3, -8),
    ];
    let flags = rng.pick(&[0, 1, 2, 4]);
    v.extend(call_helper(
        9,
        &[(1, CTX), (2, rng.below(80) as i64), (4, len), (5, flags)],
    ));
    v
}

/// `bpf_l3_csum_replace` or `bpf_l4_csum_replace` with random sizes and
/// flags (pseudo-header, mangled-0 and invalid ones among them).
fn csum_replace(rng: &mut Rng) -> Vec<Insn> {
    let id = rng.pick(&[10, 11]);
    let size = rng.pick(&[0, 2, 4, 3]);
    let extra = if id == 11 {
        rng.pick(&[0, 0x10, 0x20, 0x60, 0x100])
    } else {
        rng.pick(&[0, 0, 0x10])
    };
    let from = if size == 0 && rng.below(4) != 0 {
        0
    } else {
        i64::from(rng.next_u64() as i32)
    };
    call_helper(
        id,
        &[
            (1, CTX),
            (2, rng.below(70) as i64),
            (3, from),
            (4, i64::from(rng.next_u64() as i32)),
            (5, size | extra),
        ],
    )
}

/// `bpf_csum_diff` over stack slots (sizes 0, 4, 8 and the invalid 6).
fn csum_diff(rng: &mut Rng) -> Vec<Insn> {
    let mut v = vec![stx(Size::DW, 10, 7, -8)];
    let (from_size, to_size) = (rng.pick(&[0, 4, 8, 6]), rng.pick(&[0, 4, 8]));
    if from_size == 0 {
        v.push(mov(1, 0));
    } else {
        v.push(movr(1, 10));
        v.push(alu64(AluOp::Add, 1, -16));
    }
    v.push(movr(3, 10));
    v.push(alu64(AluOp::Add, 3, -8));
    v.extend(call_helper(
        28,
        &[
            (2, from_size),
            (4, to_size),
            (5, i64::from(rng.next_u64() as i32)),
        ],
    ));
    v
}

/// `bpf_skb_change_tail` or `bpf_skb_change_head`.
fn change_size(rng: &mut Rng) -> Vec<Insn> {
    if rng.below(2) == 0 {
        call_helper(38, &[(1, CTX), (2, 10 + rng.below(100) as i64), (3, 0)])
    } else {
        call_helper(
            43,
            &[
                (1, CTX),
                (2, rng.below(20) as i64),
                (3, rng.pick(&[0, 0, 1])),
            ],
        )
    }
}

/// `bpf_skb_vlan_push` (802.1Q, 802.1ad or an invalid protocol) or
/// `bpf_skb_vlan_pop`.
fn vlan(rng: &mut Rng) -> Vec<Insn> {
    if rng.below(2) == 0 {
        let proto = rng.pick(&[0x0081, 0xa888, 0x3412]);
        call_helper(18, &[(1, CTX), (2, proto), (3, rng.below(4096) as i64)])
    } else {
        call_helper(19, &[(1, CTX)])
    }
}

// ---------------------------------------------------------------------------
// The frames.

/// One frame and its metadata.
fn frame(rng: &mut Rng) -> (Vec<u8>, SkbMeta) {
    let mut f = match rng.below(7) {
        0 | 1 => ipv4(rng, 6, 20),
        2 | 3 => ipv4(rng, 17, 8),
        4 => ipv4(rng, 1, 8),
        5 => ipv6_udp(rng),
        _ => arp(rng),
    };
    if rng.chance(15) && f.len() >= 14 {
        let tci = rng.below(4096) as u16;
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0x00]);
        t.extend_from_slice(&tci.to_be_bytes());
        t.extend_from_slice(&f[12..]);
        f = t;
    }
    let mut meta = SkbMeta::from_frame(&f);
    meta.mark = rng.next_u64() as u32;
    meta.priority = rng.below(8) as u32;
    meta.cb = [rng.next_u64() as u32, 0, rng.next_u64() as u32, 7, 0];
    (f, meta)
}

/// Ethernet header with random addresses (sometimes broadcast) and `ty`.
fn ethernet(rng: &mut Rng, ty: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(128);
    if rng.chance(10) {
        f.extend_from_slice(&[0xff; 6]);
    } else {
        f.extend_from_slice(&[0x02, 0, 0, 0, 0, rng.below(256) as u8]);
    }
    f.extend_from_slice(&[0x02, 0, 0, 0, 1, rng.below(256) as u8]);
    f.extend_from_slice(&ty.to_be_bytes());
    f
}

fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.below(256) as u8).collect()
}

/// IPv4 with protocol `proto`, a transport header of `l4` bytes whose ports
/// are often well known, and a random payload.
fn ipv4(rng: &mut Rng, proto: u8, l4: usize) -> Vec<u8> {
    let payload = rng.below(80) as usize;
    let total = 20 + l4 + payload;
    let mut f = ethernet(rng, 0x0800);
    f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8]);
    f.extend_from_slice(&[0, 1, 0, 0, rng.pick(&[1, 2, 64, 255]), proto, 0, 0]);
    f.extend_from_slice(&[10, 0, 0, rng.below(256) as u8]);
    f.extend_from_slice(&[10, 0, rng.below(4) as u8, rng.below(256) as u8]);
    let mut t = bytes(rng, l4);
    if l4 >= 4 {
        let port: u16 = rng.pick(&[23, 53, 80, 443, 22, 1234]);
        t[2..4].copy_from_slice(&port.to_be_bytes());
    }
    f.extend(t);
    f.extend(bytes(rng, payload));
    f
}

/// IPv6 with a UDP header and a random payload.
fn ipv6_udp(rng: &mut Rng) -> Vec<u8> {
    let payload = rng.below(60) as usize;
    let plen = 8 + payload;
    let mut f = ethernet(rng, 0x86dd);
    f.extend_from_slice(&[0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 17, 64]);
    f.extend(bytes(rng, 32));
    f.extend(bytes(rng, plen));
    f
}

/// An ARP request.
fn arp(rng: &mut Rng) -> Vec<u8> {
    let mut f = ethernet(rng, 0x0806);
    f.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    f.extend(bytes(rng, 20));
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use cranebpf_runtime::Program;

    #[test]
    fn same_seed_same_case_and_every_case_validates() {
        for seed in 0..200 {
            for kind in [SkbKind::SocketFilter, SkbKind::SchedCls] {
                let a = generate_skb(seed, kind);
                let b = generate_skb(seed, kind);
                assert_eq!(a.insns, b.insns);
                assert_eq!(a.frames.len(), FRAMES);
                assert!(Program::from_insns(&a.insns).is_ok(), "seed {seed}");
                assert_eq!(*a.steps.last().unwrap_or(&0) + 2, a.insns.len());
                for k in 0..a.steps.len() {
                    assert!(Program::from_insns(&a.prefix(k)).is_ok());
                }
            }
        }
    }

    #[test]
    fn socket_filters_use_no_tc_only_step() {
        for seed in 0..100 {
            let c = generate_skb(seed, SkbKind::SocketFilter);
            let tc_only = c.insns.iter().any(|i| {
                matches!(i, Insn::Call { imm, .. } if [9, 10, 11, 18, 19, 23, 28, 38, 39, 43].contains(imm))
            });
            assert!(!tc_only, "seed {seed}: a tc-only helper in a socket filter");
        }
    }
}
