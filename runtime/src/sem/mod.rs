//! RFC 9669 semantics as pure functions: the one place each rule is written.
//!
//! Every engine computes register values through these functions or mirrors
//! them arm by arm: the interpreter calls them directly, the Cranelift
//! lowering emits the same operations, and the differential tests compare the
//! two. Each function's doc names its RFC 9669 section and the edge cases it
//! settles. None of them panics, for any argument.
//!
//! Conventions:
//! - A *value* is a `u64` register value. 32-bit (ALU, JMP32) rules look only
//!   at the low 32 bits of their inputs and, where they produce a register
//!   value, zero-extend their 32-bit result.
//! - An *operand* is the second input of an ALU or JMP instruction, already
//!   turned into a `u64`: a register's value, or [`imm_operand`] of the
//!   immediate.
//!
//! Families: [`alu`]/[`neg`]/[`movsx`] (§4.1), [`byteorder`] (§4.2),
//! [`jmp_taken`]/[`jump_target`] (§4.3), [`ldx_value`]/[`st_imm_value`]
//! (§5.1, §5.2), [`atomic_new_value`] and friends (§5.3), [`packet_value`]
//! (§5.5, legacy packet loads).

mod alu;
mod atomic;
mod byteswap;
mod jmp;
mod mem;

pub use alu::{
    add, alu, and, arsh, div, imm_operand, lsh, mov, movsx, mul, neg, or, rsh, sdiv, smod, sub,
    umod, xor,
};
pub use atomic::{atomic_fetch_reg, atomic_fetch_result, atomic_new_value, cmpxchg_matches};
pub use byteswap::byteorder;
pub use jmp::{jmp_taken, jump_target, jump_target_signed};
pub use mem::{frame_access_ok, ldx_value, packet_addr, packet_value, st_imm_value};
