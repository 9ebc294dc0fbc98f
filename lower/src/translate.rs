//! The one `match insn`: each arm lowers one instruction form, mirroring
//! `runtime::sem` and the interpreter's match arm for arm. Family banners
//! state the semantics so the arms stay bare; bodies longer than a few lines
//! live in the family files.

use crate::func::{Lower, LowerError};
use cranebpf_runtime::{CallKind, Insn, LddwKind};
use cranelift_codegen::ir::InstBuilder;

impl Lower<'_> {
    /// Lowers one instruction at the builder's position. Returns whether
    /// control can fall through to the next instruction (the current block
    /// stays open).
    pub(crate) fn translate_insn(&mut self, insn: Insn) -> Result<bool, LowerError> {
        match insn {
            /**** ALU, ALU64: RFC 9669 §4.1. 32-bit forms work on the low halves
            (i32 values) and `write` zero-extends; 64-bit immediates are
            sign-extended. Shifts mask the count (Cranelift's shifts do); division
            is guarded so it never traps (`alu.rs`). ****/
            Insn::Alu { w, op, dst, src } => self.translate_alu(w, op, dst, src),
            Insn::Neg { w, dst } => {
                let a = self.read(w, dst);
                let v = self.b.ins().ineg(a);
                self.write(w, dst, v);
            }
            Insn::MovSx { w, dst, src, bits } => self.translate_movsx(w, dst, src, bits),

            /**** Byte order, RFC 9669 §4.2: convert the low `bits`, truncate,
            zero-extend. Targets are little-endian: `le` only truncates. ****/
            Insn::End { kind, dst, bits } => self.translate_end(kind, dst, bits),

            /**** 64-bit immediate, RFC 9669 §5.4 (src 0 only; the driver
            rejects pseudo-loads). ****/
            Insn::Lddw {
                dst,
                kind: LddwKind::Imm64,
                imm,
                next_imm,
            } => {
                let v = self.iconst(Insn::lddw_value(imm, next_imm));
                self.set(dst, v);
            }
            Insn::Lddw { .. } => {
                return Err(LowerError::Unsupported {
                    pc: self.pc,
                    what: "LDDW pseudo-load (src != 0)",
                })
            }

            /**** Legacy packet loads, RFC 9669 §5.5: r0 = big-endian load at
            input + imm (+ src); out of the input region the program ends
            normally with r0 = 0. ****/
            Insn::LdAbs { size, imm } => self.translate_ld_packet(size, None, imm),
            Insn::LdInd { size, src, imm } => self.translate_ld_packet(size, Some(src), imm),

            /**** Loads and stores, RFC 9669 §5.1/§5.2: little-endian at
            base + off after the bounds check of `bounds.rs`; LDXS
            sign-extends; ST of DW sign-extends imm. ****/
            Insn::Ldx {
                size,
                sx,
                dst,
                src,
                off,
            } => self.translate_ldx(size, sx, dst, src, off)?,
            Insn::St {
                size,
                dst,
                off,
                imm,
            } => {
                let v = self.iconst(imm as i64 as u64);
                self.translate_store(size, dst, off, v)?;
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                let v = self.get(src);
                self.translate_store(size, dst, off, v)?;
            }

            /**** Atomics, RFC 9669 §5.3: checked in bounds, writable and
            naturally aligned, then one sequentially consistent RMW. ****/
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => self.translate_atomic(size, op, fetch, dst, src, off)?,

            /**** Jumps, RFC 9669 §4.3: target = pc + 1 + off; JMP32 compares
            the low halves; JSET tests dst & src != 0. ****/
            Insn::Ja { off, .. } => {
                let target = self.block_at(self.pc as i64 + 1 + off as i64)?;
                self.b.ins().jump(target, &[]);
                return Ok(false);
            }
            Insn::Jmp {
                w,
                cond,
                dst,
                src,
                off,
            } => {
                let taken = self.block_at(self.pc as i64 + 1 + off as i64)?;
                let next = self.block_at(self.pc as i64 + 1)?;
                let c = self.condition(w, cond, dst, src);
                self.b.ins().brif(c, taken, &[], next, &[]);
                return Ok(false);
            }

            /**** Calls, RFC 9669 §4.3.1: helpers through the host trampoline
            (r1-r5 unchanged, r0 = result); local calls to the callee's
            compiled function (depth-checked; r1-r5 = what the callee left,
            r6-r9 preserved); exit returns r0..r5 with status OK. ****/
            Insn::Call {
                kind: CallKind::Helper | CallKind::Btf,
                imm,
            } => {
                let id = self.iconst(u64::from(imm as u32));
                self.translate_helper_call(id);
            }
            Insn::Call {
                kind: CallKind::Local,
                imm,
            } => self.translate_local_call(self.pc as i64 + 1 + i64::from(imm))?,
            Insn::Callx { reg } => {
                let id = self.get(reg);
                self.translate_helper_call(id);
            }
            Insn::Exit => {
                self.return_with(cranebpf_runtime::vm::STATUS_OK);
                return Ok(false);
            }
        }
        Ok(true)
    }
}
