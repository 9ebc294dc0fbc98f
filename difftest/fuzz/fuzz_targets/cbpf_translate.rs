//! Arbitrary bytes through the classic BPF loader and translator: the
//! checker, the disassembler and the translator never panic; whatever the
//! checker accepts and the translator translates passes the eBPF validator,
//! and the interpreter and the JIT agree on its result for a packet.
//!
//! Layout: byte 0 chooses the flavor (bit 0: seccomp) and the packet length
//! (the other bits); the filter is the following whole 8-byte instructions
//! up to the packet, which is the tail.
#![no_main]

use cranebpf::filter::{disassemble, text, translate, CbpfProgram, Flavor, PacketMeta};
use cranebpf::{EngineKind, MemoryMap, Prepared, RunOptions, Stack, Vm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let flavor = if mode & 1 == 0 { Flavor::Socket } else { Flavor::Seccomp };
    let packet_len = ((mode >> 1) as usize * 2).min(rest.len());
    let (code, packet) = rest.split_at(rest.len() - packet_len);
    let Ok(filters) = text::from_bytes(&code[..code.len() / 8 * 8]) else {
        return;
    };
    let _ = disassemble(&filters);
    let Ok(checked) = CbpfProgram::new(filters, flavor) else {
        return;
    };
    let Ok(program) = translate(&checked) else {
        return;
    };
    let meta = PacketMeta::with_len(packet.len() as u32 + (mode as u32 & 0x30)).to_bytes();
    let mut seccomp = [0u8; 64];
    let n = packet.len().min(64);
    seccomp[..n].copy_from_slice(&packet[..n]);
    let mut results = Vec::new();
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let vm = Vm::new(&program, cranebpf::Helpers::new(), engine).expect("a translated filter prepares");
        let mut mem = MemoryMap::new();
        let args = match flavor {
            Flavor::Socket => {
                let p = mem.add_ref(packet);
                let m = mem.add_ref(&meta);
                [p.start, m.start, 0, 0, 0]
            }
            Flavor::Seccomp => [mem.add_ref(&seccomp).start, 0, 0, 0, 0],
        };
        let mut stack = Stack::new();
        let out = Prepared::run(&vm, &mut stack, &mut mem, args, &RunOptions::default(), None);
        let r0 = out.result.expect("a translated filter never faults");
        assert!(r0 <= u32::MAX as u64, "A is 32-bit: {r0:#x}");
        results.push(r0);
    }
    assert_eq!(results[0], results[1], "engines differ on\n{}", disassemble(checked.filters()));
});
