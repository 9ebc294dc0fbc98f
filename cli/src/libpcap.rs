//! libpcap itself, the oracle and the baseline of `cranebpf filter`:
//! compiling a tcpdump expression (through the `pcap` crate) and libpcap's
//! own cBPF interpreter `bpf_filter` (called directly, because the crate's
//! `BpfProgram::filter` cannot pass a wire length different from the
//! captured length).
//!
//! Shared with the CLI's tests (`#[path]`), so it depends on nothing else in
//! the CLI.

use cranebpf::filter::SockFilter;
use std::ffi::{c_int, c_uint};

/// `struct bpf_insn`, laid out as libpcap declares it.
#[repr(C)]
#[derive(Clone, Copy)]
struct BpfInsn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[link(name = "pcap")]
extern "C" {
    /// `u_int bpf_filter(const struct bpf_insn *, const u_char *, u_int wirelen, u_int buflen)`.
    fn bpf_filter(pc: *const BpfInsn, pkt: *const u8, wirelen: c_uint, buflen: c_uint) -> c_uint;
    /// `int bpf_validate(const struct bpf_insn *, int len)`: nonzero if valid.
    fn bpf_validate(f: *const BpfInsn, len: c_int) -> c_int;
}

/// Compiles a tcpdump expression for captures of link type `linktype`
/// (a `DLT_*`/`LINKTYPE_*` value) with libpcap's optimiser, as tcpdump
/// does, and returns its instructions.
pub fn compile(expression: &str, linktype: u32) -> Result<Vec<SockFilter>, String> {
    let cap = pcap::Capture::dead(pcap::Linktype(linktype as i32))
        .map_err(|e| format!("libpcap: {e}"))?;
    let prog = cap
        .compile(expression, true)
        .map_err(|e| format!("libpcap cannot compile `{expression}`: {e}"))?;
    prog.get_instructions()
        .iter()
        .enumerate()
        .map(|(i, insn)| {
            // The crate keeps `struct bpf_insn` private; its Display is
            // `code jt jf k` in decimal.
            let text = insn.to_string();
            let f: Vec<u64> = text.split(' ').filter_map(|s| s.parse().ok()).collect();
            match f[..] {
                [code, jt, jf, k] => Ok(SockFilter::new(code as u16, jt as u8, jf as u8, k as u32)),
                _ => Err(format!("libpcap instruction {i}: unexpected form `{text}`")),
            }
        })
        .collect()
}

/// A filter in libpcap's own interpreter: validated by `bpf_validate` once,
/// then run by `bpf_filter`.
pub struct LibpcapFilter {
    insns: Vec<BpfInsn>,
}

impl LibpcapFilter {
    /// `None` if `bpf_validate` refuses the filter (libpcap's interpreter
    /// may not run such a filter: it aborts on unknown opcodes).
    pub fn new(filters: &[SockFilter]) -> Option<LibpcapFilter> {
        let insns: Vec<BpfInsn> = filters
            .iter()
            .map(|f| BpfInsn {
                code: f.code,
                jt: f.jt,
                jf: f.jf,
                k: f.k,
            })
            .collect();
        let len = c_int::try_from(insns.len()).ok()?;
        // SAFETY: `insns` holds `len` initialised `struct bpf_insn`s, which
        // bpf_validate only reads.
        let ok = unsafe { bpf_validate(insns.as_ptr(), len) };
        (ok != 0 && !insns.is_empty()).then_some(LibpcapFilter { insns })
    }

    /// `bpf_filter`'s result for `packet` (the captured bytes) whose length
    /// on the wire was `wire_len`.
    pub fn run(&self, packet: &[u8], wire_len: u32) -> u32 {
        let buflen = c_uint::try_from(packet.len()).unwrap_or(c_uint::MAX);
        // SAFETY: the program passed bpf_validate (every jump in range, a
        // final return, known opcodes), and bpf_filter reads the packet only
        // below `buflen`, which is at most the slice's length.
        unsafe { bpf_filter(self.insns.as_ptr(), packet.as_ptr(), wire_len, buflen) }
    }
}
