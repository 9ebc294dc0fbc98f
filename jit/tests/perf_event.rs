//! `bpf_perf_event_output` to a `BPF_MAP_TYPE_PERF_EVENT_ARRAY` on every
//! engine: the records reach the host in order with their slot, and each
//! refusal returns the kernel's errno (-ENOENT for a slot nobody opened,
//! -E2BIG past the slots, -EINVAL for flags beyond the index). The kernel's
//! own codes for the same calls are compared in
//! `kernel_perf_event_output_return_codes_agree_with_interpreter`
//! (`runtime/tests/elf/kernel.rs`, over examples/bpf/perf_out.o).

use cranebpf::{EngineKind, Program, RunOptions, Vm};
use cranebpf_runtime::kernel::{
    kernel_helpers, map_handle, KernelOptions, HELPER_PERF_EVENT_OUTPUT,
};
use cranebpf_runtime::maps::{Map, MapDef, MapType};

fn perf_map(slots: u32) -> Map {
    let def = MapDef {
        map_type: MapType::PerfEventArray,
        key_size: 4,
        value_size: 4,
        max_entries: slots,
        flags: 0,
    };
    Map::new("events", def).unwrap()
}

/// For i in 0..4: writes i * 0x0101 at input[0..8] and outputs the first
/// `8 + i` bytes of the input to slot `flags`; r0 = the sum of the four
/// return values (as u64).
fn program(flags: u64) -> Program {
    let src = format!(
        "
        mov %r9, %r1
        mov %r7, 0
        mov %r6, 0
    loop:
        mov %r2, %r7
        mul %r2, 0x0101
        stxdw [%r9+0], %r2
        mov %r1, %r9
        lddw %r2, {map:#x}
        lddw %r3, {flags:#x}
        mov %r4, %r9
        mov %r5, %r7
        add %r5, 8
        call 25
        add %r6, %r0
        add %r7, 1
        jlt %r7, 4, loop
        mov %r0, %r6
        exit",
        map = map_handle(0)
    );
    Program::from_insns(&cranebpf::asm::assemble(&src).unwrap()).unwrap()
}

fn run(engine: EngineKind, map: &Map, flags: u64) -> u64 {
    let helpers = kernel_helpers(
        std::slice::from_ref(map),
        &[HELPER_PERF_EVENT_OUTPUT],
        &KernelOptions::default(),
    );
    let vm = Vm::new(&program(flags), helpers, engine).unwrap();
    let mut input = vec![0xaau8; 16];
    vm.run_input(&mut input, &RunOptions::default())
        .result
        .unwrap_or_else(|f| panic!("{engine:?}: {f}"))
}

#[test]
fn perf_event_output_delivers_records_in_order_on_every_engine() {
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let map = perf_map(2);
        // Nobody reads slot 1 yet: -ENOENT four times.
        assert_eq!(run(engine, &map, 1) as i64, -8, "{engine:?}");
        assert_eq!(map.perf_pop().unwrap(), None);
        map.perf_open(1).unwrap();
        assert_eq!(run(engine, &map, 1), 0, "{engine:?}");
        for i in 0..4u64 {
            let mut want = (i * 0x0101).to_le_bytes().to_vec();
            want.extend(std::iter::repeat_n(0xaa, i as usize));
            assert_eq!(
                map.perf_pop().unwrap(),
                Some((1, want)),
                "{engine:?}, record {i}"
            );
        }
        assert_eq!(map.perf_pop().unwrap(), None);
        // BPF_F_CURRENT_CPU is slot 0 (one virtual CPU), not open: -ENOENT.
        assert_eq!(run(engine, &map, 0xffff_ffff) as i64, -8, "{engine:?}");
        // Past the slots: -E2BIG; flags beyond the index: -EINVAL.
        assert_eq!(run(engine, &map, 2) as i64, -28, "{engine:?}");
        assert_eq!(run(engine, &map, 1 << 32 | 1) as i64, -88, "{engine:?}");
        assert_eq!(map.perf_pop().unwrap(), None, "{engine:?}: nothing queued");
    }
}

/// The clang-built example (examples/bpf/perf_out.c) on every engine,
/// with slot 0 opened: its four return codes and the two records.
#[test]
fn perf_out_example_on_every_engine() {
    use cranebpf::ObjectVm;
    use cranebpf_runtime::elf::{LoadOptions, Object};
    let path = format!("{}/../examples/bpf/perf_out.o", env!("CARGO_MANIFEST_DIR"));
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let obj = Object::parse(&std::fs::read(&path).unwrap()).unwrap();
        let set = obj.load_set("xdp_perf", LoadOptions::default()).unwrap();
        let map = |name: &str| {
            set.maps()
                .iter()
                .find(|m| m.name() == name)
                .unwrap()
                .clone()
        };
        let (events, results) = (map("events"), map("results"));
        events.perf_open(0).unwrap();
        let vm = ObjectVm::new(set, engine).unwrap();
        let mut packet: Vec<u8> = (1..=20).collect();
        let out = vm.run_xdp(&mut packet, &RunOptions::default());
        assert_eq!(out.outcome.result, Ok(2), "{engine:?}: XDP_PASS");
        let codes: Vec<i64> = results
            .entries()
            .iter()
            .map(|(_, v)| i64::from_le_bytes(v[..8].try_into().unwrap()))
            .collect();
        assert_eq!(codes, [0, -7, -22, 0], "{engine:?}");
        let mut want: Vec<u8> = (1..=8).collect();
        want.extend(20u64.to_le_bytes());
        assert_eq!(
            events.perf_pop().unwrap(),
            Some((0, want.clone())),
            "{engine:?}"
        );
        assert_eq!(events.perf_pop().unwrap(), Some((0, want)), "{engine:?}");
        assert_eq!(events.perf_pop().unwrap(), None, "{engine:?}");
    }
}
