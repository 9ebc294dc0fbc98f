//! Handles: what C holds instead of pointers.
//!
//! A handle is an opaque, non-NULL token (`id << 4`, ids never reused); C
//! never dereferences it and neither does Rust. Each exported function looks
//! its handle up in the [`Registry`] of that type, so a destroyed, foreign or
//! made-up handle is an error, not a use-after-free. The registry holds an
//! `Arc`, so a handle destroyed while another thread runs it stays alive
//! until that run ends.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Live objects of one type, by handle.
pub struct Registry<T> {
    live: Mutex<Option<HashMap<usize, Arc<T>>>>,
}

/// Ids for every registry, so a handle of one type is never a valid handle
/// of another.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl<T> Registry<T> {
    /// An empty registry (usable in a `static`).
    pub const fn new() -> Registry<T> {
        Registry {
            live: Mutex::new(None),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut HashMap<usize, Arc<T>>) -> R) -> R {
        let mut g = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        f(g.get_or_insert_with(HashMap::new))
    }

    /// Registers `value` and returns its new handle.
    pub fn insert<H>(&self, value: T) -> *mut H {
        self.insert_with(|_| value)
    }

    /// Registers the value `make` builds from its handle, and returns the
    /// handle.
    pub fn insert_with<H>(&self, make: impl FnOnce(usize) -> T) -> *mut H {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) as usize;
        let token = id << 4;
        let value = Arc::new(make(token));
        self.with(|m| m.insert(token, value));
        token as *mut H
    }

    /// The object behind `handle`, if it is live.
    pub fn get<H>(&self, handle: *const H) -> Option<Arc<T>> {
        self.with(|m| m.get(&(handle as usize)).cloned())
    }

    /// Unregisters `handle`; `None` if it was not live (a double destroy).
    pub fn remove<H>(&self, handle: *const H) -> Option<Arc<T>> {
        self.with(|m| m.remove(&(handle as usize)))
    }
}

impl<T> Default for Registry<T> {
    fn default() -> Registry<T> {
        Registry::new()
    }
}

/// Runs `f`, turning a panic into `on_panic` (a panic never unwinds into C).
/// The panic's message has already been printed by the panic hook.
pub fn guard<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_handle_is_stale_and_ids_are_not_reused() {
        let r: Registry<u32> = Registry::new();
        let a: *mut u8 = r.insert(7);
        assert_eq!(r.get(a).as_deref(), Some(&7));
        assert!(r.remove(a).is_some());
        assert!(r.remove(a).is_none(), "double remove is detected");
        let b: *mut u8 = r.insert(8);
        assert_ne!(a, b);
        assert!(r.get(a).is_none());
        assert!(r.get(std::ptr::null::<u8>()).is_none());
    }

    #[test]
    fn guard_turns_a_panic_into_the_fallback() {
        assert_eq!(guard(-1, || -> i32 { panic!("boom") }), -1);
        assert_eq!(guard(-1, || 3), 3);
    }
}
