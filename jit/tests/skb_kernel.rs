//! Generated programs over each `__sk_buff` context (socket filter, tc),
//! run by the interpreter, the JIT and the Linux kernel
//! (`BPF_PROG_TEST_RUN` with the context as `ctx_in`), compared per packet:
//! the return value, the output packet, the context fields the program
//! wrote and the kernel copies back (mark, priority, cb).
//!
//! Interpreter and JIT are always compared. The kernel needs root and
//! `bpf()`; without it the test says so loudly and compares the engines
//! only, unless `CRANEBPF_REQUIRE_KERNEL=1` makes the kernel required.
//!
//! Each program is a fixed prologue (r6 = ctx, r7 = 0, two zeroed stack
//! slots) and a seeded random sequence of steps, each of which the kernel's
//! verifier accepts by construction: context reads (whole and narrow) and
//! writes, LD_ABS/LD_IND, `bpf_skb_load_bytes`, and for tc direct packet
//! reads behind a bounds check and the packet-writing helpers. Every value
//! read is mixed into r7, which the program returns.

use cranebpf::{EngineKind, RunOptions, Vm};
use cranebpf_runtime::ctx::{ProgramType, SkbKind, SkbMeta};
use cranebpf_runtime::elf::{LoadOptions, LoadedProgram};
use cranebpf_runtime::{encode_all, AluOp, Insn, JmpCond, Reg, Size, Src, Width};
use cranebpf_testkit::build::*;
use cranebpf_testkit::packets;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;

/// `bpf(cmd, attr)` over a zero-padded `union bpf_attr`.
fn bpf(cmd: libc::c_long, attr: &mut [u64; 20]) -> std::io::Result<i64> {
    // SAFETY: `attr` is a live, writable 160-byte buffer laid out as the
    // `bpf_attr` variant `cmd` expects; every pointer in it refers to a
    // buffer the caller keeps alive until this call returns.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), 160u32) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn set_u32(a: &mut [u64; 20], off: usize, v: u32) {
    let shift = (off % 8) * 8;
    a[off / 8] = (a[off / 8] & !(0xffff_ffffu64 << shift)) | (u64::from(v) << shift);
}

fn get_u32(a: &[u64; 20], off: usize) -> u32 {
    (a[off / 8] >> ((off % 8) * 8)) as u32
}

/// A loaded kernel program, closed on drop.
struct KernelProg(i32);

impl Drop for KernelProg {
    fn drop(&mut self) {
        // SAFETY: a descriptor this process opened and owns.
        unsafe { libc::close(self.0) };
    }
}

/// Loads `insns` as a program of kernel type `ty` (1 socket filter, 3
/// sched_cls); the error carries the verifier log's tail.
fn kernel_load(ty: u32, insns: &[Insn]) -> Result<KernelProg, String> {
    let code: Vec<u8> = encode_all(insns)
        .iter()
        .flat_map(|r| r.to_bytes())
        .collect();
    let license = b"GPL\0";
    let mut log = vec![0u8; 1 << 16];
    let mut a = [0u64; 20];
    set_u32(&mut a, 0, ty);
    set_u32(&mut a, 4, (code.len() / 8) as u32);
    a[1] = code.as_ptr() as u64;
    a[2] = license.as_ptr() as u64;
    set_u32(&mut a, 24, 1);
    set_u32(&mut a, 28, log.len() as u32);
    a[4] = log.as_mut_ptr() as u64;
    match bpf(BPF_PROG_LOAD, &mut a) {
        Ok(fd) => Ok(KernelProg(fd as i32)),
        Err(e) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(0);
            let text = String::from_utf8_lossy(&log[..end]);
            let tail: Vec<&str> = text.lines().rev().take(3).collect();
            Err(format!("{e}: {}", tail.join(" | ")))
        }
    }
}

/// One `BPF_PROG_TEST_RUN`: (retval, packet out, ctx out).
fn kernel_run(
    p: &KernelProg,
    pkt: &[u8],
    ctx: &[u8; 192],
) -> Result<(u32, Vec<u8>, Vec<u8>), String> {
    let mut out = vec![0u8; pkt.len() + 70_000];
    let mut ctx_out = [0u8; 192];
    let mut a = [0u64; 20];
    set_u32(&mut a, 0, p.0 as u32);
    set_u32(&mut a, 8, pkt.len() as u32);
    set_u32(&mut a, 12, out.len() as u32);
    a[2] = pkt.as_ptr() as u64;
    a[3] = out.as_mut_ptr() as u64;
    set_u32(&mut a, 32, 1);
    set_u32(&mut a, 40, 192);
    set_u32(&mut a, 44, 192);
    a[6] = ctx.as_ptr() as u64;
    a[7] = ctx_out.as_mut_ptr() as u64;
    bpf(BPF_PROG_TEST_RUN, &mut a).map_err(|e| format!("BPF_PROG_TEST_RUN: {e}"))?;
    out.truncate(get_u32(&a, 12) as usize);
    Ok((get_u32(&a, 4), out, ctx_out.to_vec()))
}

/// The `struct __sk_buff` passed as `ctx_in`: the fields the kernel takes
/// from it (mark, priority, cb, ifindex).
fn ctx_in(meta: &SkbMeta) -> [u8; 192] {
    let mut c = [0u8; 192];
    let mut put = |o: usize, v: u32| c[o..o + 4].copy_from_slice(&v.to_le_bytes());
    put(8, meta.mark);
    put(32, meta.priority);
    put(36, meta.ingress_ifindex);
    put(40, meta.ifindex);
    for (i, v) in meta.cb.iter().enumerate() {
        put(48 + 4 * i, *v);
    }
    c
}

/// mark, priority, cb[0..5] of a `__sk_buff`'s bytes.
fn written(ctx: &[u8]) -> Vec<u32> {
    let w = |o: usize| u32::from_le_bytes(ctx[o..o + 4].try_into().unwrap());
    let mut v = vec![w(8), w(32)];
    v.extend((0..5).map(|i| w(48 + 4 * i)));
    v
}

fn written_meta(m: &SkbMeta) -> Vec<u32> {
    let mut v = vec![m.mark, m.priority];
    v.extend(m.cb);
    v
}

/// xorshift64*, seeded.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len() as u32) as usize]
    }
}

/// `r7 = r7 * 33 + r0`: mixes a value into the accumulator.
fn mix() -> [Insn; 2] {
    [alu64(AluOp::Mul, 7, 33), alu64r(AluOp::Add, 7, 0)]
}

/// Readable `(offset, size)` context accesses for `kind`, narrow ones
/// included.
fn readable(kind: SkbKind) -> Vec<(i16, Size)> {
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

/// Writable `(offset, size)` context accesses for `kind`.
fn writable(kind: SkbKind) -> Vec<(i16, Size)> {
    let mut v = vec![
        (48, Size::W),
        (52, Size::H),
        (60, Size::B),
        (64, Size::W),
        (56, Size::DW),
    ];
    if kind == SkbKind::SchedCls {
        // Not queue_mapping (12): the kernel ignores stores of 0xffff and
        // above, cranebpf keeps the low 16 bits (documented difference).
        v.extend([(8, Size::W), (32, Size::W), (44, Size::W), (72, Size::W)]);
    }
    v
}

fn call_helper(id: i32, args: &[(u8, i64)]) -> Vec<Insn> {
    let mut v: Vec<Insn> = args
        .iter()
        .map(|&(r, x)| {
            if r == 1 && x == i64::MIN {
                movr(1, 6)
            } else {
                mov(r, x as i32)
            }
        })
        .collect();
    v.push(call(id));
    v.extend(mix());
    v
}

/// A generated program for `kind`; `legacy` allows LD_ABS/LD_IND (and then
/// no step resizes the packet).
fn generate(rng: &mut Rng, kind: SkbKind, legacy: bool, steps: usize) -> (Vec<Insn>, Vec<usize>) {
    const CTX: i64 = i64::MIN; // r1 = r6 (the context)
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
        let step = rng.below(if tc { 14 } else { 5 });
        match step {
            0 | 1 => {
                let (off, size) = rng.pick(&reads);
                p.push(ldx(size, 0, 6, off));
                p.extend(mix());
            }
            2 => {
                let (off, size) = rng.pick(&writes);
                p.push(stx(size, 6, 7, off));
            }
            3 if legacy => {
                let size = rng.pick(&[Size::B, Size::H, Size::W]);
                p.push(ld_abs(size, rng.below(80) as i32));
                p.extend(mix());
                p.push(mov(8, rng.below(40) as i32));
                p.push(ld_ind(size, 8, rng.below(40) as i32));
                p.extend(mix());
            }
            3 | 4 => {
                let len = 1 + rng.below(16) as i64;
                p.push(movr(3, 10));
                p.push(alu64(AluOp::Add, 3, -16));
                p.extend(call_helper(
                    26,
                    &[(1, CTX), (2, rng.below(90) as i64), (4, len)],
                ));
                p.push(ldx(Size::DW, 0, 10, -16));
                p.extend(mix());
            }
            5 | 6 => {
                // Direct read behind a bounds check.
                let (off, size) = (
                    rng.below(70) as i16,
                    rng.pick(&[Size::B, Size::H, Size::W, Size::DW]),
                );
                p.push(ldx(Size::W, 2, 6, 76));
                p.push(ldx(Size::W, 3, 6, 80));
                p.push(movr(4, 2));
                p.push(alu64(AluOp::Add, 4, i32::from(off) + size.bytes() as i32));
                p.push(jmp(Width::W64, JmpCond::Gt, 4, Src::Reg(Reg::R3), 3));
                p.push(ldx(size, 0, 2, off));
                p.extend(mix());
            }
            7 => {
                let len = 1 + rng.below(8) as i64;
                p.push(stx(Size::DW, 10, 7, -8));
                p.push(movr(3, 10));
                p.push(alu64(AluOp::Add, 3, -8));
                let flags = rng.pick(&[0, 1, 2, 4]);
                p.extend(call_helper(
                    9,
                    &[(1, CTX), (2, rng.below(80) as i64), (4, len), (5, flags)],
                ));
            }
            8 => {
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
                    i64::from(rng.next() as i32)
                };
                p.extend(call_helper(
                    id,
                    &[
                        (1, CTX),
                        (2, rng.below(70) as i64),
                        (3, from),
                        (4, i64::from(rng.next() as i32)),
                        (5, size | extra),
                    ],
                ));
            }
            9 => {
                p.push(stx(Size::DW, 10, 7, -8));
                let (fs, ts) = (rng.pick(&[0, 4, 8, 6]), rng.pick(&[0, 4, 8]));
                if fs == 0 {
                    p.push(mov(1, 0));
                } else {
                    p.push(movr(1, 10));
                    p.push(alu64(AluOp::Add, 1, -16));
                }
                p.push(movr(3, 10));
                p.push(alu64(AluOp::Add, 3, -8));
                p.extend(call_helper(
                    28,
                    &[(2, fs), (4, ts), (5, i64::from(rng.next() as i32))],
                ));
            }
            10 if !legacy => {
                if rng.below(2) == 0 {
                    p.extend(call_helper(
                        38,
                        &[(1, CTX), (2, 10 + rng.below(100) as i64), (3, 0)],
                    ));
                } else {
                    p.extend(call_helper(
                        43,
                        &[
                            (1, CTX),
                            (2, rng.below(20) as i64),
                            (3, rng.pick(&[0, 0, 1])),
                        ],
                    ));
                }
            }
            11 if !legacy => {
                if rng.below(2) == 0 {
                    let proto = rng.pick(&[0x0081, 0xa888, 0x3412]);
                    p.extend(call_helper(
                        18,
                        &[(1, CTX), (2, proto), (3, rng.below(4096) as i64)],
                    ));
                } else {
                    p.extend(call_helper(19, &[(1, CTX)]));
                }
            }
            12 => p.extend(call_helper(39, &[(1, CTX), (2, rng.below(100) as i64)])),
            13 => p.extend(call_helper(
                23,
                &[(1, rng.below(5) as i64), (2, rng.pick(&[0, 1, 2]))],
            )),
            _ => {
                let (off, size) = rng.pick(&reads);
                p.push(ldx(size, 0, 6, off));
                p.extend(mix());
            }
        }
        bounds.push(p.len());
    }
    p.extend(epilogue());
    (p, bounds)
}

/// `w0 = w7; exit`.
fn epilogue() -> [Insn; 2] {
    [
        Insn::Alu {
            w: Width::W32,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Reg(Reg::R7),
        },
        EXIT,
    ]
}

/// The first step after which our run and the kernel's differ on `frame`,
/// for the failure message.
fn first_difference(
    kind: SkbKind,
    ty: &ProgramType,
    kty: u32,
    insns: &[Insn],
    bounds: &[usize],
    frame: &[u8],
    meta: &SkbMeta,
) -> String {
    for k in 1..bounds.len() {
        let mut prefix = insns[..bounds[k]].to_vec();
        prefix.extend(epilogue());
        let lp = LoadedProgram::from_slots(
            "prefix",
            &encode_all(&prefix),
            ty.clone(),
            LoadOptions::default(),
        )
        .unwrap();
        let vm = Vm::new(lp.program(), lp.helpers().clone(), EngineKind::Interpreter).unwrap();
        let mut p = if kind == SkbKind::SocketFilter {
            frame[14..].to_vec()
        } else {
            frame.to_vec()
        };
        let mut m = meta.clone();
        let ours = lp
            .run_skb(&mut p, &mut m, &RunOptions::default(), &vm)
            .outcome
            .result
            .map(|r| r as u32);
        let Ok(kp) = kernel_load(kty, &prefix) else {
            continue;
        };
        let Ok((kr, mut kpkt, kctx)) = kernel_run(&kp, frame, &ctx_in(meta)) else {
            continue;
        };
        if kind == SkbKind::SocketFilter {
            kpkt.drain(..14.min(kpkt.len()));
        }
        if ours != Ok(kr) || p != kpkt || written_meta(&m) != written(&kctx) {
            return format!(
                "first differing step {k}: {:?}\n ours r0 {ours:?} packet {p:02x?} fields {:?}\n kernel r0 {kr} packet {kpkt:02x?} fields {:?}",
                &insns[bounds[k - 1]..bounds[k]],
                written_meta(&m),
                written(&kctx)
            );
        }
    }
    "no prefix differs".into()
}

/// Frames for the comparison: a spread of the example capture (those
/// `BPF_PROG_TEST_RUN` accepts), plus VLAN-tagged frames.
fn frames() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = packets::packets()
        .into_iter()
        .filter(|p| {
            p.len() >= 14
                && match u16::from_be_bytes([p[12], p[13]]) {
                    0x0800 => p.len() >= 34,
                    0x86dd => p.len() >= 54,
                    _ => true,
                }
        })
        .step_by(12)
        .collect();
    for f in v.clone().iter().take(4) {
        let mut t = f[..12].to_vec();
        t.extend_from_slice(&[0x81, 0, 0, 7]);
        t.extend_from_slice(&f[12..]);
        v.push(t);
    }
    v
}

fn kernel_required() -> bool {
    std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1")
}

/// Whether the kernel can load and test-run a socket filter here.
fn kernel_available() -> Result<(), String> {
    let p = kernel_load(1, &[mov(0, 0), EXIT])?;
    kernel_run(&p, &[0u8; 64], &[0u8; 192]).map(|_| ())
}

fn compare_type(kind: SkbKind, seed: u64, programs: usize) {
    let kernel = match kernel_available() {
        Ok(()) => true,
        Err(why) => {
            assert!(
                !kernel_required(),
                "CRANEBPF_REQUIRE_KERNEL=1 but bpf() is unusable: {why}"
            );
            eprintln!(
                "\n*** KERNEL COMPARISON SKIPPED ({kind:?}): bpf() is not usable here: {why} ***\n"
            );
            false
        }
    };
    let (ty, kty) = match kind {
        SkbKind::SocketFilter => (ProgramType::socket_filter(), 1),
        SkbKind::SchedCls => (ProgramType::sched_cls(), 3),
    };
    let mut rng = Rng(seed);
    let (mut compared, mut refused) = (0, 0);
    for n in 0..programs {
        let legacy = rng.below(3) == 0;
        let steps = 6 + rng.below(10) as usize;
        let (insns, bounds) = generate(&mut rng, kind, legacy, steps);
        let lp = LoadedProgram::from_slots(
            "gen",
            &encode_all(&insns),
            ty.clone(),
            LoadOptions::default(),
        )
        .unwrap_or_else(|e| panic!("seed {seed:#x}, program {n}: cranebpf refuses: {e}"));
        let vms = [EngineKind::Interpreter, EngineKind::Jit]
            .map(|e| Vm::new(lp.program(), lp.helpers().clone(), e).unwrap());
        let kp = if kernel {
            match kernel_load(kty, &insns) {
                Ok(p) => Some(p),
                Err(e) => {
                    refused += 1;
                    eprintln!("seed {seed:#x}, program {n}: the kernel refuses it: {e}");
                    None
                }
            }
        } else {
            None
        };
        for (i, frame) in frames().iter().enumerate() {
            let mut meta = SkbMeta::from_frame(frame);
            meta.mark = rng.next();
            meta.priority = rng.below(8);
            meta.cb = [rng.next(), 0, rng.next(), 7, 0];
            let input = match kind {
                SkbKind::SocketFilter => frame[14..].to_vec(),
                SkbKind::SchedCls => frame.clone(),
            };
            let ctx = ctx_in(&meta);
            let runs: Vec<_> = vms
                .iter()
                .map(|vm| {
                    let (mut p, mut m) = (input.clone(), meta.clone());
                    let out = lp.run_skb(&mut p, &mut m, &RunOptions::default(), vm);
                    (
                        out.outcome
                            .result
                            .map(|r| r as u32)
                            .map_err(|f| f.to_string()),
                        p,
                        written_meta(&m),
                    )
                })
                .collect();
            let what = format!("seed {seed:#x}, program {n} ({kind:?}), frame {i}");
            assert_eq!(runs[0], runs[1], "{what}: interpreter and JIT differ");
            let Some(kp) = &kp else { continue };
            let (ret, mut kpkt, kctx) =
                kernel_run(kp, frame, &ctx).unwrap_or_else(|e| panic!("{what}: {e}"));
            if kind == SkbKind::SocketFilter {
                kpkt.drain(..14.min(kpkt.len()));
            }
            let ours = &runs[0];
            if (&ours.0, &ours.1, &ours.2) != (&Ok(ret), &kpkt, &written(&kctx)) {
                panic!(
                    "{what}: differs from the kernel: {}",
                    first_difference(kind, &ty, kty, &insns, &bounds, frame, &meta)
                );
            }
            compared += 1;
        }
    }
    eprintln!("{kind:?}: {programs} programs, {compared} kernel comparisons, {refused} refused by the kernel");
    if kernel {
        assert!(
            refused * 10 <= programs,
            "the kernel refused {refused} of {programs} programs"
        );
    }
}

#[test]
fn skb_generated_socket_filters_agree_with_kernel() {
    compare_type(SkbKind::SocketFilter, 0x50c4_e7f1, 60);
}

#[test]
fn skb_generated_tc_programs_agree_with_kernel() {
    compare_type(SkbKind::SchedCls, 0x7c_c1a5, 120);
}

/// Every readable field, one program each, against the kernel: pins down
/// which field a difference in the generated programs comes from.
#[test]
fn skb_each_field_reads_as_in_kernel() {
    if let Err(why) = kernel_available() {
        assert!(
            !kernel_required(),
            "CRANEBPF_REQUIRE_KERNEL=1 but bpf() is unusable: {why}"
        );
        eprintln!("\n*** KERNEL COMPARISON SKIPPED: bpf() is not usable here: {why} ***\n");
        return;
    }
    let mut diffs = Vec::new();
    for (kind, ty, kty) in [
        (SkbKind::SocketFilter, ProgramType::socket_filter(), 1),
        (SkbKind::SchedCls, ProgramType::sched_cls(), 3),
    ] {
        for (off, size) in readable(kind)
            .into_iter()
            .filter(|(o, s)| *s != Size::H && *s != Size::B && o % 4 == 0)
        {
            for high in [false, true] {
                if high && size != Size::DW {
                    continue;
                }
                let mut insns = vec![ldx(size, 0, 1, off)];
                if high {
                    insns.push(alu64(AluOp::Rsh, 0, 32));
                }
                insns.push(EXIT);
                let lp = LoadedProgram::from_slots(
                    "f",
                    &encode_all(&insns),
                    ty.clone(),
                    LoadOptions::default(),
                )
                .unwrap();
                let vm =
                    Vm::new(lp.program(), lp.helpers().clone(), EngineKind::Interpreter).unwrap();
                let kp = kernel_load(kty, &insns)
                    .unwrap_or_else(|e| panic!("{kind:?} field {off}: {e}"));
                for frame in frames().iter().take(3) {
                    let meta = SkbMeta::from_frame(frame);
                    let mut p = if kind == SkbKind::SocketFilter {
                        frame[14..].to_vec()
                    } else {
                        frame.clone()
                    };
                    let ours = lp
                        .run_skb(&mut p, &mut meta.clone(), &RunOptions::default(), &vm)
                        .outcome
                        .result
                        .map(|r| r as u32);
                    let (k, _, _) = kernel_run(&kp, frame, &ctx_in(&meta)).unwrap();
                    if ours != Ok(k) {
                        diffs.push(format!(
                            "{kind:?} offset {off}{}: ours {ours:?}, kernel {k}",
                            if high { " (high)" } else { "" }
                        ));
                    }
                }
            }
        }
    }
    assert!(diffs.is_empty(), "{}", diffs.join("\n"));
}
