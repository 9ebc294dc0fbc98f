//! The one `match insn`: each arm lowers one instruction form, in the same
//! order and under the same banners as the interpreter's match
//! (`runtime::interp::exec`), so the two read side by side. Where the
//! interpreter calls a `runtime::sem` function on run-time values, the arm
//! emits IR with that function's semantics (its doc is the contract);
//! constants are computed with the `sem` functions themselves. Bodies longer
//! than a few lines live in the family files.

use crate::func::{Lower, LowerError};
use cranebpf_runtime::{abi, sem, CallKind, Insn, LddwKind};
use cranelift_codegen::ir::InstBuilder;

impl Lower<'_> {
    /// Lowers one instruction at the builder's position. Returns whether
    /// control can fall through to the next instruction (the current block
    /// stays open).
    pub(crate) fn translate_insn(&mut self, insn: Insn) -> Result<bool, LowerError> {
        match insn {
            /**** ALU, ALU64: RFC 9669 §4.1, §4.2. 32-bit forms work on i32 values
            and `write` zero-extends; immediates are `sem::imm_operand`; shifts
            mask the count (Cranelift's do); division is guarded so it never
            traps (`alu.rs`); byte order truncates (little-endian targets). ****/
            Insn::Alu { w, op, dst, src } => self.translate_alu(w, op, dst, src),
            Insn::Neg { w, dst } => {
                let a = self.read(w, dst);
                let v = self.b.ins().ineg(a);
                self.write(w, dst, v);
            }
            Insn::MovSx { w, dst, src, bits } => self.translate_movsx(w, dst, src, bits),
            Insn::End { kind, dst, bits } => self.translate_end(kind, dst, bits),
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

            /**** Loads and stores: §5.1, §5.2. Little-endian at base + off
            (wrapping) after the checks of `bounds.rs`; LDXS sign-extends. ****/
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
                let v = crate::mem::Stored::Const(sem::st_imm_value(imm));
                self.translate_store(size, dst, off, v)?;
            }
            Insn::Stx {
                size,
                dst,
                src,
                off,
            } => {
                self.translate_store(size, dst, off, crate::mem::Stored::Reg(src))?;
            }

            /**** Atomics: §5.3. In bounds, writable and naturally aligned, then
            one sequentially consistent RMW. ****/
            Insn::Atomic {
                size,
                op,
                fetch,
                dst,
                src,
                off,
            } => self.translate_atomic(size, op, fetch, dst, src, off)?,

            /**** Legacy packet loads: §5.5. Out of the packet ends the run with
            r0 = 0 (status END). ****/
            Insn::LdAbs { size, imm } => self.translate_ld_packet(size, None, imm),
            Insn::LdInd { size, src, imm } => self.translate_ld_packet(size, Some(src), imm),

            /**** Jumps: §4.3. Targets are the program's `Cfg::target`, each the start of
            a Cranelift block; JMP32 compares the low halves. ****/
            Insn::Ja { .. } => {
                let target = self.target_block()?;
                self.b.ins().jump(target, &[]);
                return Ok(false);
            }
            Insn::Jmp {
                w, cond, dst, src, ..
            } => {
                let taken = self.target_block()?;
                let next = self.next_block()?;
                let w = match self.bug {
                    Some(crate::PlantedBug::Jmp32AsJmp64) => cranebpf_runtime::Width::W64,
                    _ => w,
                };
                let c = self.condition(w, cond, dst, src);
                self.b.ins().brif(c, taken, &[], next, &[]);
                return Ok(false);
            }

            /**** Calls and exit: §4.3.1 and the engine contract. Helpers through
            the host trampoline (r1-r5 unchanged, r0 = result); local calls to
            the callee's compiled function (depth-checked; r1-r5 = what the
            callee left, r6-r9 preserved); exit returns r0..r5, status OK. ****/
            Insn::Call {
                kind: CallKind::Helper,
                imm,
            } => {
                let id = self.iconst(u64::from(imm as u32));
                self.translate_helper_call(id);
            }
            Insn::Call {
                kind: CallKind::Local,
                ..
            } => self.translate_local_call()?,
            Insn::Call {
                kind: CallKind::Btf,
                ..
            } => {
                return Err(LowerError::Unsupported {
                    pc: self.pc,
                    what: "call by BTF id",
                })
            }
            Insn::Callx { reg } => {
                let id = self.get(reg);
                self.translate_helper_call(id);
            }
            Insn::Exit => {
                self.return_with(abi::STATUS_OK);
                return Ok(false);
            }
        }
        Ok(true)
    }
}
