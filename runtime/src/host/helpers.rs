//! Helper functions: Rust code a program calls with `call IMM` or `callx REG`.
//!
//! A helper receives the five argument registers r1-r5 and a [`HelperCtx`]
//! through which it reaches the run's memory (checked by the same bounds rule
//! as the program) and the embedder's state. It returns the new r0, or a
//! [`HelperError`] that stops the program with [`crate::FaultKind::Helper`].
//! Both engines call helpers through this one interface, so a helper behaves
//! identically under the interpreter and the JIT.

use crate::engine::fault::HelperError;
use crate::host::maps::MapDef;
use crate::host::mem::MemoryMap;
use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// What a helper can reach while it runs.
pub struct HelperCtx<'r, 'a> {
    /// The run's memory: read and write program memory, register or remove
    /// regions (e.g. for a pointer the helper returns).
    pub mem: &'r mut MemoryMap<'a>,
    /// The embedder's state for this run, if it passed one.
    pub user: Option<&'r mut (dyn Any + Send)>,
}

/// The signature of a helper body.
pub type HelperFn =
    dyn Fn(&mut HelperCtx<'_, '_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync;

/// A helper that touches no VM memory and cannot fail: a plain C-ABI
/// function of r1..r5 returning r0. The JIT calls it directly (no
/// trampoline, no [`HelperCtx`], no refresh of the input bounds); the
/// interpreter calls it through an ordinary body. It must not panic (a
/// panic cannot unwind through `extern "C"` and aborts the process).
pub type DirectFn = extern "C" fn(u64, u64, u64, u64, u64) -> u64;

/// A registered helper: a name (for disassembly and errors) and a body.
#[derive(Clone)]
pub struct Helper {
    /// Human-readable name, e.g. `bpf_map_lookup_elem`.
    pub name: String,
    /// The body.
    pub func: Arc<HelperFn>,
    /// The same body as a direct C-ABI function, for a helper registered
    /// with [`Helpers::register_direct`].
    pub direct: Option<DirectFn>,
}

impl fmt::Debug for Helper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Helper")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Helpers by id. Cheap to clone (bodies are shared).
#[derive(Clone, Default)]
pub struct Helpers {
    by_id: BTreeMap<u32, Helper>,
    /// The maps the kernel map helpers of this set resolve handles
    /// against (handle and shape), with the `bpf_map_lookup_elem` body
    /// they belong to (see [`Helpers::map_shapes`]).
    map_shapes: Option<(Arc<HelperFn>, Arc<[(u64, MapDef)]>)>,
    /// The bodies of ids below [`DENSE_IDS`], indexed by id: the lookup a
    /// JIT's helper trampoline does on every call.
    dense: Vec<Option<Arc<HelperFn>>>,
}

impl fmt::Debug for Helpers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Helpers")
            .field("by_id", &self.by_id)
            .finish_non_exhaustive()
    }
}

/// Ids below this are also kept in a table indexed by id (every kernel
/// helper id is below it).
const DENSE_IDS: u32 = 512;

impl Helpers {
    /// No helpers.
    pub fn new() -> Helpers {
        Helpers::default()
    }

    /// Registers (or replaces) helper `id`.
    pub fn register<F>(&mut self, id: u32, name: impl Into<String>, func: F) -> &mut Helpers
    where
        F: Fn(&mut HelperCtx<'_, '_>, [u64; 5]) -> Result<u64, HelperError> + Send + Sync + 'static,
    {
        let func: Arc<HelperFn> = Arc::new(func);
        if id < DENSE_IDS {
            let i = id as usize;
            if self.dense.len() <= i {
                self.dense.resize(i + 1, None);
            }
            self.dense[i] = Some(Arc::clone(&func));
        }
        self.by_id.insert(
            id,
            Helper {
                name: name.into(),
                func,
                direct: None,
            },
        );
        self
    }

    /// Registers (or replaces) helper `id` as a [`DirectFn`]: a function
    /// that touches no VM memory and cannot fail, which compiled code calls
    /// directly.
    ///
    /// ```
    /// use cranebpf_runtime::Helpers;
    ///
    /// extern "C" fn mix(a: u64, b: u64, _: u64, _: u64, _: u64) -> u64 {
    ///     a.rotate_left(7) ^ b
    /// }
    /// let mut h = Helpers::new();
    /// h.register_direct(1, "mix", mix);
    /// assert!(h.direct(1).is_some());
    /// ```
    pub fn register_direct(
        &mut self,
        id: u32,
        name: impl Into<String>,
        f: DirectFn,
    ) -> &mut Helpers {
        self.register(id, name, move |_, a| Ok(f(a[0], a[1], a[2], a[3], a[4])));
        if let Some(h) = self.by_id.get_mut(&id) {
            h.direct = Some(f);
        }
        self
    }

    /// The direct form of helper `id`, if it was registered with
    /// [`Helpers::register_direct`].
    pub fn direct(&self, id: u32) -> Option<DirectFn> {
        self.by_id.get(&id).and_then(|h| h.direct)
    }

    /// The helper with this id.
    pub fn get(&self, id: u32) -> Option<&Helper> {
        self.by_id.get(&id)
    }

    /// The helper a `callx` register value names: ids are u32, so larger
    /// values name nothing.
    pub fn get_u64(&self, id: u64) -> Option<(u32, &Helper)> {
        let id = u32::try_from(id).ok()?;
        self.by_id.get(&id).map(|h| (id, h))
    }

    /// The body of the helper a register value names (as
    /// [`Helpers::get_u64`]), by direct indexing for small ids.
    #[inline]
    pub fn func_u64(&self, id: u64) -> Option<&HelperFn> {
        match self.dense.get(usize::try_from(id).ok()?) {
            Some(f) => f.as_deref(),
            None if id < u64::from(DENSE_IDS) => None,
            None => self.get_u64(id).map(|(_, h)| &*h.func),
        }
    }

    /// Records the maps the kernel map helpers just registered resolve
    /// handles against (`kernel_helpers`), tied to the current body of
    /// helper 1.
    pub(crate) fn set_map_shapes(&mut self, shapes: Vec<(u64, MapDef)>) {
        self.map_shapes = self
            .by_id
            .get(&1)
            .map(|h| (Arc::clone(&h.func), shapes.into()));
    }

    /// The maps (handle, shape) whose values `bpf_map_lookup_elem` (helper
    /// 1) of this set returns, as the kernel helpers built them: empty once
    /// helper 1 was replaced, so a verifier may trust them (the value of
    /// the map a handle names is that map's value size) exactly while the
    /// lookup is the kernel helper over those maps.
    pub fn map_shapes(&self) -> &[(u64, MapDef)] {
        match (&self.map_shapes, self.by_id.get(&1)) {
            (Some((body, shapes)), Some(h))
                if std::ptr::addr_eq(Arc::as_ptr(body), Arc::as_ptr(&h.func)) =>
            {
                shapes
            }
            _ => &[],
        }
    }

    /// Registered ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.by_id.keys().copied()
    }

    /// Calls helper `id`, or returns `None` if it is not registered.
    pub fn call(
        &self,
        id: u32,
        ctx: &mut HelperCtx<'_, '_>,
        args: [u64; 5],
    ) -> Option<Result<u64, HelperError>> {
        self.by_id.get(&id).map(|h| (h.func)(ctx, args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::mem::MemoryMap;

    /// Calls the body `func_u64` finds for `id`, if any.
    fn call(h: &Helpers, id: u64) -> Option<u64> {
        let mut mem = MemoryMap::new();
        let mut ctx = HelperCtx {
            mem: &mut mem,
            user: None,
        };
        h.func_u64(id)
            .map(|f| f(&mut ctx, [0; 5]).unwrap_or(u64::MAX))
    }

    #[test]
    fn func_u64_finds_small_large_and_replaced_ids() {
        let mut h = Helpers::new();
        h.register(7, "seven", |_, _| Ok(7));
        h.register(100_000, "big", |_, _| Ok(100_000));
        assert_eq!(call(&h, 7), Some(7));
        assert_eq!(call(&h, 100_000), Some(100_000));
        // Unregistered: inside the table, past it, beyond u32.
        assert_eq!(call(&h, 3), None);
        assert_eq!(call(&h, 300), None);
        assert_eq!(call(&h, 100_001), None);
        assert_eq!(call(&h, 1 << 32 | 7), None);
        assert_eq!(call(&h, u64::MAX), None);
        // Replacing a helper replaces it in both lookups.
        h.register(7, "seven again", |_, _| Ok(77));
        assert_eq!(call(&h, 7), Some(77));
        assert_eq!(h.get(7).map(|x| x.name.as_str()), Some("seven again"));
    }
}
