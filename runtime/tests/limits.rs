//! One test per loader limit (issue 17): each hostile object is refused
//! with an error naming what went past which limit, and the process's peak
//! resident memory (`getrusage`'s `ru_maxrss`) stays far below what the
//! object asked for. This binary holds only these tests, so the peak is
//! theirs.

use cranebpf_runtime::elf::{ElfError, Object, ObjectLimits, MAX_OBJECT_PROGRAMS};
use cranebpf_runtime::maps::{Map, MapDef, MapError, MapType, UpdateFlags, DEFAULT_MAPS_BUDGET};

/// The tests take turns, so one test's memory never shows in another's
/// figures.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Peak resident set size of this process so far, in MiB.
fn peak_rss_mib() -> u64 {
    // SAFETY: `getrusage` fills the zeroed struct we pass; no other effect.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: as above; RUSAGE_SELF is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    assert_eq!(rc, 0, "getrusage");
    u.ru_maxrss as u64 / 1024 // KiB on Linux
}

/// Resident set size now, in KiB.
fn rss_kib() -> u64 {
    cranebpf_testkit::process::resident_bytes() / 1024
}

/// Peak RSS under which every test here must stay: far below the
/// gigabytes each object asks for.
const PEAK_MIB: u64 = 256;

fn negative(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../examples/bpf/negative/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn report(what: &str, e: &dyn std::fmt::Display) {
    eprintln!("{what}: error: {e}; peak RSS {} MiB", peak_rss_mib());
}

#[test]
fn sixteen_huge_program_arrays_stop_at_the_map_budget() {
    let _turn = serial();
    let e = Object::parse(&negative("huge_prog_arrays.o")).expect_err("over the budget");
    report("16 x 64M-slot program arrays", &e);
    // 4 arrays of 256 MiB fill the 1 GiB budget; the fifth is named.
    match &e {
        ElfError::Map {
            map,
            error: MapError::OverBudget { cost, used, budget },
        } => {
            assert_eq!(map, "arr4");
            assert_eq!(
                (*cost, *used, *budget),
                (256 << 20, 1 << 30, DEFAULT_MAPS_BUDGET)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("map arr4"), "{e}");
    assert!(peak_rss_mib() < PEAK_MIB, "peak RSS {} MiB", peak_rss_mib());
    // A smaller budget stops earlier, and a larger one is the embedder's
    // call (the arrays are allocated a chunk at a time, so even 4 GiB of
    // empty slots stays small).
    let e = Object::parse_with(
        &negative("huge_prog_arrays.o"),
        ObjectLimits::default().with_map_bytes(100 << 20),
    )
    .expect_err("over a 100 MiB budget");
    assert!(e.to_string().contains("map arr0"), "{e}");
    let obj = Object::parse_with(
        &negative("huge_prog_arrays.o"),
        ObjectLimits::default().with_map_bytes(8 << 30),
    )
    .expect("within an 8 GiB budget");
    assert_eq!(obj.maps().len(), 16);
    assert!(peak_rss_mib() < PEAK_MIB, "peak RSS {} MiB", peak_rss_mib());
}

#[test]
fn a_hash_map_is_charged_what_its_entries_cost() {
    let _turn = serial();
    let e = Object::parse(&negative("huge_hash.o")).expect_err("over the per-map limit");
    report("hash of 4.8M entries", &e);
    assert!(e.to_string().contains("map big"), "{e}");
    assert!(e.to_string().contains("1440000000 bytes"), "{e}");
    // The cost of one full entry is more than its 12 key and value bytes.
    let def = MapDef {
        map_type: MapType::Hash,
        key_size: 4,
        value_size: 8,
        max_entries: 1000,
        flags: 0,
    };
    assert!(def.cost() >= 1000 * 250, "{}", def.cost());
    assert!(peak_rss_mib() < PEAK_MIB, "peak RSS {} MiB", peak_rss_mib());
}

/// What a full hash map really takes is at most what it is charged: fill
/// 200 000 entries and compare the growth of the RSS with the cost.
#[test]
fn a_full_hash_map_takes_no_more_than_its_cost() {
    let _turn = serial();
    let n = 200_000u32;
    let def = MapDef {
        map_type: MapType::Hash,
        key_size: 4,
        value_size: 8,
        max_entries: n,
        flags: 0,
    };
    let before = rss_kib();
    let m = Map::new("h", def).expect("map");
    for k in 0..n {
        m.update(
            &k.to_le_bytes(),
            &u64::from(k).to_le_bytes(),
            UpdateFlags::Any,
        )
        .expect("update");
    }
    let grew = rss_kib().saturating_sub(before);
    eprintln!(
        "hash of {n} entries: charged {} KiB, RSS grew {grew} KiB ({} B per entry)",
        def.cost() >> 10,
        grew * 1024 / u64::from(n)
    );
    assert!(
        grew <= def.cost() >> 10,
        "grew {grew} KiB, charged {}",
        def.cost() >> 10
    );
    assert_eq!(m.len(), n as usize);
}

#[test]
fn too_many_programs_are_refused() {
    let _turn = serial();
    let e = Object::parse(&negative("many_programs.o")).expect_err("1025 programs");
    report("1025 programs", &e);
    assert!(
        matches!(e, ElfError::TooMany { what: "programs", limit } if limit == MAX_OBJECT_PROGRAMS),
        "{e:?}"
    );
    let obj = Object::parse_with(
        &negative("many_programs.o"),
        ObjectLimits::default().with_programs(2000),
    )
    .expect("within a larger limit");
    assert_eq!(obj.programs().len(), 1025);
    // The entry does not tail-call, so its set loads it alone (it loaded
    // all 1025 before).
    let set = obj
        .load_set("prog_100", cranebpf_runtime::elf::LoadOptions::default())
        .expect("load");
    assert_eq!(set.programs().iter().filter(|p| p.is_some()).count(), 1);
    assert!(peak_rss_mib() < PEAK_MIB, "peak RSS {} MiB", peak_rss_mib());
}

#[test]
fn too_many_maps_are_refused() {
    let _turn = serial();
    // The 16 program arrays, with room for their bytes but not their count.
    let e = Object::parse_with(
        &negative("huge_prog_arrays.o"),
        ObjectLimits::default()
            .with_map_bytes(u64::MAX)
            .with_maps(10),
    )
    .expect_err("16 maps");
    report("16 maps over a limit of 10", &e);
    assert!(
        matches!(
            e,
            ElfError::TooMany {
                what: "maps",
                limit: 10
            }
        ),
        "{e:?}"
    );
}

#[test]
fn a_ring_buffer_is_charged_its_bytes() {
    let _turn = serial();
    let def = MapDef {
        map_type: MapType::RingBuf,
        key_size: 0,
        value_size: 0,
        max_entries: 1 << 28,
        flags: 0,
    };
    assert_eq!(def.cost(), 1 << 28);
    let e = Map::new(
        "rb",
        MapDef {
            max_entries: 1 << 29,
            ..def
        },
    )
    .expect_err("over 256 MiB");
    report("ring buffer of 512 MiB", &e);
    assert!(e.to_string().contains("ring buffer size"), "{e}");
}

#[test]
fn context_rewriting_keeps_only_the_frame_s_spill_slots() {
    use cranebpf_runtime::ctx::{rewrite_ctx, CtxLayout};
    use cranebpf_runtime::isa::insn::RawInsn;
    let _turn = serial();
    // 4 095 spills of the context pointer at distinct r10 offsets (all but
    // 64 outside the frame, where the frame rule faults), then 45 000
    // `ja +0`, each the leader of a block with its own state.
    let raw = |opcode: u8, dst: u8, src: u8, off: i16, imm: i32| RawInsn {
        opcode,
        dst,
        src,
        off,
        imm,
    };
    let mut slots: Vec<RawInsn> = (1..=4095i16)
        .map(|i| raw(0x7b, 10, 1, -8 * i, 0)) // stxdw [r10 - 8i], r1
        .collect();
    slots.extend((0..45_000).map(|_| raw(0x05, 0, 0, 0, 0))); // ja +0
    slots.push(raw(0xb7, 0, 0, 0, 2)); // mov r0, 2
    slots.push(raw(0x95, 0, 0, 0, 0)); // exit
    let before = peak_rss_mib();
    let out = rewrite_ctx(&slots, &CtxLayout::xdp_md()).expect("rewrite");
    assert_eq!(out.len(), slots.len());
    let grew = peak_rss_mib().saturating_sub(before);
    eprintln!("ctx rewrite, 4 095 spills x 45 000 blocks: peak RSS grew {grew} MiB");
    assert!(grew < 128, "grew {grew} MiB");
}
