//! Objects the loader must refuse with a clear error, never a panic.

use super::{example_path, object};
use cranebpf_runtime::elf::{ElfError, Object};
use cranebpf_runtime::{Interpreter, RunOptions};

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(example_path(&format!("bpf/{name}"))).unwrap()
}

fn negative(name: &str) -> Result<(), ElfError> {
    let obj = Object::parse(&bytes(&format!("negative/{name}")))?;
    let p = obj.programs().first().expect("a program").name.clone();
    obj.load(&p).map(|_| ())
}

#[test]
fn elf_unsupported_features_are_named() {
    let e = negative("tail_call_subprog.o").unwrap_err();
    assert!(
        e.to_string().contains("bpf_tail_call from a subprogram"),
        "{e}"
    );
    let e = negative("map_values.o").unwrap_err();
    assert!(e.to_string().contains("\"values\""), "{e}");
    let e = negative("core.o").unwrap_err();
    assert!(e.to_string().contains("CO-RE"), "{e}");
    let e = negative("callback.o").unwrap_err();
    assert!(e.to_string().contains("address of function step"), "{e}");
    let e = negative("extern.o").unwrap_err();
    assert!(e.to_string().contains("LINUX_KERNEL_VERSION"), "{e}");
}

#[test]
fn elf_wrong_header_fields_are_refused() {
    let good = bytes("firewall.o");
    let mut b = good.clone();
    b[18..20].copy_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    assert!(matches!(Object::parse(&b), Err(ElfError::NotBpf { .. })));
    let mut b = good.clone();
    b[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    assert!(matches!(Object::parse(&b), Err(ElfError::NotBpf { .. })));
    let mut b = good.clone();
    b[5] = 2; // big-endian
    assert!(Object::parse(&b).is_err());
    let mut b = good.clone();
    b[4] = 1; // 32-bit class
    assert!(matches!(Object::parse(&b), Err(ElfError::Malformed { .. })));
    assert!(matches!(
        Object::parse(b"\x7fELF"),
        Err(ElfError::Malformed { .. })
    ));
    assert!(Object::parse(&[]).is_err());
}

/// Section headers of `b`: (name, offset of the header in the file).
fn section_headers(b: &[u8]) -> Vec<(String, usize)> {
    let shoff = u64::from_le_bytes(b[40..48].try_into().unwrap()) as usize;
    let shnum = u16::from_le_bytes(b[60..62].try_into().unwrap()) as usize;
    let shstrndx = u16::from_le_bytes(b[62..64].try_into().unwrap()) as usize;
    let hdr = |i: usize| shoff + 64 * i;
    let field =
        |h: usize, o: usize| u64::from_le_bytes(b[h + o..h + o + 8].try_into().unwrap()) as usize;
    let strtab = field(hdr(shstrndx), 24);
    (0..shnum)
        .map(|i| {
            let name_off = u32::from_le_bytes(b[hdr(i)..hdr(i) + 4].try_into().unwrap()) as usize;
            let s = &b[strtab + name_off..];
            let end = s.iter().position(|&c| c == 0).unwrap();
            (String::from_utf8_lossy(&s[..end]).into_owned(), hdr(i))
        })
        .collect()
}

fn header_of(b: &[u8], name: &str) -> usize {
    section_headers(b)
        .into_iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
}

#[test]
fn elf_bad_relocations_and_indexes_are_refused() {
    let good = bytes("firewall.o");
    let rel = header_of(&good, ".relxdp");
    let rel_data = u64::from_le_bytes(good[rel + 24..rel + 32].try_into().unwrap()) as usize;

    // Relocation offset past the end of the section.
    let mut b = good.clone();
    b[rel_data..rel_data + 8].copy_from_slice(&0x10_0000u64.to_le_bytes());
    let e = Object::parse(&b).unwrap_err();
    assert!(
        matches!(e, ElfError::BadRelocation { ref section, .. } if section == "xdp"),
        "{e}"
    );
    // Relocation offset not on an instruction boundary.
    let mut b = good.clone();
    b[rel_data] |= 4;
    assert!(matches!(
        Object::parse(&b),
        Err(ElfError::BadRelocation { .. })
    ));
    // Unsupported relocation type (R_BPF_64_ABS64 = 2).
    let mut b = good.clone();
    b[rel_data + 8] = 2;
    let e = Object::parse(&b).unwrap_err();
    assert!(e.to_string().contains("R_BPF_64_ABS64"), "{e}");
    // Symbol index out of range.
    let mut b = good.clone();
    b[rel_data + 12..rel_data + 16].copy_from_slice(&0xffffu32.to_le_bytes());
    assert!(matches!(
        Object::parse(&b),
        Err(ElfError::BadRelocation { .. })
    ));
    // sh_info of the relocation section names a missing section.
    let mut b = good.clone();
    b[rel + 44..rel + 48].copy_from_slice(&999u32.to_le_bytes());
    assert!(matches!(
        Object::parse(&b),
        Err(ElfError::BadSection { .. })
    ));
    // A section whose size runs past the end of the file.
    let mut b = good.clone();
    let x = header_of(&good, "xdp");
    b[x + 32..x + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(Object::parse(&b).is_err());
    // A huge .bss (NOBITS takes no file space) is refused, not allocated.
    let mut b = good.clone();
    let bss = header_of(&good, ".bss");
    b[bss + 32..bss + 40].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(matches!(Object::parse(&b), Err(ElfError::Map { .. })));
    // One of u64::MAX bytes: its charge saturates instead of overflowing
    // (an overflow panic that cargo fuzz's elf_load target found).
    let mut b = good.clone();
    b[bss + 32..bss + 40].copy_from_slice(&u64::MAX.to_le_bytes());
    let e = Object::parse(&b).unwrap_err();
    assert!(
        matches!(e, ElfError::Map { ref map, .. } if map == ".bss"),
        "{e}"
    );
    // Section header table out of the file.
    let mut b = good.clone();
    b[40..48].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(matches!(Object::parse(&b), Err(ElfError::Malformed { .. })));
}

#[test]
fn elf_every_truncation_is_an_error() {
    for name in ["firewall.o", "lb.o", "hist.o"] {
        let good = bytes(name);
        for len in (0..good.len()).filter(|l| *l < 512 || l % 5 == 0) {
            assert!(
                Object::parse(&good[..len]).is_err() || len > good.len() - 8,
                "{name} cut at {len}"
            );
        }
    }
}

/// Mutated objects (a few bytes overwritten at deterministic pseudo-random
/// places) may load or fail, and whatever loads may run or fault, but
/// nothing panics. Seed printed for reproduction.
#[test]
fn elf_mutation_sweep_never_panics() {
    let seed = 0x5eed_e1f0_u64;
    eprintln!("elf mutation sweep seed {seed:#x}");
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let (mut loaded, mut ran) = (0, 0);
    for name in ["firewall.o", "lb.o", "hist.o", "vlan.o", "legacy.o"] {
        let good = bytes(name);
        // Aim most mutations at what the loader reads: the ELF header, the
        // section headers, and the code, relocation, symbol, string, BTF,
        // map and data sections (not the DWARF debug sections).
        let mut ranges = vec![(0usize, 64usize)];
        let shoff = u64::from_le_bytes(good[40..48].try_into().unwrap()) as usize;
        ranges.push((shoff, good.len() - shoff));
        for (n, h) in section_headers(&good) {
            if n.starts_with(".debug") || n.starts_with(".rel.debug") || n.is_empty() {
                continue;
            }
            let off = u64::from_le_bytes(good[h + 24..h + 32].try_into().unwrap()) as usize;
            let size = u64::from_le_bytes(good[h + 32..h + 40].try_into().unwrap()) as usize;
            if size > 0 && off + size <= good.len() {
                ranges.push((off, size));
            }
        }
        let rounds: usize = std::env::var("CRANEBPF_ELF_MUTANTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(200);
        for _ in 0..rounds {
            let mut b = good.clone();
            for _ in 0..1 + next() % 4 {
                let (start, len) = ranges[(next() % ranges.len() as u64) as usize];
                let at = start + (next() % len as u64) as usize;
                b[at] = match next() % 3 {
                    0 => next() as u8,
                    1 => b[at] ^ (1 << (next() % 8)),
                    _ => 0xff,
                };
            }
            let Ok(obj) = Object::parse(&b) else { continue };
            for p in obj.programs().to_vec() {
                let Ok(lp) = obj.load(&p.name) else { continue };
                loaded += 1;
                let Ok(it) = Interpreter::new(lp.program(), lp.helpers().clone()) else {
                    continue;
                };
                let opts = RunOptions {
                    budget: Some(100_000),
                };
                let mut pkt = super::packets::packets()[0].clone();
                let _ = if lp.prog_type().name == "xdp" {
                    lp.run_xdp(&mut pkt, &opts, &it)
                } else {
                    lp.run_mem(&mut pkt, &opts, &it)
                };
                ran += 1;
            }
        }
    }
    eprintln!("mutants loaded: {loaded}, ran: {ran}");
    assert!(ran > 0);
    let _ = object("firewall.o");
}
