//! Helper calls, `callx` and local calls (RFC 9669 §4.3.1).
//!
//! Helpers go through the host trampoline (`extern "C"`, the target's
//! default calling convention) with `(vm, id, r1..r5)`; it returns r0 and,
//! on failure, sets `fault_kind` (and `fault_addr` = id) in the context, so
//! every call site checks `fault_kind` afterwards. r1-r5 are unchanged.
//! A helper registered as direct (`Helpers::register_direct`: no VM memory,
//! cannot fail) that a call names by a constant id is called straight, with
//! r1..r5 in the C ABI and no check afterwards.
//!
//! Local calls call the callee's compiled function (`tail` convention) with
//! the whole register file and the callee's frame pointer `r10 - 512`. The
//! depth limit is checked against the frame pointer: the caller at depth `d`
//! has `r10 = top - d*512 = stack_start + (8 - d)*512`, and the call is
//! allowed iff `d + 1 < MAX_CALL_DEPTH`, i.e.
//! `r10 - stack_start >= 2 * 512` (unsigned; r10 never drops below
//! `stack_start + 512`). A non-zero status from the callee (fault, or an
//! early end) is returned at once with the callee's r0..r5.

use crate::func::{Lower, LowerError};
use cranebpf_runtime::{abi, Reg, STACK_FRAME_SIZE};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::I64;
use cranelift_codegen::ir::{self, InstBuilder, InstructionData, Opcode, Value};

impl Lower<'_> {
    /// Calls helper `id` (an i64 value) with r1..r5; r0 = its result.
    pub(crate) fn translate_helper_call(&mut self, id: Value) {
        if let Some(addr) = self.direct_helper(id) {
            self.translate_direct_call(addr);
            return;
        }
        let sig = match self.helper_sig {
            Some(s) => s,
            None => {
                let s = self
                    .b
                    .import_signature(crate::sig::helper_signature(self.host_cc));
                self.helper_sig = Some(s);
                s
            }
        };
        let tramp = self.iconst(self.env.helper_trampoline());
        let mut args = vec![self.vm, id];
        for r in 1..=5u8 {
            args.push(self.read_var(self.regs[r as usize]));
        }
        let call = self.b.ins().call_indirect(sig, tramp, &args);
        let r0 = self.b.inst_results(call)[0];
        self.set(Reg::R0, r0);

        let kind = self.vm_load(abi::OFF_FAULT_KIND, false);
        let fail = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(fail);
        // The cold target second: Cranelift's block order (a reverse
        // postorder that explores the first target first) then places it
        // right after the call, not after the rest of the function, so the
        // values it uses are not live across all of it.
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, kind, 0);
        self.b.ins().brif(ok, cont, &[], fail, &[]);

        self.b.switch_to_block(fail);

        self.b.seal_block(fail);
        // With registers in memory, read again rather than live across
        // the branch.
        let kind = match self.home {
            Some(_) => self.vm_load(abi::OFF_FAULT_KIND, false),
            None => kind,
        };
        let id = self.vm_load(abi::OFF_FAULT_ADDR, false);
        let args = self.fault_args(kind, id, 0, 0);
        self.b.ins().jump(self.fault_block, &args);

        self.b.switch_to_block(cont);

        self.b.seal_block(cont);
        self.reload_input_bounds();
    }

    /// The address of the direct form of helper `id`
    /// ([`LowerOptions::direct_helpers`](crate::LowerOptions)), if `id` is
    /// a constant naming one.
    fn direct_helper(&self, id: Value) -> Option<u64> {
        if self.opts.direct_helpers.is_empty() {
            return None;
        }
        let dfg = &self.b.func.dfg;
        let inst = dfg.value_def(id).inst()?;
        let InstructionData::UnaryImm {
            opcode: Opcode::Iconst,
            imm,
        } = dfg.insts[inst]
        else {
            return None;
        };
        let id = u32::try_from(imm.bits() as u64).ok()?;
        self.opts.direct_helpers.get(&id).copied()
    }

    /// Calls a direct helper at `addr`: `extern "C" fn(r1..r5) -> r0`, which
    /// touches no VM memory and cannot fail, so there is no fault check and
    /// the input bounds stay as they were.
    fn translate_direct_call(&mut self, addr: u64) {
        let mut sig = ir::Signature::new(self.host_cc);
        sig.params
            .extend(std::iter::repeat_n(ir::AbiParam::new(I64), 5));
        sig.returns.push(ir::AbiParam::new(I64));
        let sig = self.b.import_signature(sig);
        let callee = self.iconst(addr);
        let mut args = Vec::with_capacity(5);
        for r in 1..=5u8 {
            args.push(self.read_var(self.regs[r as usize]));
        }
        let call = self.b.ins().call_indirect(sig, callee, &args);
        let r0 = self.b.inst_results(call)[0];
        self.set(Reg::R0, r0);
    }

    /// Calls the local function that starts at the current call's target
    /// ([`cranebpf_runtime::Cfg::target`]).
    pub(crate) fn translate_local_call(&mut self) -> Result<(), LowerError> {
        let cfg = self.cfg;
        let index = cfg
            .target(self.index)
            .and_then(|t| cfg.function_at_index(t))
            .ok_or(LowerError::BadTarget { pc: self.pc })?;
        let fref = match self.func_refs.get(&index) {
            Some(&f) => f,
            None => {
                let f = self.env.make_function_ref(self.b.func, index);
                self.func_refs.insert(index, f);
                f
            }
        };

        // Depth: r10 - stack_start >= 2 * 512.
        let fp = self.get(Reg::R10);
        let start = self.vm_load(abi::OFF_STACK_START, true);
        let room = self.b.ins().isub(fp, start);
        let ok = self.b.ins().icmp_imm_u(
            IntCC::UnsignedGreaterThanOrEqual,
            room,
            2 * STACK_FRAME_SIZE as i64,
        );
        let call_blk = self.b.create_block();
        let too_deep = self.b.create_block();
        self.b.set_cold_block(too_deep);
        self.b.ins().brif(ok, call_blk, &[], too_deep, &[]);

        self.b.switch_to_block(too_deep);

        self.b.seal_block(too_deep);
        self.jump_fault(abi::FAULT_CALL_DEPTH);

        self.b.switch_to_block(call_blk);

        self.b.seal_block(call_blk);
        // Read again: the same SSA value, or a load from the home slot.
        let fp = self.get(Reg::R10);
        self.store_remaining();
        let callee_fp = self.b.ins().iadd_imm_s(fp, -(STACK_FRAME_SIZE as i64));
        let mut args = vec![self.vm, callee_fp];
        for r in 0..10u8 {
            args.push(self.read_var(self.regs[r as usize]));
        }
        let call = self.b.ins().call(fref, &args);
        let results = self.b.inst_results(call).to_vec();
        let status = results[6];
        if self.home.is_some() {
            // Into the home slot before the branch (the propagating path
            // returns from it too): no result lives across the branch.
            for r in 0..6u8 {
                self.write_var(self.regs[r as usize], results[r as usize]);
            }
            self.stash(status);
        }

        let propagate = self.b.create_block();
        let cont = self.b.create_block();
        self.b.set_cold_block(propagate);
        // The cold target second (see `translate_helper_call`).
        let ok = self.b.ins().icmp_imm_u(IntCC::Equal, status, 0);
        self.b.ins().brif(ok, cont, &[], propagate, &[]);

        // The callee already wrote the budget counter back.
        self.b.switch_to_block(propagate);
        self.b.seal_block(propagate);
        let results = match self.home {
            Some(_) => {
                let mut back: Vec<Value> = (0..6u8)
                    .map(|r| self.read_var(self.regs[r as usize]))
                    .collect();
                back.push(self.carry(status));
                back
            }
            None => results,
        };
        self.b.ins().return_(&results);

        self.b.switch_to_block(cont);

        self.b.seal_block(cont);
        let rem = self.vm_load(abi::OFF_REMAINING, false);
        self.write_var(self.rem, rem);
        if self.home.is_none() {
            for r in 0..6u8 {
                self.write_var(self.regs[r as usize], results[r as usize]);
            }
        }
        // The callee may have called helpers.
        self.reload_input_bounds();
        Ok(())
    }
}
