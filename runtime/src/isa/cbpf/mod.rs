//! Classic BPF (cBPF): the `struct sock_filter` programs of tcpdump/libpcap
//! packet filters, `SO_ATTACH_FILTER` and seccomp, and their translation
//! to eBPF.
//!
//! - [`insn`]: [`SockFilter`] (code, jt, jf, k), the opcode fields, and the
//!   typed [`Op`].
//! - [`text`]: filters from raw bytes and from `tcpdump -dd`/`-ddd` text.
//! - [`check`]: the kernel's classic checker ([`CbpfProgram::new`]), with
//!   seccomp's extra rules ([`Flavor::Seccomp`]).
//! - [`disasm`]: the `tcpdump -d` listing.
//! - [`translate`]: cBPF → an ordinary eBPF [`Program`](crate::Program), with
//!   the kernel's semantics (its module docs list them).
//! - [`meta`]: [`PacketMeta`], the lengths and ancillary values a packet
//!   filter reads besides the packet.
//!
//! ```
//! use cranebpf_runtime::isa::cbpf::{text, translate, CbpfProgram, Flavor, PacketMeta};
//! use cranebpf_runtime::{Interpreter, Helpers, MemoryMap, RunOptions};
//!
//! // tcpdump -ddd ip
//! let filters = text::from_text("4\n40 0 0 12\n21 0 1 2048\n6 0 0 65535\n6 0 0 0\n")?;
//! let prog = translate(&CbpfProgram::new(filters, Flavor::Socket)?)?;
//! let vm = Interpreter::new(&prog, Helpers::new())?;
//! let mut packet = [0u8; 14];
//! packet[12] = 0x08; // EtherType 0x0800: IPv4
//! let meta = PacketMeta::with_len(14).to_bytes();
//! let mut mem = MemoryMap::new();
//! let p = mem.add_mut(&mut packet);
//! let m = mem.add_ref(&meta);
//! let out = vm.run_with(&mut mem, [p.start, m.start, 0, 0, 0], &RunOptions::default(), None);
//! assert_eq!(out.result, Ok(65535));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
pub mod disasm;
pub mod insn;
pub mod meta;
pub mod text;
pub mod translate;

pub use check::{CbpfProgram, CheckError, CheckRule, Flavor, MAX_INSNS};
pub use disasm::disassemble;
pub use insn::{Op, SockFilter};
pub use meta::PacketMeta;
pub use text::ParseError;
pub use translate::{reads_context, translate, TranslateError};
