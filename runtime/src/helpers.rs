//! Helper functions: Rust code a program calls with `call IMM` or `callx REG`.
//!
//! A helper receives the five argument registers r1-r5 and a [`HelperCtx`]
//! through which it reaches the run's memory (checked by the same bounds rule
//! as the program) and the embedder's state. It returns the new r0, or a
//! [`HelperError`] that stops the program with [`crate::FaultKind::Helper`].
//! Both engines call helpers through this one interface, so a helper behaves
//! identically under the interpreter and the JIT.

use crate::fault::HelperError;
use crate::mem::MemoryMap;
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

/// A registered helper: a name (for disassembly and errors) and a body.
#[derive(Clone)]
pub struct Helper {
    /// Human-readable name, e.g. `bpf_map_lookup_elem`.
    pub name: String,
    /// The body.
    pub func: Arc<HelperFn>,
}

impl fmt::Debug for Helper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Helper")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Helpers by id. Cheap to clone (bodies are shared).
#[derive(Clone, Debug, Default)]
pub struct Helpers {
    by_id: BTreeMap<u32, Helper>,
}

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
        self.by_id.insert(
            id,
            Helper {
                name: name.into(),
                func: Arc::new(func),
            },
        );
        self
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
