//! Tracing contexts: a struct the embedder declares ([`TraceCtx`]), the
//! host architecture's `struct pt_regs` ([`PtRegs`], so libbpf's
//! `PT_REGS_PARM1(ctx)` reads the first argument), and the u64 argument
//! array of raw tracepoints and fentry programs.
//!
//! These contexts need no conversion: the shadow is the struct itself
//! (every field's shadow offset is its offset), so the rewrite only checks
//! each access against the declared fields.

use super::layout::{CtxField, CtxLayout, FieldKind};

/// A context struct the embedder declares field by field.
///
/// ```
/// use cranebpf_runtime::ctx::TraceCtx;
/// // struct req { u64 id; u32 len; u32 verdict; }, verdict writable.
/// let layout = TraceCtx::new("req", 16)
///     .field("id", 0, 8, false)
///     .field("len", 8, 4, false)
///     .field("verdict", 12, 4, true)
///     .layout();
/// assert_eq!(layout.fields.len(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct TraceCtx {
    name: &'static str,
    size: u16,
    fields: Vec<CtxField>,
}

impl TraceCtx {
    /// A struct named `name` (for errors) of `size` bytes, with no fields yet.
    pub fn new(name: &'static str, size: u16) -> TraceCtx {
        TraceCtx {
            name,
            size,
            fields: Vec::new(),
        }
    }

    /// An integer field of `size` bytes (1, 2, 4 or 8) at `offset`: read
    /// whole or (4-byte fields) in aligned parts; written whole if
    /// `writable`.
    pub fn field(mut self, name: &'static str, offset: u16, size: u16, writable: bool) -> TraceCtx {
        self.fields.push(CtxField {
            name,
            offset: offset as i16,
            size,
            shadow_offset: offset as i16,
            kind: FieldKind::Scalar,
            writable,
            kernel_size: size,
        });
        self
    }

    /// A byte array of `size` bytes at `offset`: any aligned access inside.
    pub fn bytes(mut self, name: &'static str, offset: u16, size: u16, writable: bool) -> TraceCtx {
        self.fields.push(CtxField {
            name,
            offset: offset as i16,
            size,
            shadow_offset: offset as i16,
            kind: FieldKind::Bytes,
            writable,
            kernel_size: size,
        });
        self
    }

    /// The layout to load programs with (`ProgramType::tracing`).
    pub fn layout(self) -> CtxLayout {
        CtxLayout {
            name: self.name,
            size: self.size,
            fields: self.fields,
            refused: Vec::new(),
            narrow_reads: true,
            shadow_size: usize::from(self.size),
            ctx_offset: 0,
        }
    }

    /// `n` read-only u64 arguments (`raw_tp/`, `fentry/`: `ctx[i]` is
    /// argument i).
    pub fn u64_args(n: u8) -> CtxLayout {
        let mut t = TraceCtx::new("args", u16::from(n) * 8);
        for i in 0..n {
            t = t.field("arg", u16::from(i) * 8, 8, false);
        }
        t.layout()
    }
}

/// Number of 8-byte words of `struct pt_regs` as BPF programs see it on the
/// host architecture (x86-64: `struct pt_regs`; aarch64: `struct
/// user_pt_regs`; riscv64: `struct user_regs_struct`).
#[cfg(target_arch = "x86_64")]
const WORDS: usize = 21;
#[cfg(target_arch = "aarch64")]
const WORDS: usize = 34;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const WORDS: usize = 32;

/// Word index of argument 1-6, the return value, the instruction pointer
/// and the stack pointer, where libbpf's `bpf_tracing.h` reads them.
#[cfg(target_arch = "x86_64")]
mod idx {
    // r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss
    pub const ARGS: [usize; 6] = [14, 13, 12, 11, 9, 8];
    pub const RET: usize = 10;
    pub const IP: usize = 16;
    pub const SP: usize = 19;
}
#[cfg(target_arch = "aarch64")]
mod idx {
    // regs[31] sp pc pstate
    pub const ARGS: [usize; 6] = [0, 1, 2, 3, 4, 5];
    pub const RET: usize = 0;
    pub const IP: usize = 32;
    pub const SP: usize = 31;
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
mod idx {
    // pc ra sp gp tp t0 t1 t2 s0 s1 a0..a7 s2..s11 t3..t6
    pub const ARGS: [usize; 6] = [10, 11, 12, 13, 14, 15];
    pub const RET: usize = 10;
    pub const IP: usize = 0;
    pub const SP: usize = 2;
}

/// The host architecture's `struct pt_regs` as a kprobe/uprobe program
/// reads it: fill in the arguments, return value and pointers of the probed
/// call, then pass [`PtRegs::as_bytes`] as the context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PtRegs {
    words: [u64; WORDS],
}

impl Default for PtRegs {
    fn default() -> PtRegs {
        PtRegs { words: [0; WORDS] }
    }
}

impl PtRegs {
    /// Size in bytes.
    pub const SIZE: usize = WORDS * 8;

    /// Registers holding `args` as the first arguments of a call (at most 6).
    pub fn with_args(args: &[u64]) -> PtRegs {
        let mut r = PtRegs::default();
        for (i, a) in args.iter().take(6).enumerate() {
            r.set_arg(i, *a);
        }
        r
    }

    /// Sets argument `i` (0-based; `PT_REGS_PARM{i+1}`); `i >= 6` is ignored.
    pub fn set_arg(&mut self, i: usize, v: u64) {
        if let Some(&w) = idx::ARGS.get(i) {
            self.words[w] = v;
        }
    }

    /// Sets the return value (`PT_REGS_RC`).
    pub fn set_ret(&mut self, v: u64) {
        self.words[idx::RET] = v;
    }

    /// Sets the instruction pointer (`PT_REGS_IP`).
    pub fn set_ip(&mut self, v: u64) {
        self.words[idx::IP] = v;
    }

    /// Sets the stack pointer (`PT_REGS_SP`).
    pub fn set_sp(&mut self, v: u64) {
        self.words[idx::SP] = v;
    }

    /// The struct's bytes.
    pub fn as_bytes(&self) -> Vec<u8> {
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    /// The layout: the whole struct readable in any aligned access, nothing
    /// writable (as the kernel's kprobe rules).
    pub fn layout() -> CtxLayout {
        TraceCtx::new("pt_regs", Self::SIZE as u16)
            .bytes("regs", 0, Self::SIZE as u16, false)
            .layout()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::progtype::layout::AccessFault;
    use crate::isa::insn::Size;

    #[test]
    fn pt_regs_first_argument_is_where_libbpf_reads_it() {
        let r = PtRegs::with_args(&[0x1111, 0x2222]);
        let b = r.as_bytes();
        let at = idx::ARGS[0] * 8;
        assert_eq!(&b[at..at + 8], &0x1111u64.to_le_bytes());
        let l = PtRegs::layout();
        assert!(l.resolve(at as i16, Size::DW, false, false).is_ok());
        assert_eq!(
            l.resolve(at as i16, Size::DW, true, false),
            Err(AccessFault::ReadOnly)
        );
        assert_eq!(
            l.resolve(PtRegs::SIZE as i16, Size::DW, false, false),
            Err(AccessFault::Unknown)
        );
    }

    #[test]
    fn declared_fields_are_checked() {
        let l = TraceCtx::new("req", 16)
            .field("id", 0, 8, false)
            .field("verdict", 12, 4, true)
            .layout();
        assert!(l.resolve(12, Size::W, true, false).is_ok());
        assert_eq!(
            l.resolve(0, Size::DW, true, false),
            Err(AccessFault::ReadOnly)
        );
        assert_eq!(
            l.resolve(8, Size::W, false, false),
            Err(AccessFault::Unknown)
        );
        assert_eq!(
            l.resolve(4, Size::W, false, false),
            Err(AccessFault::Partial)
        );
    }
}
