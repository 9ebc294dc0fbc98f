//! Budget accounting at block leaders (the rule is
//! [`cranebpf_runtime::analysis::budget`]'s module doc).
//!
//! `remaining` = budget − charge (`u64::MAX` without a budget) lives in the
//! context between functions and in a variable within one: it is loaded at
//! function entry and after each local call, and written back before every
//! return (normal, early end, fault) and before each local call. Entering a
//! block of `n` instructions:
//! `remaining < n`  → budget fault at the leader, nothing charged (adj 0);
//! otherwise          `remaining -= n`.
//! A later fault at the `k`-th instruction of the block records
//! `adj = n - k`, so the host's count `budget - remaining - adj` is the
//! charge before the block plus `k`.
//!
//! **Two copies.** A function with a loop is built twice. The *checked*
//! copy does the above at every leader. The *fast* copy only subtracts `n`
//! at most leaders; it compares at *checkpoints* only: the function start,
//! every target of a backward jump and every instruction after a local
//! call. Every cycle of the control flow contains a backward jump, so from
//! a checkpoint to the next one control follows a forward path that enters
//! each block at most once and charges at most `L`, the function's
//! instruction count. At a checkpoint the fast copy continues if
//! `remaining >= L` (then no leader on the path can fail its comparison, so
//! omitting them changes nothing) and otherwise jumps to the same leader in
//! the checked copy, which then charges exactly as above (it never jumps
//! back; at most `L` more instructions can run). Counts and faults are
//! therefore identical; without a budget (`remaining` starts at `u64::MAX`)
//! the checked copy is never entered.
//!
//! **Free loop headers.** When the proof (`LowerOptions::proof`) bounds
//! every back-edge into a loop header by `LoopFact::Bounded { max_trips }`,
//! and the header is neither the function start nor after a local call,
//! the fast copy does not compare there (it still subtracts, so counts
//! stay exact), and every remaining checkpoint compares with
//! `K = L × Π (1 + max_trips)` over the back-edges into free headers
//! instead of `L`. Between two compares control runs forward paths that
//! each charge at most `L`, joined by back-edges into free headers; those
//! are taken at most `Σ max_trips` times in all (at most the product, if
//! a bound holds per entry of its loop), so at most `K` is charged, and
//! `remaining >= K` at the last compare means no leader in between can
//! fail: the argument above holds with `K` for `L`. A budget smaller than
//! `K` only makes the run hand over to the checked copy earlier; without a
//! budget, a proven loop pays nothing for the budget but the subtraction
//! that keeps the count. `K` is capped (`plan.rs`); past the cap no header
//! is free.

use crate::func::Lower;
use crate::plan::BudgetMode;
use cranebpf_runtime::abi;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::InstBuilder;

impl Lower<'_> {
    /// Charges the `n` instructions of the block that starts here.
    pub(crate) fn before_block(&mut self, n: u32) {
        if self.budget_mode == BudgetMode::Fast {
            if self.checkpoints.contains(&self.index) {
                if let Some(&checked) = self.checked_blocks.get(&self.index) {
                    let rem = self.read_var(self.rem);
                    let room = self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThanOrEqual,
                        rem,
                        self.threshold as i64,
                    );
                    let ok = self.b.create_block();
                    self.b.ins().brif(room, ok, &[], checked, &[]);
                    self.b.switch_to_block(ok);
                    self.b.seal_block(ok);
                }
            }
            let rem = self.read_var(self.rem);
            let left = self.b.ins().iadd_imm_s(rem, -i64::from(n));
            self.write_var(self.rem, left);
            return;
        }
        let rem = self.read_var(self.rem);
        let enough = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, rem, i64::from(n));
        let ok = self.b.create_block();
        // Straight to the fault site (its constant arguments move into it,
        // Cranelift's constant-phi removal), named second (see
        // `Lower::fault_args`).
        let kind = self.iconst(abi::FAULT_BUDGET);
        let zero = self.iconst(0);
        let args = self.fault_args_adj(kind, zero, 0, 0, 0);
        self.b.ins().brif(enough, ok, &[], self.fault_block, &args);

        self.b.switch_to_block(ok);

        self.b.seal_block(ok);
        // Read again: the same SSA value, or (registers in memory) a load
        // that keeps the counter from living across the branch.
        let rem = self.read_var(self.rem);
        let left = self.b.ins().iadd_imm_s(rem, -i64::from(n));
        self.write_var(self.rem, left);
    }
}

#[cfg(test)]
mod tests {
    use crate::{function_signature, lower_function_with, LowerOptions, ModuleFreeEnv};
    use cranebpf_runtime::analysis::proof::{LoopFact, Proof};
    use cranebpf_runtime::{AluOp, Insn, JmpCond, Program, Reg, Src, Width};
    use cranelift_codegen::ir::{self, Opcode, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use std::sync::Arc;

    /// `r1 = 10; loop: r1 -= 1; if r1 != 0 goto loop; exit`.
    fn counted_loop() -> Vec<Insn> {
        let r1 = Reg::new(1).expect("register");
        vec![
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Mov,
                dst: r1,
                src: Src::Imm(10),
            },
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Sub,
                dst: r1,
                src: Src::Imm(1),
            },
            Insn::Jmp {
                w: Width::W64,
                cond: JmpCond::Ne,
                dst: r1,
                src: Src::Imm(0),
                off: -2,
            },
            Insn::Exit,
        ]
    }

    /// The compares (`icmp`: the budget's and the loop's) of function 0.
    fn compares(insns: &[Insn], opts: &LowerOptions) -> usize {
        let p = Program::from_insns(insns).expect("loads");
        let mut f =
            ir::Function::with_name_signature(UserFuncName::user(0, 0), function_signature());
        let mut env = ModuleFreeEnv::default();
        lower_function_with(&p, 0, &mut env, CallConv::SystemV, opts, &mut f).expect("lowers");
        f.layout
            .blocks()
            .flat_map(|b| f.layout.block_insts(b))
            .filter(|&i| f.dfg.insts[i].opcode() == Opcode::Icmp)
            .count()
    }

    #[test]
    fn a_bounded_loop_header_drops_its_compare_in_the_fast_copy() {
        let insns = counted_loop();
        let bounded = |max_trips| {
            let mut proof = Proof::empty(insns.len());
            proof.push_loop(LoopFact::Bounded {
                from: 2,
                to: 1,
                max_trips,
            });
            LowerOptions {
                proof: Some(Arc::new(proof)),
                ..LowerOptions::default()
            }
        };
        let base = compares(&insns, &LowerOptions::default());
        assert_eq!(compares(&insns, &bounded(9)), base - 1);
        // A bound too large for the threshold keeps the compare.
        assert_eq!(compares(&insns, &bounded(u64::MAX)), base);
        // An unproven loop keeps it too.
        let mut proof = Proof::empty(insns.len());
        proof.push_loop(LoopFact::Unproven {
            from: 2,
            to: 1,
            reason: "unknown".into(),
        });
        let unproven = LowerOptions {
            proof: Some(Arc::new(proof)),
            ..LowerOptions::default()
        };
        assert_eq!(compares(&insns, &unproven), base);
    }
}
