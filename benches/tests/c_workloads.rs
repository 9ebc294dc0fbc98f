//! Every C workload gives the same r0 in every engine and natively, and a few
//! results are checked against values worked out by hand.

use cranebpf_benches::c_workloads::{Cpu, C_WORKLOADS};
use cranebpf_benches::engines::{insn_count, EngineKind, Runner};

#[test]
fn every_engine_agrees_with_native() {
    for w in &C_WORKLOADS {
        let mut input = (w.input)();
        let expect = w.run_native(&mut input);
        for cpu in Cpu::ALL {
            for engine in EngineKind::ALL {
                let mut input = (w.input)();
                let runner = match Runner::new(w, cpu, engine, input.len()) {
                    Ok(r) => r,
                    // Peers may refuse an ISA level (reported by the
                    // benchmark table); ours must not.
                    Err(e) if engine.is_peer() => {
                        eprintln!("{} {} {}: refused: {e}", w.name, cpu.name(), engine.name());
                        continue;
                    }
                    Err(e) => panic!("{} {} {}: {e}", w.name, cpu.name(), engine.name()),
                };
                let got = runner.run(&mut input);
                assert_eq!(
                    got,
                    Ok(expect),
                    "{} {} {}",
                    w.name,
                    cpu.name(),
                    engine.name()
                );
            }
        }
    }
}

fn run_interp(name: &str, mut input: Vec<u8>) -> u64 {
    let w = C_WORKLOADS
        .iter()
        .find(|w| w.name == name)
        .expect("workload exists");
    let mut out = Vec::new();
    for cpu in Cpu::ALL {
        out.push(insn_count(w, cpu, &mut input).expect("runs").1);
    }
    assert!(out.iter().all(|&x| x == out[0]), "{name}: {out:?}");
    out[0]
}

#[test]
fn hand_checked_results() {
    // The CRC-32 check value of "123456789".
    assert_eq!(run_interp("crc32", b"123456789".to_vec()), 0xCBF4_3926);
    // 25 primes below 100; 4 below 10.
    assert_eq!(run_interp("primes", 100u32.to_le_bytes().to_vec()), 25);
    assert_eq!(run_interp("primes", 10u32.to_le_bytes().to_vec()), 4);
    // log2 of 1, 2, 3, 1<<40, u64::MAX, 0 = 0 + 1 + 1 + 40 + 63 + 0.
    let vals = [1u64, 2, 3, 1 << 40, u64::MAX, 0];
    assert_eq!(
        run_interp("log2", vals.iter().flat_map(|v| v.to_le_bytes()).collect()),
        105
    );
    // Equal halves: 1; "ab" vs "ac": 'b' - 'c' + 1 = 0.
    assert_eq!(run_interp("strcmp", b"abcabc".to_vec()), 1);
    assert_eq!(run_interp("strcmp", b"ab\0ac\0".to_vec()), 0);
    // Copy [1, 2, 3] over the second half: dst[0] + dst[2] = 1 + 3.
    assert_eq!(run_interp("memcpy", vec![1, 2, 3, 0, 0, 0]), 4);
}
