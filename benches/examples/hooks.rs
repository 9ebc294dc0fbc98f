//! Packets per second of the socket filter and tc examples: cranebpf's JIT
//! and interpreter beside the same C compiled natively, over the example
//! capture repeated, with every engine's verdicts and output packets
//! checked against the native run's.
//!
//! ```sh
//! cargo run --release -p cranebpf-benches --example hooks -- [REPEAT] [ROUNDS]
//! ```

use cranebpf::EngineKind;
use cranebpf_benches::hooks::{engine, native, Hook, HookRun};

fn main() {
    let mut args = std::env::args().skip(1);
    let repeat: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let base: Vec<Vec<u8>> = cranebpf_testkit::packets::packets()
        .into_iter()
        .filter(|f| f.len() >= 14)
        .collect();
    let frames: Vec<Vec<u8>> = (0..repeat).flat_map(|_| base.iter().cloned()).collect();
    println!(
        "{} frames ({} of the example capture × {repeat}), best of {rounds} rounds\n",
        frames.len(),
        base.len()
    );
    println!("| program | runner | ns/packet | packets/s | × native |");
    println!("|---|---|---:|---:|---:|");
    let mut failed = false;
    for hook in [Hook::SocketFilter, Hook::TcDnat] {
        let reference = best(rounds, || Ok(native(hook, &frames)));
        let Ok(reference) = reference else { continue };
        row(
            hook,
            "native C (-O2)",
            &reference,
            reference.seconds,
            frames.len(),
        );
        for (label, kind) in [
            ("cranebpf JIT", EngineKind::Jit),
            ("cranebpf interpreter", EngineKind::Interpreter),
        ] {
            match best(rounds, || engine(hook, &frames, kind)) {
                Ok(run) => {
                    row(hook, label, &run, reference.seconds, frames.len());
                    failed |= !agrees(hook, label, &reference, &run);
                }
                Err(e) => {
                    eprintln!("{hook:?} {label}: {e}");
                    failed = true;
                }
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}

/// The fastest of `rounds` runs.
fn best(
    rounds: usize,
    mut run: impl FnMut() -> Result<HookRun, String>,
) -> Result<HookRun, String> {
    let mut best: Option<HookRun> = None;
    for _ in 0..rounds.max(1) {
        let r = run()?;
        if best.as_ref().is_none_or(|b| r.seconds < b.seconds) {
            best = Some(r);
        }
    }
    best.ok_or_else(|| "no round".into())
}

fn row(hook: Hook, label: &str, run: &HookRun, native_seconds: f64, n: usize) {
    let ns = run.seconds * 1e9 / n as f64;
    println!(
        "| {hook:?} | {label} | {ns:.1} | {:.0} | {:.2} |",
        n as f64 / run.seconds,
        run.seconds / native_seconds
    );
}

/// Whether `run` gives the native build's verdict and packet on every
/// frame; the first difference is printed.
fn agrees(hook: Hook, label: &str, native: &HookRun, run: &HookRun) -> bool {
    let diff = (0..native.verdicts.len())
        .find(|&i| native.verdicts[i] != run.verdicts[i] || native.hashes[i] != run.hashes[i]);
    match diff {
        None => true,
        Some(i) => {
            eprintln!(
                "{hook:?} {label}: frame {i}: verdict {} (native {}), packet hash {:x} (native {:x})",
                run.verdicts[i], native.verdicts[i], run.hashes[i], native.hashes[i]
            );
            false
        }
    }
}
