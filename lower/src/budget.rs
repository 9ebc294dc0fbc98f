//! Budget accounting at block leaders (the rule is
//! [`cranebpf_runtime::budget`]'s module doc).
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

use crate::func::Lower;
use cranebpf_runtime::vm;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::InstBuilder;

impl Lower<'_> {
    /// Charges the `n` instructions of the block that starts here.
    pub(crate) fn before_block(&mut self, n: u32) {
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
        let kind = self.iconst(vm::FAULT_BUDGET);
        let zero = self.iconst(0);
        let args = self.fault_args_adj(kind, zero, 0, 0, 0);
        self.b.ins().jump(self.fault_block, &args);

        self.b.switch_to_block(ok);

        self.b.seal_block(ok);
        let left = self.b.ins().iadd_imm_s(rem, -i64::from(n));
        self.b.def_var(self.rem, left);
    }
}
