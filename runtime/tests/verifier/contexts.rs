//! Program-type contexts in the verifier: `__sk_buff` (socket filters and
//! tc, whose shadow lies before r1), the tracing contexts (`pt_regs`, an
//! embedder's struct) and the helpers that write a buffer the program
//! passes. The programs are written as the loader leaves them: context
//! accesses already rewritten to shadow offsets.

use cranebpf_runtime::analysis::proof::{AccessFact, RegionKind};
use cranebpf_runtime::analysis::verifier::{verify, ErrorKind, VerifyConfig, VerifyError};
use cranebpf_runtime::asm::assemble;
use cranebpf_runtime::ctx::{skb_shadow, PtRegs, SkbKind, TraceCtx};
use cranebpf_runtime::progtype::ProgramType;
use cranebpf_runtime::Program;

fn prog(text: &str) -> Program {
    Program::from_insns(&assemble(text).unwrap_or_else(|e| panic!("{text}: {e}")))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn strict(text: &str, conf: VerifyConfig) -> Result<AccessFacts, VerifyError> {
    verify(&prog(text), &conf.strict(true)).map(|v| AccessFacts(v.proof.accesses().to_vec()))
}

struct AccessFacts(Vec<AccessFact>);

impl AccessFacts {
    fn region(&self, i: usize) -> Option<RegionKind> {
        match &self.0[i] {
            AccessFact::Proven { region } => Some(*region),
            _ => None,
        }
    }
}

fn accepted(text: &str, conf: VerifyConfig) -> AccessFacts {
    strict(text, conf).unwrap_or_else(|e| panic!("refused:\n{e}"))
}

fn refused(text: &str, conf: VerifyConfig) -> VerifyError {
    match strict(text, conf) {
        Ok(v) => panic!("accepted: {:?}", v.0),
        Err(e) => e,
    }
}

/// `text` with `+DATA`, `+DATA_END`, `+MARK`, `+CB`, `+LEN` replaced by the
/// shadow offsets (from r1) of those `__sk_buff` fields.
fn skb(text: &str) -> String {
    let mut out = text.to_string();
    for (name, o) in [
        ("DATA_END", skb_shadow::DATA_END),
        ("DATA", skb_shadow::DATA),
        ("MARK", skb_shadow::MARK),
        ("CB", skb_shadow::CB),
        ("LEN", skb_shadow::LEN),
    ] {
        let off = o as i64 - skb_shadow::SIZE as i64;
        out = out.replace(&format!("+{name}"), &format!("{off:+}"));
    }
    out
}

/// A tc program reading the Ethernet type after the bounds test, then
/// setting `mark` and `cb[0]`.
const TC_IDIOM: &str = "
    ldxdw %r2, [%r1+DATA]
    ldxdw %r3, [%r1+DATA_END]
    mov %r4, %r2
    add %r4, 14
    mov %r0, 0
    jgt %r4, %r3, out
    ldxh %r0, [%r2+12]
    stxw [%r1+MARK], %r0
    stw [%r1+CB], 7
    out:
    exit";

#[test]
fn tc_packet_through_data_and_data_end_is_proven() {
    let v = accepted(&skb(TC_IDIOM), VerifyConfig::skb(SkbKind::SchedCls));
    assert_eq!(v.region(0), Some(RegionKind::Ctx));
    assert_eq!(v.region(6), Some(RegionKind::Packet));
    assert_eq!(v.region(7), Some(RegionKind::Ctx));
    assert_eq!(v.region(8), Some(RegionKind::Ctx));
}

#[test]
fn tc_packet_past_the_test_is_refused() {
    let text = skb(TC_IDIOM).replace("[%r2+12]", "[%r2+13]");
    let e = refused(&text, VerifyConfig::skb(SkbKind::SchedCls));
    assert_eq!(e.pc, 6);
    assert!(matches!(e.kind, ErrorKind::Access { .. }), "{e}");
}

#[test]
fn socket_filters_have_no_packet_pointers() {
    // The same loads give unknown scalars: no packet access is proven.
    let e = refused(&skb(TC_IDIOM), VerifyConfig::skb(SkbKind::SocketFilter));
    assert_eq!(e.pc, 6);
    assert!(e.to_string().contains("scalar"), "{e}");
}

#[test]
fn skb_read_only_part_and_outside_are_refused() {
    let conf = || VerifyConfig::skb(SkbKind::SchedCls);
    // `len` is in the read-only block.
    let e = refused(&skb("stw [%r1+LEN], 1\nmov %r0, 0\nexit"), conf());
    assert!(e.to_string().contains("read-only"), "{e}");
    // A store to the data field would move the packet: read-only too.
    let e = refused(&skb("stdw [%r1+DATA], 0\nmov %r0, 0\nexit"), conf());
    assert!(e.to_string().contains("read-only"), "{e}");
    // Before the shadow, and straddling its two regions.
    refused("ldxw %r0, [%r1-140]\nexit", conf());
    let straddle = format!(
        "ldxdw %r0, [%r1{}]\nexit",
        skb_shadow::WRITABLE_END as i64 - 4 - 136
    );
    refused(&straddle, conf());
    // r1 itself is the context, not the packet.
    refused("ldxb %r0, [%r1+0]\nexit", conf());
    // No atomics on the context.
    let e = refused(
        &skb("mov %r2, 1\nlock add32 [%r1+MARK], %r2\nmov %r0, 0\nexit"),
        conf(),
    );
    assert!(e.to_string().contains("atomic"), "{e}");
}

#[test]
fn packet_writing_helpers_invalidate_packet_pointers() {
    // bpf_skb_store_bytes(skb, 0, fp-8, 1, 0), then a packet read through
    // the pointer taken before the call.
    let text = skb("mov %r6, %r1
         ldxdw %r7, [%r1+DATA]
         ldxdw %r3, [%r1+DATA_END]
         mov %r4, %r7
         add %r4, 14
         mov %r0, 0
         jgt %r4, %r3, out
         stdw [%r10-8], 0
         mov %r1, %r6
         mov %r2, 0
         mov %r3, %r10
         add %r3, -8
         mov %r4, 1
         mov %r5, 0
         call 9
         ldxb %r0, [%r7+0]
         out:
         exit");
    let conf = || VerifyConfig::skb(SkbKind::SchedCls);
    let e = refused(&text, conf());
    assert_eq!(e.pc, 15);
    // Reloading the pointers after the call is accepted.
    let fixed = text.replace(
        "call 9\n         ldxb %r0, [%r7+0]",
        &skb("call 9\n ldxdw %r7, [%r6+DATA]\n ldxdw %r3, [%r6+DATA_END]\n mov %r4, %r7\n add %r4, 1\n jgt %r4, %r3, out\n ldxb %r0, [%r7+0]"),
    );
    assert_ne!(fixed, text);
    accepted(&fixed, conf());
}

/// A socket filter copying 8 packet bytes to fp-8 with `bpf_skb_load_bytes`
/// after spilling a pointer there, then filling it.
const LOAD_BYTES_OVER_SPILL: &str = "
    mov %r6, %r10
    add %r6, -16
    stxdw [%r10-8], %r6
    stdw [%r10-16], 0
    mov %r2, 0
    mov %r3, %r10
    add %r3, -8
    mov %r4, 8
    call 26
    ldxdw %r1, [%r10-8]
    ldxdw %r0, [%r1+0]
    exit";

#[test]
fn skb_load_bytes_overwrites_the_spill_it_writes() {
    // The fill is now a scalar: dereferencing it is refused.
    let e = refused(
        LOAD_BYTES_OVER_SPILL,
        VerifyConfig::skb(SkbKind::SocketFilter),
    );
    assert_eq!(e.pc, 10);
    // Reading the written bytes as data is fine (they count as written).
    let text = LOAD_BYTES_OVER_SPILL.replace(
        "ldxdw %r1, [%r10-8]\n    ldxdw %r0, [%r1+0]",
        "ldxdw %r0, [%r10-8]",
    );
    accepted(&text, VerifyConfig::skb(SkbKind::SocketFilter));
    // A spill outside the written bytes survives.
    let text = LOAD_BYTES_OVER_SPILL
        .replace("stxdw [%r10-8], %r6", "stxdw [%r10-24], %r6")
        .replace("ldxdw %r1, [%r10-8]", "ldxdw %r1, [%r10-24]");
    accepted(&text, VerifyConfig::skb(SkbKind::SocketFilter));
}

#[test]
fn helper_writing_an_unproven_place_forgets_every_spill() {
    // The destination's offset is unknown: any stack byte may change.
    let text = "
        mov %r6, %r10
        add %r6, -16
        stxdw [%r10-24], %r6
        stdw [%r10-16], 0
        mov %r2, 0
        ldxb %r3, [%r10-16]
        add %r3, %r10
        mov %r4, 8
        call 26
        ldxdw %r1, [%r10-24]
        ldxdw %r0, [%r1+0]
        exit";
    let v = verify(&prog(text), &VerifyConfig::skb(SkbKind::SocketFilter)).unwrap();
    assert!(matches!(v.proof.access(10), AccessFact::Unproven { .. }));
}

#[test]
fn kprobe_reads_pt_regs_and_probe_read_fills_its_buffer() {
    let conf = || VerifyConfig::for_type(&ProgramType::kprobe());
    let last = PtRegs::SIZE - 8;
    // PT_REGS_PARM1, then bpf_probe_read(fp-16, 16, that address).
    let text = format!(
        "ldxdw %r3, [%r1+{last}]
         mov %r1, %r10
         add %r1, -16
         mov %r2, 16
         call 4
         ldxdw %r0, [%r10-16]
         ldxdw %r1, [%r10-8]
         add %r0, %r1
         exit"
    );
    let v = accepted(&text, conf());
    assert_eq!(v.region(0), Some(RegionKind::Ctx));
    // One word past the struct, and any store, are refused.
    let e = refused(&format!("ldxdw %r0, [%r1+{}]\nexit", PtRegs::SIZE), conf());
    assert!(matches!(e.kind, ErrorKind::Access { .. }), "{e}");
    refused("stdw [%r1+0], 1\nmov %r0, 0\nexit", conf());
    // probe_read's buffer must be writable stack.
    let e = refused(
        "mov %r3, 0\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 16\ncall 4\nmov %r0, 0\nexit",
        conf(),
    );
    assert!(matches!(e.kind, ErrorKind::Helper { .. }), "{e}");
}

#[test]
fn embedder_context_is_its_declared_size_read_only() {
    let layout = TraceCtx::new("req", 16)
        .field("id", 0, 8, false)
        .field("len", 8, 4, false)
        .field("verdict", 12, 4, true)
        .layout();
    let conf = || VerifyConfig::for_type(&ProgramType::custom("req", layout.clone()));
    accepted("ldxw %r0, [%r1+12]\nexit", conf());
    refused("ldxw %r0, [%r1+16]\nexit", conf());
    // The driver registers the copy read-only: a store would fault.
    refused("stw [%r1+12], 1\nmov %r0, 0\nexit", conf());
    // A context whose size the embedder decides at run time is opaque.
    let opaque = VerifyConfig::for_type(&ProgramType::tracing("tracepoint", None));
    refused("ldxw %r0, [%r1+0]\nexit", opaque);
}

#[test]
fn legacy_loads_belong_to_socket_filters_and_tc_only() {
    let text = "ldabsb 3\nexit";
    accepted(text, VerifyConfig::skb(SkbKind::SocketFilter));
    accepted(text, VerifyConfig::skb(SkbKind::SchedCls));
    accepted(text, VerifyConfig::mem());
    let e = refused(text, VerifyConfig::xdp());
    assert!(e.to_string().contains("LD_ABS"), "{e}");
    refused(text, VerifyConfig::for_type(&ProgramType::kprobe()));
    // Elide mode keeps it (checked at run time by definition).
    let v = verify(&prog(text), &VerifyConfig::xdp()).unwrap();
    assert_eq!(v.proof.coverage(), (0, 0));
}

#[test]
fn unreachable_code_and_callx_are_refused_before_exploring() {
    // Dead code after an unconditional jump, as the kernel's check_cfg.
    let e = refused("mov %r0, 0\nja +1\nmov %r0, 1\nexit", VerifyConfig::mem());
    assert_eq!(e.pc, 2);
    assert!(e.to_string().contains("unreachable"), "{e}");
    // callx, even where no path goes.
    let e = refused("mov %r0, 0\nexit\ncallx %r1\nexit", VerifyConfig::mem());
    assert!(e.to_string().contains("callx"), "{e}");
    // A conditional branch whose other side is dead on every path is fine.
    accepted(
        "mov %r0, 0\njeq %r0, 0, +1\nmov %r0, 1\nexit",
        VerifyConfig::mem(),
    );
}
