//! Classic BPF packet filters (tcpdump/libpcap, `SO_ATTACH_FILTER`) on
//! either engine: [`PacketFilter`] checks a `sock_filter` array, translates
//! it to eBPF (`cranebpf_runtime::isa::cbpf`) and prepares the result.
//!
//! ```
//! use cranebpf::filter::{PacketFilter, SockFilter};
//! use cranebpf::EngineKind;
//!
//! // tcpdump -dd ip: ldh [12]; jeq #0x800, 0, 1; ret #65535; ret #0
//! let ip = vec![
//!     SockFilter::new(0x28, 0, 0, 12),
//!     SockFilter::new(0x15, 0, 1, 0x800),
//!     SockFilter::new(0x06, 0, 0, 65535),
//!     SockFilter::new(0x06, 0, 0, 0),
//! ];
//! let mut f = PacketFilter::new(ip, EngineKind::Jit)?;
//! let mut frame = [0u8; 60];
//! frame[12] = 0x08;
//! assert!(f.matches(&frame, 60)?);
//! frame[12] = 0x86;
//! assert!(!f.matches(&frame, 60)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{
    EngineKind, Fault, MemoryMap, Prepared, Program, Region, RunOptions, RunOutcome, Stack, Vm,
    VmError,
};
use cranebpf_runtime::isa::cbpf::reads_context;
pub use cranebpf_runtime::isa::cbpf::{
    disassemble, text, translate, CbpfProgram, CheckError, Flavor, PacketMeta, SockFilter,
    TranslateError,
};
use std::fmt;

/// Why a classic filter could not be prepared.
#[derive(Debug)]
#[non_exhaustive]
pub enum FilterError {
    /// The filter breaks a rule of the classic checker.
    Check(CheckError),
    /// It uses a load with no userspace translation.
    Translate(TranslateError),
    /// The engine refused the translated program.
    Vm(VmError),
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FilterError::Check(e) => write!(f, "{e}"),
            FilterError::Translate(e) => write!(f, "{e}"),
            FilterError::Vm(e) => write!(f, "{e}"),
        }
    }
}

/// `Display` is the cause's message, so `source()` is `None`.
impl std::error::Error for FilterError {}

impl From<CheckError> for FilterError {
    fn from(e: CheckError) -> FilterError {
        FilterError::Check(e)
    }
}

impl From<TranslateError> for FilterError {
    fn from(e: TranslateError) -> FilterError {
        FilterError::Translate(e)
    }
}

impl From<VmError> for FilterError {
    fn from(e: VmError) -> FilterError {
        FilterError::Vm(e)
    }
}

/// A checked, translated and prepared classic filter, with the stack and
/// region map its runs reuse (so runs take `&mut self`; prepare one per
/// thread): a run allocates nothing and zeroes only the scratch memory
/// (`M[]`) the filter can observe.
pub(crate) struct Compiled {
    pub(crate) cbpf: CbpfProgram,
    pub(crate) program: Program,
    pub(crate) vm: Vm,
    /// Whether the translated program reads its context (a packet
    /// filter's [`PacketMeta`]); if not, runs leave it out.
    pub(crate) reads_context: bool,
    stack: Box<Stack>,
    /// Empty between runs (see `JitProgram::run_regions_on`).
    map: MemoryMap<'static>,
}

/// The size rule of a classic filter's JIT (see
/// [`JitOptions::fast_tier_above`](crate::JitOptions)): ten times the
/// default. A filter runs once per packet or system call for as long as it
/// is installed, so it takes the optimizing tier up to a larger size: a
/// 302-instruction seccomp policy (`examples/seccomp/docker-like.bpf`) runs
/// in 79 ns per system call there against 142 ns in the fast tier, for
/// 22 ms of compile instead of 5 ms. Past this size (a 4 096-instruction
/// chain of tests, say) the fast tier keeps compile time linear.
pub(crate) const FILTER_TIER_ABOVE: usize = 20_000;

/// The JIT options of a classic filter.
fn filter_jit_options() -> crate::JitOptions {
    let mut opts = crate::JitOptions::default();
    opts.fast_tier_above = FILTER_TIER_ABOVE;
    opts
}

impl Compiled {
    pub(crate) fn new(cbpf: CbpfProgram, engine: EngineKind) -> Result<Compiled, FilterError> {
        let program = translate(&cbpf)?;
        let vm = match engine {
            EngineKind::Jit => {
                Vm::jit_with(&program, crate::Helpers::new(), &filter_jit_options())?
            }
            EngineKind::Interpreter => Vm::new(&program, crate::Helpers::new(), engine)?,
        };
        Ok(Compiled {
            cbpf,
            reads_context: reads_context(&program),
            program,
            vm,
            stack: Stack::boxed(),
            map: MemoryMap::with_storage(Vec::with_capacity(4)),
        })
    }

    /// One run with r1 = `data` (read-only, the input region) and, if
    /// given, r2 = `meta` (read-only): the 32-bit result. The JIT takes the
    /// prebuilt-context entry (no region search, no map unless a check
    /// leaves compiled code).
    #[inline]
    pub(crate) fn run(&mut self, data: &[u8], meta: Option<&[u8]>) -> Result<u32, Fault> {
        let d = read_only(data);
        let m = meta.map(read_only);
        let args = [d.start, m.map_or(0, |m| m.start), 0, 0, 0];
        let opts = RunOptions::default();
        let out = match self.vm.as_jit() {
            // SAFETY: `data` and `meta` are borrowed for the whole call and
            // their regions are read-only.
            Some(p) => unsafe {
                p.run_regions_on(
                    &mut self.stack,
                    &mut self.map,
                    Some(d),
                    m.as_slice(),
                    args,
                    &opts,
                )
            },
            None => self.run_other(data, meta, args, &opts),
        };
        out.result.map(|r0| r0 as u32)
    }

    /// [`Compiled::run`] on the interpreter.
    fn run_other(
        &mut self,
        data: &[u8],
        meta: Option<&[u8]>,
        args: [u64; 5],
        opts: &RunOptions,
    ) -> RunOutcome {
        let storage = std::mem::take(&mut self.map).into_storage();
        let mut mem = MemoryMap::with_storage(storage);
        mem.add_ref(data);
        if let Some(m) = meta {
            mem.add_ref(m);
        }
        let out = self
            .vm
            .run_reused(&mut self.stack, &mut mem, args, opts, None);
        self.map = MemoryMap::with_storage(mem.into_storage());
        out
    }

    /// Runs the filter over each of `packets` (data, metadata) in order and
    /// hands each 32-bit result to `verdict`: the results of
    /// [`Compiled::run`] per packet, or its first fault. On the JIT the
    /// whole batch shares one context, and the metadata one buffer whose
    /// bytes each run rewrites.
    pub(crate) fn run_each<D: AsRef<[u8]>>(
        &mut self,
        packets: impl IntoIterator<Item = (D, PacketMeta)>,
        mut verdict: impl FnMut(u32),
    ) -> Result<(), Fault> {
        let reads_context = self.reads_context;
        let mut last_meta = PacketMeta::default();
        let mut meta_buf = last_meta.to_bytes();
        let meta_region = read_only(&meta_buf);
        let meta_ptr = meta_buf.as_mut_ptr();
        let more = [meta_region];
        let more: &[Region] = if reads_context { &more } else { &[] };
        let batch = match self.vm.as_jit() {
            // SAFETY: `meta_buf` outlives the batch and is only written
            // between runs, through `meta_ptr`.
            Some(p) => unsafe { p.batch(&mut self.stack, more, true, &mut self.map) },
            None => None,
        };
        let Some(mut batch) = batch else {
            for (data, meta) in packets {
                let bytes = meta.to_bytes();
                verdict(self.run(data.as_ref(), reads_context.then_some(&bytes[..]))?);
            }
            return Ok(());
        };
        for (data, meta) in packets {
            let d = read_only(data.as_ref());
            if reads_context && meta != last_meta {
                last_meta = meta;
                let bytes = meta.to_bytes();
                // SAFETY: `meta_ptr` points to the `PACKET_META_LEN` bytes
                // of `meta_buf`, which no run is reading now.
                unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), meta_ptr, bytes.len()) };
            }
            let args = [
                d.start,
                if reads_context { meta_region.start } else { 0 },
                0,
                0,
                0,
            ];
            // SAFETY: `data` is borrowed for the whole call and read-only.
            match unsafe { batch.run(d.start, d.len, args) } {
                Some(r0) => verdict(r0 as u32),
                None => return Err(batch.fault()),
            }
        }
        Ok(())
    }
}

/// The read-only region over `bytes`.
fn read_only(bytes: &[u8]) -> Region {
    Region {
        start: bytes.as_ptr() as u64,
        len: bytes.len() as u64,
        writable: false,
    }
}

/// A classic packet filter ready to run (see the module docs).
pub struct PacketFilter {
    inner: Compiled,
}

impl fmt::Debug for PacketFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketFilter")
            .field("engine", &self.engine())
            .field("insns", &self.inner.cbpf.filters().len())
            .finish_non_exhaustive()
    }
}

impl PacketFilter {
    /// Checks, translates and prepares `filters` for `engine`.
    pub fn new(filters: Vec<SockFilter>, engine: EngineKind) -> Result<PacketFilter, FilterError> {
        PacketFilter::from_checked(CbpfProgram::new(filters, Flavor::Socket)?, engine)
    }

    /// Translates and prepares a checked filter (of either flavor; a
    /// seccomp filter reads the packet as its `seccomp_data`).
    pub fn from_checked(
        cbpf: CbpfProgram,
        engine: EngineKind,
    ) -> Result<PacketFilter, FilterError> {
        Ok(PacketFilter {
            inner: Compiled::new(cbpf, engine)?,
        })
    }

    /// Runs the filter over `packet` (the captured bytes) with `meta`: the
    /// filter's 32-bit result (for libpcap, the snapshot length to keep; 0
    /// drops the packet).
    pub fn run(&mut self, packet: &[u8], meta: &PacketMeta) -> Result<u32, Fault> {
        if !self.inner.reads_context {
            return self.inner.run(packet, None);
        }
        let meta = meta.to_bytes();
        self.inner.run(packet, Some(&meta))
    }

    /// Whether the filter accepts `packet`, whose length on the wire was
    /// `wire_len`: a nonzero result, as `pcap_offline_filter` decides.
    pub fn matches(&mut self, packet: &[u8], wire_len: u32) -> Result<bool, Fault> {
        Ok(self.run(packet, &PacketMeta::with_len(wire_len))? != 0)
    }

    /// Runs the filter over every packet of `packets` (the captured bytes
    /// and the length on the wire) in one call, pushing each result to
    /// `verdicts` in order: what [`PacketFilter::run`] gives per packet
    /// (with [`PacketMeta::with_len`]), without its per-call setup.
    pub fn run_batch<'p>(
        &mut self,
        packets: impl IntoIterator<Item = (&'p [u8], u32)>,
        verdicts: &mut Vec<u32>,
    ) -> Result<(), Fault> {
        let packets = packets
            .into_iter()
            .map(|(d, len)| (d, PacketMeta::with_len(len)));
        self.inner.run_each(packets, |v| verdicts.push(v))
    }

    /// How many of `packets` (captured bytes, wire length) the filter
    /// accepts, as [`PacketFilter::matches`] decides, in one call (see
    /// [`PacketFilter::run_batch`]).
    pub fn count<'p>(
        &mut self,
        packets: impl IntoIterator<Item = (&'p [u8], u32)>,
    ) -> Result<usize, Fault> {
        let mut n = 0;
        let packets = packets
            .into_iter()
            .map(|(d, len)| (d, PacketMeta::with_len(len)));
        self.inner.run_each(packets, |v| n += usize::from(v != 0))?;
        Ok(n)
    }

    /// The checked classic filter.
    pub fn cbpf(&self) -> &CbpfProgram {
        &self.inner.cbpf
    }

    /// The translated eBPF program.
    pub fn program(&self) -> &Program {
        &self.inner.program
    }

    /// The engine the filter runs on.
    pub fn engine(&self) -> EngineKind {
        self.inner.vm.engine()
    }

    /// Bytes of machine code, for the JIT.
    pub fn code_size(&self) -> Option<usize> {
        self.inner.vm.code_size()
    }
}
