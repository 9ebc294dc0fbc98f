//! Compile and drop programs in a loop (issue 17): every `JitProgram` frees
//! its code when dropped, so the process's resident memory and its
//! executable mappings stay flat however many programs come and go.
//!
//! The loop runs up to 100 000 programs or about 20 s, whichever comes first
//! (a debug build on a loaded CI machine compiles a few thousand a second);
//! the count is bounded by time, the assertions are not.

use cranebpf::{EngineKind, Vm};
use cranebpf_testkit::build::{alu64, helpers, mov, prog, EXIT};
use cranebpf_testkit::process::resident_bytes as rss;
use std::time::{Duration, Instant};

/// Bytes of executable mappings (`/proc/self/maps`, permissions `r-x`/`rwx`),
/// not counting files (the test binary and shared libraries).
fn exec_mapped() -> u64 {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
    maps.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let anonymous = f.len() < 6 || f[5].starts_with('[');
            let exec = f.get(1).is_some_and(|p| p.contains('x'));
            if !(anonymous && exec) {
                return None;
            }
            let (a, b) = f[0].split_once('-')?;
            Some(u64::from_str_radix(b, 16).ok()? - u64::from_str_radix(a, 16).ok()?)
        })
        .sum()
}

#[cfg(target_os = "linux")]
#[test]
fn compiling_and_dropping_programs_keeps_memory_flat() {
    const MAX: u32 = 100_000;
    const WARM: u32 = 200;
    let limit = Duration::from_secs(20);
    let h = helpers();
    let start = Instant::now();
    let mut warm = (0, 0);
    let mut n = 0;
    while n < MAX && (n < 2 * WARM || start.elapsed() < limit) {
        // A different program each time: r0 = n.
        let p = prog(&[
            mov(0, 0),
            alu64(cranebpf::insn::AluOp::Add, 0, n as i32),
            EXIT,
        ]);
        let vm = Vm::new(&p, h.clone(), EngineKind::Jit).expect("compile");
        assert_eq!(vm.run(&mut []), Ok(u64::from(n)));
        drop(vm);
        n += 1;
        if n == WARM {
            warm = (rss(), exec_mapped());
        }
    }
    let end = (rss(), exec_mapped());
    eprintln!(
        "compiled and dropped {n} programs in {:.1} s: RSS {} -> {} KiB, executable mappings {} -> {} KiB",
        start.elapsed().as_secs_f64(),
        warm.0 >> 10,
        end.0 >> 10,
        warm.1 >> 10,
        end.1 >> 10
    );
    // A leak of one page per program would be 4 KiB x n; allow 8 MiB of
    // allocator noise in all.
    assert!(
        end.0 <= warm.0 + (8 << 20),
        "RSS grew: {warm:?} -> {end:?} after {n}"
    );
    assert!(
        end.1 <= warm.1 + (1 << 20),
        "JIT mappings grew: {warm:?} -> {end:?} after {n}"
    );
}
