//! Hand-written programs the verifier must accept (with what proven) or
//! refuse (where, and why), in strict and elide mode.

use cranebpf_runtime::analysis::proof::{AccessFact, LoopFact, RegionKind};
use cranebpf_runtime::analysis::verifier::{
    verify, ErrorKind, MapInfo, Verified, VerifyConfig, VerifyError,
};
use cranebpf_runtime::asm::assemble;
use cranebpf_runtime::maps::{MapDef, MapType};
use cranebpf_runtime::Program;

fn prog(text: &str) -> Program {
    Program::from_insns(&assemble(text).unwrap_or_else(|e| panic!("{text}: {e}")))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn strict(text: &str, conf: VerifyConfig) -> Result<Verified, VerifyError> {
    verify(&prog(text), &conf.strict(true))
}

fn elide(text: &str, conf: VerifyConfig) -> Verified {
    verify(&prog(text), &conf).expect("elide mode never refuses")
}

fn accepted(text: &str, conf: VerifyConfig) -> Verified {
    strict(text, conf).unwrap_or_else(|e| panic!("refused:\n{e}"))
}

fn refused(text: &str, conf: VerifyConfig) -> VerifyError {
    match strict(text, conf) {
        Ok(v) => panic!("accepted: {:?}", v.proof),
        Err(e) => e,
    }
}

fn proven(v: &Verified, index: usize) -> Option<RegionKind> {
    match v.proof.access(index) {
        AccessFact::Proven { region } => Some(*region),
        _ => None,
    }
}

/// An XDP program reading the Ethernet type after the bounds test.
const PACKET_IDIOM: &str = "
    ldxdw %r2, [%r1+0]
    ldxdw %r3, [%r1+8]
    mov %r4, %r2
    add %r4, 14
    mov %r0, 1
    jgt %r4, %r3, out
    ldxh %r0, [%r2+12]
    out:
    exit";

#[test]
fn packet_bounds_idiom_is_proven() {
    let v = accepted(PACKET_IDIOM, VerifyConfig::xdp());
    assert_eq!(v.proof.coverage(), (3, 3));
    assert_eq!(proven(&v, 0), Some(RegionKind::Ctx));
    assert_eq!(proven(&v, 6), Some(RegionKind::Packet));
}

#[test]
fn packet_access_past_the_tested_length_is_refused() {
    let text = PACKET_IDIOM.replace("[%r2+12]", "[%r2+13]");
    let e = refused(&text, VerifyConfig::xdp());
    assert_eq!(e.pc, 6);
    assert_eq!(e.insn, "ldxh %r0, [%r2+13]");
    assert!(matches!(e.kind, ErrorKind::Access { .. }), "{e}");
    assert!(e.state.contains("pkt(off=0,r=14"), "{e}");
    // Elide mode leaves it checked.
    let v = elide(&text, VerifyConfig::xdp());
    assert!(matches!(v.proof.access(6), AccessFact::Unproven { .. }));
    assert_eq!(v.proof.coverage(), (2, 3));
}

#[test]
fn packet_access_without_a_test_is_refused() {
    let e = refused(
        "ldxdw %r2, [%r1+0]
         ldxb %r0, [%r2+0]
         exit",
        VerifyConfig::xdp(),
    );
    assert_eq!(e.pc, 1);
}

#[test]
fn packet_variable_offset_after_its_own_test() {
    // r5 = data + (first byte & 15); test r5 + 4 against the end; read 4.
    let v = accepted(
        "ldxdw %r2, [%r1+0]
         ldxdw %r3, [%r1+8]
         mov %r0, 0
         mov %r4, %r2
         add %r4, 1
         jgt %r4, %r3, out
         ldxb %r5, [%r2+0]
         and %r5, 15
         add %r5, %r2
         mov %r6, %r5
         add %r6, 4
         jgt %r6, %r3, out
         ldxw %r0, [%r5+0]
         out:
         exit",
        VerifyConfig::xdp(),
    );
    assert_eq!(proven(&v, 12), Some(RegionKind::Packet));
}

fn with_array_map() -> VerifyConfig {
    let mut c = VerifyConfig::mem();
    c.maps.push(MapInfo {
        handle: 0xcbf0_0000_0000_0000,
        def: MapDef {
            map_type: MapType::Array,
            key_size: 4,
            value_size: 16,
            max_entries: 4,
            flags: 0,
        },
    });
    c
}

const LOOKUP: &str = "
    stw [%r10-4], 0
    lddw %r1, 0xcbf0000000000000
    mov %r2, %r10
    add %r2, -4
    call 1
    mov %r6, %r0
    jeq %r0, 0, miss
    ldxdw %r0, [%r6+8]
    exit
    miss:
    mov %r0, 0
    exit";

#[test]
fn map_lookup_null_test_proves_the_value() {
    let v = accepted(LOOKUP, with_array_map());
    assert_eq!(proven(&v, 7), Some(RegionKind::MapValue));
    assert_eq!(proven(&v, 0), Some(RegionKind::Frame));
}

#[test]
fn map_value_without_null_test_is_refused() {
    // (The branch stays, so that `miss` is reachable: strict mode refuses
    // unreachable code.)
    let text = LOOKUP.replace("jeq %r0, 0, miss", "jeq %r6, %r0, miss");
    let e = refused(&text, with_array_map());
    assert!(e.to_string().contains("may be null"), "{e}");
    assert_eq!(e.pc, 8);
}

#[test]
fn map_value_past_its_size_is_refused() {
    let e = refused(&LOOKUP.replace("[%r6+8]", "[%r6+9]"), with_array_map());
    assert!(e.to_string().contains("outside the value"), "{e}");
}

#[test]
fn map_lookup_key_must_be_initialised_in_strict_mode() {
    let e = refused(
        &LOOKUP.replace("stw [%r10-4], 0", "mov %r0, 0"),
        with_array_map(),
    );
    assert!(matches!(e.kind, ErrorKind::Helper { id: 1, .. }), "{e}");
}

#[test]
fn loop_with_constant_bound_is_bounded() {
    let v = accepted(
        "mov %r0, 0
         mov %r1, 0
         top:
         add %r0, %r1
         add %r1, 1
         jlt %r1, 10, top
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(
        v.proof.loops(),
        &[LoopFact::Bounded {
            from: 4,
            to: 2,
            max_trips: 9
        }]
    );
}

#[test]
fn loop_with_computed_bound_is_bounded_and_its_accesses_proven() {
    // n = input[0] (after testing the length); sum the first n stack bytes
    // of a zeroed 256-byte buffer... through r10 - 256 + i.
    let mut text = String::from("mov %r0, 0\n");
    for i in 0..32 {
        text.push_str(&format!("stdw [%r10-{}], 0\n", 8 * (i + 1)));
    }
    text.push_str(
        "jeq %r2, 0, out
         ldxb %r3, [%r1+0]
         mov %r4, 0
         jeq %r3, 0, out
         top:
         mov %r5, %r10
         add %r5, -256
         add %r5, %r4
         ldxb %r6, [%r5+0]
         add %r0, %r6
         add %r4, 1
         jlt %r4, %r3, top
         out:
         exit",
    );
    let v = accepted(&text, VerifyConfig::mem());
    assert_eq!(v.proof.coverage().0, v.proof.coverage().1);
    assert!(v.proof.terminates());
    match &v.proof.loops()[0] {
        LoopFact::Bounded { max_trips, .. } => assert!(*max_trips >= 254, "{max_trips}"),
        l => panic!("{l:?}"),
    }
}

#[test]
fn infinite_loop_is_refused_and_unproven_in_elide_mode() {
    let text = "mov %r0, 0
                top:
                ja top";
    let e = refused(text, VerifyConfig::mem());
    assert!(matches!(e.kind, ErrorKind::Loop { .. }), "{e}");
    // Elide mode keeps the budget on it.
    let v = elide(text, VerifyConfig::mem());
    assert!(matches!(v.proof.loops(), [LoopFact::Unproven { .. }]));
}

#[test]
fn loop_bounded_only_by_the_input_length_hits_the_complexity_limit() {
    let mut conf = VerifyConfig::mem();
    conf.complexity_limit = 10_000;
    let text = "mov %r0, 0
                mov %r3, 0
                jeq %r2, 0, out
                top:
                mov %r4, %r1
                add %r4, %r3
                ldxb %r5, [%r4+0]
                add %r0, %r5
                add %r3, 1
                jlt %r3, %r2, top
                out:
                exit";
    let e = refused(text, conf);
    assert_eq!(e.kind, ErrorKind::TooComplex { limit: 10_000 });
}

#[test]
fn input_index_below_the_length_is_proven() {
    // if (i < len) return p[i] with i = p[0] & 7 after testing len > 0.
    let v = accepted(
        "mov %r0, 0
         jeq %r2, 0, out
         ldxb %r3, [%r1+0]
         and %r3, 7
         jge %r3, %r2, out
         mov %r4, %r1
         add %r4, %r3
         ldxb %r0, [%r4+0]
         out:
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(proven(&v, 7), Some(RegionKind::Input));
}

#[test]
fn spilled_pointer_keeps_its_type() {
    let v = accepted(
        "ldxdw %r2, [%r1+0]
         ldxdw %r3, [%r1+8]
         stxdw [%r10-8], %r2
         stxdw [%r10-16], %r3
         mov %r2, 0
         ldxdw %r4, [%r10-8]
         ldxdw %r5, [%r10-16]
         mov %r6, %r4
         add %r6, 2
         mov %r0, 0
         jgt %r6, %r5, out
         ldxh %r0, [%r4+0]
         out:
         exit",
        VerifyConfig::xdp(),
    );
    assert_eq!(proven(&v, 11), Some(RegionKind::Packet));
    assert_eq!(v.proof.coverage(), (7, 7));
}

#[test]
fn partial_overwrite_of_a_spilled_pointer_loses_it() {
    let e = refused(
        "ldxdw %r2, [%r1+0]
         stxdw [%r10-8], %r2
         stb [%r10-8], 0
         ldxdw %r4, [%r10-8]
         ldxb %r0, [%r4+0]
         exit",
        VerifyConfig::xdp(),
    );
    assert_eq!(e.pc, 4);
    assert!(e.to_string().contains("scalar"), "{e}");
}

#[test]
fn alu32_on_a_pointer_is_refused_and_left_checked_in_elide_mode() {
    let text = "ldxdw %r2, [%r1+0]
                add32 %r2, 0
                ldxb %r0, [%r2+0]
                exit";
    let e = refused(text, VerifyConfig::xdp());
    assert_eq!((e.pc, e.insn.as_str()), (1, "add32 %r2, 0"));
    let v = elide(text, VerifyConfig::xdp());
    assert!(matches!(v.proof.access(2), AccessFact::Unproven { .. }));
}

#[test]
fn stack_access_outside_the_frame_is_refused() {
    let e = refused(
        "stdw [%r10-520], 1
         mov %r0, 0
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(e.pc, 0);
    assert!(e.to_string().contains("outside the frame"), "{e}");
    let v = elide("stdw [%r10-520], 1\nmov %r0, 0\nexit", VerifyConfig::mem());
    assert!(matches!(v.proof.access(0), AccessFact::Unproven { .. }));
    // The frame's edges are fine.
    let v = accepted(
        "stdw [%r10-512], 1\nstdw [%r10-8], 1\nmov %r0, 0\nexit",
        VerifyConfig::mem(),
    );
    assert_eq!(v.proof.coverage(), (2, 2));
    refused("stb [%r10+0], 1\nmov %r0, 0\nexit", VerifyConfig::mem());
}

#[test]
fn uninitialised_stack_and_register_reads_are_refused() {
    let e = refused("ldxdw %r0, [%r10-8]\nexit", VerifyConfig::mem());
    assert!(matches!(e.kind, ErrorKind::Uninit { .. }), "{e}");
    let e = refused("mov %r0, %r7\nexit", VerifyConfig::mem());
    assert!(matches!(e.kind, ErrorKind::Uninit { .. }), "{e}");
    let e = refused("exit", VerifyConfig::mem());
    assert!(e.to_string().contains("r0"), "{e}");
}

#[test]
fn bpf_to_bpf_call_with_a_pointer_into_the_callers_frame() {
    let v = accepted(
        "stdw [%r10-8], 0
         mov %r1, %r10
         add %r1, -8
         call local f
         ldxdw %r0, [%r10-8]
         exit
         f:
         stdw [%r10-16], 7
         ldxdw %r2, [%r10-16]
         stxdw [%r1+0], %r2
         mov %r0, 0
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(proven(&v, 0), Some(RegionKind::Frame));
    assert_eq!(proven(&v, 4), Some(RegionKind::Frame));
    assert_eq!(proven(&v, 6), Some(RegionKind::Frame));
    assert_eq!(proven(&v, 8), Some(RegionKind::CallerFrame));
}

#[test]
fn callee_frame_pointer_is_dead_after_return() {
    let e = refused(
        "call local f
         ldxdw %r0, [%r0+0]
         exit
         f:
         stdw [%r10-8], 0
         mov %r0, %r10
         add %r0, -8
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(e.pc, 1);
}

#[test]
fn unknown_helper_is_refused_in_strict_mode_and_forgets_spills() {
    let text = "ldxdw %r2, [%r1+0]
                stxdw [%r10-8], %r2
                call 99
                ldxdw %r3, [%r10-8]
                ldxb %r0, [%r3+0]
                exit";
    let e = refused(text, VerifyConfig::xdp());
    assert!(matches!(e.kind, ErrorKind::Helper { id: 99, .. }), "{e}");
    let v = elide(text, VerifyConfig::xdp());
    assert!(matches!(v.proof.access(4), AccessFact::Unproven { .. }));
}

#[test]
fn xdp_adjust_head_invalidates_packet_pointers() {
    let e = refused(
        "mov %r6, %r1
         ldxdw %r2, [%r1+0]
         ldxdw %r3, [%r1+8]
         mov %r4, %r2
         add %r4, 4
         mov %r0, 0
         jgt %r4, %r3, out
         stxdw [%r10-8], %r2
         mov %r1, %r6
         mov %r2, 0
         call 44
         ldxdw %r2, [%r10-8]
         ldxb %r0, [%r2+0]
         out:
         exit",
        VerifyConfig::xdp(),
    );
    assert_eq!(e.pc, 12);
}

#[test]
fn context_is_read_only() {
    let e = refused("stdw [%r1+0], 0\nmov %r0, 0\nexit", VerifyConfig::xdp());
    assert!(e.to_string().contains("read-only"), "{e}");
}

#[test]
fn atomics_need_alignment() {
    let v = accepted(
        "stdw [%r10-8], 0
         mov %r1, 1
         lock add [%r10-8], %r1
         mov %r0, 0
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(proven(&v, 2), Some(RegionKind::Frame));
    let e = refused(
        "stdw [%r10-16], 0
         stdw [%r10-8], 0
         mov %r1, 1
         lock add [%r10-12], %r1
         mov %r0, 0
         exit",
        VerifyConfig::mem(),
    );
    assert!(e.to_string().contains("aligned"), "{e}");
}

#[test]
fn diamonds_are_pruned() {
    // 20 independent if/else diamonds: 2^20 paths without pruning.
    let mut text = String::from("mov %r0, 0\nmov %r6, 0\n");
    for i in 0..20 {
        text.push_str(&format!(
            "ldxb %r3, [%r10-1]\njeq %r3, {i}, l{i}\nmov %r4, 1\nl{i}:\n"
        ));
    }
    text.push_str("exit");
    let text = format!("stxb [%r10-1], %r2\n{text}");
    let v = accepted(&text, VerifyConfig::mem());
    assert!(v.stats.processed < 2_000, "{:?}", v.stats);
    assert!(v.stats.pruned > 0);
}

#[test]
fn error_message_is_kernel_style() {
    let e = refused(
        "ldxdw %r2, [%r1+0]\nldxb %r0, [%r2+0]\nexit",
        VerifyConfig::xdp(),
    );
    let text = e.to_string();
    assert!(text.starts_with("pc 1: ldxb %r0, [%r2]"), "{text}");
    assert!(text.contains("state: r1=ctx(off=0) r2=pkt(off=0"), "{text}");
    assert!(text.contains("invalid memory access"), "{text}");
}

#[test]
fn log_has_a_line_per_processed_instruction() {
    let v = verify(&prog(PACKET_IDIOM), &VerifyConfig::xdp().with_log(true)).unwrap();
    assert!(v.log.len() >= v.stats.processed as usize - v.stats.pruned as usize);
    assert!(v.log[0].starts_with("0: ldxdw %r2, [%r1]"), "{}", v.log[0]);
    assert!(v.log.iter().any(|l| l.contains("pkt(off=0,r=14")));
}

/// A loop over the whole input: the path exploration cannot finish, so
/// elide mode falls back to widening, which proves `p[i]` from `i < len`.
const INPUT_LOOP: &str = "mov %r0, 0
                          mov %r3, 0
                          jeq %r2, 0, out
                          top:
                          mov %r4, %r1
                          add %r4, %r3
                          ldxb %r5, [%r4+0]
                          add %r0, %r5
                          add %r3, 1
                          jlt %r3, %r2, top
                          out:
                          exit";

#[test]
fn loop_over_the_input_is_proven_by_widening_in_elide_mode() {
    let mut conf = VerifyConfig::mem();
    conf.complexity_limit = 10_000;
    let v = elide(INPUT_LOOP, conf.clone());
    assert_eq!(proven(&v, 5), Some(RegionKind::Input));
    assert!(!v.proof.terminates(), "widening proves no bound");
    assert!(v.incomplete.is_none());
    // One byte further is not proven: i + 1 may be the length.
    let v = elide(&INPUT_LOOP.replace("[%r4+0]", "[%r4+1]"), conf);
    assert!(matches!(v.proof.access(5), AccessFact::Unproven { .. }));
}

/// The memcpy workload's shape: a loop over `i < L / 2` copying
/// `p[i]` to `p[L / 2 + i]`.
const HALF_COPY: &str = "mov %r0, 0
     mov %r3, %r2
     rsh %r3, 1
     mov %r4, %r1
     add %r4, %r3
     jlt %r2, 2, +9
     mov %r5, 0
     mov %r0, %r4
     add %r0, %r5
     mov %r6, %r1
     add %r6, %r5
     ldxb %r6, [%r6]
     stxb [%r0], %r6
     add %r5, 1
     jlt %r5, %r3, -8
     exit";

#[test]
fn loop_bounded_by_half_the_length_is_proven() {
    let v = elide(HALF_COPY, VerifyConfig::mem());
    assert_eq!(proven(&v, 11), Some(RegionKind::Input), "{:?}", v.proof);
    assert_eq!(proven(&v, 12), Some(RegionKind::Input), "{:?}", v.proof);
}

#[test]
fn loop_bounded_by_half_the_length_past_the_half_is_not_proven() {
    // The destination starts at L / 2 + 1: the last store is one past L
    // when L is even.
    let shifted = HALF_COPY.replace("add %r4, %r3", "add %r4, %r3\n     add %r4, 1");
    let v = elide(&shifted, VerifyConfig::mem());
    assert_eq!(proven(&v, 12), Some(RegionKind::Input), "{:?}", v.proof);
    assert_eq!(proven(&v, 13), None, "{:?}", v.proof);
    // A quarter is not a half: p + L/4 + i with i < L/2 may pass L.
    let quarter = HALF_COPY
        .replace(
            "rsh %r3, 1",
            "rsh %r3, 1\n     mov %r7, %r2\n     rsh %r7, 2",
        )
        .replace("add %r4, %r3", "add %r4, %r7");
    let v = elide(&quarter, VerifyConfig::mem());
    assert_eq!(proven(&v, 14), None, "{:?}", v.proof);
}

#[test]
fn scaled_index_below_a_fraction_of_the_length_is_proven() {
    // for (i = 0; i < L / 64; i++) sum += p[i * 64 + 63]
    let v = elide(
        "mov %r0, 0
         mov %r3, %r2
         rsh %r3, 6
         jeq %r3, 0, +9
         mov %r5, 0
         mov %r6, %r5
         lsh %r6, 6
         mov %r7, %r1
         add %r7, %r6
         ldxb %r8, [%r7+63]
         add %r0, %r8
         add %r5, 1
         jlt %r5, %r3, -8
         exit",
        VerifyConfig::mem(),
    );
    assert_eq!(proven(&v, 9), Some(RegionKind::Input), "{:?}", v.proof);
}

/// The packet workload's shape: a pointer strides by 64 while a counter
/// counts to `L / 64`; `[r1+OFF]` reads byte `64 * i + 16 + OFF`.
fn strided(off: i32) -> Verified {
    elide(
        &format!(
            "mov %r0, 0
             jlt %r2, 64, +8
             rsh %r2, 6
             mov %r3, 0
             add %r1, 16
             ldxb %r4, [%r1{off:+}]
             add %r0, %r4
             add %r3, 1
             add %r1, 64
             jlt %r3, %r2, -5
             exit"
        ),
        VerifyConfig::mem(),
    )
}

#[test]
fn pointer_striding_with_a_counter_is_proven() {
    for off in [-16, 0, 47] {
        let v = strided(off);
        assert_eq!(
            proven(&v, 5),
            Some(RegionKind::Input),
            "{off}: {:?}",
            v.proof
        );
    }
}

#[test]
fn pointer_striding_past_its_stride_is_not_proven() {
    for off in [-17, 48] {
        let v = strided(off);
        assert_eq!(proven(&v, 5), None, "{off}: {:?}", v.proof);
    }
}

#[test]
fn elide_mode_hands_a_long_loop_to_the_fallback_and_keeps_its_accesses() {
    // 100 trips: more than elide mode's path exploration follows, so the
    // widening fallback runs; the stack access stays proven, the trip bound
    // is lost (the budget stays). Strict mode follows it to the end.
    let text = "mov %r0, 0
         mov %r1, 0
         stdw [%r10-8], 0
         top:
         ldxdw %r2, [%r10-8]
         add %r0, %r2
         add %r1, 1
         jlt %r1, 100, top
         exit";
    let v = elide(text, VerifyConfig::mem());
    assert_eq!(proven(&v, 3), Some(RegionKind::Frame));
    assert!(matches!(v.proof.loops(), [LoopFact::Unproven { .. }]));
    assert!(v.stats.processed < 100, "{:?}", v.stats);
    let v = accepted(text, VerifyConfig::mem());
    assert!(matches!(
        v.proof.loops(),
        [LoopFact::Bounded { max_trips: 99, .. }]
    ));
}
