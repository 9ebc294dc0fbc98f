//! Program generators: random, *valid*, mostly-terminating eBPF programs.
//!
//! [`generate`] turns a seed and a [`GenConfig`] into a [`Case`]: a program
//! that passes [`Program::from_insns`], an input buffer and a budget. The
//! same seed and config always give the same case. [`arb_case`] wraps it as
//! a proptest [`Strategy`] whose shrinking is [`crate::shrink`]'s.
//!
//! # Shape of a generated program
//!
//! ```text
//! entry:   mov r6, r1                 ; r6 = the input, never written again
//!          [r10-256] = r2             ; the input length (not in kernel mode)
//!          init r0-r5, r7, r8         ; edge values (0, ±1, INT_MIN, ...)
//!          fragments ...              ; alu / mem / ctrl / call / ptr families
//!          dump r0-r5, r7, r8 and the top of the stack into the input's tail
//!          exit
//! f1..fk:  init r0 (+ r7, r8), fragments ..., exit
//! ```
//!
//! **Register roles.** r0-r5 and r7 are *data* registers: fragments read and
//! write them freely, and they only ever hold scalars, never pointers (so a
//! stored or returned value means the same under every engine). r6 holds the
//! input pointer, r8 is the loop counter, r9 a temporary for computed
//! addresses (mem fragments) and r10 the frame pointer. Fragments that put a
//! pointer in a data register (helper arguments, the scratch pointer a helper
//! returns) overwrite it with a scalar before they end.
//!
//! **Termination.** Loops count r8 down from a small constant; local calls
//! only go to functions with a higher index (no recursion), except in the
//! rare *wild* fragments (data-dependent backward jumps, self-recursion)
//! that exercise the budget and the call-depth limit. The budget is the
//! safety net.
//!
//! **Observing the final state.** The input is `data` bytes that fragments
//! load and store, followed by [`DUMP_LEN`] bytes into which the epilogue
//! stores the data registers and the top 64 bytes of the stack (and, outside
//! kernel mode, 32 bytes of the depth-1 frame), so comparing the final input
//! compares registers and stack too.
//!
//! **Kernel mode** ([`GenConfig::kernel`]) generates the subset the Linux
//! verifier accepts: every register and stack byte written before it is
//! read, stack accesses aligned inside the function's own frame, input
//! accesses at constant in-bounds offsets from r6, no helpers, no packet
//! loads, no wild fragments, shift immediates below the width, no zero
//! immediate divisor, and r1-r5 re-initialised after each local call.

mod alu;
mod call;
mod ctrl;
mod mem;
mod ptr;
pub mod skb;
pub mod trace;

use crate::case::Case;
use cranebpf_runtime::{AluOp, CallKind, Insn, Program, Reg, Size, Src, Width};
use proptest::strategy::{NewTree, Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// Bytes the epilogue writes at the end of the input: 8 registers, 64 bytes
/// of the entry frame, 32 bytes of the depth-1 frame.
pub const DUMP_LEN: usize = 64 + 64 + 32;

pub use crate::helpers::SCRATCH_LEN;

/// The data registers: scalars only.
pub(crate) const DATA: [Reg; 7] = [
    Reg::R0,
    Reg::R1,
    Reg::R2,
    Reg::R3,
    Reg::R4,
    Reg::R5,
    Reg::R7,
];
/// The input pointer.
pub(crate) const INPUT: Reg = Reg::R6;
/// The loop counter.
pub(crate) const COUNTER: Reg = Reg::R8;
/// The address temporary.
pub(crate) const TMP: Reg = Reg::R9;

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Only the subset the Linux verifier accepts (see the module docs).
    pub kernel: bool,
    /// Most fragments in one function body (at least 1 is generated).
    pub max_fragments: usize,
    /// Most local functions besides the entry function.
    pub max_functions: usize,
    /// The instruction budget of every case.
    pub budget: u64,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            kernel: false,
            max_fragments: 12,
            max_functions: 3,
            budget: 20_000,
        }
    }
}

impl GenConfig {
    /// The kernel-acceptable subset, with smaller programs (the verifier
    /// explores every path).
    pub fn kernel() -> GenConfig {
        GenConfig {
            kernel: true,
            max_fragments: 8,
            max_functions: 2,
            budget: 20_000,
        }
    }
}

/// A small deterministic random source (SplitMix64): fast, seedable, and
/// the same on every platform. It can also replay a byte tape first (see
/// [`generate_from_bytes`]), so a fuzzer's mutations steer the choices.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
    tape: Vec<u8>,
    pos: usize,
}

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng {
            state: seed,
            tape: Vec::new(),
            pos: 0,
        }
    }

    /// A generator that returns `tape`'s bytes, 8 at a time, then
    /// continues pseudo-randomly.
    pub fn from_tape(tape: &[u8]) -> Rng {
        let seed = tape.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        Rng {
            state: seed,
            tape: tape.to_vec(),
            pos: 0,
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        if let Some(b) = self.tape.get(self.pos..self.pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(b);
            self.pos += 8;
            return u64::from_le_bytes(w);
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 if `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// A number in `lo..=hi` (`lo` if the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        (lo as i128 + (self.next_u64() as u128 % span) as i128) as i64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice (the first if it is empty: callers
    /// only pass constants).
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len() as u64) as usize;
        items[i.min(items.len().saturating_sub(1))]
    }

    /// A 32-bit immediate, biased towards edge values of both widths.
    pub fn imm32(&mut self) -> i32 {
        const EDGES: [i32; 20] = [
            0,
            1,
            -1,
            2,
            -2,
            i32::MIN,
            i32::MAX,
            i32::MIN + 1,
            0x7fff,
            0x8000,
            0xffff,
            -0x8000,
            0x80,
            0xff,
            31,
            32,
            63,
            64,
            -32,
            -64,
        ];
        match self.below(10) {
            0..=5 => self.pick(&EDGES),
            6..=7 => self.range(-300, 300) as i32,
            _ => self.next_u64() as i32,
        }
    }

    /// A 64-bit value, biased towards edge values of both widths.
    pub fn imm64(&mut self) -> u64 {
        const EDGES: [u64; 14] = [
            0,
            1,
            u64::MAX,
            i64::MIN as u64,
            i64::MAX as u64,
            0xffff_ffff,
            0x1_0000_0000,
            0x8000_0000,
            0xffff_ffff_8000_0000,
            0x7fff_ffff,
            0x1_0000_0004,
            0x8000_0000_0000_0001,
            0xff,
            0xffff_ffff_0000_0000,
        ];
        match self.below(10) {
            0..=5 => self.pick(&EDGES),
            6 => self.range(-300, 300) as u64,
            _ => self.next_u64(),
        }
    }

    /// A data register.
    pub(crate) fn data_reg(&mut self) -> Reg {
        self.pick(&DATA)
    }

    /// A width.
    pub(crate) fn width(&mut self) -> Width {
        if self.chance(50) {
            Width::W32
        } else {
            Width::W64
        }
    }

    /// A load/store size.
    pub(crate) fn size(&mut self) -> Size {
        self.pick(&[Size::B, Size::H, Size::W, Size::DW])
    }
}

/// Where a fragment is being generated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ctx {
    /// The configuration.
    pub cfg: GenConfig,
    /// Index of the function being generated (0 = entry).
    pub func: usize,
    /// Number of local functions (indices 1..=nfuncs).
    pub nfuncs: usize,
    /// Bytes of the input the program may use freely (before the dump area).
    pub data_len: usize,
    /// Whole input length.
    pub input_len: usize,
    /// Nesting depth of loops and conditionals; limits recursion.
    pub depth: u32,
    /// Inside a loop body: no nested loops (they share r8).
    pub in_loop: bool,
    /// Whether this program may contain faulting fragments (out-of-bounds
    /// and misaligned accesses, wild jumps and addresses, unknown `callx`
    /// ids, unbounded recursion). About a third of the programs are risky,
    /// so most programs run to `exit`.
    pub risky: bool,
}

/// A piece of code under construction. Local calls are recorded by
/// function index and patched when the program is laid out.
#[derive(Clone, Debug, Default)]
pub(crate) struct Code {
    /// The instructions.
    pub insns: Vec<Insn>,
    /// (instruction index, called function) of each local call.
    pub calls: Vec<(usize, usize)>,
}

impl Code {
    /// Appends one instruction.
    pub fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    /// Appends another piece of code.
    pub fn append(&mut self, other: Code) {
        let base = self.insns.len();
        self.insns.extend(other.insns);
        self.calls
            .extend(other.calls.into_iter().map(|(i, f)| (i + base, f)));
    }

    /// Appends a local call to function `f` (patched at layout).
    pub fn call_local(&mut self, f: usize) {
        self.calls.push((self.insns.len(), f));
        self.insns.push(Insn::Call {
            kind: CallKind::Local,
            imm: 0,
        });
    }

    /// Length in slots.
    pub fn slots(&self) -> usize {
        self.insns.iter().map(|i| i.slots()).sum()
    }
}

/// `dst = imm` for a 64-bit value: `mov` when it fits the sign-extended
/// immediate, else `lddw`.
pub(crate) fn load_const(dst: Reg, v: u64) -> Insn {
    if v as i64 >= i32::MIN as i64 && v as i64 <= i32::MAX as i64 {
        alu(Width::W64, AluOp::Mov, dst, Src::Imm(v as i64 as i32))
    } else {
        Insn::Lddw {
            dst,
            kind: cranebpf_runtime::LddwKind::Imm64,
            imm: v as u32 as i32,
            next_imm: (v >> 32) as u32 as i32,
        }
    }
}

/// Shorthand for an ALU instruction.
pub(crate) fn alu(w: Width, op: AluOp, dst: Reg, src: Src) -> Insn {
    Insn::Alu { w, op, dst, src }
}

/// One fragment of any family, chosen by weight.
pub(crate) fn fragment(rng: &mut Rng, cx: &Ctx) -> Code {
    // Outside kernel mode, one fragment in ten is a verifier-relevant
    // pointer shape (kernel-mode cases stay as they were).
    if !cx.cfg.kernel && rng.chance(10) {
        return ptr::fragment(rng, cx);
    }
    // Weights: alu 40, mem 30, ctrl 18, call 12.
    let roll = rng.below(100);
    if roll < 40 {
        alu::fragment(rng, cx)
    } else if roll < 70 {
        mem::fragment(rng, cx)
    } else if roll < 88 {
        ctrl::fragment(rng, cx)
    } else {
        call::fragment(rng, cx)
    }
}

/// `n` fragments (at least one) in sequence.
pub(crate) fn fragments(rng: &mut Rng, cx: &Ctx, n: usize) -> Code {
    let mut code = Code::default();
    for _ in 0..n.max(1) {
        code.append(fragment(rng, cx));
    }
    code
}

/// Generates the case for `seed`.
pub fn generate(seed: u64, cfg: &GenConfig) -> Case {
    generate_with(Rng::new(seed), seed, cfg)
}

/// Generates a case whose random choices are read from `tape` (then
/// continue pseudo-randomly): a structured-program entry point for fuzzers.
pub fn generate_from_bytes(tape: &[u8], cfg: &GenConfig) -> Case {
    generate_with(Rng::from_tape(tape), 0, cfg)
}

fn generate_with(mut rng: Rng, seed: u64, cfg: &GenConfig) -> Case {
    let data_len = rng.pick(&[8usize, 16, 32, 64, 64, 128]);
    let input_len = data_len + DUMP_LEN;
    let mut input = vec![0u8; input_len];
    let fill = rng.below(4);
    for b in input.iter_mut().take(data_len) {
        *b = match fill {
            0 => 0,
            1 => 0xff,
            2 => rng.pick(&[0, 1, 0x7f, 0x80, 0xff]),
            _ => rng.next_u64() as u8,
        };
    }
    let nfuncs = rng.below(cfg.max_functions as u64 + 1) as usize;
    let risky = !cfg.kernel && rng.chance(35);
    let base = Ctx {
        cfg: *cfg,
        func: 0,
        nfuncs,
        data_len,
        input_len,
        depth: 0,
        in_loop: false,
        risky,
    };

    let mut funcs = Vec::new();
    for f in 0..=nfuncs {
        let cx = Ctx { func: f, ..base };
        let mut code = prologue(&mut rng, &cx);
        let n = 1 + rng.below(cfg.max_fragments as u64) as usize;
        code.append(fragments(&mut rng, &cx, n));
        if f < nfuncs {
            // Every function is called at least once: a chain 0 -> 1 -> ...
            // (the kernel rejects unreachable functions).
            code.append(call::chain_call(&mut rng, &cx, f + 1));
        }
        if f == 0 {
            code.append(epilogue(&cx));
        } else {
            code.push(Insn::Exit);
        }
        funcs.push(code);
    }
    let insns = layout(&funcs);
    Case {
        insns,
        input,
        budget: cfg.budget,
        seed,
    }
}

/// The start of every function: the entry function saves the input pointer
/// and gives every data register a value; callees set r0 (and in kernel
/// mode r7), keeping their arguments r1-r5. In kernel mode the function's
/// top 64 stack bytes are zeroed, so every stack read is of written bytes.
fn prologue(rng: &mut Rng, cx: &Ctx) -> Code {
    let mut code = Code::default();
    let regs: &[Reg] = if cx.func == 0 {
        code.push(alu(Width::W64, AluOp::Mov, INPUT, Src::Reg(Reg::R1)));
        if !cx.cfg.kernel {
            // The input length, for the pointer fragments' bounds tests.
            code.push(Insn::Stx {
                size: Size::DW,
                dst: Reg::R10,
                src: Reg::R2,
                off: ptr::LEN_SLOT,
            });
        }
        &DATA
    } else {
        &[Reg::R0, Reg::R7]
    };
    for &r in regs {
        code.push(load_const(r, rng.imm64()));
    }
    if cx.cfg.kernel {
        code.push(load_const(COUNTER, 0));
        for k in 1..=8 {
            code.push(Insn::St {
                size: Size::DW,
                dst: Reg::R10,
                off: -8 * k,
                imm: 0,
            });
        }
    }
    code
}

/// The entry function's end: stores r0-r5, r7, r8 and the stack top into
/// the dump area at the end of the input, then exits. In kernel mode r0 is
/// then set to 2 (XDP_PASS), the value the kernel oracle expects.
fn epilogue(cx: &Ctx) -> Code {
    let mut code = Code::default();
    let base = cx.data_len as i16;
    let regs = [
        Reg::R0,
        Reg::R1,
        Reg::R2,
        Reg::R3,
        Reg::R4,
        Reg::R5,
        Reg::R7,
        COUNTER,
    ];
    for (i, &r) in regs.iter().enumerate() {
        code.push(Insn::Stx {
            size: Size::DW,
            dst: INPUT,
            src: r,
            off: base + 8 * i as i16,
        });
    }
    if !cx.cfg.kernel {
        // r1 = the callee frame's top, for the dump below (r1 is stored
        // already): by the frame rule, r10 plus a constant may not leave
        // the current frame, but a pointer derived from r10 may.
        code.push(alu(Width::W64, AluOp::Mov, Reg::R1, Src::Reg(Reg::R10)));
        code.push(alu(Width::W64, AluOp::Add, Reg::R1, Src::Imm(-512)));
    }
    let mut copy = |src: Reg, from: i16, to: i16| {
        code.push(Insn::Ldx {
            size: Size::DW,
            sx: false,
            dst: TMP,
            src,
            off: from,
        });
        code.push(Insn::Stx {
            size: Size::DW,
            dst: INPUT,
            src: TMP,
            off: to,
        });
    };
    for i in 0..8i16 {
        copy(Reg::R10, -8 * (i + 1), base + 64 + 8 * i);
    }
    if !cx.cfg.kernel {
        for i in 0..4i16 {
            copy(Reg::R1, -8 * (i + 1), base + 128 + 8 * i);
        }
    }
    if cx.cfg.kernel {
        code.push(alu(Width::W64, AluOp::Mov, Reg::R0, Src::Imm(2)));
    }
    code.push(Insn::Exit);
    code
}

/// Concatenates the functions and patches local calls.
fn layout(funcs: &[Code]) -> Vec<Insn> {
    let mut starts = Vec::with_capacity(funcs.len());
    let mut pc = 0usize;
    for f in funcs {
        starts.push(pc);
        pc += f.slots();
    }
    let mut out = Vec::new();
    let mut pc = 0usize;
    for f in funcs {
        let mut call_at = f.calls.iter().peekable();
        for (i, insn) in f.insns.iter().enumerate() {
            let mut insn = *insn;
            if let Some(&&(ci, target)) = call_at.peek() {
                if ci == i {
                    call_at.next();
                    let t = starts.get(target).copied().unwrap_or(0);
                    insn = Insn::Call {
                        kind: CallKind::Local,
                        imm: (t as i64 - pc as i64 - 1) as i32,
                    };
                }
            }
            pc += insn.slots();
            out.push(insn);
        }
    }
    out
}

/// A proptest strategy over generated cases: seeded from the runner's RNG,
/// shrunk by [`crate::shrink::candidates`] (fewer instructions, simpler
/// operands, zeroed input), every shrunk case still a valid program.
pub fn arb_case(cfg: GenConfig) -> CaseStrategy {
    CaseStrategy { cfg }
}

/// The strategy [`arb_case`] returns.
#[derive(Clone, Copy, Debug)]
pub struct CaseStrategy {
    cfg: GenConfig,
}

impl Strategy for CaseStrategy {
    type Tree = CaseTree;
    type Value = Case;

    fn new_tree(&self, runner: &mut TestRunner) -> NewTree<Self> {
        use proptest::prelude::Rng as _;
        let seed = runner.rng().next_u64();
        Ok(CaseTree::new(generate(seed, &self.cfg)))
    }
}

/// The value tree of [`CaseStrategy`]: greedy delta debugging over
/// [`crate::shrink::candidates`].
#[derive(Clone, Debug)]
pub struct CaseTree {
    cur: Case,
    prev: Option<Case>,
    pending: std::collections::VecDeque<Case>,
    fresh: bool,
}

impl CaseTree {
    /// A tree rooted at `case`.
    pub fn new(case: Case) -> CaseTree {
        CaseTree {
            cur: case,
            prev: None,
            pending: Default::default(),
            fresh: true,
        }
    }
}

impl ValueTree for CaseTree {
    type Value = Case;

    fn current(&self) -> Case {
        self.cur.clone()
    }

    fn simplify(&mut self) -> bool {
        // Reaching here without `complicate` means the last candidate still
        // failed: it becomes the new base, and its candidates are next.
        if self.fresh || self.prev.is_some() {
            self.pending = crate::shrink::candidates(&self.cur).into();
            self.fresh = false;
        }
        match self.pending.pop_front() {
            Some(c) => {
                self.prev = Some(std::mem::replace(&mut self.cur, c));
                true
            }
            None => {
                self.prev = None;
                false
            }
        }
    }

    fn complicate(&mut self) -> bool {
        match self.prev.take() {
            Some(p) => {
                self.cur = p;
                true
            }
            None => false,
        }
    }
}

/// Whether a case's program passes the loader (generated cases always do).
pub fn is_valid(case: &Case) -> bool {
    Program::from_insns(&case.insns).is_ok()
}
