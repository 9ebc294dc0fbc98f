//! Packet captures (pcap and pcapng) through both of the command line's
//! readers, `run --pcap`'s and `filter`'s, via the library view of
//! `cli/src/main.rs` (its `fuzzing` module): neither panics nor allocates
//! past libFuzzer's memory limit on any file, and both accept or refuse the
//! same files. The readers take paths, so the bytes go through an anonymous
//! in-memory file (`memfd_create`, read back as `/proc/self/fd/N`): nothing
//! is left on disk.
#![no_main]

use cranebpf_cli::fuzzing::read_captures;
use libfuzzer_sys::fuzz_target;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The process's scratch file and its path.
fn scratch() -> &'static (File, PathBuf) {
    static F: OnceLock<(File, PathBuf)> = OnceLock::new();
    F.get_or_init(|| {
        // SAFETY: a C string name and no flags; the result is checked.
        let fd = unsafe { libc::memfd_create(c"cranebpf-fuzz-pcap".as_ptr(), 0) };
        assert!(fd >= 0, "memfd_create failed");
        // SAFETY: `fd` is a new descriptor that nothing else owns.
        let file = unsafe { File::from_raw_fd(fd) };
        let path = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        (file, path)
    })
}

fuzz_target!(|data: &[u8]| {
    let (file, path) = scratch();
    if file.set_len(0).is_err() || file.write_all_at(data, 0).is_err() {
        return;
    }
    let (run, filter) = read_captures(path);
    assert_eq!(
        run.is_ok(),
        filter.is_ok(),
        "the readers disagree: run --pcap {run:?}, filter {filter:?}"
    );
});
