//! The differential harness over the `__sk_buff` program types: generated
//! socket filters and tc classifiers ([`crate::gen::skb`]) run as those
//! types by any two engines, and by the Linux kernel
//! (`BPF_PROG_TEST_RUN`, the context passed as `ctx_in`), compared per
//! frame on what a user of the hook observes:
//!
//! - the return value (the bytes a socket keeps, or the tc verdict), or the
//!   fault;
//! - the packet as the program left it (rewritten, resized, VLAN-tagged);
//! - the context fields the program may write and the kernel copies back:
//!   `mark`, `priority` and `cb[5]`.
//!
//! A socket filter sees the packet from the network header, as on a
//! `SOCK_DGRAM` packet socket; the kernel is given the whole frame and
//! strips the Ethernet header itself, so its output is compared from byte
//! 14. Differences by design are listed in `host/kernel`'s module doc
//! (`queue_mapping` stores, for instance) and the generator avoids them.
//!
//! A divergence names the case seed, the frame, both results and the first
//! step whose prefix already differs ([`first_difference`]).

use crate::gen::skb::{generate_skb, SkbCase};
use crate::kernel::LoadedInKernel;
use cranebpf_runtime::ctx::{ProgramType, SkbKind, SkbMeta};
use cranebpf_runtime::elf::{LoadOptions, LoadedProgram};
use cranebpf_runtime::{encode_all, Engine, Insn, RunOptions};
use std::fmt;

/// What one run of a case on one frame gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkbRun {
    /// The 32-bit return value, or the fault's text.
    pub r0: Result<u32, String>,
    /// The packet after the run (from the network header for a socket
    /// filter).
    pub packet: Vec<u8>,
    /// `mark`, `priority`, `cb[0..5]` after the run.
    pub fields: Vec<u32>,
}

impl fmt::Display for SkbRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.r0 {
            Ok(v) => write!(f, "r0 {v:#x}")?,
            Err(e) => write!(f, "fault {e}")?,
        }
        write!(
            f,
            ", fields {:x?}, packet {:02x?}",
            self.fields, self.packet
        )
    }
}

/// The kernel's program type number and ours for `kind`.
pub fn types(kind: SkbKind) -> (u32, ProgramType) {
    match kind {
        SkbKind::SocketFilter => (1, ProgramType::socket_filter()),
        SkbKind::SchedCls => (3, ProgramType::sched_cls()),
    }
}

/// The packet a program of `kind` sees for `frame`.
fn packet_for(kind: SkbKind, frame: &[u8]) -> Vec<u8> {
    match kind {
        SkbKind::SocketFilter => frame.get(14..).unwrap_or(&[]).to_vec(),
        SkbKind::SchedCls => frame.to_vec(),
    }
}

/// The `struct __sk_buff` given to the kernel as `ctx_in`: the fields it
/// takes from it (mark, priority, ingress_ifindex, ifindex, cb).
pub fn ctx_in(meta: &SkbMeta) -> [u8; 192] {
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

/// `mark`, `priority`, `cb[0..5]` of a `__sk_buff`'s bytes.
fn fields_of_ctx(ctx: &[u8]) -> Vec<u32> {
    let w = |o: usize| {
        ctx.get(o..o + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let mut v = vec![w(8), w(32)];
    v.extend((0..5).map(|i| w(48 + 4 * i)));
    v
}

/// `mark`, `priority`, `cb[0..5]` of our metadata.
fn fields_of_meta(m: &SkbMeta) -> Vec<u32> {
    let mut v = vec![m.mark, m.priority];
    v.extend(m.cb);
    v
}

/// `insns` loaded as a program of `kind` (the loader applies the type's
/// context rules); the error is the loader's refusal.
pub fn load(kind: SkbKind, insns: &[Insn]) -> Result<LoadedProgram, String> {
    let (_, ty) = types(kind);
    LoadedProgram::from_slots("gen", &encode_all(insns), ty, LoadOptions::default())
        .map_err(|e| e.to_string())
}

/// Runs `insns` as `kind` on `engine` over `frames`: one [`SkbRun`] per
/// frame. The error is the loader's or the engine's refusal.
pub fn run_on(
    engine: &dyn Engine,
    kind: SkbKind,
    insns: &[Insn],
    frames: &[(Vec<u8>, SkbMeta)],
) -> Result<Vec<SkbRun>, String> {
    let lp = load(kind, insns)?;
    let prepared = engine
        .prepare(lp.program(), lp.helpers().clone())
        .map_err(|e| format!("{}: {e}", engine.name()))?;
    let opts = RunOptions::default();
    Ok(frames
        .iter()
        .map(|(frame, meta)| {
            let (mut p, mut m) = (packet_for(kind, frame), meta.clone());
            let out = lp.run_skb(&mut p, &mut m, &opts, &*prepared);
            SkbRun {
                r0: out
                    .outcome
                    .result
                    .map(|r| r as u32)
                    .map_err(|f| f.to_string()),
                packet: p,
                fields: fields_of_meta(&m),
            }
        })
        .collect())
}

/// Why the kernel gave no result for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelMiss {
    /// The verifier refused the program (its log's tail).
    Refused(String),
    /// `BPF_PROG_TEST_RUN` failed on a frame.
    RunFailed(String),
}

/// Runs `insns` as `kind` in the kernel over `frames`.
pub fn run_in_kernel(
    kind: SkbKind,
    insns: &[Insn],
    frames: &[(Vec<u8>, SkbMeta)],
) -> Result<Vec<SkbRun>, KernelMiss> {
    let (kty, _) = types(kind);
    let prog = LoadedInKernel::load(kty, insns).map_err(KernelMiss::Refused)?;
    frames
        .iter()
        .map(|(frame, meta)| {
            let (ret, mut packet, ctx) = prog
                .test_run_ctx(frame, &ctx_in(meta))
                .map_err(KernelMiss::RunFailed)?;
            if kind == SkbKind::SocketFilter {
                packet.drain(..14.min(packet.len()));
            }
            Ok(SkbRun {
                r0: Ok(ret),
                packet,
                fields: fields_of_ctx(&ctx),
            })
        })
        .collect()
}

/// Whether the kernel can load and test-run a socket filter here; the
/// error says why not.
pub fn kernel_available() -> Result<(), String> {
    let insns = [
        Insn::Alu {
            w: cranebpf_runtime::Width::W64,
            op: cranebpf_runtime::AluOp::Mov,
            dst: cranebpf_runtime::Reg::R0,
            src: cranebpf_runtime::Src::Imm(0),
        },
        Insn::Exit,
    ];
    let prog = LoadedInKernel::load(1, &insns)?;
    prog.test_run_ctx(&[0u8; 64], &[0u8; 192]).map(|_| ())
}

/// The first step of `case` after which `run_a` and `run_b` (each running a
/// program on the case's frame `frame`) differ, for a report: the step's
/// instructions and both results, or a note that no prefix differs.
pub fn first_difference(
    case: &SkbCase,
    frame: usize,
    run_a: &dyn Fn(&[Insn], &(Vec<u8>, SkbMeta)) -> Option<SkbRun>,
    run_b: &dyn Fn(&[Insn], &(Vec<u8>, SkbMeta)) -> Option<SkbRun>,
) -> String {
    let Some(f) = case.frames.get(frame) else {
        return "no such frame".into();
    };
    for k in 1..case.steps.len() {
        let prefix = case.prefix(k);
        let (Some(a), Some(b)) = (run_a(&prefix, f), run_b(&prefix, f)) else {
            continue;
        };
        if a != b {
            return format!(
                "first differing step {k}: {:?}\n  a: {a}\n  b: {b}",
                case.step(k)
            );
        }
    }
    "no prefix differs".into()
}

/// One divergence of a batch.
#[derive(Clone, Debug)]
pub struct SkbDivergence {
    /// The case seed (`generate_skb(seed, kind)` rebuilds it).
    pub seed: u64,
    /// Socket filter or tc.
    pub kind: SkbKind,
    /// The frame index.
    pub frame: usize,
    /// The other side: an engine's name or `kernel`.
    pub against: String,
    /// Both results and the first differing step.
    pub detail: String,
}

impl fmt::Display for SkbDivergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "case seed {} ({:?}), frame {}: the reference and {} differ\n{}",
            self.seed, self.kind, self.frame, self.against, self.detail
        )
    }
}

/// The totals of a batch.
#[derive(Clone, Debug, Default)]
pub struct SkbSummary {
    /// Cases generated.
    pub cases: u64,
    /// Frame runs compared between the two engines.
    pub compared: u64,
    /// Frame runs compared with the kernel.
    pub kernel_compared: u64,
    /// Cases the kernel's verifier refused.
    pub kernel_refused: u64,
    /// Every divergence (engines or kernel).
    pub divergences: Vec<SkbDivergence>,
}

/// What a batch compares.
pub struct SkbBatch<'a> {
    /// Socket filter or tc.
    pub kind: SkbKind,
    /// Case `i` uses seed `seed + i`.
    pub seed: u64,
    /// Number of cases.
    pub count: u64,
    /// The reference engine (the interpreter).
    pub reference: &'a dyn Engine,
    /// The engine under test.
    pub target: &'a dyn Engine,
    /// Also compare the reference with the kernel.
    pub kernel: bool,
}

/// Runs a batch: every case on both engines (and the kernel if asked),
/// frame by frame. `progress` is called once per case.
pub fn run_skb_batch(b: &SkbBatch<'_>, progress: &dyn Fn()) -> SkbSummary {
    let mut s = SkbSummary::default();
    for i in 0..b.count {
        let seed = b.seed.wrapping_add(i);
        let case = generate_skb(seed, b.kind);
        s.cases += 1;
        compare_case(b, seed, &case, &mut s);
        progress();
    }
    s
}

/// One case: the reference against the target, then against the kernel.
fn compare_case(b: &SkbBatch<'_>, seed: u64, case: &SkbCase, s: &mut SkbSummary) {
    let reference = match run_on(b.reference, b.kind, &case.insns, &case.frames) {
        Ok(r) => r,
        Err(e) => {
            s.divergences.push(divergence(b, seed, 0, "the loader", e));
            return;
        }
    };
    let ours = |p: &[Insn], f: &(Vec<u8>, SkbMeta)| run_one(b.reference, b.kind, p, f);
    let theirs = |p: &[Insn], f: &(Vec<u8>, SkbMeta)| run_one(b.target, b.kind, p, f);
    match run_on(b.target, b.kind, &case.insns, &case.frames) {
        Ok(target) => {
            for (i, (x, y)) in reference.iter().zip(&target).enumerate() {
                s.compared += 1;
                if x != y {
                    let why = first_difference(case, i, &ours, &theirs);
                    let detail = format!("  reference: {x}\n  {}: {y}\n{why}", b.target.name());
                    s.divergences
                        .push(divergence(b, seed, i, b.target.name(), detail));
                }
            }
        }
        Err(e) => s
            .divergences
            .push(divergence(b, seed, 0, b.target.name(), e)),
    }
    if b.kernel {
        compare_kernel(b, seed, case, &reference, s);
    }
}

/// The reference's runs of one case against the kernel's.
fn compare_kernel(
    b: &SkbBatch<'_>,
    seed: u64,
    case: &SkbCase,
    reference: &[SkbRun],
    s: &mut SkbSummary,
) {
    let kernel = match run_in_kernel(b.kind, &case.insns, &case.frames) {
        Ok(k) => k,
        Err(KernelMiss::Refused(_)) => {
            s.kernel_refused += 1;
            return;
        }
        Err(KernelMiss::RunFailed(e)) => {
            s.divergences.push(divergence(b, seed, 0, "kernel", e));
            return;
        }
    };
    let ours = |p: &[Insn], f: &(Vec<u8>, SkbMeta)| run_one(b.reference, b.kind, p, f);
    let theirs = |p: &[Insn], f: &(Vec<u8>, SkbMeta)| {
        run_in_kernel(b.kind, p, std::slice::from_ref(f))
            .ok()
            .and_then(|mut v| v.pop())
    };
    for (i, (x, k)) in reference.iter().zip(&kernel).enumerate() {
        s.kernel_compared += 1;
        if x != k {
            let why = first_difference(case, i, &ours, &theirs);
            let detail = format!("  reference: {x}\n  kernel: {k}\n{why}");
            s.divergences.push(divergence(b, seed, i, "kernel", detail));
        }
    }
}

/// `insns` on one frame, or nothing if it does not load or run.
fn run_one(
    e: &dyn Engine,
    kind: SkbKind,
    insns: &[Insn],
    f: &(Vec<u8>, SkbMeta),
) -> Option<SkbRun> {
    run_on(e, kind, insns, std::slice::from_ref(f))
        .ok()
        .and_then(|mut v| v.pop())
}

fn divergence(
    b: &SkbBatch<'_>,
    seed: u64,
    frame: usize,
    against: &str,
    detail: String,
) -> SkbDivergence {
    SkbDivergence {
        seed,
        kind: b.kind,
        frame,
        against: against.to_string(),
        detail,
    }
}
