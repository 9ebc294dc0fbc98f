//! Other projects' eBPF engines behind cranebpf's one engine trait
//! ([`Engine`]/[`Prepared`]), so that the benchmark suite and the
//! differential harness run them exactly as they run cranebpf's own.
//!
//! - [`rbpf`]: rbpf 0.4.1's interpreter and x86-64 JIT, and (cargo feature
//!   `heavy`) its Cranelift JIT;
//! - `sbpf` (cargo feature `heavy`): solana-sbpf 0.26's interpreter and
//!   x86-64 JIT, as SBPF v3.
//!
//! Each adapter normalises its engine's differences by design once (how r1
//! and r2 are set, where memory is, how helpers are called) and declares
//! the rest in its [`Capabilities`]: no instruction counts, faults without
//! detail, and a [`Profile`](cranebpf_runtime::engine::Profile) of what
//! programs it runs. The module docs of each adapter list its normalisations.
//!
//! [`engines`] lists every adapter built in; [`engine`] finds one by name.

pub mod rbpf;
#[cfg(feature = "heavy")]
pub mod sbpf;

use cranebpf_runtime::engine::fault::Fault;
pub use cranebpf_runtime::engine::{Capabilities, Engine, Prepared};
pub use rbpf::{RbpfEngine, RbpfMode};

/// The names of every peer engine, built in or not, in table order.
pub const NAMES: [&str; 5] = [
    "rbpf-interp",
    "rbpf-jit",
    "rbpf-cranelift",
    "sbpf-interp",
    "sbpf-jit",
];

/// Every peer engine built into this crate, in the order of [`NAMES`].
pub fn engines() -> Vec<Box<dyn Engine>> {
    NAMES.iter().filter_map(|n| engine(n)).collect()
}

/// The peer engine called `name` (see [`NAMES`]), if it is built in.
pub fn engine(name: &str) -> Option<Box<dyn Engine>> {
    let rbpf = |m| Some(Box::new(RbpfEngine::new(m)) as Box<dyn Engine>);
    match name {
        "rbpf-interp" => rbpf(RbpfMode::Interp),
        "rbpf-jit" if cfg!(target_arch = "x86_64") => rbpf(RbpfMode::Jit),
        "rbpf-cranelift" if cfg!(all(feature = "heavy", target_arch = "x86_64")) => {
            rbpf(RbpfMode::Cranelift)
        }
        #[cfg(feature = "heavy")]
        "sbpf-interp" => Some(Box::new(sbpf::SbpfEngine::new(false))),
        #[cfg(all(feature = "heavy", target_arch = "x86_64"))]
        "sbpf-jit" => Some(Box::new(sbpf::SbpfEngine::new(true))),
        _ => None,
    }
}

/// A peer's failed run: [`cranebpf_runtime::engine::opaque_fault`] (peers
/// say that a run failed and why, not where).
pub fn peer_fault(message: String) -> Fault {
    cranebpf_runtime::engine::opaque_fault(message)
}

/// The text of a caught panic, or "" if it has none.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Program bytes that a peer's VM borrows for `'static` (rbpf's and sbpf's
/// VMs borrow their program for their whole life). The owner keeps this
/// value alive longer than the VM (declared after it).
pub(crate) struct StaticProgram(Box<[u8]>);

impl StaticProgram {
    pub(crate) fn new(code: Vec<u8>) -> StaticProgram {
        StaticProgram(code.into_boxed_slice())
    }

    /// The bytes, for a borrower that does not outlive `self`.
    pub(crate) fn bytes(&self) -> &'static [u8] {
        // SAFETY: the boxed bytes never move or change while `self` lives,
        // and every borrower (a VM stored next to `self`, declared before
        // it so it is dropped first) is gone before `self` drops.
        unsafe { std::slice::from_raw_parts(self.0.as_ptr(), self.0.len()) }
    }
}
