//! Shared by the cBPF oracle tests: a small deterministic generator and
//! random classic filters that both the kernel's checker and libpcap's
//! `bpf_validate` accept.

use cranebpf::filter::SockFilter;
use cranebpf_runtime::isa::cbpf::insn::code::*;

/// A small deterministic generator (xorshift64*), so every run is the same.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A random filter that both checkers accept: a prologue writes M[0..4],
/// then `body` random instructions (forward jumps only, in range; shifts by
/// X only right after `ldx #n` with n < 32, where C's shift is defined),
/// then `ret a` and `ret #k`.
pub fn random_filter(rng: &mut Rng, body: usize) -> Vec<SockFilter> {
    let mut f = Vec::new();
    for m in 0..4 {
        f.push(SockFilter::stmt(LD | IMM, rng.next() as u32));
        f.push(SockFilter::stmt(ST, m));
    }
    let len = f.len() + body + 2;
    while f.len() < len - 2 {
        let i = f.len();
        let room = (len - 1 - (i + 1)) as u64; // largest distance that stays in range
        let dist = |rng: &mut Rng| rng.below(room.min(255) + 1) as u8;
        let k = |rng: &mut Rng| -> u32 {
            match rng.below(4) {
                0 => rng.below(64) as u32,
                1 => rng.next() as u32,
                2 => rng.pick(&[0u32, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff]),
                _ => rng.below(1600) as u32,
            }
        };
        let size = rng.pick(&[W, H, B]);
        let insn = match rng.below(20) {
            0 => SockFilter::stmt(LD | size | ABS, rng.below(80) as u32),
            1 => SockFilter::stmt(LD | size | IND, k(rng)),
            2 => SockFilter::stmt(LDX | B | MSH, rng.below(70) as u32),
            3 => SockFilter::stmt(rng.pick(&[LD | W | LEN, LDX | W | LEN]), 0),
            4 => SockFilter::stmt(rng.pick(&[LD | IMM, LDX | IMM]), k(rng)),
            5 => SockFilter::stmt(rng.pick(&[LD | MEM, LDX | MEM]), rng.below(4) as u32),
            6 => SockFilter::stmt(rng.pick(&[ST, STX]), rng.below(16) as u32),
            7 | 8 => {
                let op = rng.pick(&[ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH]);
                let kk = match op {
                    DIV | MOD => k(rng).max(1),
                    LSH | RSH => rng.below(32) as u32,
                    _ => k(rng),
                };
                SockFilter::stmt(ALU | op | K, kk)
            }
            9 => SockFilter::stmt(
                ALU | rng.pick(&[ADD, SUB, MUL, DIV, MOD, AND, OR, XOR]) | X,
                0,
            ),
            10 if i + 1 < len - 2 => {
                f.push(SockFilter::stmt(LDX | IMM, rng.below(32) as u32));
                SockFilter::stmt(ALU | rng.pick(&[LSH, RSH]) | X, 0)
            }
            11 => SockFilter::stmt(ALU | NEG, 0),
            12 => SockFilter::stmt(MISC | rng.pick(&[TAX, TXA]), 0),
            13 => SockFilter::stmt(JMP | JA, dist(rng) as u32),
            14..=18 => {
                let cond = rng.pick(&[JEQ, JGT, JGE, JSET]);
                let src = rng.pick(&[K, K, X]);
                SockFilter::jump(JMP | cond | src, k(rng), dist(rng), dist(rng))
            }
            _ => SockFilter::stmt(RET | K, k(rng)),
        };
        f.push(insn);
    }
    f.truncate(len - 2);
    f.push(SockFilter::stmt(RET | A, 0));
    f.push(SockFilter::stmt(RET | K, rng.next() as u32));
    retarget_shifts_by_x(&mut f);
    f
}

/// A jump onto a shift by X would skip its `ldx #n`: libpcap 1.10 makes A
/// 0 for a shift of 32 or more where the kernel (and cranebpf) take X mod
/// 32, a difference the translation keeps on purpose. Such jumps land on
/// the `ldx` instead (one earlier, still forward).
fn retarget_shifts_by_x(f: &mut [SockFilter]) {
    let shift_x = |f: &SockFilter| f.code == ALU | LSH | X || f.code == ALU | RSH | X;
    for i in 0..f.len() {
        let insn = f[i];
        if insn.code == JMP | JA {
            if shift_x(&f[i + 1 + insn.k as usize]) {
                f[i].k -= 1;
            }
        } else if insn.code & 0x07 == JMP {
            if shift_x(&f[i + 1 + insn.jt as usize]) {
                f[i].jt -= 1;
            }
            if shift_x(&f[i + 1 + insn.jf as usize]) {
                f[i].jf -= 1;
            }
        }
    }
}
