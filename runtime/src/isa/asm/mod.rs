//! Assembler and disassembler for the bpf_conformance assembly syntax.
//!
//! The syntax is AT&T-like (see `shared/conformance/README.md`):
//!
//! ```text
//! # comment                      labels:   name:   (alone or before an instruction)
//! mov %r0, 1          mov32 %r0, -1        add %r0, %r1        neg %r0      neg32 %r0
//! sdiv %r0, 3         smod32 %r0, %r1      movsx832 %r0, %r1   movsx3264 %r0, %r1
//! le16 %r0            be64 %r0             bswap32 %r0         (swap32 = bswap32)
//! ldxw %r0, [%r1+8]   ldxsh %r0, [%r1-2]   stb [%r10-1], 7     stxdw [%r10-8], %r1
//! lddw %r0, 0x1122334455667788             lddw %r1, 5, map_by_fd
//! ldabsh 12           ldindw %r2, 4
//! ja +2   ja -1   ja label   ja32 label    jeq %r0, 1, label   jsgt32 %r1, %r2, +3
//! call 5              call %r2             call local func     call btf 7
//! lock add [%r1+0], %r2    lock fetch xor32 [%r10-8], %r3    lock cmpxchg [%r1], %r2
//! exit
//! ```
//!
//! Mnemonics without a suffix are 64-bit (`add64`, `mov64`, `neg64` are
//! accepted as aliases); a `32` suffix selects the 32-bit form.
//!
//! **Immediates** are decimal or `0x` hex, optionally signed. A 32-bit
//! immediate written in decimal must fit `i32`; written in hex it may also be a
//! `u32` bit pattern (`0xffffffff` is -1). The suite's
//! `negative/invalid_imm32_dec_range.data` requires `2147483648` to fail while
//! `0xffffffff` is used throughout the positive tests. Offsets (memory and
//! jump) must fit `i16` as signed values; `ja32` targets must fit `i32`.
//! `lddw` takes any value in `i64::MIN..=u64::MAX`.
//!
//! **Jump targets** are `+N`/`-N` slot offsets (target = pc + 1 + N) or labels.
//! Offsets count slots, so `lddw` counts twice. The label `exit` names the
//! first `exit` instruction unless the program defines a label of that name.
//!
//! **Byte swaps.** `swap16/32/64` is an alias of `bswap16/32/64` (opcode 0xd7,
//! an unconditional swap): the suite's `swap*.data` expect exactly the results
//! of `bswap*.data`, including `swap64`, which as `be64` would only agree on a
//! little-endian host by accident.
//!
//! **Extensions** (so that every decodable instruction can be printed and
//! re-assembled): `call btf N` (call with src 2), `callx %rX` (alias of
//! `call %rX`), and an `lddw` third operand naming the sub-type:
//! `map_by_fd`, `map_value_by_fd`, `var_addr`, `code_addr`, `map_by_idx`,
//! `map_value_by_idx` (`imm64` is the default).
//!
//! ```
//! use cranebpf_runtime::asm::{assemble, disassemble};
//! use cranebpf_runtime::{encode_all, decode_all};
//!
//! let insns = assemble("mov %r0, 1\njeq %r0, 1, done\nmov %r0, 2\ndone:\nexit")?;
//! let pcs = decode_all(&encode_all(&insns))?;
//! let text = disassemble(&pcs);
//! assert_eq!(text, "mov %r0, 1\njeq %r0, 1, +1\nmov %r0, 2\nexit\n");
//! assert_eq!(assemble(&text)?, insns);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod parse;
mod print;

pub use parse::{assemble, assemble_to_bytes, AsmError};
pub use print::{disassemble, disassemble_insn};
