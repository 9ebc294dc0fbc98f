//! The helpers generated programs call (ids [`HELPER_MIX`] ..
//! [`HELPER_MEMSUM`]), the scratch region they share, and the log of
//! calls the harness compares ([`HelperLog`]). The generators
//! ([`crate::gen`]) emit calls to them and the runner ([`crate::engine`])
//! registers them; neither imports the other for them.

use crate::state::{HelperCall, Layout};
use cranebpf_runtime::{HelperError, Helpers};
use std::sync::{Arc, Mutex};

/// Bytes of the scratch region (helper [`HELPER_SCRATCH`] returns it).
pub const SCRATCH_LEN: usize = 32;

/// Helper 1: `mix(a, b, c, d, e)`, a hash of its five arguments.
pub const HELPER_MIX: u32 = 1;
/// Helper 2: `fallible(a, b)`: fails if `a` is a multiple of 16, else
/// returns `a * 3 ^ b`.
pub const HELPER_FALLIBLE: u32 = 2;
/// Helper 3: `scratch()`: a pointer to the run's scratch region
/// ([`SCRATCH_LEN`] writable bytes).
pub const HELPER_SCRATCH: u32 = 3;
/// Helper 4: `memfill(ptr, len, byte)`: writes `len` (≤ 256) copies of the
/// byte at `ptr`; fails if the bytes are not writable. Returns `len`.
pub const HELPER_MEMFILL: u32 = 4;
/// Helper 5: `identity(a)` returns `a` (the bpf_conformance test helper).
pub const HELPER_IDENTITY: u32 = 5;
/// Helper 6: `memsum(ptr, len)`: an FNV-1a hash of `len` (≤ 256) bytes at
/// `ptr`; fails if they are not readable.
pub const HELPER_MEMSUM: u32 = 6;

/// What the helpers of one run share: where the input and scratch regions
/// are, and the log of calls.
#[derive(Debug, Default)]
pub struct HelperLog {
    /// Start of the input region.
    pub input_start: u64,
    /// Start of the scratch region.
    pub scratch_start: u64,
    /// Start of the stack.
    pub stack_start: u64,
    /// The calls so far.
    pub calls: Vec<HelperCall>,
}

/// Locks the log even if a helper panicked while holding it.
pub(crate) fn lock(log: &Mutex<HelperLog>) -> std::sync::MutexGuard<'_, HelperLog> {
    log.lock().unwrap_or_else(|p| p.into_inner())
}

/// The helpers generated programs call (ids [`HELPER_MIX`] ..
/// [`HELPER_MEMSUM`]), each logging its id and normalised arguments into
/// `log` before it runs. Their error messages never contain addresses
/// (which differ between runs); the log has the normalised arguments.
pub fn difftest_helpers(log: Arc<Mutex<HelperLog>>) -> Helpers {
    let mut h = Helpers::new();
    let logged = |log: &Arc<Mutex<HelperLog>>,
                  id: u32,
                  body: fn(
        &mut cranebpf_runtime::HelperCtx<'_, '_>,
        [u64; 5],
        u64,
    ) -> Result<u64, HelperError>| {
        let log = Arc::clone(log);
        move |ctx: &mut cranebpf_runtime::HelperCtx<'_, '_>, args: [u64; 5]| {
            let scratch = {
                let mut l = lock(&log);
                let layout = Layout::from_map(
                    &ctx.mem.regions(),
                    l.input_start,
                    l.scratch_start,
                    l.stack_start,
                );
                let norm = args.map(|a| layout.value(a));
                l.calls.push(HelperCall { id, args: norm });
                l.scratch_start
            };
            body(ctx, args, scratch)
        }
    };
    h.register(
        HELPER_MIX,
        "mix",
        logged(&log, HELPER_MIX, |_, a, _| {
            let mut x = 0x243f_6a88_85a3_08d3u64;
            for v in a {
                x = (x ^ v).wrapping_mul(0x0100_0000_01b3).rotate_left(23);
            }
            Ok(x)
        }),
    );
    h.register(
        HELPER_FALLIBLE,
        "fallible",
        logged(&log, HELPER_FALLIBLE, |_, a, _| {
            if a[0] % 16 == 0 {
                Err(HelperError::new("argument is a multiple of 16"))
            } else {
                Ok(a[0].wrapping_mul(3) ^ a[1])
            }
        }),
    );
    h.register(
        HELPER_SCRATCH,
        "scratch",
        logged(&log, HELPER_SCRATCH, |_, _, s| Ok(s)),
    );
    h.register(
        HELPER_MEMFILL,
        "memfill",
        logged(&log, HELPER_MEMFILL, |ctx, a, _| {
            if a[1] > 256 {
                return Err(HelperError::new("memfill: length over 256"));
            }
            let data = vec![a[2] as u8; a[1] as usize];
            ctx.mem
                .write_bytes(a[0], &data)
                .map_err(|_| HelperError::new(format!("memfill: {} bytes not writable", a[1])))?;
            Ok(a[1])
        }),
    );
    h.register(
        HELPER_IDENTITY,
        "identity",
        logged(&log, HELPER_IDENTITY, |_, a, _| Ok(a[0])),
    );
    h.register(
        HELPER_MEMSUM,
        "memsum",
        logged(&log, HELPER_MEMSUM, |ctx, a, _| {
            if a[1] > 256 {
                return Err(HelperError::new("memsum: length over 256"));
            }
            let bytes = ctx
                .mem
                .read_bytes(a[0], a[1])
                .map_err(|_| HelperError::new(format!("memsum: {} bytes not readable", a[1])))?;
            Ok(bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
            }))
        }),
    );
    h
}
