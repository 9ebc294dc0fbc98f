use super::*;
use crate::engine::fault::FaultKind;
use crate::host::maps::{MapDef, MapType};
use crate::isa::asm;
use crate::{Interpreter, Program, RunOptions};

fn map(t: MapType, key: u32, value: u32, n: u32) -> Map {
    let def = MapDef {
        map_type: t,
        key_size: key,
        value_size: value,
        max_entries: n,
        flags: 0,
    };
    Map::new("m", def).unwrap()
}

/// Runs assembly with kernel helpers over `maps` (handle of map i in the
/// text as `MAP<i>`); r1 = a 16-byte scratch buffer.
fn run(src: &str, maps: &[Map], opts: &KernelOptions) -> Result<u64, crate::Fault> {
    let mut text = src.to_string();
    for i in 0..maps.len() {
        text = text.replace(&format!("MAP{i}"), &format!("{:#x}", map_handle(i)));
    }
    let prog = Program::from_insns(&asm::assemble(&text).unwrap()).unwrap();
    let all: Vec<u32> = (0..200).collect();
    let it = Interpreter::new(&prog, kernel_helpers(maps, &all, opts)).unwrap();
    let mut buf = [0u8; 16];
    let mut runst = KernelRun::new();
    let mut mem = MemoryMap::new();
    let r = mem.add_mut(&mut buf);
    let out = it.run_with(
        &mut mem,
        [r.start, 16, 0, 0, 0],
        &RunOptions::default(),
        Some(&mut runst),
    );
    out.result
}

#[test]
fn map_value_outlives_delete_within_the_run() {
    let m = map(MapType::Hash, 4, 8, 4);
    m.update(&7u32.to_le_bytes(), &99u64.to_le_bytes(), UpdateFlags::Any)
        .unwrap();
    // r6 = lookup(7); delete(7); r0 = *r6  (still the detached value)
    let src = "
        mov %r7, %r1
        stw [%r7+0], 7
        lddw %r1, MAP0
        mov %r2, %r7
        call 1
        mov %r6, %r0
        lddw %r1, MAP0
        mov %r2, %r7
        call 3
        ldxdw %r0, [%r6+0]
        exit";
    assert_eq!(
        run(src, std::slice::from_ref(&m), &KernelOptions::default()),
        Ok(99)
    );
    assert_eq!(m.len(), 0);
}

#[test]
fn map_update_flags_return_kernel_errnos() {
    let m = map(MapType::Hash, 4, 8, 1);
    // update(k=0, NOEXIST) twice: 0 then -EEXIST; then k=1 (full): -E2BIG.
    let src = "
        mov %r6, %r1
        lddw %r1, MAP0
        mov %r2, %r6
        mov %r3, %r6
        mov %r4, 1
        call 2
        lddw %r1, MAP0
        mov %r2, %r6
        mov %r3, %r6
        mov %r4, 1
        call 2
        mov %r7, %r0
        stw [%r6+0], 1
        lddw %r1, MAP0
        mov %r2, %r6
        mov %r3, %r6
        mov %r4, 0
        call 2
        lsh %r0, 32
        and %r7, 0xffff
        or %r0, %r7
        exit";
    let r = run(src, &[m], &KernelOptions::default()).unwrap();
    assert_eq!(r as u32 as u16, (-17i16) as u16); // EEXIST
    assert_eq!((r >> 32) as u32 as i32, -7); // E2BIG
}

#[test]
fn ringbuf_record_is_a_region_until_submitted() {
    let rb = map(MapType::RingBuf, 0, 0, 64);
    // r6 = reserve(8); *r6 = 42; submit(r6); *r6 = 1 -> fault
    let src = "
        lddw %r1, MAP0
        mov %r2, 8
        mov %r3, 0
        call 131
        mov %r6, %r0
        stdw [%r6+0], 42
        mov %r1, %r6
        mov %r2, 0
        call 132
        stdw [%r6+0], 1
        exit";
    let e = run(src, std::slice::from_ref(&rb), &KernelOptions::default()).unwrap_err();
    assert!(matches!(e.kind, FaultKind::OutOfBounds { .. }), "{e:?}");
    assert_eq!(
        rb.ringbuf_pop().unwrap(),
        Some(42u64.to_le_bytes().to_vec())
    );
}

#[test]
fn ringbuf_unsubmitted_reservation_is_discarded_at_run_end() {
    let rb = map(MapType::RingBuf, 0, 0, 16);
    let src = "
        lddw %r1, MAP0
        mov %r2, 8
        mov %r3, 0
        call 131
        mov %r0, 0
        exit";
    for _ in 0..3 {
        // Each run's reservation (16 of the 16 bytes) is returned at the end.
        assert_eq!(
            run(src, std::slice::from_ref(&rb), &KernelOptions::default()),
            Ok(0)
        );
    }
    assert_eq!(rb.ringbuf_pop().unwrap(), None);
    rb.ringbuf_output(b"12345678").unwrap();
}

#[test]
fn bad_map_handle_faults_in_the_helper() {
    let src = "
        lddw %r1, 0x1234
        mov %r2, %r10
        sub %r2, 8
        call 1
        exit";
    let e = run(src, &[], &KernelOptions::default()).unwrap_err();
    assert!(matches!(e.kind, FaultKind::Helper { id: 1, .. }), "{e:?}");
}

#[test]
fn helpers_need_a_kernel_run() {
    // Map helpers keep per-run state: without a `KernelRun` they fault.
    let m = map(MapType::Array, 4, 8, 1);
    let src = format!("lddw %r1, {:#x}\nmov %r2, %r1\ncall 1\nexit", map_handle(0));
    let prog = Program::from_insns(&asm::assemble(&src).unwrap()).unwrap();
    let it =
        Interpreter::new(&prog, kernel_helpers(&[m], &[1], &KernelOptions::default())).unwrap();
    let e = it.run(&mut [0u8; 4]).unwrap_err();
    assert!(matches!(e.kind, FaultKind::Helper { id: 1, .. }));
}

#[test]
fn printk_formats_like_the_kernel() {
    let mut s = *b"hi\0\0";
    let mut mem = MemoryMap::new();
    let r = mem.add_mut(&mut s);
    let f = |fmt: &str, a: [u64; 3]| format_printk(&mem, fmt.as_bytes(), a);
    assert_eq!(
        f("%d %u %x", [-5i64 as u64, u64::MAX, 255]),
        "-5 4294967295 ff"
    );
    assert_eq!(
        f("%lld %llx %%", [-5i64 as u64, u64::MAX, 0]),
        "-5 ffffffffffffffff %"
    );
    assert_eq!(f("[%s] %c\0junk", [r.start, 65, 0]), "[hi] A");
    assert_eq!(f("%s", [8, 0, 0]), "(fault)");
}

#[test]
fn printk_goes_to_the_sink_and_prandom_is_seeded() {
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let l2 = lines.clone();
    let opts = KernelOptions {
        printk: Some(Arc::new(move |s: &str| {
            l2.lock().unwrap().push(s.to_string())
        })),
        prandom_seed: 1,
    };
    // "n=%d\0" at r1; printk(r1, 5, 7); r0 = prandom
    let src = "
        stw [%r1+0], 0x253d6e
        stb [%r1+3], 0x64
        mov %r2, 5
        mov %r3, 7
        call 6
        call 7
        exit";
    let a = run(src, &[], &opts).unwrap();
    let b = run(src, &[], &opts).unwrap();
    assert_eq!(*lines.lock().unwrap(), ["n=7", "n=7"]);
    assert_eq!(a, b, "same seed, same first value");
    assert!(a <= u64::from(u32::MAX));
}

#[test]
fn ktime_is_monotonic_and_cpu_is_zero() {
    // r6 = ktime; r7 = ktime; r0 = (r7 >= r6) + cpu id (0)
    let src = "
        call 5
        mov %r6, %r0
        call 5
        mov %r7, %r0
        call 8
        jlt %r7, %r6, +1
        add %r0, 1
        exit";
    assert_eq!(run(src, &[], &KernelOptions::default()), Ok(1));
}

#[test]
fn perf_event_output_queues_records_and_returns_the_kernels_errnos() {
    let perf = map(MapType::PerfEventArray, 4, 4, 2);
    // r6 = output(CURRENT_CPU) before any slot is open (-ENOENT); then
    // slot 0 opened: output(CURRENT_CPU) = 0, output(slot 5) = -E2BIG,
    // output(flags 1 << 32) = -EINVAL. r0 packs the four low bytes.
    let out = |flags: &str| {
        format!(
            "mov %r1, %r9\nlddw %r2, MAP0\nlddw %r3, {flags}\nmov %r4, %r8\nmov %r5, 8\ncall 25\n"
        )
    };
    let src = format!(
        "mov %r9, %r1\nmov %r8, %r1\nlddw %r2, 0x1122334455667788\nstxdw [%r8+0], %r2\n{}and %r0, 0xff\nmov %r6, %r0\nexit",
        out("0xffffffff")
    );
    assert_eq!(
        run(&src, std::slice::from_ref(&perf), &KernelOptions::default()),
        Ok((-2i64 as u64) & 0xff)
    );
    perf.perf_open(0).unwrap();
    let src = format!(
        "mov %r9, %r1\nmov %r8, %r1\nlddw %r2, 0x1122334455667788\nstxdw [%r8+0], %r2\n\
         {}mov %r6, %r0\n{}and %r0, 0xff\nlsh %r0, 8\nor %r6, %r0\n{}and %r0, 0xff\nlsh %r0, 16\nor %r6, %r0\nmov %r0, %r6\nexit",
        out("0xffffffff"),
        out("5"),
        out("0x100000000")
    );
    let r = run(&src, std::slice::from_ref(&perf), &KernelOptions::default()).unwrap();
    assert_eq!(r & 0xff, 0, "{r:#x}");
    assert_eq!((r >> 8) & 0xff, (-7i64 as u64) & 0xff, "E2BIG: {r:#x}");
    assert_eq!((r >> 16) & 0xff, (-22i64 as u64) & 0xff, "EINVAL: {r:#x}");
    assert_eq!(
        perf.perf_pop().unwrap(),
        Some((0, 0x1122334455667788u64.to_le_bytes().to_vec()))
    );
    assert_eq!(perf.perf_pop().unwrap(), None);
}
