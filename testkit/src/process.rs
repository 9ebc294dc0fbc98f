//! What tests measure of their own process: resident memory now, from
//! `/proc/self/statm` (Linux).

/// Resident set size of this process now, in bytes (`/proc/self/statm`,
/// field 2, in pages of the system's page size).
pub fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("resident pages in /proc/self/statm");
    pages * page_size()
}

/// The system's page size in bytes.
fn page_size() -> u64 {
    // SAFETY: sysconf reads a system constant and has no other effect.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(n).unwrap_or(4096)
}
