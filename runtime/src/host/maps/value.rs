//! [`ValueBuf`]: stable, 8-byte aligned host memory that programs reach by raw
//! pointer (map values, global data, ring buffer reservations).

use std::cell::UnsafeCell;
use std::sync::Arc;

/// A fixed-size, zero-initialised, 8-byte aligned byte buffer whose address
/// never changes. Programs write it through raw pointers while the embedder
/// reads it through [`ValueBuf::read`]; like kernel maps, concurrent runs and
/// the embedder see each other's plain writes without synchronisation (use
/// atomic instructions for shared counters).
pub(crate) struct ValueBuf {
    words: Box<[UnsafeCell<u64>]>,
    len: usize,
}

// SAFETY: the buffer is only ever accessed through raw pointers (programs,
// `read`, `write`), never through Rust references to its contents, so sharing
// it between threads is no different from sharing the kernel's map memory.
unsafe impl Sync for ValueBuf {}
// SAFETY: as above; it owns plain integers.
unsafe impl Send for ValueBuf {}

impl ValueBuf {
    /// `len` zero bytes. The caller bounds `len` (see `maps::MAX_MAP_BYTES`).
    pub(crate) fn zeroed(len: usize) -> Arc<ValueBuf> {
        let words = len.div_ceil(8).max(1);
        Arc::new(ValueBuf {
            words: (0..words).map(|_| UnsafeCell::new(0)).collect(),
            len,
        })
    }

    /// Host address of byte 0.
    pub(crate) fn addr(&self) -> u64 {
        self.words.as_ptr() as u64
    }

    /// Copies `out.len()` bytes starting at byte `off` out of the buffer.
    /// Out-of-range requests copy nothing.
    pub(crate) fn read_into(&self, off: usize, out: &mut [u8]) {
        if off.checked_add(out.len()).is_none_or(|end| end > self.len) {
            return;
        }
        // SAFETY: `[off, off + out.len())` lies inside the allocation (checked
        // above); `out` is a distinct Rust buffer.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (self.addr() as usize as *const u8).add(off),
                out.as_mut_ptr(),
                out.len(),
            )
        }
    }

    /// Bytes `[off, off + len)`.
    pub(crate) fn read(&self, off: usize, len: usize) -> Vec<u8> {
        let mut v = vec![0u8; len];
        self.read_into(off, &mut v);
        v
    }

    /// Copies `data` into the buffer at byte `off`. Out-of-range requests
    /// copy nothing.
    pub(crate) fn write(&self, off: usize, data: &[u8]) {
        if off.checked_add(data.len()).is_none_or(|end| end > self.len) {
            return;
        }
        // SAFETY: the range lies inside the allocation (checked above). The
        // buffer is only accessed through raw pointers, so no Rust reference
        // is invalidated; `copy` tolerates overlap with `data`.
        unsafe {
            std::ptr::copy(
                data.as_ptr(),
                (self.addr() as usize as *mut u8).add(off),
                data.len(),
            )
        }
    }
}

/// A window of a map value buffer handed to a program: keeps the memory alive for
/// as long as the handle exists (the run that looked it up holds it until the
/// run ends, so a deleted hash entry is never freed under a running program).
#[derive(Clone)]
pub struct ValueRef {
    pub(crate) buf: Arc<ValueBuf>,
    pub(crate) off: usize,
    pub(crate) len: usize,
}

impl ValueRef {
    /// Host address of the value's first byte.
    pub fn addr(&self) -> u64 {
        self.buf.addr() + self.off as u64
    }

    /// Value size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the value has no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A copy of the value's bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        self.buf.read(self.off, self.len)
    }
}

impl std::fmt::Debug for ValueRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValueRef")
            .field("addr", &format_args!("{:#x}", self.addr()))
            .field("len", &self.len)
            .finish()
    }
}
