//! Just enough BTF (the `.BTF` section) to read BTF-defined maps: the
//! `.maps` DATASEC's variables and the `__uint`/`__type` members of their
//! structs. Every read is bounds-checked; malformed BTF is an error.
//!
//! Layout (kernel `Documentation/bpf/btf.rst`): a 24-byte header
//! (`magic 0xeB9F, version, flags, hdr_len, type_off, type_len, str_off,
//! str_len`), then the type section (type ids from 1, each a 12-byte
//! `btf_type` plus kind-specific trailing data), then the string section.

use std::collections::HashMap;
use std::fmt;

/// Why `.BTF` or `.BTF.ext` could not be read, or a BTF map definition is
/// not one we can load. Each variant says what and where: the section part
/// and offset, the type id, the kind, the map and member.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BtfError {
    /// The section is shorter than its header.
    TruncatedHeader {
        /// `.BTF` or `.BTF.ext`.
        section: &'static str,
    },
    /// The magic is not `0xeB9F` little-endian (big-endian BTF is refused).
    BadMagic {
        /// `.BTF` or `.BTF.ext`.
        section: &'static str,
    },
    /// `hdr_len` runs past the end of the section.
    HeaderTooLong {
        /// The header's `hdr_len`.
        hdr_len: usize,
        /// The section's size.
        section_len: usize,
    },
    /// The type or string part lies outside the section.
    PartOutOfBounds {
        /// `type` or `string`.
        part: &'static str,
        /// Its offset after the header.
        offset: usize,
        /// Its length.
        len: usize,
    },
    /// A type's record runs past the end of the type part.
    TruncatedType {
        /// The type's id.
        type_id: u32,
        /// Byte offset of its record in the type part.
        offset: usize,
    },
    /// A kind this reader does not know.
    UnknownKind {
        /// The type's id.
        type_id: u32,
        /// The kind number.
        kind: u32,
    },
    /// A type id that names no type.
    TypeIdOutOfRange {
        /// The id.
        type_id: u32,
    },
    /// Modifier or array chains nest deeper than we follow (likely a cycle).
    TooDeep {
        /// Where the chain was abandoned.
        type_id: u32,
    },
    /// An array whose size overflows 32 bits.
    ArrayTooLarge {
        /// The array type's id.
        type_id: u32,
    },
    /// A type whose size was needed has none (a function, a forward
    /// declaration, ...).
    NoSize {
        /// The type's id.
        type_id: u32,
        /// Its kind.
        kind: u32,
    },
    /// A `__uint`/`__type` map member is not the pointer it must be.
    NotPointer {
        /// `__uint` or `__type`.
        macro_name: &'static str,
        /// The member's type id.
        type_id: u32,
    },
    /// A `__uint` member's pointer does not point to an array.
    NotArrayPointer {
        /// The pointer's target type id.
        type_id: u32,
    },
    /// An entry of the `.maps` DATASEC is not a variable.
    MapsEntryNotVar {
        /// The entry's type id.
        type_id: u32,
    },
    /// A map variable's type is not a struct.
    MapNotStruct {
        /// The map.
        map: String,
    },
    /// A member of a map's struct is malformed.
    Member {
        /// The map.
        map: String,
        /// The member.
        member: String,
        /// What is wrong with it.
        error: Box<BtfError>,
    },
    /// A `values` member whose bit offset is not a whole byte.
    NotByteAligned {
        /// The bit offset.
        bit_offset: u32,
    },
    /// The object has a `.maps` section but no `.BTF` to describe it.
    MapsWithoutBtf,
    /// A symbol in `.maps` has no BTF definition.
    NoMapDefinition {
        /// The map.
        map: String,
    },
    /// A map's BTF definition lacks a member it needs.
    MissingMember {
        /// The map.
        map: String,
        /// The member (`type`, `key_size`, ...).
        member: &'static str,
    },
}

impl fmt::Display for BtfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BtfError::TruncatedHeader { section } => write!(f, "truncated {section} header"),
            BtfError::BadMagic { section } => {
                write!(f, "bad {section} magic (or big-endian BTF)")
            }
            BtfError::HeaderTooLong {
                hdr_len,
                section_len,
            } => write!(
                f,
                "BTF header length {hdr_len} is longer than the section ({section_len} bytes)"
            ),
            BtfError::PartOutOfBounds { part, offset, len } => write!(
                f,
                "BTF {part} section out of bounds (offset {offset:#x}, length {len:#x})"
            ),
            BtfError::TruncatedType { type_id, offset } => {
                write!(
                    f,
                    "BTF type {type_id} truncated (at type offset {offset:#x})"
                )
            }
            BtfError::UnknownKind { type_id, kind } => {
                write!(f, "unknown BTF kind {kind} (type {type_id})")
            }
            BtfError::TypeIdOutOfRange { type_id } => {
                write!(f, "BTF type id {type_id} out of range")
            }
            BtfError::TooDeep { type_id } => {
                write!(f, "BTF type {type_id}: type chain too deep")
            }
            BtfError::ArrayTooLarge { type_id } => write!(f, "BTF array type {type_id} too large"),
            BtfError::NoSize { type_id, kind } => {
                write!(f, "BTF type {type_id} of kind {kind} has no size")
            }
            BtfError::NotPointer {
                macro_name,
                type_id,
            } => write!(f, "{macro_name} member (type {type_id}) is not a pointer"),
            BtfError::NotArrayPointer { type_id } => write!(
                f,
                "__uint member is not a pointer to an array (points to type {type_id})"
            ),
            BtfError::MapsEntryNotVar { type_id } => {
                write!(f, "BTF .maps entry {type_id} is not a variable")
            }
            BtfError::MapNotStruct { map } => write!(f, "BTF map {map} is not a struct"),
            BtfError::Member { map, member, error } => {
                write!(f, "BTF map {map}, member {member}: {error}")
            }
            BtfError::NotByteAligned { bit_offset } => {
                write!(f, "not byte aligned (bit offset {bit_offset})")
            }
            BtfError::MapsWithoutBtf => write!(f, ".maps section without .BTF"),
            BtfError::NoMapDefinition { map } => write!(f, "map {map} has no BTF definition"),
            BtfError::MissingMember { map, member } => write!(f, "map {map} has no {member}"),
        }
    }
}

impl std::error::Error for BtfError {}

pub(super) const KIND_INT: u32 = 1;
pub(super) const KIND_PTR: u32 = 2;
pub(super) const KIND_ARRAY: u32 = 3;
pub(super) const KIND_STRUCT: u32 = 4;
pub(super) const KIND_UNION: u32 = 5;
pub(super) const KIND_ENUM: u32 = 6;
pub(super) const KIND_FWD: u32 = 7;
pub(super) const KIND_TYPEDEF: u32 = 8;
pub(super) const KIND_VOLATILE: u32 = 9;
pub(super) const KIND_CONST: u32 = 10;
pub(super) const KIND_RESTRICT: u32 = 11;
pub(super) const KIND_FUNC: u32 = 12;
pub(super) const KIND_FUNC_PROTO: u32 = 13;
pub(super) const KIND_VAR: u32 = 14;
pub(super) const KIND_DATASEC: u32 = 15;
pub(super) const KIND_FLOAT: u32 = 16;
pub(super) const KIND_DECL_TAG: u32 = 17;
pub(super) const KIND_TYPE_TAG: u32 = 18;
pub(super) const KIND_ENUM64: u32 = 19;

/// How deep type chains (typedef, const, arrays) may nest before we call
/// them cyclic.
pub(super) const MAX_DEPTH: usize = 32;

#[derive(Clone, Debug)]
pub(super) struct Type {
    pub(super) name_off: u32,
    pub(super) kind: u32,
    /// `size` or `type`, depending on the kind.
    pub(super) size_or_type: u32,
    /// ARRAY: (elem type, nelems).
    pub(super) array: Option<(u32, u32)>,
    /// `kind_flag`: for structs, member offsets carry bitfield sizes.
    pub(super) kind_flag: bool,
    /// STRUCT/UNION members and DATASEC entries: (name_off or type, type or
    /// offset, offset in bits or size); ENUM/ENUM64: (name_off, value low,
    /// value high).
    pub(super) members: Vec<(u32, u32, u32)>,
    /// INT: the encoding word (signedness, bit offset, bits).
    pub(super) int_info: u32,
}

/// Parsed BTF: types by id and the string table.
pub(crate) struct Btf<'d> {
    pub(super) types: Vec<Type>,
    strings: &'d [u8],
}

fn u32_at(d: &[u8], off: usize) -> Option<u32> {
    let b = d.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// A map definition read from BTF; fields absent from the struct are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BtfMapDef {
    pub map_type: Option<u32>,
    pub key_size: Option<u32>,
    pub value_size: Option<u32>,
    pub max_entries: Option<u32>,
    pub map_flags: Option<u32>,
    /// Byte offset of a `values` member (`__array(values, ...)`: a program
    /// array's initial slots, or map-in-map values).
    pub values_offset: Option<u32>,
    /// Members we do not implement (`inner_map`, ...), by name.
    pub unsupported: Vec<String>,
}

/// The types of the type part `tsec`, in id order (ids from 1).
fn parse_types(tsec: &[u8]) -> Result<Vec<Type>, BtfError> {
    let mut types = Vec::new();
    let mut p = 0usize;
    while p < tsec.len() {
        let type_id = types.len() as u32 + 1;
        let start = p;
        let truncated = BtfError::TruncatedType {
            type_id,
            offset: start,
        };
        let rd = |o: usize| u32_at(tsec, p + o).ok_or(truncated.clone());
        let (name_off, info, sz) = (rd(0)?, rd(4)?, rd(8)?);
        let kind = (info >> 24) & 0x1f;
        let kind_flag = info >> 31 == 1;
        let vlen = info & 0xffff;
        p += 12;
        let mut t = Type {
            name_off,
            kind,
            size_or_type: sz,
            array: None,
            members: Vec::new(),
            kind_flag,
            int_info: 0,
        };
        let n = vlen as usize;
        let rd = |o: usize| u32_at(tsec, p + o).ok_or(truncated.clone());
        let extra = match kind {
            KIND_INT => {
                t.int_info = rd(0)?;
                4
            }
            KIND_VAR | KIND_DECL_TAG => 4,
            KIND_PTR | KIND_FWD | KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT
            | KIND_FUNC | KIND_FLOAT | KIND_TYPE_TAG => 0,
            KIND_ARRAY => {
                t.array = Some((rd(0)?, rd(8)?));
                12
            }
            KIND_STRUCT | KIND_UNION | KIND_DATASEC => {
                for i in 0..n {
                    // STRUCT: name_off, type, offset; DATASEC: type, offset, size.
                    let (a, b, c) = (rd(12 * i)?, rd(12 * i + 4)?, rd(12 * i + 8)?);
                    t.members.push((a, b, c));
                }
                12 * n
            }
            KIND_ENUM => {
                for i in 0..n {
                    t.members.push((rd(8 * i)?, rd(8 * i + 4)?, 0));
                }
                8 * n
            }
            KIND_FUNC_PROTO => 8 * n,
            KIND_ENUM64 => {
                for i in 0..n {
                    let (a, b, c) = (rd(12 * i)?, rd(12 * i + 4)?, rd(12 * i + 8)?);
                    t.members.push((a, b, c));
                }
                12 * n
            }
            kind => return Err(BtfError::UnknownKind { type_id, kind }),
        };
        p = p
            .checked_add(extra)
            .filter(|&e| e <= tsec.len())
            .ok_or(truncated)?;
        types.push(t);
    }
    Ok(types)
}

impl<'d> Btf<'d> {
    /// Parses a little-endian `.BTF` section.
    pub(crate) fn parse(d: &'d [u8]) -> Result<Btf<'d>, BtfError> {
        let short = || BtfError::TruncatedHeader { section: ".BTF" };
        let magic = d.get(0..2).ok_or_else(short)?;
        if magic != [0x9f, 0xeb] {
            return Err(BtfError::BadMagic { section: ".BTF" });
        }
        let hdr_len = u32_at(d, 4).ok_or_else(short)? as usize;
        let field = |i: usize| u32_at(d, 8 + 4 * i).ok_or_else(short).map(|v| v as usize);
        let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
        let body = d.get(hdr_len..).ok_or(BtfError::HeaderTooLong {
            hdr_len,
            section_len: d.len(),
        })?;
        let range = |offset: usize, len: usize, part: &'static str| {
            offset
                .checked_add(len)
                .and_then(|end| body.get(offset..end))
                .ok_or(BtfError::PartOutOfBounds { part, offset, len })
        };
        let tsec = range(type_off, type_len, "type")?;
        let strings = range(str_off, str_len, "string")?;
        let types = parse_types(tsec)?;
        Ok(Btf { types, strings })
    }

    pub(super) fn ty(&self, id: u32) -> Result<&Type, BtfError> {
        (id as usize)
            .checked_sub(1)
            .and_then(|i| self.types.get(i))
            .ok_or(BtfError::TypeIdOutOfRange { type_id: id })
    }

    pub(super) fn name(&self, off: u32) -> String {
        let s = self.strings.get(off as usize..).unwrap_or(&[]);
        let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
        String::from_utf8_lossy(&s[..end]).into_owned()
    }

    /// Follows typedef/const/volatile/restrict/type_tag.
    pub(super) fn skip_mods(&self, mut id: u32) -> Result<(u32, &Type), BtfError> {
        for _ in 0..MAX_DEPTH {
            let t = self.ty(id)?;
            match t.kind {
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Ok((id, t)),
            }
        }
        Err(BtfError::TooDeep { type_id: id })
    }

    /// The size in bytes of a type.
    pub(super) fn size_of(&self, id: u32, depth: usize) -> Result<u32, BtfError> {
        if depth > MAX_DEPTH {
            return Err(BtfError::TooDeep { type_id: id });
        }
        let (id, t) = self.skip_mods(id)?;
        match t.kind {
            KIND_INT | KIND_STRUCT | KIND_UNION | KIND_ENUM | KIND_ENUM64 | KIND_FLOAT
            | KIND_DATASEC => Ok(t.size_or_type),
            KIND_PTR => Ok(8),
            KIND_ARRAY => {
                // An ARRAY always has its data (`parse_types` reads it).
                let (elem, n) = t.array.unwrap_or((0, 0));
                self.size_of(elem, depth + 1)?
                    .checked_mul(n)
                    .ok_or(BtfError::ArrayTooLarge { type_id: id })
            }
            kind => Err(BtfError::NoSize { type_id: id, kind }),
        }
    }

    /// `__uint(name, N)` is `int (*name)[N]`: a pointer to an array of N.
    fn uint_member(&self, id: u32) -> Result<u32, BtfError> {
        let (type_id, t) = self.skip_mods(id)?;
        if t.kind != KIND_PTR {
            return Err(BtfError::NotPointer {
                macro_name: "__uint",
                type_id,
            });
        }
        let (type_id, a) = self.skip_mods(t.size_or_type)?;
        a.array
            .map(|(_, n)| n)
            .ok_or(BtfError::NotArrayPointer { type_id })
    }

    /// `__type(name, T)` is `T *name`: the size of T.
    fn type_member(&self, id: u32) -> Result<u32, BtfError> {
        let (type_id, t) = self.skip_mods(id)?;
        if t.kind != KIND_PTR {
            return Err(BtfError::NotPointer {
                macro_name: "__type",
                type_id,
            });
        }
        self.size_of(t.size_or_type, 0)
    }

    /// Map definitions of the `.maps` DATASEC, by variable name.
    pub(crate) fn map_defs(&self) -> Result<HashMap<String, BtfMapDef>, BtfError> {
        let mut out = HashMap::new();
        let Some(sec) = self
            .types
            .iter()
            .find(|t| t.kind == KIND_DATASEC && self.name(t.name_off) == ".maps")
        else {
            return Ok(out);
        };
        for &(var_id, _, _) in &sec.members {
            let var = self.ty(var_id)?;
            if var.kind != KIND_VAR {
                return Err(BtfError::MapsEntryNotVar { type_id: var_id });
            }
            let name = self.name(var.name_off);
            let (_, st) = self.skip_mods(var.size_or_type)?;
            if st.kind != KIND_STRUCT {
                return Err(BtfError::MapNotStruct { map: name });
            }
            let mut def = BtfMapDef::default();
            let bitfields = st.kind_flag;
            for &(m_name, m_type, m_off) in &st.members {
                let m = self.name(m_name);
                let ctx = |e: BtfError| BtfError::Member {
                    map: name.clone(),
                    member: m.clone(),
                    error: Box::new(e),
                };
                match m.as_str() {
                    "type" => def.map_type = Some(self.uint_member(m_type).map_err(ctx)?),
                    "max_entries" => def.max_entries = Some(self.uint_member(m_type).map_err(ctx)?),
                    "map_flags" => def.map_flags = Some(self.uint_member(m_type).map_err(ctx)?),
                    "key_size" => def.key_size = Some(self.uint_member(m_type).map_err(ctx)?),
                    "value_size" => def.value_size = Some(self.uint_member(m_type).map_err(ctx)?),
                    "key" => def.key_size = Some(self.type_member(m_type).map_err(ctx)?),
                    "value" => def.value_size = Some(self.type_member(m_type).map_err(ctx)?),
                    "pinning" => {}
                    "values" => {
                        let bits = if bitfields {
                            m_off & 0x00ff_ffff
                        } else {
                            m_off
                        };
                        if bits % 8 != 0 {
                            return Err(ctx(BtfError::NotByteAligned { bit_offset: bits }));
                        }
                        def.values_offset = Some(bits / 8);
                    }
                    _ => def.unsupported.push(m),
                }
            }
            out.insert(name, def);
        }
        Ok(out)
    }
}

/// Whether a `.BTF.ext` section carries CO-RE relocations (which cranebpf
/// does not apply: programs using them are refused rather than miscompiled).
pub(crate) fn has_core_relocs(ext: &[u8]) -> Result<bool, BtfError> {
    const SECTION: &str = ".BTF.ext";
    if ext.get(0..2) != Some(&[0x9f, 0xeb][..]) {
        return Err(BtfError::BadMagic { section: SECTION });
    }
    let short = BtfError::TruncatedHeader { section: SECTION };
    let hdr_len = u32_at(ext, 4).ok_or(short.clone())?;
    if hdr_len < 32 {
        return Ok(false);
    }
    // core_relo_len at offset 28; the section holds a 4-byte record size
    // followed by per-section records.
    let len = u32_at(ext, 28).ok_or(short)?;
    Ok(len > 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds BTF from (kind, vlen, size_or_type, trailing words) and a
    /// string table.
    fn build(types: &[(u32, u32, u32, u32, Vec<u32>)], strings: &[u8]) -> Vec<u8> {
        let mut t = Vec::new();
        for (name, kind, vlen, sz, extra) in types {
            for w in [*name, (kind << 24) | vlen, *sz].iter().chain(extra) {
                t.extend_from_slice(&w.to_le_bytes());
            }
        }
        let mut d = vec![0x9f, 0xeb, 1, 0];
        for w in [
            24u32,
            0,
            t.len() as u32,
            t.len() as u32,
            strings.len() as u32,
        ] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        d.extend_from_slice(&t);
        d.extend_from_slice(strings);
        d
    }

    #[test]
    fn btf_map_definition_is_read() {
        // strings: 0 "", 1 "int", 5 "type", 10 "key", 14 "value", 20 "m", 22 ".maps", 28 "max_entries"
        let s = b"\0int\0type\0key\0value\0m\0.maps\0max_entries\0";
        let types = vec![
            (1, KIND_INT, 0, 4, vec![32]),        // 1: int
            (0, KIND_ARRAY, 0, 0, vec![1, 1, 2]), // 2: int[2]
            (0, KIND_PTR, 0, 2, vec![]),          // 3: int (*)[2]
            (0, KIND_PTR, 0, 1, vec![]),          // 4: int *
            (0, KIND_ARRAY, 0, 0, vec![1, 1, 8]), // 5: int[8]
            (0, KIND_PTR, 0, 5, vec![]),          // 6: int (*)[8]
            (0, KIND_ARRAY, 0, 0, vec![1, 1, 3]), // 7: int[3]
            (0, KIND_PTR, 0, 7, vec![]),          // 8: int (*)[3]
            // 9: struct { type; key; value; max_entries }
            (
                0,
                KIND_STRUCT,
                4,
                32,
                vec![5, 3, 0, 10, 4, 64, 14, 8, 128, 28, 6, 192],
            ),
            (20, KIND_VAR, 0, 9, vec![1]),             // 10: var m
            (22, KIND_DATASEC, 1, 0, vec![10, 0, 32]), // 11: .maps
        ];
        let d = build(&types, s);
        let btf = Btf::parse(&d).unwrap();
        let defs = btf.map_defs().unwrap();
        let m = &defs["m"];
        assert_eq!(m.map_type, Some(2));
        assert_eq!(m.key_size, Some(4));
        assert_eq!(m.value_size, Some(12)); // int[3]
        assert_eq!(m.max_entries, Some(8));
    }

    #[test]
    fn btf_malformed_is_an_error() {
        assert!(Btf::parse(&[]).is_err());
        assert!(Btf::parse(&[0x9f, 0xeb, 1, 0, 24, 0, 0, 0]).is_err());
        let mut d = build(&[(0, KIND_STRUCT, 3, 0, vec![])], b"\0");
        assert!(Btf::parse(&d).is_err()); // members missing
        d = build(&[(0, 31, 0, 0, vec![])], b"\0");
        assert!(Btf::parse(&d).is_err()); // unknown kind
                                          // A typedef cycle is refused, not followed forever.
        let d = build(
            &[(0, KIND_TYPEDEF, 0, 1, vec![]), (0, KIND_PTR, 0, 1, vec![])],
            b"\0",
        );
        let btf = Btf::parse(&d).unwrap();
        assert!(btf.size_of(1, 0).is_err());
        assert!(btf.type_member(2).is_err());
    }

    #[test]
    fn btf_errors_say_what_and_where() {
        assert_eq!(
            Btf::parse(&[0x9f]).err(),
            Some(BtfError::TruncatedHeader { section: ".BTF" })
        );
        let d = build(
            &[(0, KIND_INT, 0, 4, vec![32]), (0, 31, 0, 0, vec![])],
            b"\0",
        );
        assert_eq!(
            Btf::parse(&d).err(),
            Some(BtfError::UnknownKind {
                type_id: 2,
                kind: 31
            })
        );
        let d = build(
            &[
                (0, KIND_INT, 0, 4, vec![32]),
                (0, KIND_STRUCT, 1, 0, vec![]),
            ],
            b"\0",
        );
        let e = Btf::parse(&d).err();
        assert_eq!(
            e,
            Some(BtfError::TruncatedType {
                type_id: 2,
                offset: 16
            })
        );
        let msg = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("type 2") && msg.contains("0x10"), "{msg}");
        let d = build(&[(0, KIND_FUNC, 0, 0, vec![])], b"\0");
        let btf = Btf::parse(&d).unwrap();
        assert_eq!(
            btf.size_of(1, 0),
            Err(BtfError::NoSize {
                type_id: 1,
                kind: KIND_FUNC
            })
        );
        assert_eq!(
            btf.size_of(5, 0),
            Err(BtfError::TypeIdOutOfRange { type_id: 5 })
        );
        assert_eq!(
            has_core_relocs(b"xx"),
            Err(BtfError::BadMagic {
                section: ".BTF.ext"
            })
        );
    }
}
