//! Bounds checks for loads, stores and atomics.
//!
//! ```text
//! !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
//! !! SUBTLE AND SAFETY-CRITICAL. A wrong check here lets a program read  !!
//! !! or write arbitrary host memory. Changes need two reviews and a test !!
//! !! at each region edge (just before start, last byte, one past end,    !!
//! !! addresses near u64::MAX).                                           !!
//! !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
//! ```
//!
//! The rule is [`cranebpf_runtime::MemoryMap::check`]: the access
//! `[ea, ea + size)` must lie in one region that grants it. JIT code decides
//! it in up to four steps, cheapest first; each step only ever *accepts*
//! accesses that the rule accepts, and the last step is the rule itself.
//!
//! 0. **Proven** (no code): `ea = r10 + off` with `-512 <= off` and
//!    `off + size <= 0` lies in the current frame, which lies in the stack
//!    region. Sound because r10 is never written (the driver rejects
//!    programs that write it) and every frame is inside the stack.
//! 1. **Stack** (inline): the stack region is `[start, start + STACK_SIZE)`,
//!    writable, and `STACK_SIZE >= size`, so
//!    `start <= ea && ea + size <= start + STACK_SIZE`
//!    `<=>  ea - start <=u STACK_SIZE - size`   (wrapping subtraction).
//!    If `ea < start`, `ea - start` wraps to at least `2^64 - start`, far
//!    above `STACK_SIZE`; if `ea + size` would wrap, `ea - start` is also
//!    huge. One compare.
//! 2. **Input** (inline): the input region `[s, s + len)` may be shorter
//!    than `size`, so the single compare is not valid; instead
//!    `s <= ea && ea + size <= s + len`
//!    `<=>  off = ea - s (wrapping);  off <=u len  &&  len - off >=u size`.
//!    The first compare makes `len - off` non-wrapping. For writes `len` is
//!    `input_wlen` (0 for a read-only input), so writes to a read-only input
//!    never pass here.
//! 3. **Everything else** (out of line, cold): call the host thunk, which
//!    runs `MemoryMap::check` on the run's whole map (helper-registered
//!    regions included). If it refuses, branch to the fault block with
//!    `OutOfBounds { ea, size, access }`.
//!
//! Atomics additionally need `ea % size == 0`, checked after the bounds
//! (the interpreter's order: bounds first, then alignment).
//!
//! Loads and stores placed after a check are `notrap` and never `can_move`.

use crate::func::{Lower, LowerError};
use cranebpf_runtime::{vm, Access, Reg, STACK_FRAME_SIZE, STACK_SIZE};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Lower<'_> {
    /// Computes `ea = base + off` and emits the checks for an access of
    /// `size` bytes; afterwards the builder is positioned where the access
    /// is known to be allowed. Returns `ea`.
    pub(crate) fn checked_address(
        &mut self,
        base: Reg,
        off: i16,
        size: u64,
        access: Access,
    ) -> Result<Value, LowerError> {
        let basev = self.get(base);
        let ea = self.b.ins().iadd_imm_s(basev, i64::from(off));

        // Step 0: -512 <= off && off + size <= 0 relative to r10.
        let frame = STACK_FRAME_SIZE as i64;
        if base == Reg::R10 && i64::from(off) >= -frame && i64::from(off) + size as i64 <= 0 {
            return Ok(ea);
        }
        self.check_ea(ea, size, access);
        Ok(ea)
    }

    /// Emits steps 1-3 for the access `[ea, ea + size)`; afterwards the
    /// builder is positioned where the access is known to be allowed.
    pub(crate) fn check_ea(&mut self, ea: Value, size: u64, access: Access) {
        let ok = self.b.create_block();
        let try_input = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);

        // Step 1: ea - stack_start <=u STACK_SIZE - size.
        let start = self.vm_load(vm::OFF_STACK_START, true);
        let off_s = self.b.ins().isub(ea, start);
        let in_stack = self.b.ins().icmp_imm_u(
            IntCC::UnsignedLessThanOrEqual,
            off_s,
            (STACK_SIZE as u64 - size) as i64,
        );
        self.b.ins().brif(in_stack, ok, &[], try_input, &[]);

        // Step 2: off = ea - s; off <=u len && len - off >=u size.
        self.b.switch_to_block(try_input);
        // The start never changes during a run; the lengths may shrink
        // after a helper call (see `VmContext::input_len`).
        let s = self.vm_load(vm::OFF_INPUT_START, true);
        let len_field = match access {
            Access::Read => vm::OFF_INPUT_LEN,
            Access::Write | Access::ReadWrite => vm::OFF_INPUT_WLEN,
        };
        let len = self.vm_load(len_field, false);
        let off_i = self.b.ins().isub(ea, s);
        let c1 = self
            .b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, off_i, len);
        let rest = self.b.ins().isub(len, off_i);
        let c2 = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, rest, size as i64);
        let in_input = self.b.ins().band(c1, c2);
        self.b.ins().brif(in_input, ok, &[], slow, &[]);

        // Step 3: the host's MemoryMap::check.
        self.b.switch_to_block(slow);
        let sig = match self.check_sig {
            Some(s) => s,
            None => {
                let s = self
                    .b
                    .import_signature(crate::func::mem_check_signature(self.host_cc));
                self.check_sig = Some(s);
                s
            }
        };
        let thunk = self.iconst(self.env.mem_check_thunk());
        let sizev = self.iconst(size);
        let accv = self.iconst(access.code());
        let call = self
            .b
            .ins()
            .call_indirect(sig, thunk, &[self.vm, ea, sizev, accv]);
        let allowed = self.b.inst_results(call)[0];
        let kind = self.iconst(vm::FAULT_OUT_OF_BOUNDS);
        let args = self.fault_args(kind, ea, size, access.code());
        self.b.ins().brif(allowed, ok, &[], self.fault_block, &args);

        self.b.switch_to_block(ok);
    }

    /// After [`Lower::checked_address`] for an atomic: faults with
    /// `Misaligned` unless `ea % size == 0`.
    pub(crate) fn check_aligned(&mut self, ea: Value, size: u64) {
        let low = self.b.ins().band_imm_u(ea, (size - 1) as i64);
        let aligned = self.b.create_block();
        let kind = self.iconst(vm::FAULT_MISALIGNED);
        let args = self.fault_args(kind, ea, size, Access::ReadWrite.code());
        self.b
            .ins()
            .brif(low, self.fault_block, &args, aligned, &[]);
        self.b.switch_to_block(aligned);
    }
}
