//! The instruction model: one typed [`Insn`] per RFC 9669 instruction.
//!
//! **API Boundary.** Every other crate (the lowering, the JIT, the generators)
//! works on [`Insn`], never on raw bytes. [`crate::isa::decode`] turns slots into
//! `Insn`s with strict field checks; [`crate::isa::encode`] is its exact inverse.
//!
//! A *slot* is one 8-byte unit of bytecode ([`RawInsn`]). Every instruction
//! takes one slot except [`Insn::Lddw`], which takes two. A *pc* is always a
//! slot index.

use std::fmt;

/// One 8-byte slot as it is laid out in bytecode (little-endian):
/// `opcode | dst << 8 | src << 12 | offset << 16 | imm << 32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct RawInsn {
    /// Byte 0: class, size/mode or operation code.
    pub opcode: u8,
    /// Low nibble of byte 1.
    pub dst: u8,
    /// High nibble of byte 1.
    pub src: u8,
    /// Bytes 2..4, signed.
    pub off: i16,
    /// Bytes 4..8, signed.
    pub imm: i32,
}

impl RawInsn {
    /// Reads one slot from 8 little-endian bytes.
    pub fn from_bytes(b: [u8; 8]) -> RawInsn {
        RawInsn {
            opcode: b[0],
            dst: b[1] & 0x0f,
            src: b[1] >> 4,
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// Writes the slot as 8 little-endian bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        let off = self.off.to_le_bytes();
        let imm = self.imm.to_le_bytes();
        [
            self.opcode,
            (self.dst & 0x0f) | (self.src << 4),
            off[0],
            off[1],
            imm[0],
            imm[1],
            imm[2],
            imm[3],
        ]
    }

    /// The slot as the u64 the conformance suite's `-- raw` section uses.
    pub fn to_u64(self) -> u64 {
        u64::from_le_bytes(self.to_bytes())
    }

    /// The inverse of [`RawInsn::to_u64`].
    pub fn from_u64(v: u64) -> RawInsn {
        RawInsn::from_bytes(v.to_le_bytes())
    }
}

/// Splits bytecode into slots. Fails if the length is not a multiple of 8.
pub fn slots_from_bytes(bytes: &[u8]) -> Result<Vec<RawInsn>, crate::DecodeError> {
    if bytes.len() % 8 != 0 {
        return Err(crate::DecodeError {
            pc: bytes.len() / 8,
            reason: crate::DecodeReason::TruncatedSlot { len: bytes.len() },
        });
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            RawInsn::from_bytes(b)
        })
        .collect())
}

/// Joins slots back into bytecode.
pub fn slots_to_bytes(slots: &[RawInsn]) -> Vec<u8> {
    slots.iter().flat_map(|s| s.to_bytes()).collect()
}

/// A register `r0`..`r10`. `r10` is the read-only frame pointer.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// r0: return value of calls and of the program.
    pub const R0: Reg = Reg(0);
    /// r1: first argument; the context pointer at entry.
    pub const R1: Reg = Reg(1);
    /// r2: second argument.
    pub const R2: Reg = Reg(2);
    /// r3: third argument.
    pub const R3: Reg = Reg(3);
    /// r4: fourth argument.
    pub const R4: Reg = Reg(4);
    /// r5: fifth argument.
    pub const R5: Reg = Reg(5);
    /// r6: callee-saved.
    pub const R6: Reg = Reg(6);
    /// r7: callee-saved.
    pub const R7: Reg = Reg(7);
    /// r8: callee-saved.
    pub const R8: Reg = Reg(8);
    /// r9: callee-saved.
    pub const R9: Reg = Reg(9);
    /// r10: frame pointer, read-only.
    pub const R10: Reg = Reg(10);
    /// The frame pointer.
    pub const FP: Reg = Reg(10);

    /// `Some` for 0..=10.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// The register number, 0..=10.
    pub const fn num(self) -> u8 {
        self.0
    }

    /// The register number as an index into a register file.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%r{}", self.0)
    }
}

/// Operand width of ALU and JMP instructions: ALU/JMP32 (`W32`) or ALU64/JMP (`W64`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Width {
    /// 32-bit: operate on the low halves; ALU results are zero-extended.
    W32,
    /// 64-bit.
    W64,
}

/// Access size of loads, stores and atomics.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Size {
    /// 1 byte.
    B,
    /// 2 bytes.
    H,
    /// 4 bytes.
    W,
    /// 8 bytes.
    DW,
}

impl Size {
    /// Size in bytes.
    pub const fn bytes(self) -> u64 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }

    /// Bits 3-4 of a load/store opcode.
    pub const fn code(self) -> u8 {
        match self {
            Size::W => 0x00,
            Size::H => 0x08,
            Size::B => 0x10,
            Size::DW => 0x18,
        }
    }

    /// The inverse of [`Size::code`] (the argument is masked).
    pub const fn from_code(code: u8) -> Size {
        match code & 0x18 {
            0x00 => Size::W,
            0x08 => Size::H,
            0x10 => Size::B,
            _ => Size::DW,
        }
    }

    /// Mnemonic suffix: `b`, `h`, `w`, `dw`.
    pub const fn suffix(self) -> &'static str {
        match self {
            Size::B => "b",
            Size::H => "h",
            Size::W => "w",
            Size::DW => "dw",
        }
    }
}

/// Second operand of ALU and conditional jump instructions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Src {
    /// `X` form: a register.
    Reg(Reg),
    /// `K` form: the 32-bit immediate (sign-extended for 64-bit operations).
    Imm(i32),
}

/// Binary ALU operations that share the `dst = dst OP src` shape.
///
/// `Neg`, `MovSx` and the byte-order operations have their own [`Insn`]
/// variants because their operands differ.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AluOp {
    /// `dst += src`
    Add,
    /// `dst -= src`
    Sub,
    /// `dst *= src`
    Mul,
    /// `dst = src != 0 ? dst / src : 0` (unsigned)
    Div,
    /// `dst = src != 0 ? dst s/ src : 0` (signed, truncating; offset 1)
    Sdiv,
    /// `dst |= src`
    Or,
    /// `dst &= src`
    And,
    /// `dst <<= src & (width - 1)`
    Lsh,
    /// `dst >>= src & (width - 1)` (logical)
    Rsh,
    /// `dst = src != 0 ? dst % src : dst` (unsigned)
    Mod,
    /// `dst = src != 0 ? dst s% src : dst` (signed, truncating; offset 1)
    Smod,
    /// `dst ^= src`
    Xor,
    /// `dst = src`
    Mov,
    /// `dst >>= src & (width - 1)` (arithmetic)
    Arsh,
}

impl AluOp {
    /// All binary ALU operations, in opcode order.
    pub const ALL: [AluOp; 14] = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::Sdiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::Smod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Arsh,
    ];

    /// High nibble of the opcode.
    pub const fn code(self) -> u8 {
        match self {
            AluOp::Add => 0x00,
            AluOp::Sub => 0x10,
            AluOp::Mul => 0x20,
            AluOp::Div | AluOp::Sdiv => 0x30,
            AluOp::Or => 0x40,
            AluOp::And => 0x50,
            AluOp::Lsh => 0x60,
            AluOp::Rsh => 0x70,
            AluOp::Mod | AluOp::Smod => 0x90,
            AluOp::Xor => 0xa0,
            AluOp::Mov => 0xb0,
            AluOp::Arsh => 0xc0,
        }
    }

    /// The `offset` field this operation is encoded with (1 for the signed division forms).
    pub const fn offset(self) -> i16 {
        match self {
            AluOp::Sdiv | AluOp::Smod => 1,
            _ => 0,
        }
    }

    /// Assembler mnemonic without the `32` suffix.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            AluOp::Add => "add",
            AluOp::Sub => "sub",
            AluOp::Mul => "mul",
            AluOp::Div => "div",
            AluOp::Sdiv => "sdiv",
            AluOp::Or => "or",
            AluOp::And => "and",
            AluOp::Lsh => "lsh",
            AluOp::Rsh => "rsh",
            AluOp::Mod => "mod",
            AluOp::Smod => "smod",
            AluOp::Xor => "xor",
            AluOp::Mov => "mov",
            AluOp::Arsh => "arsh",
        }
    }
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum JmpCond {
    /// `dst == src`
    Eq,
    /// `dst > src` (unsigned)
    Gt,
    /// `dst >= src` (unsigned)
    Ge,
    /// `dst & src != 0`
    Set,
    /// `dst != src`
    Ne,
    /// `dst > src` (signed)
    Sgt,
    /// `dst >= src` (signed)
    Sge,
    /// `dst < src` (unsigned)
    Lt,
    /// `dst <= src` (unsigned)
    Le,
    /// `dst < src` (signed)
    Slt,
    /// `dst <= src` (signed)
    Sle,
}

impl JmpCond {
    /// All conditions, in opcode order.
    pub const ALL: [JmpCond; 11] = [
        JmpCond::Eq,
        JmpCond::Gt,
        JmpCond::Ge,
        JmpCond::Set,
        JmpCond::Ne,
        JmpCond::Sgt,
        JmpCond::Sge,
        JmpCond::Lt,
        JmpCond::Le,
        JmpCond::Slt,
        JmpCond::Sle,
    ];

    /// High nibble of the opcode.
    pub const fn code(self) -> u8 {
        match self {
            JmpCond::Eq => 0x10,
            JmpCond::Gt => 0x20,
            JmpCond::Ge => 0x30,
            JmpCond::Set => 0x40,
            JmpCond::Ne => 0x50,
            JmpCond::Sgt => 0x60,
            JmpCond::Sge => 0x70,
            JmpCond::Lt => 0xa0,
            JmpCond::Le => 0xb0,
            JmpCond::Slt => 0xc0,
            JmpCond::Sle => 0xd0,
        }
    }

    /// Assembler mnemonic without the `32` suffix.
    pub const fn mnemonic(self) -> &'static str {
        match self {
            JmpCond::Eq => "jeq",
            JmpCond::Gt => "jgt",
            JmpCond::Ge => "jge",
            JmpCond::Set => "jset",
            JmpCond::Ne => "jne",
            JmpCond::Sgt => "jsgt",
            JmpCond::Sge => "jsge",
            JmpCond::Lt => "jlt",
            JmpCond::Le => "jle",
            JmpCond::Slt => "jslt",
            JmpCond::Sle => "jsle",
        }
    }
}

/// Read-modify-write operations of the ATOMIC mode (the imm field).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// `*p += src`; with fetch, `src = old`.
    Add,
    /// `*p |= src`; with fetch, `src = old`.
    Or,
    /// `*p &= src`; with fetch, `src = old`.
    And,
    /// `*p ^= src`; with fetch, `src = old`.
    Xor,
    /// `old = *p; *p = src; src = old` (always fetches).
    Xchg,
    /// `old = *p; if old == r0 { *p = src }; r0 = old` (always fetches).
    Cmpxchg,
}

impl AtomicOp {
    /// The imm value without the FETCH bit.
    pub const fn code(self) -> i32 {
        match self {
            AtomicOp::Add => 0x00,
            AtomicOp::Or => 0x40,
            AtomicOp::And => 0x50,
            AtomicOp::Xor => 0xa0,
            AtomicOp::Xchg => 0xe0,
            AtomicOp::Cmpxchg => 0xf0,
        }
    }

    /// The FETCH bit of the imm field.
    pub const FETCH: i32 = 0x01;
}

/// The three byte-order instructions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Endian {
    /// `le16/32/64` (0xd4): convert to little-endian, truncating to the width.
    Le,
    /// `be16/32/64` (0xdc): convert to big-endian, truncating to the width.
    Be,
    /// `bswap16/32/64` (0xd7, ALU64): unconditional swap, truncating to the width.
    Swap,
}

/// Sub-type of a 64-bit immediate load, from its `src` field (RFC 9669 §5.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LddwKind {
    /// 0: `dst = imm64`.
    Imm64,
    /// 1: `dst = map_by_fd(imm)`.
    MapByFd,
    /// 2: `dst = map_val(map_by_fd(imm)) + next_imm`.
    MapValueByFd,
    /// 3: `dst = var_addr(imm)`.
    VarAddr,
    /// 4: `dst = code_addr(imm)`.
    CodeAddr,
    /// 5: `dst = map_by_idx(imm)`.
    MapByIdx,
    /// 6: `dst = map_val(map_by_idx(imm)) + next_imm`.
    MapValueByIdx,
}

impl LddwKind {
    /// The `src` field value.
    pub const fn code(self) -> u8 {
        match self {
            LddwKind::Imm64 => 0,
            LddwKind::MapByFd => 1,
            LddwKind::MapValueByFd => 2,
            LddwKind::VarAddr => 3,
            LddwKind::CodeAddr => 4,
            LddwKind::MapByIdx => 5,
            LddwKind::MapValueByIdx => 6,
        }
    }

    /// The inverse of [`LddwKind::code`].
    pub const fn from_code(code: u8) -> Option<LddwKind> {
        Some(match code {
            0 => LddwKind::Imm64,
            1 => LddwKind::MapByFd,
            2 => LddwKind::MapValueByFd,
            3 => LddwKind::VarAddr,
            4 => LddwKind::CodeAddr,
            5 => LddwKind::MapByIdx,
            6 => LddwKind::MapValueByIdx,
            _ => return None,
        })
    }
}

/// What a `call` (0x85) instruction calls, from its `src` field.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CallKind {
    /// src 0: helper function by static id (imm).
    Helper,
    /// src 1: program-local function at `pc + 1 + imm`.
    Local,
    /// src 2: helper function by BTF id (imm).
    Btf,
}

/// One decoded instruction. See the module docs; RFC 9669 section numbers are
/// given on each variant.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Insn {
    /// §4.1: `dst = dst OP src` (ALU or ALU64; 32-bit results zero-extend).
    Alu {
        /// 32- or 64-bit operation.
        w: Width,
        /// The operation.
        op: AluOp,
        /// Destination (and first operand).
        dst: Reg,
        /// Second operand.
        src: Src,
    },
    /// §4.1: `dst = -dst`.
    Neg {
        /// 32- or 64-bit operation.
        w: Width,
        /// Destination and operand.
        dst: Reg,
    },
    /// §4.1 MOVSX: `dst = sign_extend(src, bits)` (ALU form: to 32 bits, then zero-extended).
    MovSx {
        /// 32- or 64-bit operation.
        w: Width,
        /// Destination.
        dst: Reg,
        /// Source register.
        src: Reg,
        /// 8, 16 or (64-bit form only) 32.
        bits: u8,
    },
    /// §4.2: byte-order conversion of the low `bits` of `dst`, zero-extended.
    End {
        /// Which conversion.
        kind: Endian,
        /// Destination and operand.
        dst: Reg,
        /// 16, 32 or 64.
        bits: u8,
    },
    /// §5.4: 64-bit immediate load, two slots.
    Lddw {
        /// Destination.
        dst: Reg,
        /// Sub-type (`src` field).
        kind: LddwKind,
        /// First slot's imm.
        imm: i32,
        /// Second slot's imm.
        next_imm: i32,
    },
    /// §5.5 (legacy): `r0 = ntoh(*(size *)(packet + imm))`.
    LdAbs {
        /// B, H or W.
        size: Size,
        /// Offset into the packet.
        imm: i32,
    },
    /// §5.5 (legacy): `r0 = ntoh(*(size *)(packet + src + imm))`.
    LdInd {
        /// B, H or W.
        size: Size,
        /// Register holding the variable offset.
        src: Reg,
        /// Constant offset.
        imm: i32,
    },
    /// §5.1/§5.2: `dst = *(size *)(src + off)`, zero- or (`sx`) sign-extended.
    Ldx {
        /// Access size.
        size: Size,
        /// MEMSX mode: sign-extend (B, H, W only).
        sx: bool,
        /// Destination.
        dst: Reg,
        /// Base address register.
        src: Reg,
        /// Displacement.
        off: i16,
    },
    /// §5.1: `*(size *)(dst + off) = imm` (sign-extended for DW).
    St {
        /// Access size.
        size: Size,
        /// Base address register.
        dst: Reg,
        /// Displacement.
        off: i16,
        /// Value.
        imm: i32,
    },
    /// §5.1: `*(size *)(dst + off) = src`.
    Stx {
        /// Access size.
        size: Size,
        /// Base address register.
        dst: Reg,
        /// Value register.
        src: Reg,
        /// Displacement.
        off: i16,
    },
    /// §5.3: atomic read-modify-write at `dst + off`.
    Atomic {
        /// W or DW.
        size: Size,
        /// The operation.
        op: AtomicOp,
        /// FETCH flag (always set for Xchg and Cmpxchg).
        fetch: bool,
        /// Base address register.
        dst: Reg,
        /// Operand (and, with fetch, result) register.
        src: Reg,
        /// Displacement.
        off: i16,
    },
    /// §4.3: unconditional jump to `pc + 1 + off`. `wide` is the JMP32-class
    /// `ja32`/`gotol` form (0x06), whose offset is the 32-bit imm.
    Ja {
        /// Relative slot offset.
        off: i32,
        /// Encoded as 0x06 with the offset in imm.
        wide: bool,
    },
    /// §4.3: `if dst COND src goto pc + 1 + off`.
    Jmp {
        /// JMP32 (`W32`) compares the low halves.
        w: Width,
        /// The comparison.
        cond: JmpCond,
        /// Left operand.
        dst: Reg,
        /// Right operand.
        src: Src,
        /// Relative slot offset.
        off: i16,
    },
    /// §4.3.1: call a helper (by id or BTF id) or a local function.
    Call {
        /// What `imm` names.
        kind: CallKind,
        /// Helper id, BTF id, or relative slot offset of a local function.
        imm: i32,
    },
    /// Non-RFC `callx` (0x8d): call the helper whose id is in `reg` (encoded in dst).
    Callx {
        /// Register holding the helper id.
        reg: Reg,
    },
    /// §4.3: return from a local function, or end the program with r0.
    Exit,
}

impl Insn {
    /// Number of slots the instruction occupies (2 for LDDW, else 1).
    pub const fn slots(&self) -> usize {
        match self {
            Insn::Lddw { .. } => 2,
            _ => 1,
        }
    }

    /// The 64-bit value of an LDDW: `(u32)imm | next_imm << 32`.
    pub const fn lddw_value(imm: i32, next_imm: i32) -> u64 {
        (imm as u32 as u64) | ((next_imm as u32 as u64) << 32)
    }

    /// For jumps: the relative offset (target = pc + 1 + offset).
    pub fn jump_offset(&self) -> Option<i64> {
        match *self {
            Insn::Ja { off, .. } => Some(off as i64),
            Insn::Jmp { off, .. } => Some(off as i64),
            _ => None,
        }
    }

    /// Whether control never falls through to the next slot.
    pub fn is_terminator(&self) -> bool {
        matches!(self, Insn::Ja { .. } | Insn::Exit)
    }
}
