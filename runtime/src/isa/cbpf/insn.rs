//! The classic BPF instruction: [`SockFilter`] (`struct sock_filter`), its
//! opcode fields, and the typed form [`Op`] every other part of `cbpf` reads.
//!
//! A cBPF instruction is 8 bytes: `code: u16, jt: u8, jf: u8, k: u32`, in the
//! host's byte order (every target cranebpf supports is little-endian, so the
//! byte forms here are little-endian). `code` is `class | size/op | mode/src`
//! like eBPF's opcode, but the registers are implicit: the accumulator `A`,
//! the index register `X`, and 16 scratch words `M[0..16]`.

/// Opcode fields of `code`, named as in `<linux/filter.h>`.
pub mod code {
    /// Class `ld`: load into A.
    pub const LD: u16 = 0x00;
    /// Class `ldx`: load into X.
    pub const LDX: u16 = 0x01;
    /// Class `st`: `M[k] = A`.
    pub const ST: u16 = 0x02;
    /// Class `stx`: `M[k] = X`.
    pub const STX: u16 = 0x03;
    /// Class `alu`: `A = A op (k or X)`.
    pub const ALU: u16 = 0x04;
    /// Class `jmp`: `ja k`, or compare A with k or X and jump `jt`/`jf`.
    pub const JMP: u16 = 0x05;
    /// Class `ret`: end with k or A.
    pub const RET: u16 = 0x06;
    /// Class `misc`: `tax`, `txa`.
    pub const MISC: u16 = 0x07;

    /// Size word (4 bytes).
    pub const W: u16 = 0x00;
    /// Size half word (2 bytes).
    pub const H: u16 = 0x08;
    /// Size byte.
    pub const B: u16 = 0x10;

    /// Mode: the constant k.
    pub const IMM: u16 = 0x00;
    /// Mode: packet bytes at k.
    pub const ABS: u16 = 0x20;
    /// Mode: packet bytes at X + k.
    pub const IND: u16 = 0x40;
    /// Mode: scratch word `M[k]`.
    pub const MEM: u16 = 0x60;
    /// Mode: the packet's length.
    pub const LEN: u16 = 0x80;
    /// Mode (ldx only): `X = 4 * (P[k] & 0xf)`, the IPv4 header length.
    pub const MSH: u16 = 0xa0;

    /// ALU `A += src`.
    pub const ADD: u16 = 0x00;
    /// ALU `A -= src`.
    pub const SUB: u16 = 0x10;
    /// ALU `A *= src`.
    pub const MUL: u16 = 0x20;
    /// ALU `A /= src` (unsigned).
    pub const DIV: u16 = 0x30;
    /// ALU `A |= src`.
    pub const OR: u16 = 0x40;
    /// ALU `A &= src`.
    pub const AND: u16 = 0x50;
    /// ALU `A <<= src`.
    pub const LSH: u16 = 0x60;
    /// ALU `A >>= src` (logical).
    pub const RSH: u16 = 0x70;
    /// ALU `A = -A`.
    pub const NEG: u16 = 0x80;
    /// ALU `A %= src` (a Linux extension libpcap also knows).
    pub const MOD: u16 = 0x90;
    /// ALU `A ^= src` (a Linux extension libpcap also knows).
    pub const XOR: u16 = 0xa0;

    /// JMP `pc += k`.
    pub const JA: u16 = 0x00;
    /// JMP if `A == src`.
    pub const JEQ: u16 = 0x10;
    /// JMP if `A > src` (unsigned).
    pub const JGT: u16 = 0x20;
    /// JMP if `A >= src` (unsigned).
    pub const JGE: u16 = 0x30;
    /// JMP if `A & src != 0`.
    pub const JSET: u16 = 0x40;

    /// Source: the constant k.
    pub const K: u16 = 0x00;
    /// Source: the register X.
    pub const X: u16 = 0x08;
    /// Return value: A (`ret a`).
    pub const A: u16 = 0x10;

    /// MISC `X = A`.
    pub const TAX: u16 = 0x00;
    /// MISC `A = X`.
    pub const TXA: u16 = 0x80;
}

/// Ancillary data: `ld` with `k = SKF_AD_OFF + n` reads a property of the
/// packet's socket buffer instead of packet bytes (`<linux/filter.h>`).
pub mod skf {
    /// Base of the ancillary loads (`-0x1000` as a 32-bit value).
    pub const AD_OFF: u32 = 0xffff_f000;
    /// Base of loads relative to the network header (`-0x100000`).
    pub const NET_OFF: u32 = 0xfff0_0000;
    /// Base of loads relative to the link-layer header (`-0x200000`).
    pub const LL_OFF: u32 = 0xffe0_0000;
    /// `skb->protocol` in host order (the EtherType).
    pub const AD_PROTOCOL: u32 = 0;
    /// `skb->pkt_type` (`PACKET_HOST`, `PACKET_OUTGOING`, ...).
    pub const AD_PKTTYPE: u32 = 4;
    /// The receiving interface's index.
    pub const AD_IFINDEX: u32 = 8;
    /// Netlink attribute search (not supported).
    pub const AD_NLATTR: u32 = 12;
    /// Nested netlink attribute search (not supported).
    pub const AD_NLATTR_NEST: u32 = 16;
    /// `skb->mark`.
    pub const AD_MARK: u32 = 20;
    /// `skb->queue_mapping`.
    pub const AD_QUEUE: u32 = 24;
    /// The device's hardware type (`ARPHRD_*`).
    pub const AD_HATYPE: u32 = 28;
    /// `skb->hash`.
    pub const AD_RXHASH: u32 = 32;
    /// The CPU the filter runs on.
    pub const AD_CPU: u32 = 36;
    /// `A ^= X` (an instruction in disguise).
    pub const AD_ALU_XOR_X: u32 = 40;
    /// The VLAN TCI.
    pub const AD_VLAN_TAG: u32 = 44;
    /// 1 if the packet had an offloaded VLAN tag.
    pub const AD_VLAN_TAG_PRESENT: u32 = 48;
    /// Offset of the transport payload (not supported: needs a flow dissector).
    pub const AD_PAY_OFFSET: u32 = 52;
    /// A random number (not supported: runs must be reproducible).
    pub const AD_RANDOM: u32 = 56;
    /// The VLAN protocol (TPID).
    pub const AD_VLAN_TPID: u32 = 60;
}

/// One classic BPF instruction, `struct sock_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct SockFilter {
    /// Class, size/operation and mode/source.
    pub code: u16,
    /// Conditional jumps: forward distance when true.
    pub jt: u8,
    /// Conditional jumps: forward distance when false.
    pub jf: u8,
    /// The constant operand.
    pub k: u32,
}

impl SockFilter {
    /// An instruction with every field given.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
        SockFilter { code, jt, jf, k }
    }

    /// A non-jump instruction (`BPF_STMT`).
    pub const fn stmt(code: u16, k: u32) -> SockFilter {
        SockFilter::new(code, 0, 0, k)
    }

    /// A jump (`BPF_JUMP`).
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> SockFilter {
        SockFilter::new(code, jt, jf, k)
    }

    /// Reads one instruction from its 8 bytes (little-endian).
    pub fn from_bytes(b: [u8; 8]) -> SockFilter {
        SockFilter {
            code: u16::from_le_bytes([b[0], b[1]]),
            jt: b[2],
            jf: b[3],
            k: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// The 8 bytes of the instruction (little-endian).
    pub fn to_bytes(self) -> [u8; 8] {
        let c = self.code.to_le_bytes();
        let k = self.k.to_le_bytes();
        [c[0], c[1], self.jt, self.jf, k[0], k[1], k[2], k[3]]
    }

    /// The class bits of `code`.
    pub const fn class(self) -> u16 {
        self.code & 0x07
    }
}

/// A load or jump width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadSize {
    /// 4 bytes.
    W,
    /// 2 bytes.
    H,
    /// 1 byte.
    B,
}

impl LoadSize {
    /// Bytes read.
    pub const fn bytes(self) -> u32 {
        match self {
            LoadSize::W => 4,
            LoadSize::H => 2,
            LoadSize::B => 1,
        }
    }
}

/// The second operand of ALU operations and conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operand {
    /// The instruction's k.
    K(u32),
    /// The register X.
    X,
}

/// The binary ALU operations (`A = A op operand`, 32-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    /// `add`
    Add,
    /// `sub`
    Sub,
    /// `mul`
    Mul,
    /// `div` (unsigned; by zero ends the filter with 0)
    Div,
    /// `mod` (unsigned; by zero ends the filter with 0)
    Mod,
    /// `and`
    And,
    /// `or`
    Or,
    /// `xor`
    Xor,
    /// `lsh`
    Lsh,
    /// `rsh` (logical)
    Rsh,
}

/// The conditions of conditional jumps (all unsigned, 32-bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `jeq`: `A == operand`
    Eq,
    /// `jgt`: `A > operand`
    Gt,
    /// `jge`: `A >= operand`
    Ge,
    /// `jset`: `A & operand != 0`
    Set,
}

/// What `ret` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RetVal {
    /// The constant k.
    K(u32),
    /// The accumulator.
    A,
}

/// One decoded instruction: every opcode the kernel's classic checker
/// accepts, with its operands. Produced by [`Op::decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `ld #k`: `A = k`.
    LdImm {
        /// The constant.
        k: u32,
    },
    /// `ld M[k]`: `A = M[k]`.
    LdMem {
        /// Scratch index.
        k: u32,
    },
    /// `ld #pktlen`: `A = len` (the packet's length on the wire).
    LdLen,
    /// `ld [k]`, `ldh [k]`, `ldb [k]`: A = the big-endian bytes at k.
    LdAbs {
        /// Width.
        size: LoadSize,
        /// Offset (values from [`skf::LL_OFF`] up are special, see [`skf`]).
        k: u32,
    },
    /// `ld [x + k]` and its sizes: A = the big-endian bytes at X + k.
    LdInd {
        /// Width.
        size: LoadSize,
        /// Offset added to X.
        k: u32,
    },
    /// `ldx #k`: `X = k`.
    LdxImm {
        /// The constant.
        k: u32,
    },
    /// `ldx M[k]`: `X = M[k]`.
    LdxMem {
        /// Scratch index.
        k: u32,
    },
    /// `ldx #pktlen`: `X = len`.
    LdxLen,
    /// `ldxb 4*([k]&0xf)`: `X = 4 * (P[k] & 0xf)`.
    LdxMsh {
        /// Offset of the byte.
        k: u32,
    },
    /// `st M[k]`: `M[k] = A`.
    St {
        /// Scratch index.
        k: u32,
    },
    /// `stx M[k]`: `M[k] = X`.
    Stx {
        /// Scratch index.
        k: u32,
    },
    /// `A = A op operand`.
    Alu {
        /// The operation.
        op: AluOp,
        /// The second operand.
        src: Operand,
    },
    /// `neg`: `A = -A`.
    Neg,
    /// `ja k`: jump forward k instructions.
    Ja {
        /// Distance.
        k: u32,
    },
    /// `jCOND operand, jt, jf`.
    Jmp {
        /// The condition.
        cond: Cond,
        /// The right operand.
        src: Operand,
        /// Distance when true.
        jt: u8,
        /// Distance when false.
        jf: u8,
    },
    /// `ret k` or `ret a`: the filter's result.
    Ret {
        /// What is returned.
        val: RetVal,
    },
    /// `tax`: `X = A`.
    Tax,
    /// `txa`: `A = X`.
    Txa,
}

impl Op {
    /// Decodes one instruction; `None` for a code the kernel's classic
    /// checker does not know (e.g. `ret x`, `ldx [k]`, `ld [k]` of size 8).
    pub fn decode(f: SockFilter) -> Option<Op> {
        use code::*;
        let k = f.k;
        let size = |c: u16| match c & 0x18 {
            W => Some(LoadSize::W),
            H => Some(LoadSize::H),
            B => Some(LoadSize::B),
            _ => None,
        };
        let src = |c: u16| {
            if c & X != 0 {
                Operand::X
            } else {
                Operand::K(k)
            }
        };
        if f.code > 0xff {
            return None;
        }
        Some(match f.code {
            c if c == LD | W | IMM => Op::LdImm { k },
            c if c == LD | W | MEM => Op::LdMem { k },
            c if c == LD | W | LEN => Op::LdLen,
            c if c & 0xe7 == LD | ABS => Op::LdAbs { size: size(c)?, k },
            c if c & 0xe7 == LD | IND => Op::LdInd { size: size(c)?, k },
            c if c == LDX | W | IMM => Op::LdxImm { k },
            c if c == LDX | W | MEM => Op::LdxMem { k },
            c if c == LDX | W | LEN => Op::LdxLen,
            c if c == LDX | B | MSH => Op::LdxMsh { k },
            ST => Op::St { k },
            STX => Op::Stx { k },
            c if c == ALU | NEG => Op::Neg,
            c if c & 0x07 == ALU => Op::Alu {
                op: alu_op(c & 0xf0)?,
                src: src(c),
            },
            c if c == JMP | JA => Op::Ja { k },
            c if c & 0x07 == JMP => Op::Jmp {
                cond: match c & 0xf0 {
                    JEQ => Cond::Eq,
                    JGT => Cond::Gt,
                    JGE => Cond::Ge,
                    JSET => Cond::Set,
                    _ => return None,
                },
                src: src(c),
                jt: f.jt,
                jf: f.jf,
            },
            c if c == RET | K => Op::Ret { val: RetVal::K(k) },
            c if c == RET | A => Op::Ret { val: RetVal::A },
            c if c == MISC | TAX => Op::Tax,
            c if c == MISC | TXA => Op::Txa,
            _ => return None,
        })
    }

    /// The scratch word this instruction reads, if any.
    pub fn reads_scratch(self) -> Option<u32> {
        match self {
            Op::LdMem { k } | Op::LdxMem { k } => Some(k),
            _ => None,
        }
    }

    /// The scratch word this instruction writes, if any.
    pub fn writes_scratch(self) -> Option<u32> {
        match self {
            Op::St { k } | Op::Stx { k } => Some(k),
            _ => None,
        }
    }
}

/// The ALU operation of the op bits (without NEG, which has no operand).
fn alu_op(op: u16) -> Option<AluOp> {
    use code::*;
    Some(match op {
        ADD => AluOp::Add,
        SUB => AluOp::Sub,
        MUL => AluOp::Mul,
        DIV => AluOp::Div,
        MOD => AluOp::Mod,
        AND => AluOp::And,
        OR => AluOp::Or,
        XOR => AluOp::Xor,
        LSH => AluOp::Lsh,
        RSH => AluOp::Rsh,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sock_filter_bytes_round_trip() {
        let f = SockFilter::new(0x15, 1, 2, 0x0800);
        assert_eq!(f.to_bytes(), [0x15, 0, 1, 2, 0, 8, 0, 0]);
        assert_eq!(SockFilter::from_bytes(f.to_bytes()), f);
    }

    #[test]
    fn decode_knows_every_kernel_opcode_and_nothing_else() {
        // The 49 opcodes the kernel's classic checker accepts.
        let known: Vec<u16> = vec![
            0x00, 0x60, 0x80, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x01, 0x61, 0x81, 0xb1, 0x02,
            0x03, 0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64,
            0x6c, 0x74, 0x7c, 0x94, 0x9c, 0xa4, 0xac, 0x84, 0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35,
            0x3d, 0x45, 0x4d, 0x06, 0x16, 0x07, 0x87,
        ];
        for c in 0..=u16::MAX {
            let decoded = Op::decode(SockFilter::stmt(c, 0)).is_some();
            assert_eq!(decoded, known.contains(&c), "code {c:#x}");
        }
    }

    #[test]
    fn decode_tax_and_txa_have_their_direction() {
        assert_eq!(Op::decode(SockFilter::stmt(0x07, 0)), Some(Op::Tax));
        assert_eq!(Op::decode(SockFilter::stmt(0x87, 0)), Some(Op::Txa));
    }
}
