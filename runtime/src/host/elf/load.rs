//! Linking one program (its function plus `.text`), applying relocations, and
//! turning the result into a [`LoadedProgram`].

use super::{
    ElfError, ObjProgram, Object, Reloc, Section, Symbol, Target, R_BPF_64_32, R_BPF_64_64,
    R_BPF_NONE,
};
use crate::host::helpers::Helpers;
use crate::host::kernel::{self, KernelOptions};
use crate::host::maps::Map;
use crate::host::progtype::{rewrite_ctx, ProgramType};
use crate::isa::decode::decode_all;
use crate::isa::insn::{CallKind, Insn, RawInsn};
use crate::isa::program::Program;
use std::collections::HashMap;

/// `call` opcode (JMP | CALL).
const OP_CALL: u8 = 0x85;
/// `lddw` opcode (LD | IMM | DW).
const OP_LDDW: u8 = 0x18;

pub(super) struct Linker<'a, 'd> {
    pub(super) sections: &'a [Section<'d>],
    pub(super) relocs: &'a HashMap<usize, Vec<Reloc>>,
    pub(super) symbols: &'a [Symbol],
    pub(super) resolve: &'a dyn Fn(usize) -> Option<Target>,
    pub(super) maps: &'a [Map],
    pub(super) text: Option<usize>,
}

fn slots_of(bytes: &[u8]) -> Vec<RawInsn> {
    bytes
        .chunks_exact(8)
        .map(|c| RawInsn::from_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

impl Linker<'_, '_> {
    /// Links the function at `[start, start + size)` of section `sec`.
    pub(super) fn link(
        &self,
        name: &str,
        sec: usize,
        start: u64,
        size: u64,
    ) -> Result<ObjProgram, ElfError> {
        let s = &self.sections[sec];
        let bad = |reason: String| ElfError::BadSection {
            section: s.name.clone(),
            reason,
        };
        let end = start
            .checked_add(size)
            .filter(|&e| e <= s.data.len() as u64);
        let Some(end) =
            end.filter(|_| start.is_multiple_of(8) && size.is_multiple_of(8) && size > 0)
        else {
            return Err(bad(format!("function {name} at {start:#x}+{size:#x} is not whole instructions inside the section")));
        };
        let mut slots = slots_of(&s.data[start as usize..end as usize]);
        let own = self.relocs.get(&sec).map(Vec::as_slice).unwrap_or(&[]);
        let own: Vec<Reloc> = own
            .iter()
            .copied()
            .filter(|r| r.offset >= start && r.offset < end)
            .collect();
        let calls_text = own.iter().any(|r| r.r_type == R_BPF_64_32);
        let mut text_base = None;
        if calls_text {
            if let Some(t) = self.text {
                text_base = Some(slots.len());
                slots.extend(slots_of(self.sections[t].data));
            }
        }
        for r in &own {
            self.apply(&mut slots, sec, start, 0, end - start, text_base, r)?;
        }
        if let (Some(t), Some(base)) = (self.text, text_base) {
            let tsize = self.sections[t].data.len() as u64;
            for r in self.relocs.get(&t).map(Vec::as_slice).unwrap_or(&[]) {
                self.apply(&mut slots, t, 0, base, tsize, text_base, r)?;
            }
        }
        Ok(ObjProgram {
            name: name.into(),
            section: s.name.clone(),
            slots,
        })
    }

    /// Applies relocation `r` of section `sec`, whose bytes
    /// `[sec_start, sec_start + len)` were copied to slot `base`.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &self,
        slots: &mut [RawInsn],
        sec: usize,
        sec_start: u64,
        base: usize,
        len: u64,
        text_base: Option<usize>,
        r: &Reloc,
    ) -> Result<(), ElfError> {
        let section = &self.sections[sec].name;
        let bad = |reason: String| ElfError::BadRelocation {
            section: section.clone(),
            offset: r.offset,
            reason,
        };
        let rel = r.offset - sec_start;
        if !rel.is_multiple_of(8) || rel.saturating_add(8) > len {
            return Err(bad("offset is not an instruction of the section".into()));
        }
        let pc = base + (rel / 8) as usize;
        let sym = &self.symbols[r.sym];
        let target = (self.resolve)(r.sym);
        match r.r_type {
            R_BPF_NONE => Ok(()),
            R_BPF_64_64 => {
                if slots[pc].opcode != OP_LDDW || pc + 1 >= slots.len() || rel + 16 > len {
                    return Err(bad(format!(
                        "R_BPF_64_64 against {} does not apply to an lddw",
                        sym.name
                    )));
                }
                let value = match target {
                    Some(Target::Map(m)) => kernel::map_handle(m),
                    Some(Target::Data(m, sym_off)) => {
                        let map = &self.maps[m];
                        let off = i128::from(sym_off) + i128::from(slots[pc].imm);
                        if off < 0 || off > i128::from(map.def().value_size) {
                            return Err(bad(format!("offset {off} outside {} ({} bytes)", map.name(), map.def().value_size)));
                        }
                        let v = map.lookup_ref(&0u32.to_le_bytes()).ok_or_else(|| bad("global data map is empty".into()))?;
                        v.addr() + off as u64
                    }
                    Some(Target::Code(csec, sym_off)) => {
                        // A section symbol plus an offset in imm, or a function symbol.
                        let at = sym_off.wrapping_add(slots[pc].imm as i64 as u64);
                        let func = self
                            .symbols
                            .iter()
                            .find(|f| f.section == Some(csec) && f.value == at && f.st_type == object::elf::STT_FUNC.0)
                            .map_or_else(|| format!("{}+{at:#x}", self.sections[csec].name), |f| f.name.clone());
                        return Err(ElfError::Unsupported {
                            what: format!("{section}+{:#x}: address of function {func} (function pointers, callbacks)", r.offset),
                        });
                    }
                    None => {
                        return Err(ElfError::Unsupported {
                            what: format!(
                                "{section}+{:#x}: reference to {} symbol {:?} (externs, kconfig, ksyms)",
                                r.offset,
                                if sym.section.is_none() { "undefined" } else { "unsupported" },
                                sym.name
                            ),
                        })
                    }
                };
                slots[pc].src = 0;
                slots[pc].imm = value as u32 as i32;
                slots[pc + 1].imm = (value >> 32) as u32 as i32;
                Ok(())
            }
            R_BPF_64_32 => {
                if slots[pc].opcode != OP_CALL || slots[pc].src != 1 {
                    return Err(ElfError::Unsupported {
                        what: format!(
                            "{section}+{:#x}: call to extern {:?} (kfuncs, extern helpers)",
                            r.offset, sym.name
                        ),
                    });
                }
                let (Some(Target::Code(tsec, sym_off)), Some(tb), Some(text)) =
                    (target, text_base, self.text)
                else {
                    return Err(bad(format!(
                        "call target {:?} is not a function in .text",
                        sym.name
                    )));
                };
                if tsec != text {
                    return Err(bad(format!("call target {:?} is not in .text", sym.name)));
                }
                let tlen = self.sections[text].data.len() as i64 / 8;
                let t = (sym_off / 8) as i64 + i64::from(slots[pc].imm) + 1;
                if sym_off % 8 != 0 || t < 0 || t >= tlen {
                    return Err(bad(format!(
                        "call target {t} outside .text ({tlen} instructions)"
                    )));
                }
                let imm = tb as i64 + t - (pc as i64 + 1);
                slots[pc].imm =
                    i32::try_from(imm).map_err(|_| bad("call offset overflows".into()))?;
                Ok(())
            }
            r_type => Err(ElfError::UnsupportedRelocation {
                section: section.clone(),
                offset: r.offset,
                r_type,
            }),
        }
    }
}

/// How to load a program.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// The program type; `None` guesses it from the section name
    /// ([`ProgramType::for_section`]).
    pub prog_type: Option<ProgramType>,
    /// Kernel helper behaviour (trace_printk sink, random seed).
    pub kernel: KernelOptions,
    /// Extra helpers from the embedder, registered after (and overriding) the
    /// kernel helpers. Their ids are allowed whatever the program type.
    pub extra_helpers: Helpers,
}

/// A program ready to run: relocated, context-rewritten, validated, with its
/// helpers and maps. Run it with [`LoadedProgram::run_mem`] or
/// [`LoadedProgram::run_xdp`], passing it prepared by any engine
/// ([`Prepared`](crate::engine::Prepared)).
#[derive(Clone, Debug)]
pub struct LoadedProgram {
    pub(crate) name: String,
    pub(crate) section: String,
    pub(crate) prog_type: ProgramType,
    pub(crate) program: Program,
    pub(crate) helpers: Helpers,
    pub(crate) maps: Vec<Map>,
    /// The program uses LD_ABS/LD_IND.
    pub(crate) legacy_loads: bool,
    /// The program calls a helper that changes a packet's length.
    pub(crate) resizes_packet: bool,
}

impl LoadedProgram {
    /// The function name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ELF section.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// The program type.
    pub fn prog_type(&self) -> &ProgramType {
        &self.prog_type
    }

    /// The validated program an engine runs.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The helpers to build the engine with.
    pub fn helpers(&self) -> &Helpers {
        &self.helpers
    }

    /// The object's maps (shared handles).
    pub fn maps(&self) -> &[Map] {
        &self.maps
    }

    /// The map with this name.
    pub fn map(&self, name: &str) -> Option<&Map> {
        self.maps.iter().find(|m| m.name() == name)
    }
}

impl Object {
    /// Loads a program (by function name or section) with its section's
    /// program type and default options.
    pub fn load(&self, name: &str) -> Result<LoadedProgram, ElfError> {
        self.load_with(name, LoadOptions::default())
    }

    /// Loads a program (by function name or section name).
    pub fn load_with(&self, name: &str, opts: LoadOptions) -> Result<LoadedProgram, ElfError> {
        let i = self
            .programs
            .iter()
            .position(|p| p.name == name)
            .or_else(|| self.programs.iter().position(|p| p.section == name))
            .ok_or_else(|| ElfError::NoProgram { name: name.into() })?;
        self.load_at(i, opts)
    }

    /// Loads program `index` of [`Object::programs`].
    pub(super) fn load_at(
        &self,
        index: usize,
        opts: LoadOptions,
    ) -> Result<LoadedProgram, ElfError> {
        let p = &self.programs[index];
        let prog_type = match opts.prog_type.clone() {
            Some(t) => t,
            None => ProgramType::for_section(&p.section).ok_or_else(|| ElfError::Unsupported {
                what: format!(
                    "program type of section {:?} (known: xdp, socket, tc, classifier, tcx/, \
                     kprobe/, uprobe/, tracepoint/, raw_tp/, fentry/, perf_event, cranebpf/mem; \
                     or pass one)",
                    p.section
                ),
            })?,
        };
        LoadedProgram::from_parts(&p.name, &p.section, &p.slots, prog_type, opts, &self.maps)
    }
}

impl LoadedProgram {
    /// Loads a program given as instruction slots (no ELF object, no maps)
    /// as `prog_type`: context accesses rewritten, helper calls checked
    /// against the type, validated. This is how an embedder loads bytecode
    /// it built itself, e.g. for a tracing hook.
    pub fn from_slots(
        name: &str,
        slots: &[RawInsn],
        prog_type: ProgramType,
        opts: LoadOptions,
    ) -> Result<LoadedProgram, ElfError> {
        LoadedProgram::from_parts(name, "", slots, prog_type, opts, &[])
    }

    /// The load steps shared by [`Object::load_with`] and
    /// [`LoadedProgram::from_slots`].
    fn from_parts(
        name: &str,
        section: &str,
        slots: &[RawInsn],
        prog_type: ProgramType,
        opts: LoadOptions,
        maps: &[Map],
    ) -> Result<LoadedProgram, ElfError> {
        struct P<'a> {
            name: String,
            slots: &'a [RawInsn],
        }
        let p = P {
            name: name.to_string(),
            slots,
        };
        let slots = match &prog_type.ctx {
            Some(layout) => rewrite_ctx(p.slots, layout).map_err(|error| ElfError::Ctx {
                program: p.name.clone(),
                error,
            })?,
            None => p.slots.to_vec(),
        };
        let to_load = |error| ElfError::Load {
            program: p.name.clone(),
            error,
        };
        // Every helper call must name a helper the type allows.
        let insns = decode_all(&slots).map_err(|e| to_load(e.into()))?;
        for (pc, insn) in &insns {
            if let Insn::Call {
                kind: CallKind::Helper,
                imm,
            } = *insn
            {
                let id = imm as u32;
                if !prog_type.kernel_helpers.contains(&id) && opts.extra_helpers.get(id).is_none() {
                    return Err(ElfError::UnsupportedHelper {
                        program: p.name.clone(),
                        pc: *pc,
                        id,
                    });
                }
            }
            if let Insn::Call {
                kind: CallKind::Btf,
                imm,
            } = *insn
            {
                return Err(ElfError::Unsupported {
                    what: format!("program {}, pc {pc}: kfunc call by BTF id {imm}", p.name),
                });
            }
        }
        let program = Program::from_slots(slots).map_err(to_load)?;
        // Tail calls only from the entry function: see `kernel::tail`.
        let entry_end = program.functions().first().map_or(0, |f| f.end);
        for (pc, insn) in program.insns() {
            let tail = Insn::Call {
                kind: CallKind::Helper,
                imm: kernel::HELPER_TAIL_CALL as i32,
            };
            if *insn == tail && *pc >= entry_end {
                return Err(ElfError::Unsupported {
                    what: format!(
                        "program {}, pc {pc}: bpf_tail_call from a subprogram (only the entry function may tail-call)",
                        p.name
                    ),
                });
            }
        }
        let mut helpers = kernel::kernel_helpers(maps, &prog_type.kernel_helpers, &opts.kernel);
        for id in opts.extra_helpers.ids() {
            if let Some(h) = opts.extra_helpers.get(id) {
                let f = h.func.clone();
                helpers.register(id, h.name.clone(), move |ctx, args| f(ctx, args));
            }
        }
        let legacy_loads = program
            .insns()
            .iter()
            .any(|(_, i)| matches!(i, Insn::LdAbs { .. } | Insn::LdInd { .. }));
        let resizes_packet = program.insns().iter().any(|(_, i)| {
            matches!(i, Insn::Call { kind: CallKind::Helper, imm }
                if kernel::SKB_RESIZE_HELPERS.contains(&(*imm as u32)))
        });
        Ok(LoadedProgram {
            name: p.name.clone(),
            section: section.to_string(),
            prog_type,
            program,
            helpers,
            maps: maps.to_vec(),
            legacy_loads,
            resizes_packet,
        })
    }
}
