//! The socket filter and tc examples per packet (issue 13's figures):
//! `examples/bpf/sockfilter.o` and `tc_rewrite.o`'s `tc_dnat` through
//! cranebpf's engines, beside the same C source compiled natively
//! (`native/skb_shim.h`, `native/skb_native.c`, built by `build.rs`).
//!
//! Each run returns, per packet, the program's return value and a hash of
//! the packet as the program left it, so the native run doubles as a check
//! of the engines' results.

use cranebpf::{EngineKind, ObjectVm};
use cranebpf_runtime::ctx::SkbMeta;
use cranebpf_runtime::elf::{LoadOptions, Object};
use cranebpf_runtime::RunOptions;
use std::time::Instant;

unsafe extern "C" {
    fn cranebpf_native_sockfilter(
        frames: *const *const u8,
        lens: *const u32,
        n: usize,
        verdicts: *mut u32,
        hashes: *mut u64,
    ) -> usize;
    fn cranebpf_native_tc_dnat(
        frames: *const *const u8,
        lens: *const u32,
        n: usize,
        verdicts: *mut u32,
        hashes: *mut u64,
    ) -> usize;
}

/// Which example.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hook {
    /// `sockfilter.o` (`BPF_PROG_TYPE_SOCKET_FILTER`): sees each frame from
    /// its network header.
    SocketFilter,
    /// `tc_rewrite.o`, program `tc_dnat` (`BPF_PROG_TYPE_SCHED_CLS`).
    TcDnat,
}

impl Hook {
    /// The object file and program name.
    fn object(self) -> (&'static str, &'static str) {
        match self {
            Hook::SocketFilter => ("sockfilter.o", "sock_filter"),
            Hook::TcDnat => ("tc_rewrite.o", "tc_dnat"),
        }
    }

    /// Where the program's packet starts in a frame.
    fn skip(self) -> usize {
        match self {
            Hook::SocketFilter => 14,
            Hook::TcDnat => 0,
        }
    }
}

/// One run over a list of frames.
#[derive(Clone, Debug, PartialEq)]
pub struct HookRun {
    /// r0 per frame, as 32 bits.
    pub verdicts: Vec<u32>,
    /// FNV-1a of each packet after the run.
    pub hashes: Vec<u64>,
    /// Seconds for all frames (the program and its driver, no copies).
    pub seconds: f64,
}

/// FNV-1a, as `skb_native.c` computes it.
fn fnv(p: &[u8]) -> u64 {
    p.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The native build over `frames` (each at least 14 bytes): a timed pass
/// that records the verdicts, then an untimed one that hashes the packets
/// as the program left them (the engines' runs hash after their clock
/// stops too).
pub fn native(hook: Hook, frames: &[Vec<u8>]) -> HookRun {
    let ptrs: Vec<*const u8> = frames.iter().map(|f| f.as_ptr()).collect();
    let lens: Vec<u32> = frames.iter().map(|f| f.len() as u32).collect();
    let mut verdicts = vec![0u32; frames.len()];
    let mut hashes = vec![0u64; frames.len()];
    let f = match hook {
        Hook::SocketFilter => cranebpf_native_sockfilter,
        Hook::TcDnat => cranebpf_native_tc_dnat,
    };
    let t = Instant::now();
    // SAFETY: `ptrs[i]` points at `lens[i]` readable bytes for every
    // i < n, and `verdicts` has n writable elements; a null `hashes` is
    // not written. The driver copies each frame before the program writes
    // to it.
    unsafe {
        f(
            ptrs.as_ptr(),
            lens.as_ptr(),
            frames.len(),
            verdicts.as_mut_ptr(),
            std::ptr::null_mut(),
        )
    };
    let seconds = t.elapsed().as_secs_f64();
    // SAFETY: as above, with `hashes` n writable elements.
    unsafe {
        f(
            ptrs.as_ptr(),
            lens.as_ptr(),
            frames.len(),
            verdicts.as_mut_ptr(),
            hashes.as_mut_ptr(),
        )
    };
    HookRun {
        verdicts,
        hashes,
        seconds,
    }
}

/// The example on cranebpf's `engine` over `frames`: the packets and their
/// metadata are made before the clock starts, as `cranebpf run --pcap`
/// does.
pub fn engine(hook: Hook, frames: &[Vec<u8>], engine: EngineKind) -> Result<HookRun, String> {
    let (file, name) = hook.object();
    let path = format!("{}/../examples/bpf/{file}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let obj = Object::parse(&bytes).map_err(|e| format!("{path}: {e}"))?;
    let set = obj
        .load_set(name, LoadOptions::default())
        .map_err(|e| format!("{path}: {e}"))?;
    let vm = ObjectVm::new(set, engine).map_err(|e| format!("{path}: {e}"))?;
    let mut inputs: Vec<(Vec<u8>, SkbMeta)> = frames
        .iter()
        .map(|f| (f[hook.skip()..].to_vec(), SkbMeta::from_frame(f)))
        .collect();
    let opts = RunOptions::default();
    let mut verdicts = Vec::with_capacity(frames.len());
    let t = Instant::now();
    for (p, m) in &mut inputs {
        let (out, _) = vm.run_skb(p, m, &opts);
        verdicts.push(out.outcome.result.map_or(u32::MAX, |r| r as u32));
    }
    let seconds = t.elapsed().as_secs_f64();
    Ok(HookRun {
        verdicts,
        hashes: inputs.iter().map(|(p, _)| fnv(p)).collect(),
        seconds,
    })
}
