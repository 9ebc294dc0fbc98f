//! The abstract state: what the verifier knows about every register and
//! stack byte at one point of one path.
//!
//! Terms used throughout the verifier:
//! - a **value** ([`Value`]) is what a register or a stack spill holds: not
//!   initialised, a scalar ([`Scalar`]: a [`Num`] plus links), or a pointer
//!   ([`Ptr`]: a [`PtrKind`] plus an offset [`Num`] into its region);
//! - an **id** links values that are equal (scalars copied by `mov`) or that
//!   share a variable part (packet/input pointers derived from one another
//!   by constant offsets, or copies of one map lookup's result). Refining one
//!   member refines them all. Ids are per state; comparing states maps them.
//! - a **frame** ([`Frame`]) is one function activation: its registers, its
//!   512-byte stack and where it returns to. The state's last frame runs.
//! - **L** is the length of the input region of a raw-memory run (r2 at
//!   entry): scalars may carry `value + lim <= L`.
//!
//! [`State::subsumes`] is the pruning relation: `old.subsumes(cur)` when
//! every concrete state `cur` stands for is one `old` stands for, so what was
//! proven from `old` holds for `cur`.

use super::num::Num;
use crate::isa::insn::Size;
use std::collections::HashMap;
use std::fmt;

/// Bytes in a frame.
pub const FRAME: i64 = 512;

/// What a pointer points into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PtrKind {
    /// The stack frame of call depth `frame`; offsets are relative to that
    /// frame's r10, so `[-512, 0)` is the frame.
    Stack {
        /// Index into [`State::frames`].
        frame: u8,
    },
    /// The context struct (offsets from its start).
    Ctx,
    /// The packet: offsets from `data`.
    Packet,
    /// `data_end` (offset from `data_end`).
    PacketEnd,
    /// `data_meta`: nothing is provable through it.
    PacketMeta,
    /// The input region of a raw-memory run: offsets from r1.
    Input,
    /// `r1 + L`, one past the input region.
    InputEnd,
    /// A map value of `size` bytes.
    MapValue {
        /// The map's value size.
        size: u32,
    },
    /// A map lookup's result before its null test.
    MapValueOrNull {
        /// The map's value size.
        size: u32,
    },
    /// A ring-buffer record of `size` bytes (a helper-registered region).
    Record {
        /// The reserved size.
        size: u32,
    },
    /// A ring-buffer reservation before its null test.
    RecordOrNull {
        /// The reserved size.
        size: u32,
    },
}

impl PtrKind {
    /// Whether the kind links values by id (see the module docs).
    fn uses_id(self) -> bool {
        matches!(
            self,
            PtrKind::Packet
                | PtrKind::Input
                | PtrKind::MapValueOrNull { .. }
                | PtrKind::RecordOrNull { .. }
        )
    }

    /// Whether the pointer may be null.
    pub fn maybe_null(self) -> bool {
        matches!(
            self,
            PtrKind::MapValueOrNull { .. } | PtrKind::RecordOrNull { .. }
        )
    }
}

/// A pointer: `region(kind) + off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ptr {
    /// What it points into.
    pub kind: PtrKind,
    /// Offset into the region (see [`PtrKind`] for the origin).
    pub off: Num,
    /// Link to pointers sharing its variable part (0: none).
    pub id: u32,
    /// The constant added since the variable part was created (pointers with
    /// the same id differ by the difference of their `k`).
    pub k: i64,
    /// For packet/input pointers: `self + range <= end` is proven.
    pub range: u64,
    /// For input pointers: `off - k` is exactly `L >> sym` (`sym >= 1`), so
    /// adding a scalar `x` with `x + c <= L >> sym` leaves `c - k` bytes
    /// before the end (`2 * (L >> sym) <= L`).
    pub sym: Option<u8>,
    /// For input pointers: the offset moves in step with a counter (see
    /// [`Tie`]).
    pub tie: Option<Tie>,
}

/// `off = (x << t) + b` for some `b` in `[lo, hi]`, where `x` is the value
/// of the scalar whose [`Scalar::tie`] is `id` (a loop counter and the
/// pointer it strides, found where the fallback joins two iterations).
/// With `x + c <= L >> s` and `t <= s`, `off <= L - (c << t) + hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tie {
    /// The counter's tie id.
    pub id: u32,
    /// The stride is `1 << t`.
    pub t: u8,
    /// Least base.
    pub lo: i64,
    /// Greatest base.
    pub hi: i64,
}

impl Tie {
    /// The tie moved by `[a, b]` (`None` on overflow).
    pub fn moved(self, a: i64, b: i64) -> Option<Tie> {
        Some(Tie {
            lo: self.lo.checked_add(a)?,
            hi: self.hi.checked_add(b)?,
            ..self
        })
    }
}

impl Ptr {
    /// A pointer at constant offset `off` with no links.
    pub fn at(kind: PtrKind, off: i64) -> Ptr {
        Ptr {
            kind,
            off: Num::konst(off as u64),
            id: 0,
            k: 0,
            range: 0,
            sym: None,
            tie: None,
        }
    }

    /// The bytes before the end a symbolic input pointer has by itself when
    /// `L >= input_min`: `off = (L >> s) + k` and `L >> s <= L - (L >> s)`
    /// give `off + ((input_min >> s) - k) <= L`.
    pub fn sym_range(&self, input_min: u64) -> u64 {
        match self.sym {
            Some(s) if self.kind == PtrKind::Input => {
                ((input_min >> s) as i128 - self.k as i128).clamp(0, u64::MAX as i128) as u64
            }
            _ => 0,
        }
    }
}

/// A scalar: its possible values and its links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// The possible values.
    pub n: Num,
    /// Scalars with the same non-zero id are equal.
    pub id: u32,
    /// `value + lim <= L` is proven (raw-memory runs).
    pub lim: Option<u64>,
    /// The value is exactly L.
    pub is_len: bool,
    /// The value is exactly `L >> s` (`s >= 1`).
    pub frac: Option<u8>,
    /// `value + c <= L >> s` is proven, as `(s, c)` (`s >= 1`).
    pub flim: Option<(u8, u64)>,
    /// Pointers whose [`Tie`] has this id stride with this value (0: none).
    pub tie: u32,
}

impl Scalar {
    /// A scalar with no links.
    pub fn of(n: Num) -> Scalar {
        Scalar {
            n,
            id: 0,
            lim: None,
            is_len: false,
            frac: None,
            flim: None,
            tie: 0,
        }
    }
}

/// What a register or a spill slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Value {
    /// Never written on this path (or dead).
    NotInit,
    /// A number.
    Scalar(Scalar),
    /// A pointer.
    Ptr(Ptr),
}

impl Value {
    /// An unknown scalar.
    pub const UNKNOWN: Value = Value::Scalar(Scalar {
        n: Num::UNKNOWN,
        id: 0,
        lim: None,
        is_len: false,
        frac: None,
        flim: None,
        tie: 0,
    });

    /// A scalar with no links.
    pub fn scalar(n: Num) -> Value {
        Value::Scalar(Scalar::of(n))
    }

    /// An unknown value of a load of `size` (zero-extended).
    pub fn loaded(size: Size) -> Value {
        match size {
            Size::DW => Value::UNKNOWN,
            s => Value::scalar(Num::urange(0, (1u64 << (8 * s.bytes())) - 1)),
        }
    }
}

/// One spill: `size` bytes at frame offset `off` holding `value`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Spill {
    /// Offset from the frame's r10 (negative).
    pub off: i16,
    /// Bytes stored.
    pub size: u8,
    /// What was stored (scalars truncated to `size` bytes).
    pub value: Value,
}

/// One frame's stack: which bytes were written, and the spills whose value
/// is known.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct StackModel {
    /// Bit `i` set: byte `r10 - 512 + i` was written on this path.
    init: [u64; 8],
    /// Spills, by offset; no two overlap.
    pub spills: Vec<Spill>,
}

impl StackModel {
    fn byte(off: i64) -> usize {
        (off + FRAME) as usize
    }

    /// Whether every byte of `[lo, hi)` (frame offsets) was written.
    pub fn is_init(&self, lo: i64, hi: i64) -> bool {
        (lo..hi).all(|o| {
            let b = Self::byte(o);
            self.init[b / 64] >> (b % 64) & 1 == 1
        })
    }

    fn mark_init(&mut self, lo: i64, hi: i64) {
        for o in lo..hi {
            let b = Self::byte(o);
            self.init[b / 64] |= 1 << (b % 64);
        }
    }

    /// Forgets the spills overlapping `[lo, hi)` (their bytes stay written).
    pub fn forget(&mut self, lo: i64, hi: i64) {
        self.spills.retain(|s| {
            let (a, b) = (s.off as i64, s.off as i64 + s.size as i64);
            b <= lo || hi <= a
        });
    }

    /// Records that `[lo, hi)` was written with unknown bytes (by a
    /// helper): no spill there, every byte written.
    pub fn clobber(&mut self, lo: i64, hi: i64) {
        self.forget(lo, hi);
        self.mark_init(lo, hi);
    }

    /// Forgets every spill (a helper may have written the stack).
    pub fn forget_all(&mut self) {
        self.spills.clear();
    }

    /// Records a store of `size` bytes of `value` at constant `off` (within
    /// the frame: the caller checked).
    pub fn store(&mut self, off: i64, size: u64, value: Value) {
        let hi = off + size as i64;
        self.forget(off, hi);
        self.mark_init(off, hi);
        let keep = match value {
            Value::Ptr(_) => size == 8,
            Value::Scalar(_) => true,
            Value::NotInit => false,
        };
        if keep {
            // A spill is a copy: it holds no tie (`tie.rs`).
            let value = match value {
                Value::Scalar(s) => Value::Scalar(Scalar { tie: 0, ..s }),
                Value::Ptr(p) => Value::Ptr(Ptr { tie: None, ..p }),
                v => v,
            };
            let value = match value {
                Value::Scalar(s) if size < 8 => {
                    // The low `size` bytes: the scalar itself if it fits.
                    let max = (1u64 << (8 * size)) - 1;
                    if s.n.umax <= max {
                        Value::Scalar(s)
                    } else {
                        Value::scalar(s.n.and(&Num::konst(max)))
                    }
                }
                v => v,
            };
            self.spills.push(Spill {
                off: off as i16,
                size: size as u8,
                value,
            });
        }
    }

    /// The value of a load of `size` bytes at constant `off`: a spill of
    /// exactly that place and size, else an unknown scalar if every byte
    /// was written, else `None` (an uninitialised read).
    pub fn load(&self, off: i64, size: u64) -> Option<Value> {
        if let Some(s) = self
            .spills
            .iter()
            .find(|s| s.off as i64 == off && s.size as u64 == size)
        {
            return Some(s.value);
        }
        self.is_init(off, off + size as i64)
            .then(|| Value::loaded(size_of(size)))
    }

    /// Every spilled value, mutable (for id-wide updates).
    fn values_mut(&mut self) -> impl Iterator<Item = &mut Value> {
        self.spills.iter_mut().map(|s| &mut s.value)
    }
}

/// The [`Size`] of `n` bytes (1, 2, 4 or 8).
pub fn size_of(n: u64) -> Size {
    match n {
        1 => Size::B,
        2 => Size::H,
        4 => Size::W,
        _ => Size::DW,
    }
}

/// One function activation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    /// r0-r10.
    pub regs: [Value; 11],
    /// The frame's stack.
    pub stack: StackModel,
    /// Instruction index the caller resumes at (unused for frame 0).
    pub ret: usize,
}

/// The abstract state of one path at one instruction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Call frames, outermost first; the last one runs.
    pub frames: Vec<Frame>,
    /// `data_end - data >= pkt_min` is proven.
    pub pkt_min: u64,
    /// `L >= input_min` is proven.
    pub input_min: u64,
    /// The next fresh id.
    pub next_id: u32,
}

impl State {
    /// A state with one frame whose r1-r5 are `args` and r10 the frame
    /// pointer.
    pub fn entry(args: [Value; 5]) -> State {
        let mut regs = [Value::NotInit; 11];
        regs[1..6].copy_from_slice(&args);
        regs[10] = Value::Ptr(Ptr::at(PtrKind::Stack { frame: 0 }, 0));
        State {
            frames: vec![Frame {
                regs,
                stack: StackModel::default(),
                ret: 0,
            }],
            pkt_min: 0,
            input_min: 0,
            next_id: 1,
        }
    }

    /// The running frame.
    pub fn cur(&self) -> &Frame {
        // A state always has a frame: `entry` makes one and only a return
        // from a deeper frame pops one.
        &self.frames[self.frames.len() - 1]
    }

    /// The running frame, mutable.
    pub fn cur_mut(&mut self) -> &mut Frame {
        let n = self.frames.len() - 1;
        &mut self.frames[n]
    }

    /// Index of the running frame.
    pub fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    /// Register `r` of the running frame.
    pub fn reg(&self, r: usize) -> Value {
        self.cur().regs[r]
    }

    /// Sets register `r` of the running frame.
    pub fn set(&mut self, r: usize, v: Value) {
        self.cur_mut().regs[r] = v;
    }

    /// A fresh id.
    pub fn fresh_id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Every value in every frame (registers and spills), mutable.
    pub fn for_each_value(&mut self, mut f: impl FnMut(&mut Value)) {
        for fr in &mut self.frames {
            fr.regs.iter_mut().for_each(&mut f);
            fr.stack.values_mut().for_each(&mut f);
        }
    }

    /// Replaces every pointer `pred` selects with an unknown scalar (its
    /// region may be gone or moved).
    pub fn invalidate(&mut self, pred: impl Fn(&Ptr) -> bool) {
        self.for_each_value(|v| {
            if let Value::Ptr(p) = v {
                if pred(p) {
                    *v = Value::UNKNOWN;
                }
            }
        });
    }

    /// Whether every concrete state `cur` describes is described by `self`
    /// (see the module docs).
    pub fn subsumes(&self, cur: &State) -> bool {
        if self.frames.len() != cur.frames.len()
            || self.pkt_min > cur.pkt_min
            || self.input_min > cur.input_min
        {
            return false;
        }
        let mut ids = IdMap::default();
        self.frames.iter().zip(&cur.frames).all(|(o, c)| {
            o.ret == c.ret
                && o.regs
                    .iter()
                    .zip(&c.regs)
                    .all(|(a, b)| value_subsumes(a, b, &mut ids))
                && stack_subsumes(&o.stack, &c.stack, &mut ids)
        })
    }

    /// Drops the links no other value shares (they constrain nothing) so
    /// that stored states compare equal more often.
    pub fn drop_lonely_ids(&mut self) {
        let mut count: HashMap<u32, u32> = HashMap::new();
        self.for_each_value(|v| {
            if let Value::Scalar(Scalar { id, .. }) = v {
                if *id != 0 {
                    *count.entry(*id).or_default() += 1;
                }
            }
        });
        self.for_each_value(|v| {
            if let Value::Scalar(s) = v {
                if s.id != 0 && count.get(&s.id) == Some(&1) {
                    s.id = 0;
                }
            }
        });
    }
}

/// How two states at one point combine (the path-insensitive fallback,
/// `widen.rs`): their union, or their widening (bounds that grew jump to
/// the extreme, so that iteration stops).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    /// The least upper bound (as far as the domain can say).
    Join,
    /// An upper bound that makes ascending chains finite.
    Widen,
}

impl State {
    /// `self ⊔ other` (or its widening), for states with the same frames
    /// (same depth and return points); `None` if the frames differ.
    pub fn combine(&self, other: &State, how: Combine) -> Option<State> {
        if self.frames.len() != other.frames.len()
            || self
                .frames
                .iter()
                .zip(&other.frames)
                .any(|(a, b)| a.ret != b.ret)
        {
            return None;
        }
        let mins = (
            (self.pkt_min, self.input_min),
            (other.pkt_min, other.input_min),
        );
        let frames = self
            .frames
            .iter()
            .zip(&other.frames)
            .map(|(a, b)| Frame {
                regs: std::array::from_fn(|r| combine_value(&a.regs[r], &b.regs[r], how, mins)),
                stack: combine_stack(&a.stack, &b.stack, how, mins),
                ret: a.ret,
            })
            .collect();
        let mut out = State {
            frames,
            pkt_min: self.pkt_min.min(other.pkt_min),
            input_min: self.input_min.min(other.input_min),
            next_id: self.next_id.max(other.next_id),
        };
        for f in 0..out.frames.len() {
            super::tie::discover(
                &mut out,
                f,
                &self.frames[f].regs,
                &other.frames[f].regs,
                how,
            );
        }
        Some(out)
    }

    /// Equality ignoring the id counter.
    pub fn same_facts(&self, other: &State) -> bool {
        self.frames == other.frames
            && self.pkt_min == other.pkt_min
            && self.input_min == other.input_min
    }
}

/// A state's minimum lengths: (packet, input).
type Mins = (u64, u64);

/// Combines two numbers: the union, widened if asked (`old` is `a`).
fn combine_num(a: &Num, b: &Num, how: Combine) -> Num {
    let u = a.union(b);
    if how == Combine::Join {
        return u;
    }
    // A bound that grew jumps to the next threshold: the sign boundary
    // first (so non-negative values stay non-negative), then the extreme.
    let umax_up = if u.umax <= i64::MAX as u64 {
        i64::MAX as u64
    } else {
        u64::MAX
    };
    let smin_down = if u.smin >= 0 { 0 } else { i64::MIN };
    Num {
        t: u.t,
        umin: if u.umin < a.umin { 0 } else { u.umin },
        umax: if u.umax > a.umax { umax_up } else { u.umax },
        smin: if u.smin < a.smin { smin_down } else { u.smin },
        smax: if u.smax > a.smax { i64::MAX } else { u.smax },
    }
    .synced()
    .unwrap_or(Num::UNKNOWN)
}

/// Combines two values. A link (id) survives only where both agree on it,
/// so that two values sharing it are linked in both states.
///
/// A scalar's input-length link also comes from its state's minimum input
/// length: `x <= x.umax` and `L >= min` give `x + (min - x.umax) <= L`, so
/// a loop counter that starts at 0 with `L >= 1` joins the `i + 1 <= L`
/// the loop test gives it later.
/// Likewise a packet or input pointer's range: `p <= start + off.umax`
/// and `end >= start + min` give `p + (min - off.umax) <= end`.
fn combine_value(a: &Value, b: &Value, how: Combine, mins: (Mins, Mins)) -> Value {
    let lim = |x: &Scalar, m: Mins| x.lim.max(m.1.checked_sub(x.n.umax));
    let range = |p: &Ptr, m: Mins| {
        let min = match p.kind {
            PtrKind::Packet => m.0,
            PtrKind::Input => m.1,
            _ => 0,
        };
        let by_min = if p.off.smin >= 0 {
            min.checked_sub(p.off.umax).unwrap_or(0)
        } else {
            0
        };
        p.range.max(by_min).max(p.sym_range(m.1))
    };
    match (a, b) {
        (Value::NotInit, _) | (_, Value::NotInit) => Value::NotInit,
        (Value::Scalar(x), Value::Scalar(y)) => Value::Scalar(Scalar {
            n: combine_num(&x.n, &y.n, how),
            id: if x.id == y.id { x.id } else { 0 },
            lim: lim(x, mins.0).zip(lim(y, mins.1)).map(|(p, q)| p.min(q)),
            is_len: x.is_len && y.is_len,
            frac: if x.frac == y.frac { x.frac } else { None },
            flim: combine_flim(x, y, mins),
            tie: if x.tie == y.tie { x.tie } else { 0 },
        }),
        (Value::Ptr(p), Value::Ptr(q)) if p.kind == q.kind => {
            let linked = p.id == q.id && p.k == q.k;
            let sym = if p.sym == q.sym && p.k == q.k {
                p.sym
            } else {
                None
            };
            Value::Ptr(Ptr {
                kind: p.kind,
                off: combine_num(&p.off, &q.off, how),
                id: if linked { p.id } else { 0 },
                k: if linked || sym.is_some() { p.k } else { 0 },
                range: range(p, mins.0).min(range(q, mins.1)),
                sym,
                tie: combine_tie(p.tie, q.tie, how),
            })
        }
        _ => Value::UNKNOWN,
    }
}

/// Two ties of one pointer joined: the same counter and stride, the bases'
/// union (dropped by a widening that would grow it).
fn combine_tie(a: Option<Tie>, b: Option<Tie>, how: Combine) -> Option<Tie> {
    let (a, b) = (a?, b?);
    if a.id != b.id || a.t != b.t {
        return None;
    }
    let u = Tie {
        lo: a.lo.min(b.lo),
        hi: a.hi.max(b.hi),
        ..a
    };
    (how == Combine::Join || u == a).then_some(u)
}

/// The `flim` of a joined scalar: both sides' facts about the same shift,
/// each also read off its state's minimum input length (`x <= x.umax` and
/// `L >= min` give `x + ((min >> s) - x.umax) <= L >> s`).
fn combine_flim(x: &Scalar, y: &Scalar, mins: (Mins, Mins)) -> Option<(u8, u64)> {
    let s = x.flim.or(y.flim)?.0;
    let of = |v: &Scalar, m: Mins| {
        let own = v.flim.filter(|f| f.0 == s).map(|f| f.1);
        own.max((m.1 >> s).checked_sub(v.n.umax))
    };
    Some((s, of(x, mins.0)?.min(of(y, mins.1)?)))
}

/// Combines two stacks: bytes written in both, spills present in both.
fn combine_stack(a: &StackModel, b: &StackModel, how: Combine, mins: (Mins, Mins)) -> StackModel {
    let mut init = [0u64; 8];
    for (i, w) in init.iter_mut().enumerate() {
        *w = a.init[i] & b.init[i];
    }
    let spills = a
        .spills
        .iter()
        .filter_map(|s| {
            let t = b
                .spills
                .iter()
                .find(|t| t.off == s.off && t.size == s.size)?;
            Some(Spill {
                value: combine_value(&s.value, &t.value, how, mins),
                ..*s
            })
        })
        .collect();
    StackModel { init, spills }
}

/// A consistent renaming of the old state's ids to the current state's.
#[derive(Default)]
struct IdMap {
    fwd: HashMap<u32, u32>,
    back: HashMap<u32, u32>,
}

impl IdMap {
    /// Whether old id `a` may stand for current id `b` (recording it).
    fn check(&mut self, a: u32, b: u32) -> bool {
        if a == 0 {
            return true;
        }
        if b == 0 {
            return false;
        }
        match (self.fwd.get(&a), self.back.get(&b)) {
            (Some(&x), _) if x != b => false,
            (_, Some(&y)) if y != a => false,
            _ => {
                self.fwd.insert(a, b);
                self.back.insert(b, a);
                true
            }
        }
    }
}

/// `old ⊒ cur` for one value.
fn value_subsumes(old: &Value, cur: &Value, ids: &mut IdMap) -> bool {
    match (old, cur) {
        (Value::NotInit, _) => true,
        (Value::Scalar(o), Value::Scalar(c)) => {
            c.n.is_subset_of(&o.n)
                && ids.check(o.id, c.id)
                && (!o.is_len || c.is_len)
                && match (o.lim, c.lim) {
                    (None, _) => true,
                    (Some(a), Some(b)) => b >= a,
                    (Some(_), None) => false,
                }
                && (o.frac.is_none() || o.frac == c.frac)
                && o.tie == 0
                && match (o.flim, c.flim) {
                    (None, _) => true,
                    (Some(a), Some(b)) => a.0 == b.0 && b.1 >= a.1,
                    (Some(_), None) => false,
                }
        }
        // An unconstrained scalar describes any bits, a pointer's included.
        (Value::Scalar(o), Value::Ptr(_)) => {
            o.n == Num::UNKNOWN
                && o.id == 0
                && o.lim.is_none()
                && !o.is_len
                && o.frac.is_none()
                && o.flim.is_none()
                && o.tie == 0
        }
        (Value::Ptr(o), Value::Ptr(c)) => {
            o.kind == c.kind
                && c.off.is_subset_of(&o.off)
                && c.range >= o.range
                && (!o.kind.uses_id() || (o.k == c.k && ids.check(o.id, c.id)))
                && (o.sym.is_none() || (o.sym == c.sym && o.k == c.k))
                && o.tie.is_none()
        }
        _ => false,
    }
}

/// `old ⊒ cur` for one frame's stack.
fn stack_subsumes(old: &StackModel, cur: &StackModel, ids: &mut IdMap) -> bool {
    let init_ok = old.init.iter().zip(&cur.init).all(|(o, c)| o & !c == 0);
    init_ok
        && old.spills.iter().all(|s| {
            let c = cur
                .load(s.off as i64, s.size as u64)
                .unwrap_or(Value::NotInit);
            value_subsumes(&s.value, &c, ids)
        })
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::NotInit => write!(f, "?"),
            Value::Scalar(s) => {
                write!(f, "{}", s.n)?;
                if s.is_len {
                    write!(f, "(=len)")?;
                }
                if let Some(l) = s.lim {
                    write!(f, "(+{l}<=len)")?;
                }
                if let Some(k) = s.frac {
                    write!(f, "(=len>>{k})")?;
                }
                if let Some((k, l)) = s.flim {
                    write!(f, "(+{l}<=len>>{k})")?;
                }
                if s.tie != 0 {
                    write!(f, "(tie#{})", s.tie)?;
                }
                if s.id != 0 {
                    write!(f, "#{}", s.id)?;
                }
                Ok(())
            }
            Value::Ptr(p) => {
                let name = match p.kind {
                    PtrKind::Stack { frame } => format!("fp{frame}"),
                    PtrKind::Ctx => "ctx".into(),
                    PtrKind::Packet => "pkt".into(),
                    PtrKind::PacketEnd => "pkt_end".into(),
                    PtrKind::PacketMeta => "pkt_meta".into(),
                    PtrKind::Input => "input".into(),
                    PtrKind::InputEnd => "input_end".into(),
                    PtrKind::MapValue { size } => format!("map_value[{size}]"),
                    PtrKind::MapValueOrNull { size } => format!("map_value_or_null[{size}]"),
                    PtrKind::Record { size } => format!("ringbuf_rec[{size}]"),
                    PtrKind::RecordOrNull { size } => format!("ringbuf_rec_or_null[{size}]"),
                };
                write!(f, "{name}(off={}", p.off)?;
                if p.range != 0 {
                    write!(f, ",r={}", p.range)?;
                }
                if let Some(k) = p.sym {
                    write!(f, ",sym=len>>{k}{:+}", p.k)?;
                }
                if let Some(t) = p.tie {
                    write!(f, ",tie#{}<<{}+[{},{}]", t.id, t.t, t.lo, t.hi)?;
                }
                if p.id != 0 {
                    write!(f, ",id={}", p.id)?;
                }
                write!(f, ")")
            }
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.depth();
        if d > 0 {
            write!(f, "frame{d}: ")?;
        }
        let mut first = true;
        for (i, v) in self.cur().regs.iter().enumerate() {
            if *v == Value::NotInit {
                continue;
            }
            if !first {
                write!(f, " ")?;
            }
            first = false;
            write!(f, "r{i}={v}")?;
        }
        for s in &self.cur().stack.spills {
            write!(f, " fp{}{:+}={}", d, s.off, s.value)?;
        }
        if self.pkt_min > 0 {
            write!(f, " pkt_len>={}", self.pkt_min)?;
        }
        if self.input_min > 0 {
            write!(f, " len>={}", self.input_min)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_spill_fill_keeps_pointers_and_narrow_scalars() {
        let mut s = StackModel::default();
        let p = Value::Ptr(Ptr::at(PtrKind::Ctx, 0));
        s.store(-8, 8, p);
        assert_eq!(s.load(-8, 8), Some(p));
        // A 4-byte load of a pointer spill is an unknown (initialised) scalar.
        assert_eq!(s.load(-8, 4), Some(Value::loaded(Size::W)));
        s.store(-12, 4, Value::scalar(Num::konst(7)));
        assert_eq!(s.load(-12, 4), Some(Value::scalar(Num::konst(7))));
        // Uninitialised bytes.
        assert_eq!(s.load(-24, 8), None);
        // A byte store into the pointer spill forgets it.
        s.store(-5, 1, Value::scalar(Num::konst(0)));
        assert_eq!(s.load(-8, 8), Some(Value::UNKNOWN));
    }

    #[test]
    fn subsumes_maps_ids_and_ranges() {
        let mut a = State::entry([Value::UNKNOWN; 5]);
        let mut b = a.clone();
        let pkt = |id, range| {
            Value::Ptr(Ptr {
                id,
                range,
                ..Ptr::at(PtrKind::Packet, 0)
            })
        };
        a.set(1, pkt(3, 4));
        a.set(2, pkt(3, 4));
        b.set(1, pkt(9, 8));
        b.set(2, pkt(9, 4));
        assert!(a.subsumes(&b));
        b.set(2, pkt(10, 4));
        assert!(
            !a.subsumes(&b),
            "r1 and r2 share an id in the old state only"
        );
        // A narrower scalar is subsumed; a wider one is not.
        a.set(3, Value::scalar(Num::urange(0, 10)));
        b.set(2, pkt(9, 4));
        b.set(3, Value::scalar(Num::urange(2, 5)));
        assert!(a.subsumes(&b));
        b.set(3, Value::scalar(Num::urange(2, 11)));
        assert!(!a.subsumes(&b));
    }
}
