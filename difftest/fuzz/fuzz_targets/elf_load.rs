//! Arbitrary bytes (seeded with the example objects, `corpus/elf_load/`)
//! through the ELF loader: parsing, loading every program it finds (as a
//! program of its section's type, else as a memory-buffer program) and
//! loading each as the entry of a program set never panic. Every loaded
//! program then runs once under the interpreter with a small budget, its
//! tail calls followed, so maps, helpers and the chain driver see hostile
//! objects too.
#![no_main]

use cranebpf_runtime::ctx::ProgramType;
use cranebpf_runtime::elf::{LoadOptions, Object};
use cranebpf_runtime::kernel::KernelOptions;
use cranebpf_runtime::{Interpreter, RunOptions};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fn options(prog_type: Option<ProgramType>) -> LoadOptions {
    LoadOptions {
        prog_type,
        kernel: KernelOptions {
            printk: Some(Arc::new(|_| {})),
            ..KernelOptions::default()
        },
        ..LoadOptions::default()
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(obj) = Object::parse(data) else {
        return;
    };
    let names: Vec<String> = obj.programs().iter().map(|p| p.name.clone()).collect();
    for name in &names {
        let typed = ProgramType::for_section(&obj.program(name).map_or("", |p| &p.section))
            .unwrap_or_else(ProgramType::mem);
        let Ok(set) = obj.load_set(name, options(Some(typed))) else {
            let _ = obj.load_with(name, options(None));
            continue;
        };
        let interps: Vec<Option<Interpreter>> = set
            .programs()
            .iter()
            .map(|p| {
                p.as_ref()
                    .and_then(|p| Interpreter::new(p.program(), p.helpers().clone()).ok())
            })
            .collect();
        let opts = RunOptions {
            budget: Some(10_000),
        };
        if set.entry().prog_type().name == "xdp" {
            let mut packet = vec![0u8; 64];
            packet[12..14].copy_from_slice(&[0x08, 0x00]);
            let _ = set.run_xdp(&mut packet, &opts, &interps);
        } else if set.entry().prog_type().ctx.is_none() {
            let mut buf = vec![0u8; 64];
            let _ = set.run_mem(&mut buf, &opts, &interps);
        }
    }
});
