//! Loads, stores, atomics and the legacy packet loads (RFC 9669 §5).
//!
//! Every access goes through `bounds.rs` first, so the Cranelift memory
//! operations here are all `notrap`. Plain loads and stores are
//! little-endian and may be unaligned; atomics are naturally aligned (checked)
//! and sequentially consistent.

use crate::func::{Lower, LowerError};
use cranebpf_runtime::{abi, sem, Access, AtomicOp, Reg, Size};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I16, I32, I64};
use cranelift_codegen::ir::{AtomicRmwOp, Endianness, InstBuilder, MemFlagsData, Type, Value};

/// Flags of a checked plain access: cannot trap (it was checked), may be
/// unaligned, little-endian.
fn data_flags() -> MemFlagsData {
    MemFlagsData::new()
        .with_notrap()
        .with_endianness(Endianness::Little)
}

/// What a store writes: a register, or a constant.
#[derive(Clone, Copy)]
pub(crate) enum Stored {
    /// STX: the source register.
    Reg(Reg),
    /// ST: the immediate as `sem::st_imm_value` extends it.
    Const(u64),
}

impl Lower<'_> {
    /// LDX / LDXS: `dst = *(size *)(src + off)`, zero- or sign-extended.
    pub(crate) fn translate_ldx(
        &mut self,
        size: Size,
        sx: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    ) -> Result<(), LowerError> {
        let ea = self.checked_address(src, off, size.bytes(), Access::Read)?;
        let f = data_flags();
        let ins = self.b.ins();
        let v = match (size, sx) {
            (Size::B, false) => ins.uload8(I64, f, ea, 0),
            (Size::H, false) => ins.uload16(I64, f, ea, 0),
            (Size::W, false) => ins.uload32(f, ea, 0),
            (Size::B, true) => ins.sload8(I64, f, ea, 0),
            (Size::H, true) => ins.sload16(I64, f, ea, 0),
            (Size::W, true) => ins.sload32(f, ea, 0),
            (Size::DW, _) => ins.load(I64, f, ea, 0),
        };
        self.set(dst, v);
        Ok(())
    }

    /// ST / STX: `*(size *)(dst + off) = v` (the low `size` bytes of `v`,
    /// register `src` or the constant). The register is read where the
    /// access is allowed; the constant is made before the checks, except
    /// with registers in memory, where no value may cross them.
    pub(crate) fn translate_store(
        &mut self,
        size: Size,
        dst: Reg,
        off: i16,
        v: Stored,
    ) -> Result<(), LowerError> {
        let early = match v {
            Stored::Const(c) if self.home.is_none() => Some(self.iconst(c)),
            _ => None,
        };
        let ea = self.checked_address(dst, off, size.bytes(), Access::Write)?;
        let v = match (early, v) {
            (Some(v), _) => v,
            (None, Stored::Const(c)) => self.iconst(c),
            (None, Stored::Reg(r)) => self.get(r),
        };
        let f = data_flags();
        let ins = self.b.ins();
        match size {
            Size::B => ins.istore8(f, v, ea, 0),
            Size::H => ins.istore16(f, v, ea, 0),
            Size::W => ins.istore32(f, v, ea, 0),
            Size::DW => ins.store(f, v, ea, 0),
        };
        Ok(())
    }

    /// Atomic RMW at `dst + off` (W or DW). 32-bit forms operate on i32 and
    /// zero-extend what they fetch.
    ///
    /// The arms mirror the interpreter's `exec_atomic`, in the same order;
    /// the comment above each names the `sem` rule it emits.
    pub(crate) fn translate_atomic(
        &mut self,
        size: Size,
        op: AtomicOp,
        fetch: bool,
        dst: Reg,
        src: Reg,
        off: i16,
    ) -> Result<(), LowerError> {
        let n = size.bytes();
        let ea = self.checked_address(dst, off, n, Access::ReadWrite)?;
        let ea = self.check_aligned(ea, n);
        let ty: Type = if size == Size::W { I32 } else { I64 };
        let narrow = |lw: &mut Self, v: Value| {
            if ty == I32 {
                lw.b.ins().ireduce(I32, v)
            } else {
                v
            }
        };
        let flags = MemFlagsData::trusted();
        let srcv = self.get(src);
        let x = narrow(self, srcv);
        let rmw =
            |lw: &mut Self, rmw_op: AtomicRmwOp| lw.b.ins().atomic_rmw(ty, flags, rmw_op, ea, x);
        let old = match op {
            // sem::atomic_new_value: old + src (wrapping in `ty`).
            AtomicOp::Add => rmw(self, AtomicRmwOp::Add),
            // sem::atomic_new_value: old | src.
            AtomicOp::Or => rmw(self, AtomicRmwOp::Or),
            // sem::atomic_new_value: old & src.
            AtomicOp::And => rmw(self, AtomicRmwOp::And),
            // sem::atomic_new_value: old ^ src.
            AtomicOp::Xor => rmw(self, AtomicRmwOp::Xor),
            // sem::atomic_new_value: src.
            AtomicOp::Xchg => rmw(self, AtomicRmwOp::Xchg),
            // sem::cmpxchg_matches: old == r0 in `ty`; then
            // sem::atomic_new_value: src.
            AtomicOp::Cmpxchg => {
                let r0 = self.get(Reg::R0);
                let expected = narrow(self, r0);
                self.b.ins().atomic_cas(flags, ea, expected, x)
            }
        };
        // sem::atomic_fetch_reg decides at compile time which register, if
        // any, receives sem::atomic_fetch_result (zero-extended for W).
        if let Some(r) = sem::atomic_fetch_reg(op, fetch, src) {
            let old = if ty == I32 {
                self.b.ins().uextend(I64, old)
            } else {
                old
            };
            self.set(r, old);
        }
        Ok(())
    }

    /// LD_ABS / LD_IND: `r0 = be(*(size *)(packet + [src +] imm))`, or end
    /// the program with r0 = 0 if that is outside the packet.
    ///
    /// `off = [src +] imm` (wrapping) is an offset into the packet
    /// `[s, s + len)` (the input region as it was at entry); the access is
    /// inside iff `off <=u len && len - off >=u size` (the first compare
    /// makes the subtraction non-wrapping; see `bounds.rs`). Like the
    /// interpreter, the host access is then checked by the normal rule too
    /// (a helper may have removed the region): that failing is a fault.
    pub(crate) fn translate_ld_packet(&mut self, size: Size, src: Option<Reg>, imm: i32) {
        let n = size.bytes();
        let offv = match src {
            None => self.iconst(i64::from(imm) as u64),
            Some(r) => {
                let v = self.get(r);
                self.b.ins().iadd_imm_s(v, i64::from(imm))
            }
        };
        let s = self.vm_load(abi::OFF_PACKET_START, true);
        let len = self.vm_load(abi::OFF_PACKET_LEN, true);
        let c1 = self.b.ins().icmp(IntCC::UnsignedLessThanOrEqual, offv, len);
        let rest = self.b.ins().isub(len, offv);
        let c2 = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, rest, n as i64);
        let inside = self.b.ins().band(c1, c2);
        // With registers in memory the address is computed before the
        // branch and carried through the home slot (see `Lower::stash`).
        let early = self.home.map(|_| self.b.ins().iadd(s, offv));
        if let Some(ea) = early {
            self.stash(ea);
        }
        let load = self.b.create_block();
        let end = self.b.create_block();
        self.b.set_cold_block(end);
        self.b.ins().brif(inside, load, &[], end, &[]);

        self.b.switch_to_block(end);

        self.b.seal_block(end);
        let zero = self.iconst(0);
        self.set(Reg::R0, zero);
        self.return_with(abi::STATUS_END);

        self.b.switch_to_block(load);

        self.b.seal_block(load);
        let ea = match early {
            Some(ea) => self.carry(ea),
            None => self.b.ins().iadd(s, offv),
        };
        let ea = self.check_ea(ea, n, Access::Read, crate::bounds::Order::InputFirst);
        // Network order: a little-endian load of the narrow type, swapped
        // (not every backend lowers big-endian loads).
        let f = data_flags();
        let v = match size {
            Size::B => self.b.ins().uload8(I64, f, ea, 0),
            Size::H | Size::W | Size::DW => {
                let ty = match size {
                    Size::H => I16,
                    Size::W => I32,
                    _ => I64,
                };
                let raw = self.b.ins().load(ty, f, ea, 0);
                let swapped = self.b.ins().bswap(raw);
                if ty == I64 {
                    swapped
                } else {
                    self.b.ins().uextend(I64, swapped)
                }
            }
        };
        self.set(Reg::R0, v);
    }
}
