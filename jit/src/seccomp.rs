//! seccomp filters on either engine: [`SeccompFilter`] checks a classic
//! filter with seccomp's rules, translates it and evaluates it for system
//! call records ([`SeccompData`]), returning the [`SeccompAction`].
//!
//! ```
//! use cranebpf::seccomp::{SeccompAction, SeccompData, SeccompFilter, SockFilter};
//! use cranebpf::EngineKind;
//!
//! // ld [0] (nr); jeq #39 (getpid), 0, 1; ret ERRNO(1); ret ALLOW
//! let policy = vec![
//!     SockFilter::new(0x20, 0, 0, 0),
//!     SockFilter::new(0x15, 0, 1, 39),
//!     SockFilter::new(0x06, 0, 0, 0x0005_0001),
//!     SockFilter::new(0x06, 0, 0, 0x7fff_0000),
//! ];
//! let mut f = SeccompFilter::new(policy, EngineKind::Jit)?;
//! assert_eq!(f.evaluate(&SeccompData::new(39, [0; 6]))?, SeccompAction::Errno { errno: 1 });
//! assert_eq!(f.evaluate(&SeccompData::new(0, [0; 6]))?, SeccompAction::Allow);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::filter::{Compiled, FilterError, PacketMeta};
use crate::{EngineKind, Fault, Program};
pub use cranebpf_runtime::isa::cbpf::{text, CbpfProgram, Flavor, SockFilter};
pub use cranebpf_runtime::seccomp::{host_audit_arch, SeccompAction, SeccompData};
use std::fmt;

/// A seccomp filter ready to evaluate (see the module docs).
pub struct SeccompFilter {
    inner: Compiled,
}

impl fmt::Debug for SeccompFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeccompFilter")
            .field("engine", &self.inner.vm.engine())
            .field("insns", &self.inner.cbpf.filters().len())
            .finish_non_exhaustive()
    }
}

impl SeccompFilter {
    /// Checks `filters` with seccomp's rules, translates and prepares them.
    pub fn new(filters: Vec<SockFilter>, engine: EngineKind) -> Result<SeccompFilter, FilterError> {
        let cbpf = CbpfProgram::new(filters, Flavor::Seccomp)?;
        Ok(SeccompFilter {
            inner: Compiled::new(cbpf, engine)?,
        })
    }

    /// The filter's 32-bit result for one system call.
    pub fn evaluate_raw(&mut self, data: &SeccompData) -> Result<u32, Fault> {
        let bytes = data.to_bytes();
        self.inner.run(&bytes, None)
    }

    /// The action for one system call.
    pub fn evaluate(&mut self, data: &SeccompData) -> Result<SeccompAction, Fault> {
        self.evaluate_raw(data).map(SeccompAction::from_ret)
    }

    /// The filter's 32-bit results for many system calls in one call, in
    /// order: what [`SeccompFilter::evaluate_raw`] gives for each, without
    /// its per-call setup (the JIT runs the whole batch with one context).
    pub fn evaluate_batch_raw<'d>(
        &mut self,
        records: impl IntoIterator<Item = &'d SeccompData>,
        results: &mut Vec<u32>,
    ) -> Result<(), Fault> {
        let records = records
            .into_iter()
            .map(|r| (r.to_bytes(), PacketMeta::default()));
        self.inner.run_each(records, |v| results.push(v))
    }

    /// The actions for many system calls in one call, in order (see
    /// [`SeccompFilter::evaluate_batch_raw`]).
    pub fn evaluate_batch<'d>(
        &mut self,
        records: impl IntoIterator<Item = &'d SeccompData>,
        actions: &mut Vec<SeccompAction>,
    ) -> Result<(), Fault> {
        let records = records
            .into_iter()
            .map(|r| (r.to_bytes(), PacketMeta::default()));
        self.inner
            .run_each(records, |v| actions.push(SeccompAction::from_ret(v)))
    }

    /// The checked classic filter.
    pub fn cbpf(&self) -> &CbpfProgram {
        &self.inner.cbpf
    }

    /// The translated eBPF program.
    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    /// Bytes of machine code, for the JIT.
    pub fn code_size(&self) -> Option<usize> {
        self.inner.vm.code_size()
    }
}
