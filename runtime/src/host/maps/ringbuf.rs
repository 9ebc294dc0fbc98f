//! The ring buffer's bookkeeping: records in submission order and the bytes
//! they (and outstanding reservations) occupy.

use super::MapError;
use std::collections::VecDeque;

/// Header bytes the kernel puts before every record.
const HEADER: usize = 8;

/// Bytes a record of `len` bytes occupies: the header plus `len` rounded up to 8.
fn footprint(len: usize) -> usize {
    HEADER + len.div_ceil(8) * 8
}

pub(super) struct RingStore {
    capacity: usize,
    /// Bytes of submitted records plus outstanding reservations.
    used: usize,
    records: VecDeque<Vec<u8>>,
}

impl RingStore {
    pub(super) fn new(capacity: usize) -> RingStore {
        RingStore {
            capacity,
            used: 0,
            records: VecDeque::new(),
        }
    }

    /// Claims room for a `len`-byte record.
    pub(super) fn reserve(&mut self, len: usize) -> Result<(), MapError> {
        let need = len
            .checked_add(HEADER + 7)
            .map(|_| footprint(len))
            .ok_or(MapError::NoSpace)?;
        if need > self.capacity - self.used {
            return Err(MapError::NoSpace);
        }
        self.used += need;
        Ok(())
    }

    /// Publishes a record whose room was reserved.
    pub(super) fn commit(&mut self, rec: Vec<u8>) {
        self.records.push_back(rec);
    }

    /// Returns a reservation's room.
    pub(super) fn unreserve(&mut self, len: usize) {
        self.used = self.used.saturating_sub(footprint(len));
    }

    /// The oldest record, freeing its room.
    pub(super) fn pop(&mut self) -> Option<Vec<u8>> {
        let r = self.records.pop_front()?;
        self.unreserve(r.len());
        Some(r)
    }

    pub(super) fn records(&self) -> usize {
        self.records.len()
    }
}
