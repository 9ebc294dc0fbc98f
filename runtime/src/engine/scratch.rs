//! The per-thread run context: one [`Stack`] and one region list per
//! thread, reused by every run that does not bring its own, so that a run
//! allocates nothing and zeroes only the stack bytes the program can
//! observe ([`crate::analysis::stack_use`]).
//!
//! [`with_stack`] and [`with_regions`] lend the thread's stack and
//! region storage for one run. A run that starts another run on the same
//! thread (a helper that runs a program) finds them lent out and gets
//! fresh ones, so nested runs never share a stack.

use crate::host::mem::{MemoryMap, Region, Stack};
use std::cell::Cell;

thread_local! {
    static STACK: Cell<Option<Box<Stack>>> = const { Cell::new(None) };
    static REGIONS: Cell<Vec<Region>> = const { Cell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch stack (a new one if it is lent out
/// already, or the first time). The stack holds whatever the previous run
/// left; each run zeroes what it may observe.
pub fn with_stack<R>(f: impl FnOnce(&mut Stack) -> R) -> R {
    let mut s = STACK
        .try_with(Cell::take)
        .ok()
        .flatten()
        .unwrap_or_else(Stack::boxed);
    let r = f(&mut s);
    // If the thread is being torn down the stack is simply dropped.
    let _ = STACK.try_with(|c| c.set(Some(s)));
    r
}

/// Runs `f` with this thread's region storage (empty; a new vector if it
/// is lent out already), for a run that builds its [`MemoryMap`] with
/// [`MemoryMap::with_storage`] and hands the storage back.
pub fn with_storage<R>(f: impl FnOnce(&mut Vec<Region>) -> R) -> R {
    let mut storage = REGIONS.try_with(Cell::take).unwrap_or_default();
    let r = f(&mut storage);
    storage.clear();
    let _ = REGIONS.try_with(|c| c.set(storage));
    r
}

/// Runs `f` with an empty [`MemoryMap`] whose region list reuses this
/// thread's storage (no allocation once the storage has grown).
pub fn with_regions<'a, R>(f: impl FnOnce(&mut MemoryMap<'a>) -> R) -> R {
    let storage = REGIONS.try_with(Cell::take).unwrap_or_default();
    let mut mem = MemoryMap::with_storage(storage);
    let r = f(&mut mem);
    let storage = mem.into_storage();
    let _ = REGIONS.try_with(|c| c.set(storage));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_runs_get_distinct_stacks() {
        let (outer, inner) = with_stack(|a| {
            let pa = a.bytes().as_ptr() as usize;
            let pb = with_stack(|b| b.bytes().as_ptr() as usize);
            (pa, pb)
        });
        assert_ne!(outer, inner);
        // The stack lent last is the one kept for the next run.
        let again = with_stack(|a| a.bytes().as_ptr() as usize);
        assert_eq!(again, outer);
    }

    #[test]
    fn region_storage_comes_back_empty() {
        let mut buf = [0u8; 4];
        with_regions(|m| {
            m.add_mut(&mut buf);
            assert_eq!(m.regions().len(), 1);
        });
        with_regions(|m| assert!(m.regions().is_empty()));
    }
}
