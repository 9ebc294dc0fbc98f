//! Map keys and values typed by BTF, for people: what `bpftool map dump`
//! shows for a map with BTF. Structs show their fields by name, integers
//! are decimal (signed if the type is), enums print the enumerator's name,
//! arrays are lists (`char` arrays as strings), pointers and floats print
//! as hex, and global data sections (`.data`, `.bss`, `.rodata`) show their
//! variables by name.
//!
//! [`MapTypes::of`] reads the types once from an object's `.BTF`
//! ([`crate::elf::Object::map_types`]); [`ValueType::format`] then formats
//! bytes. Typing is best effort: a map whose types cannot be read has none,
//! and callers fall back to hex.

use super::btf::{
    Btf, KIND_ARRAY, KIND_DATASEC, KIND_ENUM, KIND_ENUM64, KIND_FLOAT, KIND_INT, KIND_PTR,
    KIND_STRUCT, KIND_UNION, KIND_VAR, MAX_DEPTH,
};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The type of a map key or value, read from BTF (an owned tree, with
/// typedefs and qualifiers followed).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueType {
    /// An integer of `size` bytes (a bool or char too).
    Int {
        /// Bytes.
        size: u32,
        /// Signed (`BTF_INT_SIGNED`).
        signed: bool,
        /// `char` (`BTF_INT_CHAR`).
        char: bool,
    },
    /// An enum: the enumerators by value.
    Enum {
        /// Bytes.
        size: u32,
        /// Whether values are signed.
        signed: bool,
        /// (name, value).
        names: Vec<(String, i64)>,
    },
    /// A struct, union or data section: its members at bit offsets.
    Struct {
        /// Its fields.
        fields: Vec<Field>,
    },
    /// An array of `len` elements.
    Array {
        /// The element type.
        elem: Box<ValueType>,
        /// The element size in bytes.
        elem_size: u32,
        /// The element count.
        len: u32,
    },
    /// Bytes shown as hex: pointers, floats, anything else.
    Hex {
        /// Bytes.
        size: u32,
    },
}

/// A struct member or data section variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// Its name (empty for an anonymous member).
    pub name: String,
    /// Offset from the start of the struct, in bits.
    pub bit_offset: u32,
    /// For a bitfield: its width in bits.
    pub bits: Option<u32>,
    /// Its type.
    pub ty: ValueType,
}

/// The key and value types of one map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapTypes {
    /// The key type (`u32` for arrays and data sections).
    pub key: ValueType,
    /// The value type.
    pub value: ValueType,
}

const U32: ValueType = ValueType::Int {
    size: 4,
    signed: false,
    char: false,
};

impl MapTypes {
    /// The types of every BTF-defined map (`.maps`) and data section
    /// (`.data*`, `.bss*`, `.rodata*`) described in `btf`, by map name.
    /// Maps whose types cannot be read are left out.
    pub(super) fn of(btf: &Btf<'_>) -> HashMap<String, MapTypes> {
        let mut out = HashMap::new();
        for t in &btf.types {
            if t.kind != KIND_DATASEC {
                continue;
            }
            let sec = btf.name(t.name_off);
            if sec == ".maps" {
                for &(var, _, _) in &t.members {
                    if let Some((name, types)) = map_var(btf, var) {
                        out.insert(name, types);
                    }
                }
            } else if let Some(value) = datasec(btf, &t.members) {
                out.insert(sec, MapTypes { key: U32, value });
            }
        }
        out
    }
}

/// A `.maps` variable: its name and the pointees of its `key`/`value`
/// members (`__type(key, T)` is `T *key`).
fn map_var(btf: &Btf<'_>, var: u32) -> Option<(String, MapTypes)> {
    let v = btf.ty(var).ok()?;
    if v.kind != KIND_VAR {
        return None;
    }
    let (_, st) = btf.skip_mods(v.size_or_type).ok()?;
    let mut key = None;
    let mut value = None;
    for &(name, ty, _) in &st.members {
        let (_, p) = btf.skip_mods(ty).ok()?;
        let slot = match btf.name(name).as_str() {
            "key" => &mut key,
            "value" => &mut value,
            _ => continue,
        };
        if p.kind == KIND_PTR {
            *slot = value_type(btf, p.size_or_type, 0);
        }
    }
    Some((
        btf.name(v.name_off),
        MapTypes {
            key: key?,
            value: value?,
        },
    ))
}

/// A data section as a struct of its variables.
fn datasec(btf: &Btf<'_>, vars: &[(u32, u32, u32)]) -> Option<ValueType> {
    let mut fields = Vec::new();
    for &(var, offset, _) in vars {
        let v = btf.ty(var).ok()?;
        if v.kind != KIND_VAR {
            continue;
        }
        fields.push(Field {
            name: btf.name(v.name_off),
            bit_offset: offset.checked_mul(8)?,
            bits: None,
            ty: value_type(btf, v.size_or_type, 0)?,
        });
    }
    Some(ValueType::Struct { fields })
}

/// The owned type of BTF type `id`.
fn value_type(btf: &Btf<'_>, id: u32, depth: usize) -> Option<ValueType> {
    if depth > MAX_DEPTH {
        return None;
    }
    let (id, t) = btf.skip_mods(id).ok()?;
    Some(match t.kind {
        KIND_INT => ValueType::Int {
            size: t.size_or_type,
            signed: t.int_info >> 24 & 1 != 0,
            char: t.int_info >> 24 & 2 != 0,
        },
        KIND_ENUM | KIND_ENUM64 => ValueType::Enum {
            size: t.size_or_type,
            signed: t.kind_flag,
            names: t
                .members
                .iter()
                .map(|&(n, lo, hi)| {
                    let v = if t.kind == KIND_ENUM {
                        i64::from(lo as i32)
                    } else {
                        (u64::from(hi) << 32 | u64::from(lo)) as i64
                    };
                    (btf.name(n), v)
                })
                .collect(),
        },
        KIND_STRUCT | KIND_UNION => {
            let mut fields = Vec::new();
            for &(name, ty, off) in &t.members {
                let (bit_offset, bits) = if t.kind_flag {
                    (off & 0x00ff_ffff, Some(off >> 24).filter(|&b| b > 0))
                } else {
                    (off, None)
                };
                fields.push(Field {
                    name: btf.name(name),
                    bit_offset,
                    bits,
                    ty: value_type(btf, ty, depth + 1)?,
                });
            }
            ValueType::Struct { fields }
        }
        KIND_ARRAY => {
            let (elem, len) = t.array?;
            ValueType::Array {
                elem: Box::new(value_type(btf, elem, depth + 1)?),
                elem_size: btf.size_of(elem, 0).ok()?,
                len,
            }
        }
        KIND_PTR => ValueType::Hex { size: 8 },
        KIND_FLOAT => ValueType::Hex {
            size: t.size_or_type,
        },
        _ => ValueType::Hex {
            size: btf.size_of(id, 0).ok()?,
        },
    })
}

impl ValueType {
    /// `bytes` as this type: `{ packets = 1, bytes = 85 }`, `17`,
    /// `IPPROTO_UDP`, `[1, 2]`, `"eth0"`. Bytes the type does not cover (a
    /// short buffer) print as `?`.
    pub fn format(&self, bytes: &[u8]) -> String {
        let mut s = String::new();
        self.write(bytes, 0, &mut s);
        s
    }

    /// Writes the value at bit offset `bit` of `bytes`.
    fn write(&self, bytes: &[u8], bit: u32, s: &mut String) {
        let at = (bit / 8) as usize;
        match self {
            ValueType::Int { size, signed, .. } => match read_int(bytes, at, *size, *signed) {
                Some(v) if *signed => {
                    let _ = write!(s, "{}", v as i64);
                }
                Some(v) => {
                    let _ = write!(s, "{v}");
                }
                None => s.push('?'),
            },
            ValueType::Enum {
                size,
                signed,
                names,
            } => match read_int(bytes, at, *size, *signed) {
                Some(v) => match names.iter().find(|(_, n)| *n as u64 == v) {
                    Some((name, _)) => s.push_str(name),
                    None => {
                        let _ = write!(s, "{v}");
                    }
                },
                None => s.push('?'),
            },
            ValueType::Struct { fields } => {
                s.push('{');
                for (i, f) in fields.iter().enumerate() {
                    s.push_str(if i == 0 { " " } else { ", " });
                    if !f.name.is_empty() {
                        let _ = write!(s, "{} = ", f.name);
                    }
                    let off = bit + f.bit_offset;
                    match f.bits {
                        Some(width) => write_bitfield(bytes, off, width, s),
                        None => f.ty.write(bytes, off, s),
                    }
                }
                s.push_str(if fields.is_empty() { "}" } else { " }" });
            }
            ValueType::Array {
                elem,
                elem_size,
                len,
            } => {
                let is_char = matches!(
                    **elem,
                    ValueType::Int {
                        size: 1,
                        char: true,
                        ..
                    }
                );
                let end = at + (*elem_size as usize).saturating_mul(*len as usize);
                match bytes.get(at..end) {
                    Some(b) if is_char => {
                        let text = b.split(|&c| c == 0).next().unwrap_or(&[]);
                        let _ = write!(s, "{:?}", String::from_utf8_lossy(text));
                    }
                    _ => {
                        s.push('[');
                        for i in 0..*len {
                            if i > 0 {
                                s.push_str(", ");
                            }
                            elem.write(bytes, bit + i * elem_size * 8, s);
                        }
                        s.push(']');
                    }
                }
            }
            ValueType::Hex { size } => match bytes.get(at..at + *size as usize) {
                Some(b) => {
                    s.push_str("0x");
                    for byte in b.iter().rev() {
                        let _ = write!(s, "{byte:02x}");
                    }
                }
                None => s.push('?'),
            },
        }
    }
}

/// A little-endian integer of `size` bytes at `at`, sign-extended if
/// `signed`.
fn read_int(bytes: &[u8], at: usize, size: u32, signed: bool) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(size as usize)?)?;
    if b.is_empty() || b.len() > 8 {
        return None;
    }
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate() {
        v |= u64::from(byte) << (8 * i);
    }
    let shift = 64 - 8 * b.len() as u32;
    Some(if signed {
        ((v << shift) as i64 >> shift) as u64
    } else {
        v
    })
}

/// An unsigned bitfield of `width` bits at bit `off` (little-endian).
fn write_bitfield(bytes: &[u8], off: u32, width: u32, s: &mut String) {
    let mut v = 0u64;
    for i in 0..width.min(64) {
        let b = off + i;
        match bytes.get((b / 8) as usize) {
            Some(byte) => v |= u64::from(byte >> (b % 8) & 1) << i,
            None => {
                s.push('?');
                return;
            }
        }
    }
    let _ = write!(s, "{v}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(size: u32, signed: bool) -> ValueType {
        ValueType::Int {
            size,
            signed,
            char: false,
        }
    }

    #[test]
    fn structs_show_fields_by_name_in_decimal() {
        let t = ValueType::Struct {
            fields: vec![
                Field {
                    name: "packets".into(),
                    bit_offset: 0,
                    bits: None,
                    ty: int(8, false),
                },
                Field {
                    name: "delta".into(),
                    bit_offset: 64,
                    bits: None,
                    ty: int(4, true),
                },
            ],
        };
        let mut b = 85u64.to_le_bytes().to_vec();
        b.extend_from_slice(&(-3i32).to_le_bytes());
        assert_eq!(t.format(&b), "{ packets = 85, delta = -3 }");
        assert_eq!(t.format(&b[..8]), "{ packets = 85, delta = ? }");
    }

    #[test]
    fn enums_arrays_strings_and_bitfields() {
        let e = ValueType::Enum {
            size: 4,
            signed: false,
            names: vec![("TCP".into(), 6), ("UDP".into(), 17)],
        };
        assert_eq!(e.format(&17u32.to_le_bytes()), "UDP");
        assert_eq!(e.format(&5u32.to_le_bytes()), "5");
        let a = ValueType::Array {
            elem: Box::new(int(2, false)),
            elem_size: 2,
            len: 2,
        };
        assert_eq!(a.format(&[1, 0, 2, 1]), "[1, 258]");
        let c = ValueType::Array {
            elem: Box::new(ValueType::Int {
                size: 1,
                signed: true,
                char: true,
            }),
            elem_size: 1,
            len: 4,
        };
        assert_eq!(c.format(b"ab\0\0"), "\"ab\"");
        let bf = ValueType::Struct {
            fields: vec![Field {
                name: "flag".into(),
                bit_offset: 3,
                bits: Some(2),
                ty: int(4, false),
            }],
        };
        assert_eq!(bf.format(&[0b0001_1000]), "{ flag = 3 }");
        assert_eq!(ValueType::Hex { size: 2 }.format(&[0x34, 0x12]), "0x1234");
    }
}
