//! The instruction budget and its counting rule.
//!
//! A run may be given a budget of instructions. Engines charge instructions
//! per **block**, never per instruction, so the JIT can count cheaply and still
//! agree with the interpreter exactly. The rule, which every engine follows:
//!
//! 1. **Blocks.** A function's instructions are cut into blocks. An instruction
//!    *leads* a block if it is the first of the program, the first of a
//!    function (a local-call target), the target of any jump, or the next
//!    instruction after a jump (`ja`, conditional), a call (`call`, `callx`),
//!    an `exit`, or a legacy packet load (`ldabs*`, `ldind*`). A block runs from
//!    its leader up to (not including) the next leader. LDDW counts as one
//!    instruction.
//! 2. **Charging.** When control enters a block of `n` instructions with `c`
//!    instructions already charged, the run faults with
//!    [`crate::FaultKind::Budget`] at the block's leader if `c + n > budget`
//!    (nothing of the block runs and `c` is unchanged); otherwise `c += n`.
//! 3. **Count at the end.** After a normal exit the count is the number of
//!    instructions executed. After a fault at an instruction that is the
//!    `k`-th of its block (1-based), the count is the charge before the block
//!    plus `k`: the faulting instruction counts, the rest of its block does not.
//!    After a budget fault it is the charge before the block.
//! 4. A helper call counts as one instruction however long the helper runs. A
//!    local call's callee charges its own blocks; after it returns, the
//!    caller's next instruction leads a new block.
//!
//! Without a budget, engines still count with the same rule.
//!
//! The blocks themselves are computed once per program, by
//! [`crate::isa::cfg::Cfg`].

use crate::isa::cfg::Cfg;
use crate::isa::insn::Insn;

/// Block structure of a decoded program, indexed like the instruction list
/// (instruction index, not pc).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blocks {
    /// For each instruction index: the length in instructions of the block it
    /// leads, or 0 if it does not lead a block.
    pub len_if_leader: Vec<u32>,
}

/// Computes the blocks of `insns` (pairs of pc and instruction in program
/// order, as [`crate::decode_all`] returns them).
///
/// This is [`Cfg::block_lens`] of a graph built for the purpose; a
/// [`crate::Program`] already owns its graph ([`crate::Program::cfg`]), so
/// engines read that instead. Jump and call targets that do not name an
/// instruction are ignored here; the validator rejects such programs before
/// any engine runs them.
pub fn blocks(insns: &[(usize, Insn)]) -> Blocks {
    Blocks {
        len_if_leader: Cfg::new(insns).block_lens().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::insn::*;

    #[test]
    fn loop_blocks() {
        // 0: mov r0, 0 | 1: add r0, 1 | 2: jlt r0, 3, -2 | 3: lddw (2 slots) | 5: exit
        let insns = vec![
            (
                0,
                Insn::Alu {
                    w: Width::W64,
                    op: AluOp::Mov,
                    dst: Reg::R0,
                    src: Src::Imm(0),
                },
            ),
            (
                1,
                Insn::Alu {
                    w: Width::W64,
                    op: AluOp::Add,
                    dst: Reg::R0,
                    src: Src::Imm(1),
                },
            ),
            (
                2,
                Insn::Jmp {
                    w: Width::W64,
                    cond: JmpCond::Lt,
                    dst: Reg::R0,
                    src: Src::Imm(3),
                    off: -2,
                },
            ),
            (
                3,
                Insn::Lddw {
                    dst: Reg::R1,
                    kind: LddwKind::Imm64,
                    imm: 1,
                    next_imm: 0,
                },
            ),
            (5, Insn::Exit),
        ];
        assert_eq!(blocks(&insns).len_if_leader, vec![1, 2, 0, 2, 0]);
    }
}
