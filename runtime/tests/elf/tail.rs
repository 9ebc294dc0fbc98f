//! Tail calls: `examples/bpf/dispatch.o` (a dispatcher tail-calling
//! handlers through a program array filled by its BTF `values`
//! initialiser) against the Rust model, under the interpreter.

use super::{models, object, packets, u64s};
use cranebpf_runtime::elf::{LoadOptions, ProgramSet};
use cranebpf_runtime::{Interpreter, RunOptions};

fn interps(set: &ProgramSet) -> Vec<Option<Interpreter>> {
    set.programs()
        .iter()
        .map(|p| {
            p.as_ref()
                .map(|p| Interpreter::new(p.program(), p.helpers().clone()).unwrap())
        })
        .collect()
}

#[test]
fn dispatch_values_initialiser_fills_the_program_array() {
    let obj = object("dispatch.o");
    let names: Vec<&str> = obj.programs().iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["xdp_dispatch", "handle_ipv4", "handle_ipv6", "handle_tcp"]
    );
    let slots: Vec<Option<u32>> = (0..4)
        .map(|i| obj.map("handlers").unwrap().prog_at(i))
        .collect();
    assert_eq!(slots, [Some(1), Some(2), None, Some(3)]);
}

#[test]
fn dispatch_matches_model_under_interpreter() {
    let obj = object("dispatch.o");
    let set = obj
        .load_set("xdp_dispatch", LoadOptions::default())
        .unwrap();
    let it = interps(&set);
    let mut model = models::Dispatch::default();
    for (i, p) in packets::packets().into_iter().enumerate() {
        let before = model.tail_calls;
        let want = model.run(&p);
        let out = set.run_xdp(&mut p.clone(), &RunOptions::default(), &it);
        assert_eq!(out.outcome.result, Ok(want), "packet {i}");
        assert_eq!(out.tail_calls, model.tail_calls - before, "packet {i}");
        assert_eq!(
            set.program(out.program).unwrap().name(),
            model.last,
            "packet {i}"
        );
    }
    let hits: Vec<u64> = obj
        .map("hits")
        .unwrap()
        .entries()
        .iter()
        .map(|(_, v)| u64s(v)[0])
        .collect();
    assert_eq!(hits, model.hits);
    let bss = obj
        .map(".bss")
        .unwrap()
        .lookup(&0u32.to_le_bytes())
        .unwrap();
    assert_eq!(
        u64s(&bss),
        [model.dispatched, model.missed, model.tcp_bytes]
    );
    assert!(model.hits.iter().all(|&h| h > 0) || model.hits[2] == 0);
    assert!(model.missed > 0 && model.hits[3] > 0, "{model:?}");
}
