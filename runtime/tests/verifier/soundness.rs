//! Containment: programs the verifier proves run on many inputs under the
//! interpreter (which checks every access), and no proven access ever
//! faults out of bounds. Packets are pseudo-random with a fixed, printed
//! seed, biased towards the headers the programs parse (Ethernet type
//! IPv4/IPv6/VLAN, IPv4 version and protocols) and every length from 0 up.

use super::corpus::{files, objects};
use cranebpf_runtime::analysis::verifier::{verify, VerifyConfig};
use cranebpf_runtime::elf::Object;
use cranebpf_runtime::{FaultKind, Helpers, Interpreter, MemoryMap, Program, RunOptions};

/// xorshift64*, seeded.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// A packet of `len` bytes that often looks like Ethernet + IP + L4.
fn packet(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut p: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
    let mut set = |i: usize, v: u8| {
        if i < p.len() {
            p[i] = v;
        }
    };
    if !rng.next().is_multiple_of(4) {
        let (a, b) = rng.pick(&[(0x08, 0x00), (0x86, 0xdd), (0x81, 0x00), (0x08, 0x06)]);
        set(12, a);
        set(13, b);
        set(14, rng.pick(&[0x45, 0x46, 0x4f, 0x60, 0x08]));
        set(16, rng.pick(&[0x08, 0x00]));
        set(17, rng.pick(&[0x00, 0x45]));
        set(20, 0);
        set(21, 0);
        let proto = rng.pick(&[6u8, 17, 1, 58]);
        set(23, proto);
        set(20, rng.pick(&[6u8, 17, 0]));
    }
    p
}

#[test]
fn proven_accesses_never_fault_under_the_interpreter() {
    let seed = 0x5eed_0012;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let mut runs = 0;
    for path in objects() {
        let obj = Object::parse(&std::fs::read(&path).unwrap()).unwrap();
        for p in obj.programs() {
            let Ok(loaded) = obj.load(&p.name) else {
                continue;
            };
            if loaded.prog_type().name != "xdp" {
                continue;
            }
            let v = verify(loaded.program(), &VerifyConfig::for_loaded(&loaded)).unwrap();
            let interp = Interpreter::new(loaded.program(), loaded.helpers().clone()).unwrap();
            for i in 0..400 {
                let len = if i < 100 {
                    i
                } else {
                    (rng.next() % 200) as usize
                };
                let mut pkt = packet(&mut rng, len);
                let out = loaded.run_xdp(
                    &mut pkt,
                    &RunOptions {
                        budget: Some(1_000_000),
                    },
                    &interp,
                );
                runs += 1;
                if let Err(f) = out.result {
                    if let FaultKind::OutOfBounds { .. } = f.kind {
                        let index = loaded.program().index_of_pc(f.pc).unwrap();
                        assert!(
                            !v.proof.is_proven(index),
                            "{} {}: proven access at pc {} faulted: {f:?}",
                            path.display(),
                            p.name,
                            f.pc
                        );
                    }
                }
            }
        }
    }
    assert!(runs > 1000, "{runs} runs");
}

#[test]
fn widened_proofs_of_the_raw_workloads_never_fault_under_the_interpreter() {
    let seed = 0x5eed_0013;
    println!("seed {seed:#x}");
    let mut rng = Rng(seed);
    let mut proven_total = 0;
    for path in files("benches/workloads/bin", "bin") {
        let prog = Program::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
        let mut conf = VerifyConfig::mem();
        conf.complexity_limit = 50_000;
        let v = verify(&prog, &conf).unwrap();
        proven_total += v.proof.coverage().0;
        let Ok(interp) = Interpreter::new(&prog, Helpers::new()) else {
            continue;
        };
        for len in (0..40).chain([63, 64, 65, 127, 128, 200]) {
            let mut input = packet(&mut rng, len);
            let args = [input.as_mut_ptr() as u64, len as u64, 0, 0, 0];
            let mut mem = MemoryMap::new();
            mem.add_mut(&mut input);
            let out = interp.run_with(
                &mut mem,
                args,
                &RunOptions {
                    budget: Some(1_000_000),
                },
                None,
            );
            if let Err(f) = out.result {
                if let FaultKind::OutOfBounds { .. } = f.kind {
                    let index = prog.index_of_pc(f.pc).unwrap();
                    assert!(
                        !v.proof.is_proven(index),
                        "{}: proven access at pc {} faulted (input length {len}): {f:?}",
                        path.display(),
                        f.pc
                    );
                }
            }
        }
    }
    assert!(proven_total > 0, "the widening proved nothing");
}

/// Found by the `verifier` fuzz target: an input pointer moved far past the
/// end by a constant (`r1 += 8257552`) and read *before* itself
/// (`[r1 - 4]`). The range rule took the pointer's range 0 ("nothing
/// known") as `r1 <= end` and proved the read, which faults on a 64-byte
/// input. Range 0 proves nothing now.
#[test]
fn an_access_before_a_pointer_of_unknown_range_is_not_proven() {
    let src = "mov %r0, 0\njlt %r2, 64, +4\nadd %r1, 8257552\nldxb %r0, [%r1-4]\nexit\nexit\nexit";
    let insns = cranebpf_runtime::asm::assemble(src).unwrap();
    let prog = Program::from_insns(&insns).unwrap();
    let v = verify(&prog, &VerifyConfig::mem()).unwrap();
    let read = prog.index_of_pc(3).unwrap();
    assert!(!v.proof.is_proven(read), "the read at pc 3 was proven");
    let mut input = vec![0u8; 64];
    let args = [input.as_mut_ptr() as u64, 64, 0, 0, 0];
    let mut mem = MemoryMap::new();
    mem.add_mut(&mut input);
    let interp = Interpreter::new(&prog, Helpers::new()).unwrap();
    let out = interp.run_with(&mut mem, args, &RunOptions { budget: None }, None);
    assert!(
        matches!(out.result, Err(ref f) if matches!(f.kind, FaultKind::OutOfBounds { .. })),
        "{:?}",
        out.result
    );
}
