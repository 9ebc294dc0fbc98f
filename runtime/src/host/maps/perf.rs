//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: one slot per CPU, each a perf buffer
//! the host reads. A slot takes records only once the host has opened it
//! ([`Map::perf_open`](super::Map::perf_open), as a perf buffer reader
//! installs a perf event fd in the kernel); `bpf_perf_event_output` queues
//! a record in the slot's buffer and the host drains them in order
//! ([`Map::perf_pop`](super::Map::perf_pop)).
//!
//! The kernel's return codes: flags beyond the index -> `-EINVAL`, an
//! index past the slots -> `-E2BIG`, a slot nobody opened -> `-ENOENT`, a
//! full buffer -> `-ENOSPC` (the record is lost and counted).

use std::collections::VecDeque;

/// `BPF_F_INDEX_MASK`: the low 32 bits of the flags select the slot.
pub const INDEX_MASK: u64 = 0xffff_ffff;
/// `BPF_F_CURRENT_CPU`: the slot of the CPU the program runs on.
pub const CURRENT_CPU: u64 = INDEX_MASK;
/// Bytes of records one slot holds before it loses records (64 pages, the
/// size libbpf's `perf_buffer__new` examples ask for per CPU).
pub const SLOT_BYTES: usize = 64 * 4096;
/// Bytes a record header takes in the kernel's buffer
/// (`struct perf_event_header` and the `u32 size` of a raw sample).
const HEADER: usize = 12;

/// Why `bpf_perf_event_output` failed, as the kernel's errno.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PerfError {
    /// Flags other than the index (`-EINVAL`).
    BadFlags,
    /// The index is not a slot (`-E2BIG`).
    NoSlot,
    /// Nobody opened the slot (`-ENOENT`).
    NotOpen,
    /// The slot's buffer is full; the record is lost (`-ENOSPC`).
    Full,
}

impl PerfError {
    /// The negative errno the helper returns.
    pub fn errno(self) -> i64 {
        match self {
            PerfError::BadFlags => -22,
            PerfError::NoSlot => -7,
            PerfError::NotOpen => -2,
            PerfError::Full => -28,
        }
    }
}

struct Slot {
    open: bool,
    used: usize,
    lost: u64,
}

pub(super) struct PerfStore {
    slots: Vec<Slot>,
    /// Records of every slot in output order, with their slot.
    records: VecDeque<(u32, Vec<u8>)>,
}

impl PerfStore {
    pub(super) fn new(slots: u32) -> PerfStore {
        PerfStore {
            slots: (0..slots)
                .map(|_| Slot {
                    open: false,
                    used: 0,
                    lost: 0,
                })
                .collect(),
            records: VecDeque::new(),
        }
    }

    pub(super) fn open(&mut self, slot: u32) -> bool {
        match self.slots.get_mut(slot as usize) {
            Some(s) => {
                s.open = true;
                true
            }
            None => false,
        }
    }

    /// `bpf_perf_event_output` on CPU `cpu` with `flags`.
    pub(super) fn output(&mut self, cpu: u32, flags: u64, data: &[u8]) -> Result<(), PerfError> {
        if flags & !INDEX_MASK != 0 {
            return Err(PerfError::BadFlags);
        }
        let index = match flags & INDEX_MASK {
            CURRENT_CPU => cpu,
            i => i as u32,
        };
        let slot = self
            .slots
            .get_mut(index as usize)
            .ok_or(PerfError::NoSlot)?;
        if !slot.open {
            return Err(PerfError::NotOpen);
        }
        let need = HEADER + data.len().div_ceil(8) * 8;
        if need > SLOT_BYTES - slot.used {
            slot.lost += 1;
            return Err(PerfError::Full);
        }
        slot.used += need;
        self.records.push_back((index, data.to_vec()));
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Option<(u32, Vec<u8>)> {
        let (slot, rec) = self.records.pop_front()?;
        if let Some(s) = self.slots.get_mut(slot as usize) {
            s.used = s.used.saturating_sub(HEADER + rec.len().div_ceil(8) * 8);
        }
        Some((slot, rec))
    }

    pub(super) fn records(&self) -> usize {
        self.records.len()
    }

    pub(super) fn lost(&self) -> u64 {
        self.slots.iter().map(|s| s.lost).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_follows_the_kernels_rules_and_pops_in_order() {
        let mut p = PerfStore::new(2);
        assert_eq!(p.output(0, CURRENT_CPU, b"a"), Err(PerfError::NotOpen));
        assert!(p.open(1));
        assert!(!p.open(2));
        assert_eq!(p.output(0, 1 << 32 | 1, b"a"), Err(PerfError::BadFlags));
        assert_eq!(p.output(0, 2, b"a"), Err(PerfError::NoSlot));
        assert_eq!(p.output(1, CURRENT_CPU, b"one"), Ok(()));
        assert_eq!(p.output(0, 1, b"two"), Ok(()));
        assert_eq!(p.records(), 2);
        assert_eq!(p.pop(), Some((1, b"one".to_vec())));
        assert_eq!(p.pop(), Some((1, b"two".to_vec())));
        assert_eq!(p.pop(), None);
        let big = vec![0u8; SLOT_BYTES];
        assert_eq!(p.output(1, 1, &big), Err(PerfError::Full));
        assert_eq!(p.lost(), 1);
        assert_eq!(
            [
                PerfError::BadFlags,
                PerfError::NoSlot,
                PerfError::NotOpen,
                PerfError::Full
            ]
            .map(PerfError::errno),
            [-22, -7, -2, -28]
        );
    }
}
