//! Loading relocatable eBPF ELF objects as `clang -target bpf -O2` emits them.
//!
//! [`Object::parse`] reads an object with the `object` crate's ELF reader and
//! does what libbpf does before `bpf(BPF_PROG_LOAD)`:
//! - creates every map: BTF-defined maps in `.maps` (read from `.BTF`),
//!   legacy `struct bpf_map_def` maps in `maps`, and one single-entry array
//!   map per global data section (`.data*`, `.rodata*`, `.bss*`);
//! - finds the programs: every global function in an executable section other
//!   than `.text` (several per section and per object are fine);
//! - links each program with the static functions of `.text` it calls
//!   (`R_BPF_64_32` call relocations), and resolves `R_BPF_64_64` LDDW
//!   relocations: a map reference becomes an ordinary 64-bit constant holding
//!   the map's **handle** (see [`crate::host::kernel::map_handle`]), a global
//!   variable reference the host address of the variable inside its data
//!   map's value. Engines therefore never see pseudo-loads.
//!
//! [`Object::load`] then turns one program into a [`LoadedProgram`]: context
//! accesses rewritten for its [`ProgramType`](crate::host::progtype::ProgramType),
//! decoded, validated, and paired with the kernel helpers it may call.
//! [`Object::load_set`] loads an entry program with every program of the
//! same type as a [`ProgramSet`], whose drivers follow `bpf_tail_call`s
//! (semantics in [`crate::host::kernel::tail`]). Program arrays
//! (`BPF_MAP_TYPE_PROG_ARRAY`) hold program indexes into
//! [`Object::programs`]; a BTF `__array(values, ...)` initialiser
//! (`R_BPF_64_ABS64` relocations in `.maps` against program symbols) fills
//! them at parse time, as libbpf does.
//!
//! ```
//! use cranebpf_runtime::elf::Object;
//! use cranebpf_runtime::kernel::XdpAction;
//! use cranebpf_runtime::{Interpreter, RunOptions};
//!
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/bpf/firewall.o");
//! let obj = Object::parse(&std::fs::read(path)?)?;
//! let prog = obj.load("xdp")?; // by section or function name
//! let interp = Interpreter::new(prog.program(), prog.helpers().clone())?;
//! // An ARP frame: not IPv4, so the firewall passes it.
//! let mut packet = vec![0xff; 6];
//! packet.extend_from_slice(&[2, 0, 0, 0, 0, 1, 0x08, 0x06]);
//! packet.resize(42, 0);
//! let out = prog.run_xdp(&mut packet, &RunOptions::default(), &interp);
//! assert_eq!(XdpAction::from_r0(out.result?), XdpAction::Pass);
//! // The program counted it in its `.bss` global.
//! let bss = obj.map(".bss").unwrap().lookup(&0u32.to_le_bytes()).unwrap();
//! assert_eq!(bss, 1u64.to_le_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Anything the loader does not implement (other relocation types, CO-RE
//! relocations, map types such as map-in-map, calls through function
//! pointers, kfuncs, `bpf_tail_call` from a subprogram) is an [`ElfError`]
//! naming it, never a silent miscompile. Malformed input (truncated, wrong
//! machine, bad relocation offsets, out-of-range indexes, huge sizes) is an
//! error too.

mod btf;
mod btf_value;
mod load;
mod run;
mod set;

pub use btf::BtfError;
pub use btf_value::{Field, MapTypes, ValueType};
pub use load::{LoadOptions, LoadedProgram};
pub use run::SkbOutcome;
pub use set::ProgramSet;

use crate::host::maps::{Map, MapDef, MapError, MapType};
use crate::host::progtype::CtxError;
use crate::isa::insn::RawInsn;
use crate::isa::program::LoadError;
use object::elf;
use object::read::elf::{FileHeader, Rel, SectionHeader, Sym};
use object::LittleEndian as LE;
use std::collections::HashMap;
use std::fmt;

/// `R_BPF_64_64`: LDDW of a map or global variable address.
const R_BPF_64_64: u32 = 1;
/// `R_BPF_64_32`: call of a function in another section.
const R_BPF_64_32: u32 = 10;
/// `R_BPF_NONE`.
const R_BPF_NONE: u32 = 0;
/// `R_BPF_64_ABS64`: a 64-bit address in data (a program array's `values`).
const R_BPF_64_ABS64: u32 = 2;
/// The largest code section we accept (the validator's slot limit is lower).
const MAX_CODE_BYTES: u64 = 8 << 20;

/// Why an object could not be loaded. Every variant names where.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElfError {
    /// The bytes are not a well-formed ELF file.
    Malformed {
        /// What the ELF reader found.
        reason: String,
    },
    /// Not a little-endian 64-bit relocatable eBPF object (`EM_BPF`, `ET_REL`).
    NotBpf {
        /// What was wrong: machine, type or byte order.
        reason: String,
    },
    /// A section we need is malformed.
    BadSection {
        /// Section name (or index).
        section: String,
        /// What was wrong.
        reason: String,
    },
    /// A relocation that points outside its section, at the wrong
    /// instruction, or at a symbol or target that cannot be used.
    BadRelocation {
        /// The section the relocation applies to.
        section: String,
        /// Byte offset in that section.
        offset: u64,
        /// What was wrong.
        reason: String,
    },
    /// A relocation type the loader does not implement.
    UnsupportedRelocation {
        /// The section the relocation applies to.
        section: String,
        /// Byte offset in that section.
        offset: u64,
        /// The ELF relocation type.
        r_type: u32,
    },
    /// A feature the loader does not implement (CO-RE, function pointers,
    /// `bpf_tail_call` from a subprogram, kfuncs, unknown program types...).
    Unsupported {
        /// What, and where.
        what: String,
    },
    /// A map could not be created.
    Map {
        /// The map's name.
        map: String,
        /// Why.
        error: MapError,
    },
    /// `.BTF` is malformed or describes a map we cannot read.
    Btf {
        /// What was wrong, and where.
        error: BtfError,
    },
    /// The object has more maps or programs than its
    /// [`ObjectLimits`] allow.
    TooMany {
        /// `"maps"` or `"programs"`.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// No program by that name or section.
    NoProgram {
        /// The name asked for.
        name: String,
    },
    /// A program calls a helper its program type does not provide.
    UnsupportedHelper {
        /// The program.
        program: String,
        /// Slot index of the call.
        pc: usize,
        /// Helper id.
        id: u32,
    },
    /// Context rewriting refused the program.
    Ctx {
        /// The program.
        program: String,
        /// Why.
        error: CtxError,
    },
    /// The linked program did not decode or validate.
    Load {
        /// The program.
        program: String,
        /// Why.
        error: LoadError,
    },
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElfError::Malformed { reason } => write!(f, "malformed ELF: {reason}"),
            ElfError::NotBpf { reason } => write!(f, "not an eBPF object: {reason}"),
            ElfError::BadSection { section, reason } => write!(f, "section {section}: {reason}"),
            ElfError::BadRelocation {
                section,
                offset,
                reason,
            } => write!(f, "relocation at {section}+{offset:#x}: {reason}"),
            ElfError::UnsupportedRelocation {
                section,
                offset,
                r_type,
            } => write!(
                f,
                "relocation at {section}+{offset:#x}: unsupported relocation type {r_type}{}",
                match *r_type {
                    2 => " (R_BPF_64_ABS64)",
                    3 => " (R_BPF_64_ABS32)",
                    4 => " (R_BPF_64_NODYLD32)",
                    _ => "",
                }
            ),
            ElfError::Unsupported { what } => write!(f, "unsupported: {what}"),
            ElfError::Map { map, error } => write!(f, "map {map}: {error}"),
            ElfError::Btf { error } => write!(f, "BTF: {error}"),
            ElfError::TooMany { what, limit } => {
                write!(f, "the object has more than {limit} {what}, the limit (ObjectLimits)")
            }
            ElfError::NoProgram { name } => write!(f, "no program or section named {name:?}"),
            ElfError::UnsupportedHelper { program, pc, id } => write!(
                f,
                "program {program}, pc {pc}: helper {id} ({}) is not available to this program type",
                crate::host::kernel::helper_name(*id).unwrap_or("unknown")
            ),
            ElfError::Ctx { program, error } => write!(f, "program {program}: {error}"),
            ElfError::Load { program, error } => write!(f, "program {program}: {error}"),
        }
    }
}

impl std::error::Error for ElfError {}

impl ElfError {
    /// A BTF error as an `ElfError`.
    fn btf(error: BtfError) -> ElfError {
        ElfError::Btf { error }
    }
}

fn malformed(e: object::read::Error) -> ElfError {
    ElfError::Malformed {
        reason: e.to_string(),
    }
}

/// A program found in an object, linked and relocated but not yet loaded.
#[derive(Clone, Debug)]
pub struct ObjProgram {
    /// The function's symbol name.
    pub name: String,
    /// The section it lives in (e.g. `xdp`).
    pub section: String,
    /// The relocated slots: the function, then `.text` if it calls into it.
    pub slots: Vec<RawInsn>,
}

/// A parsed, relocated object: its maps and programs.
#[derive(Clone, Debug)]
pub struct Object {
    maps: Vec<Map>,
    programs: Vec<ObjProgram>,
    license: String,
    /// Key and value types of the maps `.BTF` describes, by map name.
    map_types: HashMap<String, MapTypes>,
}

/// Where a relocation's symbol points.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Map `idx` of the object.
    Map(usize),
    /// Byte `off` of data map `idx`.
    Data(usize, u64),
    /// Byte offset within the section with this index (code).
    Code(usize, u64),
}

struct Section<'d> {
    name: String,
    sh_type: u32,
    flags: u64,
    size: u64,
    data: &'d [u8],
}

/// One relocation, resolved to its symbol.
#[derive(Clone, Copy, Debug)]
struct Reloc {
    offset: u64,
    r_type: u32,
    sym: usize,
}

#[derive(Clone, Debug)]
struct Symbol {
    name: String,
    st_type: u8,
    global: bool,
    /// Section index, if defined in a real section.
    section: Option<usize>,
    value: u64,
    size: u64,
}

/// The object's section header table.
type Table<'d> = object::read::elf::SectionTable<'d, elf::FileHeader64<LE>>;

/// What one object may make the loader allocate: the memory of all its maps
/// together ([`MapDef::cost`] each), how many maps and how many programs.
/// Going past one is an [`ElfError`] naming the map or the count, raised
/// before anything is allocated for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObjectLimits {
    /// Bytes all maps may take together (default
    /// [`crate::host::maps::DEFAULT_MAPS_BUDGET`], 1 GiB).
    pub map_bytes: u64,
    /// Maps, global data sections included (default [`MAX_OBJECT_MAPS`]).
    pub maps: usize,
    /// Programs (default [`MAX_OBJECT_PROGRAMS`]).
    pub programs: usize,
}

/// The default limit on an object's maps (the kernel allows 64 per program).
pub const MAX_OBJECT_MAPS: usize = 1024;
/// The default limit on an object's programs.
pub const MAX_OBJECT_PROGRAMS: usize = 1024;

impl Default for ObjectLimits {
    fn default() -> ObjectLimits {
        ObjectLimits {
            map_bytes: crate::host::maps::DEFAULT_MAPS_BUDGET,
            maps: MAX_OBJECT_MAPS,
            programs: MAX_OBJECT_PROGRAMS,
        }
    }
}

impl ObjectLimits {
    /// The limits with a different map memory budget.
    pub fn with_map_bytes(self, map_bytes: u64) -> ObjectLimits {
        ObjectLimits { map_bytes, ..self }
    }

    /// The limits with a different number of maps.
    pub fn with_maps(self, maps: usize) -> ObjectLimits {
        ObjectLimits { maps, ..self }
    }

    /// The limits with a different number of programs.
    pub fn with_programs(self, programs: usize) -> ObjectLimits {
        ObjectLimits { programs, ..self }
    }
}

/// What the map phases place: the maps so far, and where symbols and
/// sections point (the bases relocations resolve against).
#[derive(Default)]
struct Placed {
    limits: ObjectLimits,
    /// What the maps so far may take ([`MapDef::cost`]).
    map_bytes: u64,
    maps: Vec<Map>,
    /// Symbol index -> target (map symbols).
    targets: HashMap<usize, Target>,
    /// Section index -> target base (data and code sections).
    sec_targets: HashMap<usize, Target>,
}

impl Placed {
    /// Creates a map after charging it to the limits: the error names it.
    fn new_map(&mut self, name: &str, def: MapDef) -> Result<Map, ElfError> {
        self.charge(name, def.cost())?;
        new_map(name, def)
    }

    /// Counts one more map of up to `cost` bytes against the limits.
    fn charge(&mut self, name: &str, cost: u64) -> Result<(), ElfError> {
        if self.maps.len() >= self.limits.maps {
            return Err(ElfError::TooMany {
                what: "maps",
                limit: self.limits.maps,
            });
        }
        let used = self.map_bytes;
        if cost.saturating_add(used) > self.limits.map_bytes {
            return Err(ElfError::Map {
                map: name.into(),
                error: MapError::OverBudget {
                    cost,
                    used,
                    budget: self.limits.map_bytes,
                },
            });
        }
        self.map_bytes = used + cost;
        Ok(())
    }

    /// Adds `map`, which the symbol `si` names.
    fn add_symbol_map(&mut self, si: usize, map: Map) {
        self.targets.insert(si, Target::Map(self.maps.len()));
        self.maps.push(map);
    }

    /// Where symbol `sym` points, if anywhere a relocation may name.
    fn resolve(&self, symbols: &[Symbol], sym: usize) -> Option<Target> {
        let s = &symbols[sym];
        if let Some(t) = self.targets.get(&sym) {
            return Some(*t);
        }
        let si = s.section?;
        match self.sec_targets.get(&si)? {
            Target::Data(m, _) => Some(Target::Data(*m, s.value)),
            Target::Code(c, _) => Some(Target::Code(*c, s.value)),
            Target::Map(_) => None,
        }
    }
}

impl Object {
    /// Parses and relocates an eBPF object. See the module docs.
    ///
    /// The phases, in order (the first error wins): the header; the
    /// sections, symbols and relocations; refusing CO-RE; the license; the
    /// maps (BTF-defined, legacy, global data); refusing data relocations;
    /// checking code sections; linking each program; filling program arrays.
    pub fn parse(data: &[u8]) -> Result<Object, ElfError> {
        Object::parse_with(data, ObjectLimits::default())
    }

    /// [`Object::parse`] under `limits` instead of the default ones.
    pub fn parse_with(data: &[u8], limits: ObjectLimits) -> Result<Object, ElfError> {
        let (header, endian) = check_header(data)?;
        let table = header.sections(endian, data).map_err(malformed)?;
        let sections = read_sections(&table, endian, data)?;
        let symbols = read_symbols(&table, endian, data, sections.len())?;
        let relocs = read_relocs(&table, endian, data, &sections, symbols.len())?;
        refuse_core_relocs(&sections)?;
        let license = read_license(&sections);

        let mut placed = Placed {
            limits,
            ..Placed::default()
        };
        let maps_sec = sections.iter().position(|s| s.name == ".maps");
        let values_at = match maps_sec {
            Some(msec) => add_btf_maps(&sections, &symbols, msec, &mut placed)?,
            None => HashMap::new(),
        };
        add_legacy_maps(&sections, &symbols, &mut placed)?;
        add_global_data(&sections, &mut placed)?;
        refuse_data_relocs(&sections, &relocs, &placed)?;
        check_code_sections(&sections, &relocs, &mut placed)?;

        let programs = link_programs(&sections, &relocs, &symbols, &placed)?;
        if let Some(msec) = maps_sec {
            let list = relocs.get(&msec).map(Vec::as_slice).unwrap_or(&[]);
            init_prog_arrays(
                &sections[msec].name,
                list,
                &symbols,
                msec,
                &values_at,
                &placed.targets,
                &placed.maps,
                &programs,
            )?;
        }
        let map_types = sections
            .iter()
            .find(|s| s.name == ".BTF")
            .and_then(|s| btf::Btf::parse(s.data).ok())
            .map(|b| MapTypes::of(&b))
            .unwrap_or_default();
        Ok(Object {
            maps: placed.maps,
            programs,
            license,
            map_types,
        })
    }

    /// The key and value types of map `name`, if the object's BTF
    /// describes them (for formatting its contents; see [`ValueType`]).
    pub fn map_types(&self, name: &str) -> Option<&MapTypes> {
        self.map_types.get(name)
    }

    /// The programs, in section order.
    pub fn programs(&self) -> &[ObjProgram] {
        &self.programs
    }

    /// Every map: BTF and legacy maps, then global data maps (named after
    /// their sections, e.g. `.rodata`).
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// The map with this name.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name() == name)
    }

    /// Makes the object use `map` (the embedder's, or another object's)
    /// instead of the map it defines under `name`, as libbpf's
    /// `bpf_map__reuse_fd` does: programs loaded afterwards share it. The
    /// definitions must match. Global data maps (`.data`, ...) cannot be
    /// replaced: programs reach them by address.
    pub fn reuse_map(&mut self, name: &str, map: Map) -> Result<(), ElfError> {
        let err = |reason: String| ElfError::Map {
            map: name.into(),
            error: MapError::BadDef { reason },
        };
        let slot = self
            .maps
            .iter_mut()
            .find(|m| m.name() == name)
            .ok_or_else(|| err("no such map in the object".into()))?;
        if name.starts_with('.') {
            return Err(err("global data maps cannot be replaced".into()));
        }
        if slot.def() != map.def() {
            return Err(err(format!(
                "definition {:?} does not match {:?}",
                map.def(),
                slot.def()
            )));
        }
        *slot = map;
        Ok(())
    }

    /// The `license` section's string ("" if absent).
    pub fn license(&self) -> &str {
        &self.license
    }

    /// The program with this function name, or the first program in the
    /// section with this name.
    pub fn program(&self, name: &str) -> Option<&ObjProgram> {
        self.programs
            .iter()
            .find(|p| p.name == name)
            .or_else(|| self.programs.iter().find(|p| p.section == name))
    }
}

/// The ELF header: 64-bit little-endian, EM_BPF, relocatable.
fn check_header(data: &[u8]) -> Result<(&elf::FileHeader64<LE>, LE), ElfError> {
    let header = elf::FileHeader64::<LE>::parse(data).map_err(malformed)?;
    let endian = header.endian().map_err(|_| ElfError::NotBpf {
        reason: "big-endian object (built for bpfeb?)".into(),
    })?;
    if header.e_machine(endian).0 != elf::EM_BPF.0 {
        return Err(ElfError::NotBpf {
            reason: format!("machine {} is not EM_BPF (247)", header.e_machine(endian).0),
        });
    }
    if header.e_type(endian).0 != elf::ET_REL.0 {
        return Err(ElfError::NotBpf {
            reason: format!(
                "ELF type {} is not relocatable (ET_REL)",
                header.e_type(endian).0
            ),
        });
    }
    Ok((header, endian))
}

/// Every section's name, type, flags, size and bytes (none for NOBITS).
fn read_sections<'d>(
    table: &Table<'d>,
    endian: LE,
    data: &'d [u8],
) -> Result<Vec<Section<'d>>, ElfError> {
    let mut sections = Vec::with_capacity(table.len());
    for (i, sh) in table.iter().enumerate() {
        let name = table
            .section_name(endian, sh)
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_else(|_| format!("#{i}"));
        let sh_type = sh.sh_type(endian).0;
        let bytes = if sh_type == elf::SHT_NOBITS.0 {
            &[][..]
        } else {
            sh.data(endian, data).map_err(|e| ElfError::BadSection {
                section: name.clone(),
                reason: e.to_string(),
            })?
        };
        sections.push(Section {
            name,
            sh_type,
            flags: sh.sh_flags(endian).0,
            size: sh.sh_size(endian),
            data: bytes,
        });
    }
    Ok(sections)
}

/// The symbol table; a symbol's section is one of the `n_sections`.
fn read_symbols(
    table: &Table<'_>,
    endian: LE,
    data: &[u8],
    n_sections: usize,
) -> Result<Vec<Symbol>, ElfError> {
    let symtab = table
        .symbols(endian, data, elf::SHT_SYMTAB)
        .map_err(malformed)?;
    let mut symbols = Vec::with_capacity(symtab.len());
    for (i, s) in symtab.iter().enumerate() {
        let name = s
            .name(endian, symtab.strings())
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .map_err(|e| ElfError::Malformed {
                reason: format!("symbol {i}: {e}"),
            })?;
        let shndx = s.st_shndx(endian).0;
        let section = (shndx != 0 && shndx < 0xff00).then_some(shndx as usize);
        if let Some(si) = section {
            if si >= n_sections {
                return Err(ElfError::Malformed {
                    reason: format!("symbol {name:?} names section {si} of {n_sections}"),
                });
            }
        }
        symbols.push(Symbol {
            name,
            st_type: s.st_type().0,
            global: s.st_bind().0 != elf::STB_LOCAL.0,
            section,
            value: s.st_value(endian),
            size: s.st_size(endian),
        });
    }
    Ok(symbols)
}

/// The REL relocations, by the section they apply to (RELA is refused);
/// each names one of the `n_symbols`.
fn read_relocs(
    table: &Table<'_>,
    endian: LE,
    data: &[u8],
    sections: &[Section<'_>],
    n_symbols: usize,
) -> Result<HashMap<usize, Vec<Reloc>>, ElfError> {
    let mut relocs: HashMap<usize, Vec<Reloc>> = HashMap::new();
    for (i, sh) in table.iter().enumerate() {
        let t = sh.sh_type(endian).0;
        if t == elf::SHT_RELA.0 {
            return Err(ElfError::BadSection {
                section: sections[i].name.clone(),
                reason: "RELA relocations are not used by eBPF objects".into(),
            });
        }
        if t != elf::SHT_REL.0 {
            continue;
        }
        let target = sh.sh_info(endian) as usize;
        if target >= sections.len() {
            return Err(ElfError::BadSection {
                section: sections[i].name.clone(),
                reason: format!("applies to section {target} of {}", sections.len()),
            });
        }
        let rels: &[elf::Rel64<LE>] =
            sh.data_as_array(endian, data)
                .map_err(|e| ElfError::BadSection {
                    section: sections[i].name.clone(),
                    reason: e.to_string(),
                })?;
        let list = relocs.entry(target).or_default();
        for r in rels {
            let sym = r.r_sym(endian) as usize;
            let offset = r.r_offset(endian);
            if sym >= n_symbols {
                return Err(ElfError::BadRelocation {
                    section: sections[target].name.clone(),
                    offset,
                    reason: format!("symbol index {sym} out of range"),
                });
            }
            list.push(Reloc {
                offset,
                r_type: r.r_type(endian).0,
                sym,
            });
        }
    }
    Ok(relocs)
}

/// CO-RE relocations would be silently ignored: refuse them.
fn refuse_core_relocs(sections: &[Section<'_>]) -> Result<(), ElfError> {
    if let Some(ext) = sections.iter().find(|s| s.name == ".BTF.ext") {
        if btf::has_core_relocs(ext.data).map_err(ElfError::btf)? {
            return Err(ElfError::Unsupported {
                what: "CO-RE relocations (.BTF.ext core_relo records)".into(),
            });
        }
    }
    Ok(())
}

/// The `license` section's string (up to its NUL), or empty.
fn read_license(sections: &[Section<'_>]) -> String {
    sections
        .iter()
        .find(|s| s.name == "license")
        .map(|s| {
            let end = s.data.iter().position(|&b| b == 0).unwrap_or(s.data.len());
            String::from_utf8_lossy(&s.data[..end]).into_owned()
        })
        .unwrap_or_default()
}

/// The BTF-defined maps of `.maps` (section `msec`), described by `.BTF`.
/// Returns, for each program array with a `values` initialiser, its symbol
/// -> the offset of that initialiser.
fn add_btf_maps(
    sections: &[Section<'_>],
    symbols: &[Symbol],
    msec: usize,
    placed: &mut Placed,
) -> Result<HashMap<usize, u32>, ElfError> {
    let mut values_at: HashMap<usize, u32> = HashMap::new();
    let btf_sec = sections
        .iter()
        .find(|s| s.name == ".BTF")
        .ok_or(ElfError::btf(BtfError::MapsWithoutBtf))?;
    let btf = btf::Btf::parse(btf_sec.data).map_err(ElfError::btf)?;
    let defs = btf.map_defs().map_err(ElfError::btf)?;
    for (si, s) in symbols.iter().enumerate() {
        if s.section != Some(msec) || s.st_type == elf::STT_SECTION.0 || s.name.is_empty() {
            continue;
        }
        let d = defs.get(&s.name).ok_or_else(|| {
            ElfError::btf(BtfError::NoMapDefinition {
                map: s.name.clone(),
            })
        })?;
        if let Some(m) = d.unsupported.first() {
            return Err(ElfError::Unsupported {
                what: format!("map {}: BTF map member {m:?}", s.name),
            });
        }
        let need = |v: Option<u32>, member: &'static str| {
            v.ok_or_else(|| {
                ElfError::btf(BtfError::MissingMember {
                    map: s.name.clone(),
                    member,
                })
            })
        };
        let raw_type = need(d.map_type, "type")?;
        let map_type = map_type(&s.name, raw_type)?;
        match d.values_offset {
            Some(off) if map_type == MapType::ProgArray => {
                values_at.insert(si, off);
            }
            Some(_) => {
                return Err(ElfError::Unsupported {
                    what: format!("map {}: BTF map member \"values\" (map in map)", s.name),
                })
            }
            None => {}
        }
        // `__array(values, ...)` gives no value size: libbpf uses
        // 4 (a program fd; here a program index).
        let implied = if d.values_offset.is_some() { 4 } else { 0 };
        let def = MapDef {
            map_type,
            key_size: d.key_size.unwrap_or(0),
            value_size: d.value_size.unwrap_or(implied),
            max_entries: need(d.max_entries, "max_entries")?,
            flags: d.map_flags.unwrap_or(0),
        };
        let map = placed.new_map(&s.name, def)?;
        placed.add_symbol_map(si, map);
    }
    Ok(values_at)
}

/// Legacy maps: one `struct bpf_map_def` (5 x u32, possibly longer) per
/// symbol of a `maps` or `maps/...` section, in address order.
fn add_legacy_maps(
    sections: &[Section<'_>],
    symbols: &[Symbol],
    placed: &mut Placed,
) -> Result<(), ElfError> {
    for (msec, sec) in sections.iter().enumerate() {
        if sec.name != "maps" && !sec.name.starts_with("maps/") {
            continue;
        }
        let mut syms: Vec<usize> = (0..symbols.len())
            .filter(|&i| {
                symbols[i].section == Some(msec)
                    && symbols[i].st_type != elf::STT_SECTION.0
                    && !symbols[i].name.is_empty()
            })
            .collect();
        syms.sort_by_key(|&i| symbols[i].value);
        for &si in &syms {
            let s = &symbols[si];
            let field = |k: u64| -> Result<u32, ElfError> {
                let off = s
                    .value
                    .checked_add(4 * k)
                    .and_then(|o| usize::try_from(o).ok());
                off.and_then(|o| sec.data.get(o..o.checked_add(4)?))
                    .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .ok_or_else(|| ElfError::BadSection {
                        section: sec.name.clone(),
                        reason: format!("map definition {} is truncated", s.name),
                    })
            };
            let def = MapDef {
                map_type: map_type(&s.name, field(0)?)?,
                key_size: field(1)?,
                value_size: field(2)?,
                max_entries: field(3)?,
                flags: field(4)?,
            };
            let map = placed.new_map(&s.name, def)?;
            placed.add_symbol_map(si, map);
        }
    }
    Ok(())
}

/// Global data: each allocated `.data`, `.rodata` or `.bss` section (or
/// `.data.*`, ...) becomes a one-entry array map.
fn add_global_data(sections: &[Section<'_>], placed: &mut Placed) -> Result<(), ElfError> {
    for (i, sec) in sections.iter().enumerate() {
        let is_data = [".data", ".rodata", ".bss"]
            .iter()
            .any(|p| sec.name == *p || sec.name.starts_with(&format!("{p}.")));
        if !is_data || sec.flags & elf::SHF_ALLOC.0 == 0 {
            continue;
        }
        // Saturating: a hostile size near u64::MAX is charged (and refused)
        // as the largest cost, not wrapped to a small one.
        placed.charge(&sec.name, sec.size.max(1).div_ceil(8).saturating_mul(8))?;
        let init: Vec<u8> = if sec.sh_type == elf::SHT_NOBITS.0 {
            if sec.size > u64::from(crate::host::maps::MAX_VALUE_SIZE) {
                return Err(ElfError::Map {
                    map: sec.name.clone(),
                    error: MapError::BadDef {
                        reason: format!("{} bytes of global data", sec.size),
                    },
                });
            }
            vec![0; sec.size as usize]
        } else {
            sec.data.to_vec()
        };
        let map = Map::global_data(&sec.name, &init).map_err(|error| ElfError::Map {
            map: sec.name.clone(),
            error,
        })?;
        placed
            .sec_targets
            .insert(i, Target::Data(placed.maps.len(), 0));
        placed.maps.push(map);
    }
    Ok(())
}

/// Pointers stored in global data would need data relocations: refuse them.
fn refuse_data_relocs(
    sections: &[Section<'_>],
    relocs: &HashMap<usize, Vec<Reloc>>,
    placed: &Placed,
) -> Result<(), ElfError> {
    for (sec, list) in relocs {
        if matches!(placed.sec_targets.get(sec), Some(Target::Data(..)))
            && list.iter().any(|r| r.r_type != R_BPF_NONE)
        {
            return Err(ElfError::Unsupported {
                what: format!(
                    "relocations in data section {} (pointers in global data)",
                    sections[*sec].name
                ),
            });
        }
    }
    Ok(())
}

/// Code sections: whole instructions, not too large, every relocation on an
/// instruction; each becomes a code target base.
fn check_code_sections(
    sections: &[Section<'_>],
    relocs: &HashMap<usize, Vec<Reloc>>,
    placed: &mut Placed,
) -> Result<(), ElfError> {
    for (i, sec) in sections.iter().enumerate() {
        if sec.flags & elf::SHF_EXECINSTR.0 != 0 {
            if sec.size % 8 != 0 || sec.size > MAX_CODE_BYTES || sec.data.len() as u64 != sec.size {
                return Err(ElfError::BadSection {
                    section: sec.name.clone(),
                    reason: format!(
                        "code size {} is not a multiple of 8 up to {MAX_CODE_BYTES}",
                        sec.size
                    ),
                });
            }
            // Every relocation must name an instruction of the section.
            for r in relocs.get(&i).map(Vec::as_slice).unwrap_or(&[]) {
                if r.offset % 8 != 0 || r.offset >= sec.size {
                    return Err(ElfError::BadRelocation {
                        section: sec.name.clone(),
                        offset: r.offset,
                        reason: format!("not an instruction of the {}-byte section", sec.size),
                    });
                }
            }
            placed.sec_targets.insert(i, Target::Code(i, 0));
        }
    }
    Ok(())
}

/// Links every program: each global function of a code section other than
/// `.text` (or the whole section if it has none), with `.text` appended if
/// it calls into it.
fn link_programs(
    sections: &[Section<'_>],
    relocs: &HashMap<usize, Vec<Reloc>>,
    symbols: &[Symbol],
    placed: &Placed,
) -> Result<Vec<ObjProgram>, ElfError> {
    let text = sections
        .iter()
        .position(|s| s.name == ".text" && s.size > 0 && s.flags & elf::SHF_EXECINSTR.0 != 0);
    let resolve = |sym: usize| placed.resolve(symbols, sym);
    let linker = load::Linker {
        sections,
        relocs,
        symbols,
        resolve: &resolve,
        maps: &placed.maps,
        text,
    };
    let mut programs = Vec::new();
    for (i, sec) in sections.iter().enumerate() {
        if sec.flags & elf::SHF_EXECINSTR.0 == 0 || sec.name == ".text" || sec.size == 0 {
            continue;
        }
        let mut funcs: Vec<&Symbol> = symbols
            .iter()
            .filter(|s| s.section == Some(i) && s.st_type == elf::STT_FUNC.0 && s.global)
            .collect();
        funcs.sort_by_key(|s| s.value);
        if programs.len() + funcs.len().max(1) > placed.limits.programs {
            return Err(ElfError::TooMany {
                what: "programs",
                limit: placed.limits.programs,
            });
        }
        if funcs.is_empty() {
            programs.push(linker.link(&sec.name, i, 0, sec.size)?);
        }
        for f in funcs {
            let size = if f.size == 0 {
                sec.size.saturating_sub(f.value)
            } else {
                f.size
            };
            programs.push(linker.link(&f.name, i, f.value, size)?);
        }
    }
    Ok(programs)
}

fn map_type(name: &str, raw: u32) -> Result<MapType, ElfError> {
    MapType::from_kernel_id(raw).ok_or_else(|| ElfError::Map {
        map: name.into(),
        error: MapError::UnsupportedType {
            id: raw,
            name: MapType::kernel_name(raw),
        },
    })
}

fn new_map(name: &str, def: MapDef) -> Result<Map, ElfError> {
    Map::new(name, def).map_err(|error| ElfError::Map {
        map: name.into(),
        error,
    })
}

/// Fills program arrays from their BTF `values` initialisers: clang emits
/// `.values = { [i] = &prog }` as an `R_BPF_64_ABS64` relocation in `.maps`
/// at `map + values_offset + 8 * i` against the program's symbol; slot `i`
/// gets the program's index in [`Object::programs`].
#[allow(clippy::too_many_arguments)]
fn init_prog_arrays(
    section: &str,
    relocs: &[Reloc],
    symbols: &[Symbol],
    msec: usize,
    values_at: &HashMap<usize, u32>,
    targets: &HashMap<usize, Target>,
    maps: &[Map],
    programs: &[ObjProgram],
) -> Result<(), ElfError> {
    // Indexes built once, so the work is linear in relocations and symbols
    // (a scan per relocation was quadratic: 100 000 x 100 000 took 25 s).
    let mut map_syms: Vec<(u64, usize)> = (0..symbols.len())
        .filter(|&i| {
            symbols[i].section == Some(msec) && symbols[i].st_type != object::elf::STT_SECTION.0
        })
        .map(|i| (symbols[i].value, i))
        .collect();
    map_syms.sort_unstable();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (i, p) in programs.iter().enumerate() {
        by_name.entry(p.name.as_str()).or_insert(i);
    }
    for r in relocs {
        if r.r_type == R_BPF_NONE {
            continue;
        }
        let bad = |reason: String| ElfError::BadRelocation {
            section: section.into(),
            offset: r.offset,
            reason,
        };
        if r.r_type != R_BPF_64_ABS64 {
            return Err(ElfError::UnsupportedRelocation {
                section: section.into(),
                offset: r.offset,
                r_type: r.r_type,
            });
        }
        // The map whose definition holds the relocated word: the last map
        // symbol starting at or before it (the highest index among equals).
        let at = map_syms.partition_point(|&(v, _)| v <= r.offset);
        let owner = at
            .checked_sub(1)
            .map(|k| map_syms[k].1)
            .ok_or_else(|| bad("not inside a map definition".into()))?;
        let (Some(&values), Some(Target::Map(m))) = (values_at.get(&owner), targets.get(&owner))
        else {
            return Err(ElfError::Unsupported {
                what: format!(
                    "{section}+{:#x}: pointer in the definition of map {} (only program arrays' `values`)",
                    r.offset, symbols[owner].name
                ),
            });
        };
        let rel = r.offset - symbols[owner].value;
        let slot = rel
            .checked_sub(u64::from(values))
            .filter(|o| o % 8 == 0)
            .map(|o| o / 8)
            .ok_or_else(|| {
                bad(format!(
                    "not a slot of map {}'s values",
                    symbols[owner].name
                ))
            })?;
        let map = &maps[*m];
        let slot = u32::try_from(slot)
            .ok()
            .filter(|&s| s < map.def().max_entries)
            .ok_or_else(|| bad(format!("slot {slot} outside map {}", map.name())))?;
        let sym = &symbols[r.sym];
        let prog = by_name
            .get(sym.name.as_str())
            .copied()
            .filter(|_| sym.st_type == object::elf::STT_FUNC.0)
            .ok_or_else(|| bad(format!("{:?} is not a program of the object", sym.name)))?;
        let prog = u32::try_from(prog).map_err(|_| bad("too many programs".into()))?;
        map.set_prog(slot, prog).map_err(|error| ElfError::Map {
            map: map.name().into(),
            error,
        })?;
    }
    Ok(())
}
