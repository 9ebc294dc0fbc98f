//! The helpers of the `helpers` and `hashmap` workloads as plain functions:
//! what the native build of the C calls (through the C ABI, by name), and
//! what the peers, which have no maps and no closures as helpers, register.
//!
//! Every engine uses the same map implementation (cranebpf's [`Map`]):
//! cranebpf through its ELF loader and kernel helpers, native code and the
//! peers through [`map_lookup`] and [`map_update`] over one process-wide map
//! ([`flows_map`]). The workload never inserts or deletes (it updates flows
//! that exist, in place: [`map_update`]), so value addresses are stable and
//! r0 is the same on every run; only the counters in the values grow.

use cranebpf_runtime::maps::{Map, MapDef, MapType, UpdateFlags};
use std::sync::OnceLock;

/// Helper 1 of the `helpers` workload: a 64-bit multiply-xorshift mix.
pub fn mix(a: u64, b: u64) -> u64 {
    let x = (a ^ b).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 31)
}

/// Key size of the `flows` map (`struct flow_key`).
pub const FLOW_KEY_SIZE: usize = 16;
/// Value size of the `flows` map (`struct flow_stats`).
pub const FLOW_VALUE_SIZE: usize = 24;
/// Distinct flows in [`flows_input`]; flows `k` with `k % 8 == 7` are absent
/// from the map (lookups miss).
pub const FLOWS: u32 = 256;

/// The key of flow `k` as the C program builds it from the frame: source
/// 10.0.0.k, destination 192.168.1.1 (network order, copied raw), source
/// port 1000 + k and destination port 80 (raw big-endian), protocol 6 (a
/// little-endian u32).
pub fn flow_key(k: u32) -> [u8; FLOW_KEY_SIZE] {
    let mut key = [0u8; FLOW_KEY_SIZE];
    key[0..4].copy_from_slice(&[10, 0, 0, k as u8]);
    key[4..8].copy_from_slice(&[192, 168, 1, 1]);
    key[8..10].copy_from_slice(&(1000 + k as u16).to_be_bytes());
    key[10..12].copy_from_slice(&80u16.to_be_bytes());
    key[12..16].copy_from_slice(&6u32.to_le_bytes());
    key
}

/// The class of flow `k` (what a hit adds to r0).
pub fn flow_class(k: u32) -> u64 {
    u64::from(k % 3 + 1)
}

/// The `flows` map's definition (as in `hashmap.c`).
pub fn flows_def() -> MapDef {
    MapDef {
        map_type: MapType::Hash,
        key_size: FLOW_KEY_SIZE as u32,
        value_size: FLOW_VALUE_SIZE as u32,
        max_entries: 4096,
        flags: 0,
    }
}

/// Inserts every present flow into `map` with zero counters.
pub fn fill_flows(map: &Map) -> Result<(), String> {
    for k in (0..FLOWS).filter(|k| k % 8 != 7) {
        let mut v = [0u8; FLOW_VALUE_SIZE];
        v[0..8].copy_from_slice(&flow_class(k).to_le_bytes());
        map.update(&flow_key(k), &v, UpdateFlags::Any)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The process-wide map native code and the peers use, filled on first use.
pub fn flows_map() -> &'static Map {
    static MAP: OnceLock<Map> = OnceLock::new();
    MAP.get_or_init(|| {
        let map = Map::new("flows", flows_def()).unwrap_or_else(|e| unreachable_map(&e));
        fill_flows(&map).unwrap_or_else(|e| unreachable_map(&e));
        map
    })
}

#[cold]
fn unreachable_map(e: &dyn std::fmt::Display) -> ! {
    // The definition and keys are constants of this file.
    panic!("the constant flows map cannot be built: {e}")
}

/// 1 024 frames of 64 bytes: IPv4/TCP from one of [`FLOWS`] flows (total
/// length 40 to 1 063), with every 16th frame UDP (skipped by the program).
pub fn flows_input() -> Vec<u8> {
    let mut x: u64 = 0x1234_5678;
    let mut out = Vec::with_capacity(1024 * 64);
    for i in 0..1024u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = (x % u64::from(FLOWS)) as u32;
        let key = flow_key(k);
        let mut f = [0u8; 64];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = 14;
        f[ip] = 0x45;
        f[ip + 2..ip + 4].copy_from_slice(&(40 + (x >> 40) as u16 % 1024).to_be_bytes());
        f[ip + 9] = if i % 16 == 15 { 17 } else { 6 };
        f[ip + 12..ip + 20].copy_from_slice(&key[0..8]);
        f[ip + 20..ip + 24].copy_from_slice(&key[8..12]);
        out.extend_from_slice(&f);
    }
    out
}

/// `bpf_map_lookup_elem` over [`flows_map`] for a raw key pointer: the
/// value's address, or 0.
///
/// # Safety
/// `key` must point to [`FLOW_KEY_SIZE`] readable bytes.
pub unsafe fn map_lookup(key: *const u8) -> u64 {
    // SAFETY: the caller guarantees the key bytes are readable.
    let key = unsafe { std::slice::from_raw_parts(key, FLOW_KEY_SIZE) };
    // The map keeps the value alive (the workload never deletes), so the
    // address outlives the dropped `ValueRef`.
    flows_map().lookup_ref(key).map_or(0, |v| v.addr())
}

/// `bpf_map_update_elem` over [`flows_map`]: 0 or a negative errno.
///
/// # Safety
/// `key` and `value` must point to [`FLOW_KEY_SIZE`] and [`FLOW_VALUE_SIZE`]
/// readable bytes.
pub unsafe fn map_update(key: *const u8, value: *const u8, flags: u64) -> u64 {
    // SAFETY: the caller guarantees both buffers are readable.
    let (key, value) = unsafe {
        (
            std::slice::from_raw_parts(key, FLOW_KEY_SIZE),
            std::slice::from_raw_parts(value, FLOW_VALUE_SIZE),
        )
    };
    let Some(flags) = UpdateFlags::from_raw(flags) else {
        return -22i64 as u64;
    };
    // An existing flow is updated in place: the map's own update gives the
    // value a new buffer (as the kernel does), which would free the address
    // an earlier lookup handed to native code or a peer.
    if flags != UpdateFlags::NoExist {
        if let Some(v) = flows_map().lookup_ref(key) {
            // SAFETY: `v` keeps the value's buffer alive during the copy;
            // it is `FLOW_VALUE_SIZE` bytes (the map's value size), and the
            // benchmarks run one program at a time on this map.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    value.as_ptr(),
                    v.addr() as *mut u8,
                    v.len().min(value.len()),
                );
            }
            return 0;
        }
    }
    match flows_map().update(key, value, flags) {
        Ok(()) => 0,
        Err(e) => e.errno() as u64,
    }
}

/// The native build's `mix` (see `helpers.c`).
#[no_mangle]
pub extern "C" fn cranebpf_bench_mix(a: u64, b: u64) -> u64 {
    mix(a, b)
}

/// The native build's map lookup (see `hashmap.c`; the map argument is
/// ignored: there is one map).
///
/// # Safety
/// `key` must point to a `struct flow_key`.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_bench_map_lookup(_map: *mut u8, key: *const u8) -> *mut u8 {
    // SAFETY: forwarded from the caller.
    unsafe { map_lookup(key) as usize as *mut u8 }
}

/// The native build's map update.
///
/// # Safety
/// `key` and `value` must point to a `struct flow_key` and a
/// `struct flow_stats`.
#[no_mangle]
pub unsafe extern "C" fn cranebpf_bench_map_update(
    _map: *mut u8,
    key: *const u8,
    value: *const u8,
    flags: u64,
) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe { map_update(key, value, flags) as i64 }
}
