//! Tiered start: a [`Vm`](crate::Vm) that answers its first runs with the
//! interpreter while the JIT compiles the same program on a background
//! thread, then switches to the compiled code.
//!
//! The switch is one atomic step: the compiled program is published
//! through a [`OnceLock`], and each run reads it once, at its start, and
//! runs to its end on the engine it found. Both engines follow one engine
//! contract (same results, faults and instruction counts), so a caller
//! cannot tell which engine answered a run, only how fast. If the
//! compilation fails the VM stays on the interpreter and
//! [`Tiered::jit_error`] says why.

use crate::{JitError, JitOptions, JitProgram};
use cranebpf_runtime::engine::Prepared;
use cranebpf_runtime::{Helpers, Interpreter, MemoryMap, Program, RunOptions, RunOutcome, Stack};
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

/// What the background compilation leaves behind.
#[derive(Default)]
struct Shared {
    jit: OnceLock<JitProgram>,
    error: OnceLock<JitError>,
}

/// The interpreter now, the JIT once it is compiled.
pub(crate) struct Tiered {
    interp: Interpreter,
    shared: Arc<Shared>,
    /// Runs started so far.
    calls: AtomicU64,
    /// Runs that stay on the interpreter whatever the compiler does.
    min_interp_calls: u64,
    /// The compiling thread, until someone waits for it.
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Tiered {
    /// Prepares `program` for the interpreter now (so load errors are the
    /// interpreter's, which the JIT reports alike) and starts compiling it.
    pub(crate) fn new(
        program: &Program,
        helpers: Helpers,
        opts: &JitOptions,
        min_interp_calls: u64,
    ) -> Result<Tiered, cranebpf_runtime::EngineError> {
        let interp = Interpreter::new(program, helpers.clone())?;
        let shared = Arc::new(Shared::default());
        let worker = {
            let (shared, program, opts) = (shared.clone(), program.clone(), opts.clone());
            std::thread::Builder::new()
                .name("cranebpf-jit".into())
                .spawn(
                    move || match JitProgram::with_options(&program, helpers, &opts) {
                        Ok(p) => {
                            let _ = shared.jit.set(p);
                        }
                        Err(e) => {
                            let _ = shared.error.set(e);
                        }
                    },
                )
        };
        // Without a thread the VM simply stays on the interpreter.
        let worker = worker.ok();
        Ok(Tiered {
            interp,
            shared,
            calls: AtomicU64::new(0),
            min_interp_calls,
            worker: Mutex::new(worker),
        })
    }

    /// The engine the next run takes: the compiled program if it is ready
    /// and enough runs went to the interpreter.
    fn pick(&self) -> &dyn Prepared {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        match self.shared.jit.get() {
            Some(j) if n >= self.min_interp_calls => j,
            _ => &self.interp,
        }
    }

    /// Whether runs go to compiled code now (ignoring `min_interp_calls`).
    pub(crate) fn switched(&self) -> bool {
        self.shared.jit.get().is_some()
    }

    /// Blocks until the background compilation ended; returns whether it
    /// succeeded.
    pub(crate) fn wait(&self) -> bool {
        let handle = self.worker.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
        self.switched()
    }

    /// Why the background compilation failed, if it did.
    pub(crate) fn jit_error(&self) -> Option<&JitError> {
        self.shared.error.get()
    }

    /// Bytes of machine code, once compiled.
    pub(crate) fn code_size(&self) -> Option<usize> {
        self.shared.jit.get().map(JitProgram::code_size)
    }

    pub(crate) fn run_with(
        &self,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.pick().run_scratch(mem, args, opts, user)
    }

    pub(crate) fn run_reused(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.pick().run_reused(stack, mem, args, opts, user)
    }

    pub(crate) fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.pick().run(stack, mem, args, opts, user)
    }
}
