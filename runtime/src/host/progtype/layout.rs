//! Context layouts: the fields of a context struct as the program sees it,
//! where each lives in the shadow context the runtime builds, and the
//! access rules the kernel's verifier applies to them.
//!
//! A program's view and the shadow differ where the kernel rewrites an
//! access (`convert_ctx_access`): `__sk_buff.data` is a 32-bit field in the
//! UAPI struct but a 64-bit host address in the shadow. Every field says
//! where its shadow copy lies, as an offset from the context pointer the
//! program receives in r1 (negative when the shadow sits before that
//! pointer, as for `__sk_buff`, whose r1 is also the packet's start).

use crate::isa::insn::Size;

/// What kind of value a field holds, which decides the accesses allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// An integer. Reads of a whole field, or (when the layout allows
    /// narrow reads and the field is 4 bytes) of an aligned 1- or 2-byte part;
    /// writes (if writable) of the whole field only.
    Scalar,
    /// A 32-bit field holding a pointer: read whole (4 bytes, no sign
    /// extension), never written; the shadow holds a 64-bit address.
    Pointer,
    /// An array of bytes (`cb[5]`): any aligned access inside it.
    Bytes,
}

/// One field of a context as the program sees it, and where it lives in the
/// shadow context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CtxField {
    /// Field name, for errors (e.g. `data`, `cb`).
    pub name: &'static str,
    /// Offset in the program's view.
    pub offset: i16,
    /// Size in bytes in the program's view (4 or 8; 20 for `cb`).
    pub size: u16,
    /// Offset of the shadow copy, relative to the context pointer.
    pub shadow_offset: i16,
    /// What the field holds.
    pub kind: FieldKind,
    /// Whether the program may store to it.
    pub writable: bool,
    /// Width in bytes of the kernel-side field the kernel's rewrite loads
    /// (`struct sk_buff`'s `protocol` is 2 bytes, `pkt_type` a bit field
    /// in 1). A narrow read at least this wide returns the whole value, as
    /// the kernel's narrow-load rewrite only shifts and masks reads
    /// narrower than the field it loads; narrower reads see the bytes of
    /// the value zero-extended to `size`.
    pub kernel_size: u16,
}

impl CtxField {
    /// A read-only 4-byte integer field.
    pub const fn u32(name: &'static str, offset: i16, shadow_offset: i16) -> CtxField {
        CtxField {
            name,
            offset,
            size: 4,
            shadow_offset,
            kind: FieldKind::Scalar,
            writable: false,
            kernel_size: 4,
        }
    }

    /// A read-only 8-byte integer field.
    pub const fn u64(name: &'static str, offset: i16, shadow_offset: i16) -> CtxField {
        CtxField {
            size: 8,
            kernel_size: 8,
            ..CtxField::u32(name, offset, shadow_offset)
        }
    }

    /// The same field, backed in the kernel by a field of `n` bytes (see
    /// [`CtxField::kernel_size`]).
    pub const fn kernel_width(self, n: u16) -> CtxField {
        CtxField {
            kernel_size: n,
            ..self
        }
    }

    /// A 32-bit pointer field whose shadow is a 64-bit host address.
    pub const fn pointer(name: &'static str, offset: i16, shadow_offset: i16) -> CtxField {
        CtxField {
            kind: FieldKind::Pointer,
            ..CtxField::u32(name, offset, shadow_offset)
        }
    }

    /// The same field, writable.
    pub const fn writable(self) -> CtxField {
        CtxField {
            writable: true,
            ..self
        }
    }

    fn end(&self) -> i32 {
        i32::from(self.offset) + i32::from(self.size)
    }
}

/// A range of the struct the kernel defines but refuses to this program
/// type (or that cranebpf does not provide), with the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused {
    /// Field name(s), for errors.
    pub name: &'static str,
    /// Offset in the program's view.
    pub offset: i16,
    /// Size in bytes.
    pub size: u16,
    /// Why, e.g. "not available to socket filters".
    pub reason: &'static str,
}

/// A context layout: the fields a program may access, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CtxLayout {
    /// The C struct's name, for errors (e.g. `__sk_buff`).
    pub name: &'static str,
    /// Size of the C struct in the program's view.
    pub size: u16,
    /// The accessible fields.
    pub fields: Vec<CtxField>,
    /// Known fields this program type may not touch.
    pub refused: Vec<Refused>,
    /// Whether 4-byte scalar fields may be read in aligned 1- and 2-byte
    /// parts (the kernel allows it for `__sk_buff`, not for `xdp_md`).
    pub narrow_reads: bool,
    /// Size of the shadow context in bytes.
    pub shadow_size: usize,
    /// Offset of the context pointer (r1) from the shadow's first byte: 0
    /// when r1 points at the shadow, `shadow_size` when the shadow sits just
    /// before r1.
    pub ctx_offset: usize,
}

/// Why an access to a context is refused, for [`CtxError::BadAccess`](super::CtxError::BadAccess).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccessFault {
    /// No field at that offset.
    Unknown,
    /// The field exists but this program type may not access it.
    Refused(&'static str),
    /// A store to a field that is not writable.
    ReadOnly,
    /// The offset is not a multiple of the access size.
    Misaligned,
    /// Part of a field the kernel only lets programs access whole, or an
    /// access that straddles two fields.
    Partial,
    /// A sign-extending load of a pointer field.
    SignExtend,
    /// An atomic operation on the context.
    Atomic,
}

impl AccessFault {
    /// Describes the refusal.
    pub fn describe(self) -> &'static str {
        match self {
            AccessFault::Unknown => "no field at this offset",
            AccessFault::Refused(why) => why,
            AccessFault::ReadOnly => "the field is read-only",
            AccessFault::Misaligned => "the offset is not a multiple of the access size",
            AccessFault::Partial => "the kernel allows only whole-field accesses here",
            AccessFault::SignExtend => "pointer fields cannot be sign-extended",
            AccessFault::Atomic => "atomic operations on the context are not allowed",
        }
    }
}

/// How a context access becomes a shadow access.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The field accessed.
    pub field: CtxField,
    /// Offset of the shadow access (relative to the context pointer).
    pub shadow_offset: i16,
    /// Size of the shadow access.
    pub shadow_size: Size,
}

impl CtxLayout {
    /// The field containing byte `offset`, if any.
    pub fn field_at(&self, offset: i16) -> Option<&CtxField> {
        let o = i32::from(offset);
        self.fields
            .iter()
            .find(|f| i32::from(f.offset) <= o && o < f.end())
    }

    /// The name of whatever lives at `offset`, for errors.
    pub fn name_at(&self, offset: i16) -> Option<&'static str> {
        let o = i32::from(offset);
        self.field_at(offset).map(|f| f.name).or_else(|| {
            self.refused
                .iter()
                .find(|r| i32::from(r.offset) <= o && o < i32::from(r.offset) + i32::from(r.size))
                .map(|r| r.name)
        })
    }

    /// Checks a `size`-byte access at `offset` (a store if `write`, a
    /// sign-extending load if `sx`) against the kernel's rules, and maps it
    /// onto the shadow.
    pub fn resolve(
        &self,
        offset: i16,
        size: Size,
        write: bool,
        sx: bool,
    ) -> Result<Resolved, AccessFault> {
        let o = i32::from(offset);
        let n = size.bytes() as i32;
        let Some(field) = self.field_at(offset) else {
            let refused = self
                .refused
                .iter()
                .find(|r| i32::from(r.offset) <= o && o < i32::from(r.offset) + i32::from(r.size));
            return Err(refused.map_or(AccessFault::Unknown, |r| AccessFault::Refused(r.reason)));
        };
        if o % n != 0 {
            return Err(AccessFault::Misaligned);
        }
        if o + n > field.end() {
            return Err(AccessFault::Partial);
        }
        if write && !field.writable {
            return Err(AccessFault::ReadOnly);
        }
        let whole = n == i32::from(field.size) && o == i32::from(field.offset);
        let allowed = match field.kind {
            FieldKind::Bytes => true,
            FieldKind::Pointer if sx => return Err(AccessFault::SignExtend),
            FieldKind::Pointer => whole,
            FieldKind::Scalar => whole || (!write && self.narrow_reads && field.size == 4),
        };
        if !allowed {
            return Err(AccessFault::Partial);
        }
        let narrow_whole =
            field.kind == FieldKind::Scalar && !whole && n >= i32::from(field.kernel_size);
        let (shadow_offset, shadow_size) = match field.kind {
            FieldKind::Pointer => (field.shadow_offset, Size::DW),
            // A store to a field the kernel keeps narrower keeps only its
            // low bytes (the shadow's upper bytes stay zero).
            FieldKind::Scalar if write && field.kernel_size == 2 && field.size == 4 => {
                (field.shadow_offset, Size::H)
            }
            // The kernel returns the whole value for such a read.
            _ if narrow_whole => (field.shadow_offset, Size::W),
            _ => (field.shadow_offset + (offset - field.offset), size),
        };
        Ok(Resolved {
            field: *field,
            shadow_offset,
            shadow_size,
        })
    }
}
