//! The memory model: the regions a program may touch, and the one bounds rule.
//!
//! Programs run on real host addresses. Before any load, store or atomic
//! touches memory, every engine checks the access against a [`MemoryMap`]: the
//! access must lie entirely inside one region that grants it. The interpreter
//! calls [`MemoryMap::check`] directly; JIT code inlines the same rule for the
//! stack and the input region and calls [`MemoryMap::check`] through a thunk
//! for the rest. **Architecture Invariant:** no engine reads or writes a host
//! byte that this rule does not allow.
//!
//! Regions:
//! - the **stack**: [`STACK_SIZE`] bytes, [`MAX_CALL_DEPTH`] frames of
//!   [`STACK_FRAME_SIZE`] bytes. The frame of call depth `d` (0 for the entry
//!   function) is `[top - (d + 1) * 512, top - d * 512)` and its r10 is
//!   `top - d * 512`. The whole stack is one read-write region, so a function
//!   may use pointers into its callers' frames.
//! - the **input** (context) region the program was given, read-write unless
//!   the embedder says otherwise;
//! - any further region the embedder or a helper registers (map values, ring
//!   buffer records, embedder buffers), each read-only or read-write.

use crate::engine::fault::{Access, FaultKind};
use crate::isa::insn::Size;
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU32, AtomicU64};

/// Bytes in one stack frame (RFC-independent; the Linux limit).
pub const STACK_FRAME_SIZE: u64 = 512;
/// The maximum number of frames (the entry function counts as one), like
/// Linux's `MAX_CALL_FRAMES`.
pub const MAX_CALL_DEPTH: usize = 8;
/// Total stack bytes: one frame per possible call depth.
pub const STACK_SIZE: usize = STACK_FRAME_SIZE as usize * MAX_CALL_DEPTH;

/// The memory of one run's stack: [`STACK_SIZE`] bytes, 16-byte aligned so
/// that alignment relative to a frame is alignment in host memory.
///
/// Engines allocate one per run unless the caller passes its own to
/// [`Prepared::run`](crate::engine::Prepared::run) (every engine's one run entry): then the
/// stack sits where the caller wants it (e.g. next to the input, at a fixed
/// distance, as the differential harness does) and its final contents can
/// be read after the run. Every run zeroes it first.
#[derive(Clone)]
#[repr(C, align(16))]
pub struct Stack([u8; STACK_SIZE]);

impl Stack {
    /// A zeroed stack.
    pub const fn new() -> Stack {
        Stack([0; STACK_SIZE])
    }

    /// A zeroed stack on the heap.
    pub fn boxed() -> Box<Stack> {
        Box::new(Stack::new())
    }

    /// The bytes, lowest address first: the frame of call depth `d` is
    /// `[STACK_SIZE - (d + 1) * 512, STACK_SIZE - d * 512)`.
    pub fn bytes(&self) -> &[u8; STACK_SIZE] {
        &self.0
    }

    /// The bytes, mutable.
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8; STACK_SIZE] {
        &mut self.0
    }

    /// Zeroes the stack and returns it as a read-write [`Region`] at its
    /// host address. The region must leave any map before the stack is
    /// borrowed again or moved (engines remove it when the run ends).
    pub fn prepare(&mut self) -> Region {
        self.prepare_top(STACK_SIZE)
    }

    /// [`Stack::prepare`] zeroing only the top `bytes` bytes (all of them
    /// if `bytes >= STACK_SIZE`): for a run that provably observes no
    /// other byte ([`crate::analysis::stack_use`]).
    #[inline]
    pub fn prepare_top(&mut self, bytes: usize) -> Region {
        let from = STACK_SIZE - bytes.min(STACK_SIZE);
        // A program that observes no stack byte pays no `memset` call.
        if from < STACK_SIZE {
            self.0[from..].fill(0);
        }
        Region {
            start: self.0.as_mut_ptr() as u64,
            len: STACK_SIZE as u64,
            writable: true,
        }
    }
}

impl Default for Stack {
    fn default() -> Stack {
        Stack::new()
    }
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("start", &self.0.as_ptr())
            .finish_non_exhaustive()
    }
}

/// One contiguous range of host memory a program may access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Region {
    /// Host address of the first byte.
    pub start: u64,
    /// Length in bytes.
    pub len: u64,
    /// Whether stores and atomics are allowed (loads always are).
    pub writable: bool,
}

impl Region {
    /// Whether `[addr, addr + size)` lies inside the region and the region
    /// grants `access`.
    ///
    /// The algebra, overflow-free for every `addr` (including ones near
    /// `u64::MAX` or below `start`, which wrap to huge offsets):
    /// `start <= addr && addr + size <= start + len`
    /// `<=>  off = addr - start (wrapping);  off <= len && len - off >= size`.
    #[inline]
    pub fn allows(&self, addr: u64, size: u64, access: Access) -> bool {
        let off = addr.wrapping_sub(self.start);
        off <= self.len && self.len - off >= size && (access == Access::Read || self.writable)
    }
}

/// How many regions [`MemoryMap`] keeps in its list, scanned in order, before
/// further disjoint regions go into its index by address.
const LISTED_REGIONS: usize = 16;

/// The set of regions a run may touch, borrowed for `'a`.
///
/// Regions may be added from safe Rust only by lending slices for `'a`; raw
/// regions (memory owned elsewhere, e.g. by a map) need [`MemoryMap::add_raw`],
/// whose caller promises the memory outlives the map.
///
/// **Cost.** The first [`LISTED_REGIONS`] regions (the stack, the input, the
/// embedder's) sit in a list; later ones (a value per distinct map lookup,
/// ring buffer records) go into an index by start address when they overlap
/// no indexed region, so a check costs `O(16 + log n)` however many values a
/// program looked up. Which structure holds a region never changes the rule.
#[derive(Debug, Default)]
pub struct MemoryMap<'a> {
    regions: Vec<Region>,
    /// Pairwise disjoint regions, by start.
    indexed: BTreeMap<u64, Region>,
    _borrow: PhantomData<&'a mut [u8]>,
}

impl<'a> MemoryMap<'a> {
    /// An empty map.
    pub fn new() -> MemoryMap<'a> {
        MemoryMap {
            regions: Vec::new(),
            indexed: BTreeMap::new(),
            _borrow: PhantomData,
        }
    }

    /// An empty map that keeps its regions in `storage` (cleared first):
    /// reusing one vector across runs saves an allocation per run.
    #[inline]
    pub fn with_storage(mut storage: Vec<Region>) -> MemoryMap<'a> {
        storage.clear();
        MemoryMap {
            regions: storage,
            indexed: BTreeMap::new(),
            _borrow: PhantomData,
        }
    }

    /// The storage of the regions, emptied, for [`MemoryMap::with_storage`].
    #[inline]
    pub fn into_storage(mut self) -> Vec<Region> {
        self.regions.clear();
        self.indexed.clear();
        self.regions
    }

    /// Adds a read-write region over `mem` and returns it.
    #[inline]
    pub fn add_mut(&mut self, mem: &'a mut [u8]) -> Region {
        let r = Region {
            start: mem.as_mut_ptr() as u64,
            len: mem.len() as u64,
            writable: true,
        };
        self.push(r);
        r
    }

    /// Adds a read-only region over `mem` and returns it.
    #[inline]
    pub fn add_ref(&mut self, mem: &'a [u8]) -> Region {
        let r = Region {
            start: mem.as_ptr() as u64,
            len: mem.len() as u64,
            writable: false,
        };
        self.push(r);
        r
    }

    /// Adds a region over raw host memory.
    ///
    /// # Safety
    /// `[start, start + len)` must be valid for reads (and, if `writable`,
    /// writes) for as long as this map is used to run a program, and must not
    /// be accessed through a Rust reference while a program runs.
    #[inline]
    pub unsafe fn add_raw(&mut self, region: Region) {
        self.push(region);
    }

    /// Files `r` in the list while it is short, else in the index if it
    /// overlaps no indexed region (else in the list after all).
    #[inline]
    fn push(&mut self, r: Region) {
        if self.regions.len() < LISTED_REGIONS || !self.index_disjoint(r) {
            self.regions.push(r);
        }
    }

    /// Puts `r` in the index if it overlaps none of its regions.
    fn index_disjoint(&mut self, r: Region) -> bool {
        let end = r.start.saturating_add(r.len);
        let before_ok = self
            .indexed
            .range(..=r.start)
            .next_back()
            .is_none_or(|(_, p)| p.start.saturating_add(p.len) <= r.start && p.start != r.start);
        let after_ok = self
            .indexed
            .range(r.start..)
            .next()
            .is_none_or(|(&s, _)| s >= end && s != r.start);
        if before_ok && after_ok {
            self.indexed.insert(r.start, r);
        }
        before_ok && after_ok
    }

    /// Adds a region over raw host memory in front of every other region.
    /// Engines register the run's stack this way, so it is always region 0.
    ///
    /// # Safety
    /// As for [`MemoryMap::add_raw`].
    #[inline]
    pub unsafe fn add_raw_first(&mut self, region: Region) {
        self.regions.insert(0, region);
    }

    /// Removes every region that starts at `start`. Used when a helper-returned
    /// pointer's lifetime ends (e.g. a ring buffer record is submitted).
    #[inline]
    pub fn remove_at(&mut self, start: u64) {
        self.regions.retain(|r| r.start != start);
        self.indexed.remove(&start);
    }

    /// Whether `r` is one of the regions (same start, length and rights).
    pub fn contains(&self, r: &Region) -> bool {
        self.regions.contains(r) || self.indexed.get(&r.start) == Some(r)
    }

    /// The regions: the listed ones in the order they were added, then the
    /// indexed ones by address.
    pub fn regions(&self) -> Vec<Region> {
        let mut all = self.regions.clone();
        all.extend(self.indexed.values().copied());
        all
    }

    /// **The input rule.** The input region of a run whose r1 is `r1`: the
    /// first region that starts at `r1`, if any. LD_ABS/LD_IND read it as
    /// the packet, and the JIT checks it inline. Engines take it before they
    /// register the stack, so a stack at address `r1` is never the input.
    #[inline]
    pub fn input_region(&self, r1: u64) -> Option<Region> {
        self.regions
            .iter()
            .copied()
            .find(|r| r.start == r1)
            .or_else(|| self.indexed.get(&r1).copied())
    }

    /// **The bounds rule.** `Ok` if some region contains `[addr, addr + size)`
    /// and grants `access`; otherwise the out-of-bounds fault.
    #[inline]
    pub fn check(&self, addr: u64, size: u64, access: Access) -> Result<(), FaultKind> {
        let indexed = || {
            self.indexed
                .range(..=addr)
                .next_back()
                .is_some_and(|(_, r)| r.allows(addr, size, access))
        };
        if self.regions.iter().any(|r| r.allows(addr, size, access)) || indexed() {
            Ok(())
        } else {
            Err(FaultKind::OutOfBounds { addr, size, access })
        }
    }

    /// Loads `size` bytes at `addr`, little-endian, zero-extended to 64 bits.
    pub fn load(&self, addr: u64, size: Size) -> Result<u64, FaultKind> {
        self.check(addr, size.bytes(), Access::Read)?;
        let p = addr as usize as *const u8;
        // SAFETY: `check` proved `[addr, addr + size)` lies in a region, and
        // every region is valid for reads while the map is in use (see
        // `add_mut`/`add_ref`/`add_raw`). Unaligned reads are used because
        // eBPF allows unaligned plain loads.
        let v = unsafe {
            match size {
                Size::B => p.read() as u64,
                Size::H => u16::from_le((p as *const u16).read_unaligned()) as u64,
                Size::W => u32::from_le((p as *const u32).read_unaligned()) as u64,
                Size::DW => u64::from_le((p as *const u64).read_unaligned()),
            }
        };
        Ok(v)
    }

    /// Stores the low `size` bytes of `value` at `addr`, little-endian.
    pub fn store(&self, addr: u64, size: Size, value: u64) -> Result<(), FaultKind> {
        self.check(addr, size.bytes(), Access::Write)?;
        let p = addr as usize as *mut u8;
        // SAFETY: `check` proved `[addr, addr + size)` lies in a writable
        // region, valid for writes while the map is in use.
        unsafe {
            match size {
                Size::B => p.write(value as u8),
                Size::H => (p as *mut u16).write_unaligned((value as u16).to_le()),
                Size::W => (p as *mut u32).write_unaligned((value as u32).to_le()),
                Size::DW => (p as *mut u64).write_unaligned(value.to_le()),
            }
        }
        Ok(())
    }

    /// Checks an atomic access: in bounds, writable, and naturally aligned.
    fn check_atomic(&self, addr: u64, size: u64) -> Result<(), FaultKind> {
        self.check(addr, size, Access::ReadWrite)?;
        if addr % size != 0 {
            return Err(FaultKind::Misaligned { addr, size });
        }
        Ok(())
    }

    /// Runs `f` on the 32-bit atomic at `addr` after the atomic checks.
    pub fn with_atomic32<R>(
        &self,
        addr: u64,
        f: impl FnOnce(&AtomicU32) -> R,
    ) -> Result<R, FaultKind> {
        self.check_atomic(addr, 4)?;
        // SAFETY: `check_atomic` proved the 4 bytes lie in a writable region
        // and are 4-aligned; regions outlive the map's use and are only
        // accessed through raw pointers during a run, so no Rust reference
        // aliases them non-atomically.
        let a = unsafe { AtomicU32::from_ptr(addr as usize as *mut u32) };
        Ok(f(a))
    }

    /// Runs `f` on the 64-bit atomic at `addr` after the atomic checks.
    pub fn with_atomic64<R>(
        &self,
        addr: u64,
        f: impl FnOnce(&AtomicU64) -> R,
    ) -> Result<R, FaultKind> {
        self.check_atomic(addr, 8)?;
        // SAFETY: as in `with_atomic32`, for 8 bytes, 8-aligned.
        let a = unsafe { AtomicU64::from_ptr(addr as usize as *mut u64) };
        Ok(f(a))
    }

    /// Copies `len` bytes at `addr` out of program memory (for helpers).
    pub fn read_bytes(&self, addr: u64, len: u64) -> Result<Vec<u8>, FaultKind> {
        if len == 0 {
            return Ok(Vec::new());
        }
        self.check(addr, len, Access::Read)?;
        let mut out = vec![0u8; len as usize];
        // SAFETY: the range was checked readable; `out` is a fresh buffer that
        // cannot overlap program memory.
        unsafe {
            std::ptr::copy_nonoverlapping(addr as usize as *const u8, out.as_mut_ptr(), out.len())
        };
        Ok(out)
    }

    /// Copies `data` into program memory at `addr` (for helpers).
    pub fn write_bytes(&self, addr: u64, data: &[u8]) -> Result<(), FaultKind> {
        if data.is_empty() {
            return Ok(());
        }
        self.check(addr, data.len() as u64, Access::Write)?;
        // SAFETY: the range was checked writable. `copy` is a memmove, so it
        // is sound even if `data` was itself read out of program memory.
        unsafe { std::ptr::copy(data.as_ptr(), addr as usize as *mut u8, data.len()) };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_edges() {
        let r = Region {
            start: 1000,
            len: 16,
            writable: false,
        };
        assert!(r.allows(1000, 8, Access::Read));
        assert!(r.allows(1008, 8, Access::Read));
        assert!(!r.allows(1009, 8, Access::Read)); // one past the end
        assert!(!r.allows(999, 1, Access::Read)); // one before the start
        assert!(!r.allows(u64::MAX, 8, Access::Read)); // wraps
        assert!(!r.allows(1000, 17, Access::Read));
        assert!(!r.allows(1000, 1, Access::Write)); // read-only
        let big = Region {
            start: 0,
            len: u64::MAX,
            writable: true,
        };
        assert!(!big.allows(u64::MAX, 2, Access::Write));
    }

    #[test]
    fn load_store_through_map() {
        let mut buf = [0u8; 8];
        let mut m = MemoryMap::new();
        let r = m.add_mut(&mut buf);
        m.store(r.start + 2, Size::H, 0xbeef).unwrap();
        assert_eq!(m.load(r.start + 2, Size::H).unwrap(), 0xbeef);
        assert_eq!(m.load(r.start, Size::DW).unwrap(), 0xbeef_0000);
        assert_eq!(
            m.load(r.start + 1, Size::DW),
            Err(FaultKind::OutOfBounds {
                addr: r.start + 1,
                size: 8,
                access: Access::Read
            })
        );
        let odd = ((r.start + 3) & !3) + 1; // in bounds, never 4-aligned
        assert_eq!(
            m.with_atomic32(odd, |_| ()),
            Err(FaultKind::Misaligned { addr: odd, size: 4 })
        );
    }

    /// Issue 17: each map value a program looks up adds a region; a check
    /// must not scan them all. 300 000 regions and 300 000 checks of the
    /// last-but-one took minutes with a list scan; with the index they take
    /// milliseconds. The edges and the read-only rule hold for indexed
    /// regions as for listed ones.
    #[test]
    fn many_regions_check_in_log_time_with_the_same_rule() {
        const N: u64 = 300_000;
        let base = 1 << 40;
        let mut m = MemoryMap::new();
        for i in 0..N {
            // SAFETY: never dereferenced: only `check` is called.
            unsafe {
                m.add_raw(Region {
                    start: base + i * 32,
                    len: 24,
                    writable: i % 2 == 0,
                })
            };
        }
        for i in 0..N {
            let r = base + (N - 1 - i) * 32;
            assert!(m.check(r, 8, Access::Read).is_ok());
            assert!(m.check(r + 16, 8, Access::Read).is_ok());
            assert!(m.check(r + 17, 8, Access::Read).is_err(), "past the end");
            assert!(m.check(r + 20, 8, Access::Read).is_err(), "into the gap");
            let writable = (N - 1 - i) % 2 == 0;
            assert_eq!(m.check(r, 8, Access::Write).is_ok(), writable);
        }
        assert!(m.check(base - 1, 1, Access::Read).is_err());
        assert_eq!(m.input_region(base + 32 * 100).map(|r| r.len), Some(24));
        m.remove_at(base + 32 * 100);
        assert!(m.check(base + 32 * 100, 1, Access::Read).is_err());
        assert_eq!(m.regions().len(), N as usize - 1);
    }

    #[test]
    fn overlapping_regions_past_the_list_still_count() {
        let mut m = MemoryMap::new();
        for i in 0..(LISTED_REGIONS as u64 + 4) {
            // SAFETY: never dereferenced.
            unsafe {
                m.add_raw(Region {
                    start: 1000 + i * 100,
                    len: 50,
                    writable: false,
                })
            };
        }
        // Overlaps an indexed region: goes to the list, and both count.
        // SAFETY: never dereferenced.
        unsafe {
            m.add_raw(Region {
                start: 1000 + 18 * 100 + 10,
                len: 60,
                writable: true,
            })
        };
        assert!(m.check(1000 + 18 * 100 + 50, 20, Access::Write).is_ok());
        assert!(m.check(1000 + 18 * 100, 50, Access::Read).is_ok());
        assert!(m.check(1000 + 18 * 100, 8, Access::Write).is_err());
    }
}
