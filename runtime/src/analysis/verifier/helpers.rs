//! Helper signatures and the transfer function of a helper call.
//!
//! cranebpf's kernel helpers (`host::kernel`) with their argument and return
//! types. A call clobbers r1-r5 (they become uninitialised) and sets r0 from
//! the return type. Helpers whose id the configuration does not list are
//! *unknown*: r0 is an unknown scalar and, since such a helper may write
//! through any pointer it is given, no stack spill survives the call
//! (strict refuses the call).
//!
//! Helpers that fill a buffer the program passes (`bpf_skb_load_bytes`,
//! the `bpf_probe_read*` family: [`Arg::Out`]) write program-visible
//! memory: the bytes they may write lose their spills (and, when the place
//! is exact, count as written); if the place is not proven inside one frame
//! or one other region, no spill survives. The other known helpers write
//! nothing the verifier models (map storage is not modelled), so spills
//! survive them. Memory arguments (keys, values, records, buffers) are
//! checked by the helpers themselves at run time; strict mode additionally
//! demands, like the kernel, that they be proven readable (and initialised)
//! or writable.

use super::error::ErrorKind;
use super::num::Num;
use super::state::{Ptr, PtrKind, State, Value, FRAME};
use super::step::Step;

/// What an argument must be (strict mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// Anything initialised.
    Any,
    /// A map handle (constant).
    Map,
    /// Readable memory of the map's key size.
    Key,
    /// Readable memory of the map's value size.
    MapValue,
    /// Readable memory whose size is the next argument (anything when that
    /// size is 0).
    Mem,
    /// Memory the helper writes, whose size is the next argument.
    Out,
    /// A ring-buffer record returned by `bpf_ringbuf_reserve`.
    Record,
}

/// What r0 holds after the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ret {
    /// A scalar in `[min, max]` (unsigned).
    Scalar(u64, u64),
    /// A map value of the map in r1, or null.
    MapValueOrNull,
    /// A ring-buffer record of the size in r2, or null.
    RecordOrNull,
}

/// One helper's signature.
struct Sig {
    args: &'static [Arg],
    ret: Ret,
    /// Packet pointers are invalidated (the packet may move).
    moves_packet: bool,
    /// Ring-buffer records are released.
    releases_record: bool,
}

const ANY: Ret = Ret::Scalar(0, u64::MAX);

/// The signature of kernel helper `id`, if cranebpf implements it.
fn signature(id: u32) -> Option<Sig> {
    use Arg::*;
    let sig = |args, ret| Sig {
        args,
        ret,
        moves_packet: false,
        releases_record: false,
    };
    Some(match id {
        1 => sig(&[Map, Key], Ret::MapValueOrNull),
        2 => sig(&[Map, Key, MapValue, Any], ANY),
        3 => sig(&[Map, Key], ANY),
        5 => sig(&[], ANY),
        // The format's arguments (r3-r5) are optional.
        6 => sig(&[Mem, Any], ANY),
        7 | 8 => sig(&[], Ret::Scalar(0, u32::MAX as u64)),
        // bpf_tail_call: on success the caller's program ends there, so the
        // path that continues is the failed call's.
        12 => sig(&[Any, Map, Any], ANY),
        44 | 65 => Sig {
            moves_packet: true,
            ..sig(&[Any, Any], ANY)
        },
        // bpf_perf_event_output(ctx, map, flags, data, size).
        25 => sig(&[Any, Map, Any, Mem, Any], ANY),
        // bpf_probe_read*(dst, size, unsafe_src) and get_current_pid_tgid.
        4 | 45 | 112..=115 => sig(&[Out, Any, Any], ANY),
        14 => sig(&[], ANY),
        // bpf_skb_load_bytes(skb, offset, to, len).
        26 => sig(&[Any, Any, Out, Any], ANY),
        // bpf_redirect(ifindex, flags).
        23 => sig(&[Any, Any], ANY),
        // bpf_csum_diff(from, from_size, to, to_size, seed).
        28 => sig(&[Mem, Any, Mem, Any, Any], ANY),
        // Helpers that change the packet (the kernel's
        // `bpf_helper_changes_pkt_data`): bpf_skb_store_bytes(skb, offset,
        // from, len, flags), the checksum replacements, VLAN push/pop,
        // change_tail/head and pull_data.
        9 => Sig {
            moves_packet: true,
            ..sig(&[Any, Any, Mem, Any, Any], ANY)
        },
        10 | 11 => Sig {
            moves_packet: true,
            ..sig(&[Any, Any, Any, Any, Any], ANY)
        },
        18 | 38 | 43 => Sig {
            moves_packet: true,
            ..sig(&[Any, Any, Any], ANY)
        },
        19 => Sig {
            moves_packet: true,
            ..sig(&[Any], ANY)
        },
        39 => Sig {
            moves_packet: true,
            ..sig(&[Any, Any], ANY)
        },
        130 => sig(&[Map, Mem, Any, Any], ANY),
        131 => sig(&[Map, Any, Any], Ret::RecordOrNull),
        132 | 133 => Sig {
            releases_record: true,
            ..sig(&[Record, Any], Ret::Scalar(0, 0))
        },
        _ => return None,
    })
}

/// The number of argument registers helper `id` reads (5 if unknown), for
/// liveness.
pub(super) fn arg_count(id: u32) -> usize {
    match id {
        6 => 5,
        _ => signature(id).map_or(5, |s| s.args.len()),
    }
}

/// `call id` (a helper).
pub(super) fn call(st: &mut State, id: u32, step: &mut Step) {
    let sig = signature(id).filter(|_| step.conf.knows_helper(id));
    let Some(sig) = sig else {
        step.issue(ErrorKind::Helper {
            id,
            reason: "unknown helper (its signature is not known)".into(),
        });
        super::mem::forget_all_spills(st);
        finish(st, Value::UNKNOWN);
        return;
    };
    if step.conf.strict {
        check_args(st, id, &sig, step);
    }
    for (i, arg) in sig.args.iter().enumerate() {
        if *arg == Arg::Out {
            written(st, i + 1, step);
        }
    }
    let r0 = match sig.ret {
        Ret::Scalar(lo, hi) => Value::scalar(Num::urange(lo, hi)),
        Ret::MapValueOrNull => match map_value_size(st, step) {
            Some(size) => Value::Ptr(Ptr {
                id: st.fresh_id(),
                ..Ptr::at(PtrKind::MapValueOrNull { size }, 0)
            }),
            None => Value::UNKNOWN,
        },
        Ret::RecordOrNull => match const_arg(st, 2) {
            Some(size) if size <= u32::MAX as u64 => Value::Ptr(Ptr {
                id: st.fresh_id(),
                ..Ptr::at(PtrKind::RecordOrNull { size: size as u32 }, 0)
            }),
            _ => Value::UNKNOWN,
        },
    };
    if sig.moves_packet {
        st.invalidate(|p| {
            matches!(
                p.kind,
                PtrKind::Packet | PtrKind::PacketEnd | PtrKind::PacketMeta
            )
        });
        st.pkt_min = 0;
    }
    if sig.releases_record {
        st.invalidate(|p| {
            matches!(
                p.kind,
                PtrKind::Record { .. } | PtrKind::RecordOrNull { .. }
            )
        });
    }
    finish(st, r0);
}

/// Sets r0 and clobbers r1-r5.
fn finish(st: &mut State, r0: Value) {
    for r in 1..=5 {
        st.set(r, Value::NotInit);
    }
    st.set(0, r0);
}

/// The constant in register `r`, if any.
fn const_arg(st: &State, r: usize) -> Option<u64> {
    match st.reg(r) {
        Value::Scalar(s) => s.n.as_const(),
        _ => None,
    }
}

/// The value size of the map whose handle r1 holds, if it is a map whose
/// lookup returns a value (not a program array or ring buffer).
fn map_value_size(st: &State, step: &Step) -> Option<u32> {
    use crate::host::maps::MapType;
    let def = step.conf.map(const_arg(st, 1)?)?;
    match def.map_type {
        MapType::ProgArray | MapType::RingBuf => None,
        _ => Some(def.value_size),
    }
}

/// The largest value of the size in register `r`, if it is a scalar of at
/// most 64 KiB (the kernel's bound on a helper's memory size).
fn size_arg(st: &State, r: usize) -> Option<u64> {
    match st.reg(r) {
        Value::Scalar(s) if s.n.umax <= 1 << 16 => Some(s.n.umax),
        _ => None,
    }
}

/// Where a helper may write through register `r`, whose size is the next
/// register: `[lo, hi)` of one frame, or somewhere else entirely.
enum Dest {
    /// Frame `frame`, offsets `[lo, hi)` (inside it), exact if the start
    /// and the size are.
    Frame {
        frame: usize,
        lo: i64,
        hi: i64,
        exact: bool,
    },
    /// Inside a map value or record: no frame byte.
    Elsewhere,
    /// Not proven: any byte of any frame.
    Anywhere,
}

/// Where the helper's write through register `r` may land.
fn dest(st: &State, r: usize) -> Dest {
    let Some(n) = size_arg(st, r + 1) else {
        return Dest::Anywhere;
    };
    let Value::Ptr(p) = st.reg(r) else {
        return Dest::Anywhere;
    };
    let lo = p.off.smin as i128;
    let hi = p.off.smax as i128 + n as i128;
    match p.kind {
        PtrKind::Stack { frame } if lo >= -(FRAME as i128) && hi <= 0 => Dest::Frame {
            frame: frame as usize,
            lo: lo as i64,
            hi: hi as i64,
            exact: p.off.as_const().is_some() && const_arg(st, r + 1).is_some(),
        },
        PtrKind::MapValue { size } | PtrKind::Record { size } if lo >= 0 && hi <= size as i128 => {
            Dest::Elsewhere
        }
        _ => Dest::Anywhere,
    }
}

/// A helper may have written through register `r` (see the module docs).
fn written(st: &mut State, r: usize, _step: &Step) {
    match dest(st, r) {
        Dest::Frame {
            frame,
            lo,
            hi,
            exact,
        } => {
            let stack = &mut st.frames[frame].stack;
            if exact {
                stack.clobber(lo, hi);
            } else {
                stack.forget(lo, hi);
            }
        }
        Dest::Elsewhere => {}
        Dest::Anywhere => super::mem::forget_all_spills(st),
    }
}

/// Why `[v, v + n)` is not proven writable by a helper.
fn writable(st: &State, v: Value, n: u64, r: usize) -> Option<String> {
    if let Value::NotInit = v {
        return Some(format!("r{r} is not initialised"));
    }
    match dest(st, r) {
        Dest::Anywhere => Some(format!("r{r}={v} is not {n} writable bytes")),
        _ => None,
    }
}

/// Strict mode's argument checks (see the module docs).
fn check_args(st: &State, id: u32, sig: &Sig, step: &mut Step) {
    let map = const_arg(st, 1).and_then(|h| step.conf.map(h).copied());
    for (i, arg) in sig.args.iter().enumerate() {
        let r = i + 1;
        let v = st.reg(r);
        let problem = match (arg, v) {
            (_, Value::NotInit) => Some(format!("r{r} is not initialised")),
            (Arg::Any, _) => None,
            (Arg::Map, _) => (const_arg(st, r).and_then(|h| step.conf.map(h)).is_none())
                .then(|| format!("r{r} is not a map")),
            (Arg::Key, v) => map.and_then(|m| readable(st, v, m.key_size as u64, r, step)),
            (Arg::MapValue, v) => map.and_then(|m| readable(st, v, m.value_size as u64, r, step)),
            (Arg::Mem, _) if const_arg(st, r + 1) == Some(0) => None,
            (Arg::Mem, v) => match size_arg(st, r + 1) {
                Some(n) => readable(st, v, n, r, step),
                None => Some(format!("r{} (the size of r{r}) is not bounded", r + 1)),
            },
            (Arg::Out, v) => match size_arg(st, r + 1) {
                Some(n) => writable(st, v, n, r),
                None => Some(format!("r{} (the size of r{r}) is not bounded", r + 1)),
            },
            (
                Arg::Record,
                Value::Ptr(Ptr {
                    kind: PtrKind::Record { .. },
                    ..
                }),
            ) => None,
            (Arg::Record, _) => Some(format!("r{r} is not a ring-buffer record")),
        };
        if let Some(reason) = problem {
            step.issue(ErrorKind::Helper { id, reason });
        }
    }
}

/// Why `[v, v + n)` is not proven readable (and, on the stack, written).
fn readable(st: &State, v: Value, n: u64, r: usize, step: &Step) -> Option<String> {
    let p = match v {
        Value::Ptr(p) => p,
        // A constant address inside global data (e.g. a format string).
        Value::Scalar(s) => {
            let (lo, hi) = (s.n.umin as u128, s.n.umax as u128 + n as u128);
            let inside = step
                .conf
                .globals
                .iter()
                .any(|g| lo >= g.start as u128 && hi <= g.start as u128 + g.len as u128);
            return (!inside).then(|| format!("r{r} is not a pointer"));
        }
        Value::NotInit => return Some(format!("r{r} is not initialised")),
    };
    let lo = p.off.smin as i128;
    let hi = p.off.smax as i128 + n as i128;
    let ok = match p.kind {
        PtrKind::Stack { frame } => {
            lo >= -(FRAME as i128)
                && hi <= 0
                && st.frames[frame as usize]
                    .stack
                    .is_init(lo as i64, hi as i64)
        }
        PtrKind::MapValue { size } | PtrKind::Record { size } => lo >= 0 && hi <= size as i128,
        PtrKind::Packet => lo >= 0 && (n as i128 <= p.range as i128 || hi <= st.pkt_min as i128),
        PtrKind::Input => lo >= 0 && (n as i128 <= p.range as i128 || hi <= st.input_min as i128),
        _ => false,
    };
    (!ok).then(|| format!("r{r}={v} is not {n} readable, initialised bytes"))
}
