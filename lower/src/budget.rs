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
                    let rem = self.b.use_var(self.rem);
                    let room = self.b.ins().icmp_imm_u(
                        IntCC::UnsignedGreaterThanOrEqual,
                        rem,
                        self.function_len as i64,
                    );
                    let ok = self.b.create_block();
                    self.b.ins().brif(room, ok, &[], checked, &[]);
                    self.b.switch_to_block(ok);
                    self.b.seal_block(ok);
                }
            }
            let rem = self.b.use_var(self.rem);
            let left = self.b.ins().iadd_imm_s(rem, -i64::from(n));
            self.b.def_var(self.rem, left);
            return;
        }
        let rem = self.b.use_var(self.rem);
        let enough = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, rem, i64::from(n));
        let ok = self.b.create_block();
        let fail = self.b.create_block();
        self.b.set_cold_block(fail);
        self.b.ins().brif(enough, ok, &[], fail, &[]);

        self.b.switch_to_block(fail);

        self.b.seal_block(fail);
        let kind = self.iconst(abi::FAULT_BUDGET);
        let zero = self.iconst(0);
        let args = self.fault_args_adj(kind, zero, 0, 0, 0);
        self.b.ins().jump(self.fault_block, &args);

        self.b.switch_to_block(ok);

        self.b.seal_block(ok);
        let left = self.b.ins().iadd_imm_s(rem, -i64::from(n));
        self.b.def_var(self.rem, left);
    }
}
