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
//! it with the steps below; each step only ever *accepts* accesses that the
//! rule accepts, and the last step is the rule itself, so the order of the
//! inline steps affects speed only, never the outcome.
//!
//! 0. **Proven** (no code): the access is proven to lie in a region the
//!    rule accepts, so no step is emitted. Two sources, one rule:
//!    - the frame analysis: the base register holds exactly `r10 + c`
//!      ([`cranebpf_runtime::analysis::frame`]'s `Frame(c)`; r10 itself is
//!      `Frame(0)`) and `o = c + off` satisfies `-512 <= o` and
//!      `o + size <= 0` (computed in `i128`, no overflow;
//!      `RegFact::proves_in_frame`), so `[ea, ea + size)` lies in the
//!      current frame, which lies in the stack region. Sound because r10
//!      is never written (the driver rejects programs that write it),
//!      every frame is inside the stack (the depth check keeps
//!      `r10 - stack_start >= 512`), and `Frame(c)` is an exact fact.
//!    - a verifier's proof ([`crate::LowerOptions::proof`]): the access's
//!      instruction is `AccessFact::Proven`. Sound as far as the proof
//!      keeps its contract (`cranebpf_runtime::analysis::proof`); the
//!      lowering cannot check that, which is what audit mode is for.
//!
//!    In **audit mode** ([`crate::LowerOptions::audit`]) a proven access
//!    gets steps 1-3 anyway, and a refusal is recorded as
//!    `FAULT_PROOF_VIOLATION` instead of `FAULT_OUT_OF_BOUNDS`: the same
//!    check, so an audited run that does not fault behaves exactly like
//!    the checked one, and one that does names the pc whose proof was
//!    wrong.
//! 1. **Stack** (inline): the stack region is `[start, start + STACK_SIZE)`,
//!    writable, and `STACK_SIZE >= size`, so
//!    `start <= ea && ea + size <= start + STACK_SIZE`
//!    `<=>  ea - start <=u STACK_SIZE - size`   (wrapping subtraction).
//!    If `ea < start`, `ea - start` wraps to at least `2^64 - start`, far
//!    above `STACK_SIZE`; if `ea + size` would wrap, `ea - start` is also
//!    huge. One compare.
//! 2. **Input** (inline): the input region `[s, s + len)` may be shorter
//!    than `size`. With `off = ea - s` (wrapping),
//!    `s <= ea && ea + size <= s + len  <=>  off <u lim` where
//!    `lim = len - size + 1` if `len >= size`, else `lim = 0` (nothing
//!    fits; `off <u 0` is false). `len - size + 1` cannot overflow
//!    (`size >= 1`), and `lim` depends only on `len`, so Cranelift hoists
//!    it. For writes `len` is `input_wlen` (0 for a read-only input), so
//!    writes to a read-only input never pass here. `input_start` is fixed
//!    for the run; the lengths live in variables loaded at function entry
//!    and after every call, because only a helper changes them (the
//!    trampoline zeroes them when a helper removes the input region).
//! 3. **Everything else** (out of line, cold): call the host thunk, which
//!    runs `MemoryMap::check` on the run's whole map (helper-registered
//!    regions included). If it refuses, branch to the fault block with
//!    `OutOfBounds { ea, size, access }`. The call goes through the
//!    `preserve_all` check adapter when the embedder has one (the JIT
//!    does): the access is stored in the context's `fault_addr`,
//!    `fault_size`, `fault_access` and the verdict read back from
//!    `fault_kind`, so the call needs no register but the context pointer
//!    and clobbers none.
//!
//! Order of steps 1 and 2: a base that is (probably) stack-derived
//! (`Frame` or the `Stack` hint) tries only the stack inline; any other
//! base tries the input first, then the stack.
//!
//! With [`crate::LowerOptions::bounds_checks`] off, no step is emitted.
//!
//! Atomics additionally need `ea % size == 0`, checked after the bounds
//! (the interpreter's order: bounds first, then alignment). The check stays
//! for proven atomics too: the lowering does not rely on the alignment half
//! of a proof's contract.
//!
//! Loads and stores placed after a check are `notrap` and never `can_move`.

use crate::func::{Lower, LowerError};
use crate::PlantedBug;
use cranebpf_runtime::analysis::frame::RegFact;
use cranebpf_runtime::{abi, sem, Access, Reg, STACK_FRAME_SIZE, STACK_SIZE};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{Block, InstBuilder, Value};

/// Which inline steps a check tries, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Order {
    /// Step 1 only (a stack-derived base).
    StackOnly,
    /// Step 2, then step 1.
    InputFirst,
}

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
        if !self.opts.bounds_checks {
            return Ok(ea);
        }
        if base == Reg::R10 && !sem::frame_access_ok(off, size) {
            self.fault_outside_frame(ea, size, access);
            return Ok(ea);
        }
        let fact = self.facts[base.index()];
        let proven = self.is_proven(fact, off, size);
        if proven && !self.opts.audit {
            return Ok(ea);
        }
        let order = if fact.is_stack_like() {
            Order::StackOnly
        } else {
            Order::InputFirst
        };
        let kind = if proven {
            abi::FAULT_PROOF_VIOLATION
        } else {
            abi::FAULT_OUT_OF_BOUNDS
        };
        Ok(self.check_ea_as(ea, size, access, order, kind))
    }

    /// The frame rule ([`sem::frame_access_ok`]): an access through r10
    /// plus a constant outside the current frame always faults out of
    /// bounds at `ea`. The builder continues in an unreachable block.
    fn fault_outside_frame(&mut self, ea: Value, size: u64, access: Access) {
        let kind = self.iconst(abi::FAULT_OUT_OF_BOUNDS);
        let args = self.fault_args(kind, ea, size, access.code());
        self.b.ins().jump(self.fault_block, &args);
        let dead = self.b.create_block();
        self.b.switch_to_block(dead);
        self.b.seal_block(dead);
    }

    /// Step 0: whether the access of `size` bytes at `base + off` (the
    /// instruction being translated; `fact` is its base's frame fact) is
    /// proven, by the frame rule or by the verifier's proof.
    fn is_proven(&self, fact: RegFact, off: i16, size: u64) -> bool {
        if fact.proves_in_frame(off, size) {
            return true;
        }
        if let Some(proof) = &self.opts.proof {
            if proof.is_proven(self.index) {
                return true;
            }
        }
        // The planted unsound rule (tests of the audit only; the driver
        // forces audit mode with it): the frame rule forgets the size and
        // proves every access that *starts* in the frame.
        if self.bug == Some(PlantedBug::FrameProofIgnoresSize) {
            if let RegFact::Frame(c) = fact {
                let o = i128::from(c) + i128::from(off);
                return o >= -(STACK_FRAME_SIZE as i128) && o < 0;
            }
        }
        false
    }

    /// Emits steps 1-3 (in `order`) for the access `[ea, ea + size)`;
    /// afterwards the builder is positioned where the access is known to be
    /// allowed, and the result is `ea` there ([`Lower::carry`]). Emits
    /// nothing with bounds checks off.
    pub(crate) fn check_ea(&mut self, ea: Value, size: u64, access: Access, order: Order) -> Value {
        self.check_ea_as(ea, size, access, order, abi::FAULT_OUT_OF_BOUNDS)
    }

    /// [`Lower::check_ea`], recording a refusal as fault `kind`
    /// (`FAULT_OUT_OF_BOUNDS`, or `FAULT_PROOF_VIOLATION` for an audited
    /// proven access).
    fn check_ea_as(
        &mut self,
        ea: Value,
        size: u64,
        access: Access,
        order: Order,
        kind: u64,
    ) -> Value {
        if !self.opts.bounds_checks {
            return ea;
        }
        self.stash(ea);
        let mut ea = ea;
        let ok = self.b.create_block();
        let slow = self.b.create_block();
        self.b.set_cold_block(slow);
        if order == Order::InputFirst {
            // The stack step is out of line too: the hot path is one
            // compare and one branch.
            let next = self.b.create_block();
            self.b.set_cold_block(next);
            self.emit_input_step(ea, size, access, ok, next);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            ea = self.carry(ea);
        }
        self.emit_stack_step(ea, size, ok, slow);

        // Step 3: the host's MemoryMap::check, through the register-
        // preserving adapter if the embedder has one.
        self.b.switch_to_block(slow);
        self.b.seal_block(slow);
        let ea = self.carry(ea);
        let adapter = match self.check_adapter {
            Some(a) => a,
            None => {
                let a = self.env.make_check_adapter_ref(self.b.func);
                self.check_adapter = Some(a);
                a
            }
        };
        let sizev = self.iconst(size);
        let accv = self.iconst(access.code());
        let kind = self.iconst(kind);
        let args = self.fault_args(kind, ea, size, access.code());
        if let Some(adapter) = adapter {
            // The operands go through the context (the `fault_*` fields,
            // which the fault block rewrites anyway), so the call needs no
            // registers but the context pointer.
            self.vm_store(abi::OFF_FAULT_ADDR, ea);
            self.vm_store(abi::OFF_FAULT_SIZE, sizev);
            self.vm_store(abi::OFF_FAULT_ACCESS, accv);
            self.b.ins().call(adapter, &[self.vm]);
            let refused = self.vm_load(abi::OFF_FAULT_KIND, false);
            // The fault second: see `Lower::fault_args`.
            let fine = self.b.ins().icmp_imm_u(IntCC::Equal, refused, 0);
            self.b.ins().brif(fine, ok, &[], self.fault_block, &args);
        } else {
            let sig = match self.check_sig {
                Some(s) => s,
                None => {
                    let s = self
                        .b
                        .import_signature(crate::sig::mem_check_signature(self.host_cc));
                    self.check_sig = Some(s);
                    s
                }
            };
            let thunk = self.iconst(self.env.mem_check_thunk());
            let call = self
                .b
                .ins()
                .call_indirect(sig, thunk, &[self.vm, ea, sizev, accv]);
            let allowed = self.b.inst_results(call)[0];
            self.b.ins().brif(allowed, ok, &[], self.fault_block, &args);
        }

        self.b.switch_to_block(ok);

        self.b.seal_block(ok);
        self.carry(ea)
    }

    /// Step 1: `ea - stack_start <=u STACK_SIZE - size`, to `ok` or `no`.
    fn emit_stack_step(&mut self, ea: Value, size: u64, ok: Block, no: Block) {
        let start = self.vm_load(abi::OFF_STACK_START, true);
        let off_s = self.b.ins().isub(ea, start);
        let in_stack = self.b.ins().icmp_imm_u(
            IntCC::UnsignedLessThanOrEqual,
            off_s,
            (STACK_SIZE as u64 - size) as i64,
        );
        self.b.ins().brif(in_stack, ok, &[], no, &[]);
    }

    /// Step 2: `ea - input_start <u lim(len, size)`, to `ok` or `no`.
    fn emit_input_step(&mut self, ea: Value, size: u64, access: Access, ok: Block, no: Block) {
        let s = self.vm_load(abi::OFF_INPUT_START, true);
        let write = match access {
            Access::Read => 0,
            Access::Write | Access::ReadWrite => 4,
        };
        // size is 1, 2, 4 or 8.
        let lim = self.read_var(self.lims[write + size.trailing_zeros() as usize]);
        let off_i = self.b.ins().isub(ea, s);
        let in_input = self.b.ins().icmp(IntCC::UnsignedLessThan, off_i, lim);
        self.b.ins().brif(in_input, ok, &[], no, &[]);
    }

    /// After [`Lower::checked_address`] for an atomic: faults with
    /// `Misaligned` unless `ea % size == 0`. Returns `ea` in the block
    /// where it is aligned ([`Lower::carry`]).
    pub(crate) fn check_aligned(&mut self, ea: Value, size: u64) -> Value {
        self.stash(ea);
        let low = self.b.ins().band_imm_u(ea, (size - 1) as i64);
        let aligned = self.b.create_block();
        let kind = self.iconst(abi::FAULT_MISALIGNED);
        let args = self.fault_args(kind, ea, size, Access::ReadWrite.code());
        // The fault second: see `Lower::fault_args`.
        let fine = self.b.ins().icmp_imm_u(IntCC::Equal, low, 0);
        self.b
            .ins()
            .brif(fine, aligned, &[], self.fault_block, &args);
        self.b.switch_to_block(aligned);
        self.b.seal_block(aligned);
        self.carry(ea)
    }
}

#[cfg(test)]
mod tests {
    use crate::{function_signature, lower_function_with, LowerOptions, ModuleFreeEnv};
    use cranebpf_runtime::abi;
    use cranebpf_runtime::analysis::proof::{AccessFact, Proof, RegionKind};
    use cranebpf_runtime::{AluOp, CallKind, Insn, Program, Reg, Size, Src, Width};
    use cranelift_codegen::ir::{self, Opcode, UserFuncName};
    use cranelift_codegen::isa::CallConv;
    use std::sync::Arc;

    fn r(n: u8) -> Reg {
        Reg::new(n).expect("register")
    }

    /// Number of slow-path checks (calls of the check adapter) in function
    /// `index` of `insns` (which must make no local call from it).
    fn checks(insns: &[Insn], index: usize, opts: &LowerOptions) -> usize {
        let p = Program::from_insns(insns).expect("loads");
        let mut f =
            ir::Function::with_name_signature(UserFuncName::user(0, 0), function_signature());
        let mut env = ModuleFreeEnv::default();
        lower_function_with(&p, index, &mut env, CallConv::SystemV, opts, &mut f).expect("lowers");
        f.layout
            .blocks()
            .flat_map(|b| f.layout.block_insts(b))
            .filter(|&i| f.dfg.insts[i].opcode() == Opcode::Call)
            .count()
    }

    /// `r1 = r10 + k; r0 = *(size *)(r1 + off); exit`.
    fn access(k: i32, off: i16, size: Size) -> Vec<Insn> {
        vec![
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Mov,
                dst: r(1),
                src: Src::Reg(r(10)),
            },
            Insn::Alu {
                w: Width::W64,
                op: AluOp::Add,
                dst: r(1),
                src: Src::Imm(k),
            },
            Insn::Ldx {
                size,
                sx: false,
                dst: r(0),
                src: r(1),
                off,
            },
            Insn::Exit,
        ]
    }

    #[test]
    fn frame_accesses_are_proven_exactly_inside_the_frame() {
        let d = LowerOptions::default();
        // Inside: frame bottom, last byte, last 8 bytes, via k and off.
        for (k, off, size) in [
            (0, -512, Size::DW),
            (-512, 0, Size::DW),
            (-256, -256, Size::DW),
            (0, -1, Size::B),
            (-1, 0, Size::B),
            (8, -16, Size::DW),
            (-8, 0, Size::DW),
        ] {
            assert_eq!(
                checks(&access(k, off, size), 0, &d),
                0,
                "{k} {off} {size:?}"
            );
        }
        // Outside or crossing: below the bottom, past the top, straddling
        // the top, huge offsets that would wrap.
        for (k, off, size) in [
            (0, -513, Size::B),
            (-512, -1, Size::B),
            (0, 0, Size::B),
            (0, -4, Size::DW),
            (-4, 0, Size::DW),
            (-1, -512, Size::B),
            (i32::MIN, 0, Size::B),
            (i32::MAX, -512, Size::B),
        ] {
            assert_eq!(
                checks(&access(k, off, size), 0, &d),
                1,
                "{k} {off} {size:?}"
            );
        }
    }

    #[test]
    fn callee_frames_are_proven_too() {
        // Function 1 (depth >= 1) accesses its own frame bottom and just
        // below it.
        let mut insns = vec![
            Insn::Call {
                kind: CallKind::Local,
                imm: 1,
            },
            Insn::Exit,
        ];
        insns.extend(access(-512, 0, Size::DW));
        assert_eq!(checks(&insns, 1, &LowerOptions::default()), 0);
        let mut insns = vec![
            Insn::Call {
                kind: CallKind::Local,
                imm: 1,
            },
            Insn::Exit,
        ];
        insns.extend(access(-512, -1, Size::B));
        assert_eq!(checks(&insns, 1, &LowerOptions::default()), 1);
    }

    #[test]
    fn pointers_through_memory_are_checked() {
        let insns = [
            Insn::Stx {
                size: Size::DW,
                dst: r(10),
                src: r(10),
                off: -8,
            },
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(1),
                src: r(10),
                off: -8,
            },
            Insn::Ldx {
                size: Size::DW,
                sx: false,
                dst: r(0),
                src: r(1),
                off: -8,
            },
            Insn::Exit,
        ];
        // The spill and reload are proven; the access through r1 is not.
        assert_eq!(checks(&insns, 0, &LowerOptions::default()), 1);
    }

    #[test]
    fn checks_off_emits_no_check() {
        let off = LowerOptions {
            bounds_checks: false,
            ..LowerOptions::default()
        };
        assert_eq!(checks(&access(0, 0, Size::DW), 0, &off), 0);
        assert_eq!(checks(&access(i32::MIN, 0, Size::B), 0, &off), 0);
        let mut insns = access(0, 0, Size::DW);
        insns[2] = Insn::Ldx {
            size: Size::B,
            sx: false,
            dst: r(0),
            src: r(1),
            off: 0,
        };
        assert_eq!(checks(&insns, 0, &LowerOptions::default()), 1);
    }

    /// A proof for `insns` whose only fact is `Proven` at `index`.
    fn proof_of(insns: &[Insn], index: usize) -> Arc<Proof> {
        let mut proof = Proof::empty(insns.len());
        proof.set_access(
            index,
            AccessFact::Proven {
                region: RegionKind::Input,
            },
        );
        Arc::new(proof)
    }

    #[test]
    fn proven_accesses_have_no_check() {
        // r0 = *(u8 *)(r1 + 0): the input, checked without a proof.
        let insns = [
            Insn::Ldx {
                size: Size::B,
                sx: false,
                dst: r(0),
                src: r(1),
                off: 0,
            },
            Insn::Exit,
        ];
        assert_eq!(checks(&insns, 0, &LowerOptions::default()), 1);
        let with = LowerOptions {
            proof: Some(proof_of(&insns, 0)),
            ..LowerOptions::default()
        };
        assert_eq!(checks(&insns, 0, &with), 0);
        // A fact at another instruction proves nothing here.
        let elsewhere = LowerOptions {
            proof: Some(proof_of(&insns, 1)),
            ..LowerOptions::default()
        };
        assert_eq!(checks(&insns, 0, &elsewhere), 1);
    }

    #[test]
    fn audit_keeps_every_proven_check_as_a_proof_violation() {
        let insns = access(0, -8, Size::DW);
        let audit = LowerOptions {
            audit: true,
            ..LowerOptions::default()
        };
        // The frame-proven access is checked again, and its refusal is a
        // proof violation.
        assert_eq!(checks(&insns, 0, &audit), 1);
        let text = clif(&insns, &audit);
        assert!(
            text.contains(&format!("iconst.i64 {}", abi::FAULT_PROOF_VIOLATION)),
            "{text}"
        );
        // An unproven access keeps its ordinary fault.
        let text = clif(&access(0, 0, Size::DW), &audit);
        assert!(
            !text.contains(&format!("iconst.i64 {}", abi::FAULT_PROOF_VIOLATION)),
            "{text}"
        );
    }

    #[test]
    fn a_proof_of_another_program_is_refused() {
        let insns = access(0, -8, Size::DW);
        let p = Program::from_insns(&insns).expect("loads");
        let opts = LowerOptions {
            proof: Some(Arc::new(Proof::empty(2))),
            ..LowerOptions::default()
        };
        let mut f =
            ir::Function::with_name_signature(UserFuncName::user(0, 0), function_signature());
        let e = lower_function_with(
            &p,
            0,
            &mut ModuleFreeEnv::default(),
            CallConv::SystemV,
            &opts,
            &mut f,
        );
        assert_eq!(
            e,
            Err(crate::LowerError::ProofMismatch {
                expected: 4,
                got: 2
            })
        );
    }

    /// The CLIF text of function 0 of `insns`.
    fn clif(insns: &[Insn], opts: &LowerOptions) -> String {
        let p = Program::from_insns(insns).expect("loads");
        let mut f =
            ir::Function::with_name_signature(UserFuncName::user(0, 0), function_signature());
        let mut env = ModuleFreeEnv::default();
        lower_function_with(&p, 0, &mut env, CallConv::SystemV, opts, &mut f).expect("lowers");
        f.display().to_string()
    }
}
