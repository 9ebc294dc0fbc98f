//! Program types as data.
//!
//! A [`ProgramType`] says what a program receives in r1 (its context, a
//! [`CtxLayout`]: the fields, where each lives in the shadow the runtime
//! builds, and which accesses the kernel allows), which kernel helpers it
//! may call, whether it reads packet bytes directly, and how its return
//! value reads ([`ReturnConvention`]). The loader rewrites context accesses
//! for the layout ([`rewrite`]) and refuses helper calls outside the set;
//! the run drivers (`elf/run.rs`) build the shadow and the packet the
//! engines see.
//!
//! The types, and the libbpf section names that select them
//! ([`ProgramType::for_section`]):
//! - XDP (`xdp`, `xdp.frags`, `xdp/...`): [`xdp`], `struct xdp_md`.
//! - Socket filter (`socket`): [`skb`], `struct __sk_buff`, LD_ABS/LD_IND
//!   and `bpf_skb_load_bytes`; the result is the number of bytes to keep.
//! - tc classifier (`tc`, `classifier`, `tcx/ingress`, `tcx/egress`,
//!   `tc/ingress`, `tc/egress`, `action`): [`skb`] with direct packet access
//!   and the packet-writing helpers; the result is a `TC_ACT_*` verdict.
//! - Tracing (`kprobe/`, `kretprobe/`, `uprobe/`, `uretprobe/`, `usdt/`:
//!   `struct pt_regs`; `raw_tp/`, `raw_tracepoint/`, `fentry/`, `fexit/`,
//!   `tp_btf/`: an array of u64 arguments; `tracepoint/`, `tp/`,
//!   `perf_event`: the embedder's bytes as given): [`trace`], with the
//!   tracing helpers.
//! - cranebpf's memory type (`cranebpf/mem`, `mem`): r1 = buffer, r2 = length.

pub mod layout;
pub mod rewrite;
pub mod skb;
pub mod trace;
pub mod xdp;

pub use layout::{AccessFault, CtxField, CtxLayout, FieldKind, Refused, Resolved};
pub use rewrite::{rewrite_ctx, CtxError};
pub use skb::{skb_shadow, SkbKind, SkbMeta, TcAction};
pub use trace::{PtRegs, TraceCtx};
pub use xdp::xdp_shadow;

use crate::host::kernel as k;

/// How a program's return value reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnConvention {
    /// An `enum xdp_action` ([`crate::host::kernel::XdpAction`]).
    XdpAction,
    /// The number of packet bytes to keep (0 drops the packet).
    BytesToKeep,
    /// A `TC_ACT_*` verdict ([`TcAction`]).
    TcAction,
    /// A plain value (tracing programs: usually ignored; memory programs).
    Value,
}

/// Which run driver a type needs (what r1 points to).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// `LoadedProgram::run_xdp`.
    Xdp,
    /// `LoadedProgram::run_skb`.
    Skb(SkbKind),
    /// `LoadedProgram::run_mem`.
    Mem,
    /// `LoadedProgram::run_with_ctx` (tracing and embedder types).
    Ctx,
}

/// What a program is: its context, the kernel helpers it may call, its
/// rules and its return convention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramType {
    /// Name (e.g. `xdp`, `socket`, `tc`, `kprobe`).
    pub name: String,
    /// The context layout to rewrite; `None` passes r1 through unchanged.
    pub ctx: Option<CtxLayout>,
    /// Kernel helper ids the program may call; calling any other kernel
    /// helper id is a load error unless the embedder registers it.
    pub kernel_helpers: Vec<u32>,
    /// Whether the program may read packet bytes through pointers
    /// (`data`/`data_end`); informative, the layout enforces it.
    pub direct_packet_access: bool,
    /// How the return value reads.
    pub ret: ReturnConvention,
    /// Which run driver runs it.
    pub driver: Driver,
}

/// Helpers every cranebpf program type gets: map lookup/update/delete (1-3),
/// ktime_get_ns (5), trace_printk (6), get_prandom_u32 (7),
/// get_smp_processor_id (8), tail_call (12, see [`crate::host::kernel::tail`]),
/// perf_event_output (25, to a perf event array), ring buffer
/// output/reserve/submit/discard (130-133).
pub const COMMON_HELPERS: [u32; 13] = [1, 2, 3, 5, 6, 7, 8, 12, 25, 130, 131, 132, 133];
/// `bpf_xdp_adjust_head`.
pub const HELPER_XDP_ADJUST_HEAD: u32 = 44;
/// `bpf_xdp_adjust_tail`.
pub const HELPER_XDP_ADJUST_TAIL: u32 = 65;

/// The names `cranebpf run --type` accepts, with what they mean.
pub const TYPE_NAMES: &[(&str, &str)] = &[
    ("xdp", "XDP, struct xdp_md"),
    ("socket", "socket filter, struct __sk_buff"),
    ("tc", "tc classifier (sched_cls), struct __sk_buff"),
    ("kprobe", "kprobe/uprobe, struct pt_regs"),
    ("raw_tp", "raw tracepoint/fentry, u64 arguments"),
    ("tracepoint", "tracepoint/perf_event, the embedder's bytes"),
    ("mem", "cranebpf memory buffer: r1 = buffer, r2 = length"),
];

impl ProgramType {
    /// XDP: r1 is a `struct xdp_md *`; the result is an XDP action.
    pub fn xdp() -> ProgramType {
        let mut kernel_helpers = COMMON_HELPERS.to_vec();
        kernel_helpers.extend([HELPER_XDP_ADJUST_HEAD, HELPER_XDP_ADJUST_TAIL]);
        ProgramType {
            name: "xdp".into(),
            ctx: Some(CtxLayout::xdp_md()),
            kernel_helpers,
            direct_packet_access: true,
            ret: ReturnConvention::XdpAction,
            driver: Driver::Xdp,
        }
    }

    /// Socket filter: r1 is a `struct __sk_buff *` without direct packet
    /// access; packet bytes come from LD_ABS/LD_IND and
    /// `bpf_skb_load_bytes`. The result is the number of bytes to keep.
    pub fn socket_filter() -> ProgramType {
        let mut kernel_helpers = COMMON_HELPERS.to_vec();
        kernel_helpers.push(k::HELPER_SKB_LOAD_BYTES);
        ProgramType {
            name: "socket".into(),
            ctx: Some(CtxLayout::sk_buff(SkbKind::SocketFilter)),
            kernel_helpers,
            direct_packet_access: false,
            ret: ReturnConvention::BytesToKeep,
            driver: Driver::Skb(SkbKind::SocketFilter),
        }
    }

    /// tc classifier (`sched_cls`): a `struct __sk_buff *` with direct
    /// packet access and the packet-writing helpers; the result is a
    /// `TC_ACT_*` verdict.
    pub fn sched_cls() -> ProgramType {
        let mut kernel_helpers = COMMON_HELPERS.to_vec();
        kernel_helpers.extend(k::SKB_WRITE_HELPERS);
        kernel_helpers.push(k::HELPER_SKB_LOAD_BYTES);
        ProgramType {
            name: "tc".into(),
            ctx: Some(CtxLayout::sk_buff(SkbKind::SchedCls)),
            kernel_helpers,
            direct_packet_access: true,
            ret: ReturnConvention::TcAction,
            driver: Driver::Skb(SkbKind::SchedCls),
        }
    }

    /// A tracing program over the context `ctx` (see [`TraceCtx`]), with
    /// the tracing helpers; `name` is for reports.
    pub fn tracing(name: &str, ctx: Option<CtxLayout>) -> ProgramType {
        let mut kernel_helpers = COMMON_HELPERS.to_vec();
        kernel_helpers.extend(k::TRACE_HELPERS);
        ProgramType {
            name: name.into(),
            ctx,
            kernel_helpers,
            direct_packet_access: false,
            ret: ReturnConvention::Value,
            driver: Driver::Ctx,
        }
    }

    /// kprobe/uprobe: r1 is the host architecture's `struct pt_regs *`.
    pub fn kprobe() -> ProgramType {
        ProgramType::tracing("kprobe", Some(PtRegs::layout()))
    }

    /// An embedder-defined type: the context `ctx` (run with
    /// `LoadedProgram::run_with_ctx`) and the common helpers.
    pub fn custom(name: &str, ctx: CtxLayout) -> ProgramType {
        ProgramType {
            name: name.into(),
            ctx: Some(ctx),
            kernel_helpers: COMMON_HELPERS.to_vec(),
            direct_packet_access: false,
            ret: ReturnConvention::Value,
            driver: Driver::Ctx,
        }
    }

    /// cranebpf's memory-buffer type: r1 points to a writable buffer and r2
    /// holds its length (the conformance-suite convention); no rewriting.
    pub fn mem() -> ProgramType {
        ProgramType {
            name: "mem".into(),
            ctx: None,
            kernel_helpers: COMMON_HELPERS.to_vec(),
            direct_packet_access: false,
            ret: ReturnConvention::Value,
            driver: Driver::Mem,
        }
    }

    /// The type a `--type` name selects (see [`TYPE_NAMES`]); section
    /// names work too.
    pub fn from_name(name: &str) -> Option<ProgramType> {
        match name {
            "socket" | "socket_filter" => Some(ProgramType::socket_filter()),
            "tc" | "sched_cls" | "classifier" => Some(ProgramType::sched_cls()),
            "kprobe" | "uprobe" => Some(ProgramType::kprobe()),
            "raw_tp" | "fentry" => {
                Some(ProgramType::tracing("raw_tp", Some(TraceCtx::u64_args(12))))
            }
            "tracepoint" | "perf_event" => Some(ProgramType::tracing(name, None)),
            _ => ProgramType::for_section(name),
        }
    }

    /// The type for an ELF section name, as libbpf guesses it (see the
    /// module docs). Others: `None`.
    pub fn for_section(section: &str) -> Option<ProgramType> {
        let base = section.split('/').next().unwrap_or(section);
        match base {
            "xdp" | "xdp.frags" => Some(ProgramType::xdp()),
            "socket" => Some(ProgramType::socket_filter()),
            "tc" | "classifier" | "tcx" | "action" => Some(ProgramType::sched_cls()),
            "kprobe" | "kretprobe" | "uprobe" | "uretprobe" | "usdt" | "ksyscall"
            | "kretsyscall" | "uprobe.s" | "uretprobe.s" => Some(ProgramType::kprobe()),
            "raw_tp" | "raw_tracepoint" | "fentry" | "fexit" | "fmod_ret" | "tp_btf"
            | "fentry.s" | "fexit.s" => {
                Some(ProgramType::tracing(base, Some(TraceCtx::u64_args(12))))
            }
            "tracepoint" | "tp" | "perf_event" => Some(ProgramType::tracing(base, None)),
            "cranebpf" | "mem" => Some(ProgramType::mem()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_pick_types_as_libbpf_does() {
        let name = |s: &str| ProgramType::for_section(s).map(|t| t.name);
        assert_eq!(name("xdp").as_deref(), Some("xdp"));
        assert_eq!(name("socket").as_deref(), Some("socket"));
        assert_eq!(name("tc").as_deref(), Some("tc"));
        assert_eq!(name("classifier").as_deref(), Some("tc"));
        assert_eq!(name("tcx/ingress").as_deref(), Some("tc"));
        assert_eq!(name("tcx/egress").as_deref(), Some("tc"));
        assert_eq!(name("kprobe/do_sys_open").as_deref(), Some("kprobe"));
        assert_eq!(name("uprobe//bin/sh:main").as_deref(), Some("kprobe"));
        assert_eq!(
            name("tracepoint/syscalls/sys_enter_open").as_deref(),
            Some("tracepoint")
        );
        assert_eq!(name("raw_tp/sched_switch").as_deref(), Some("raw_tp"));
        assert_eq!(name("fentry/tcp_connect").as_deref(), Some("fentry"));
        assert_eq!(name("perf_event").as_deref(), Some("perf_event"));
        assert_eq!(name("cranebpf/mem").as_deref(), Some("mem"));
        assert_eq!(name("sample"), None);
        assert_eq!(
            ProgramType::from_name("socket").map(|t| t.ret),
            Some(ReturnConvention::BytesToKeep)
        );
    }
}
