//! The C workloads (`benches/workloads/*.c`): eBPF bytecode for three ISA
//! levels, the native build of the same source, and the input each runs on.
//!
//! Every workload is `u64 f(u8 *p, u64 len)`: r1 = input pointer, r2 = input
//! length, r0 = result. Most are raw `.text` bytecode with no helper; `helpers`
//! calls an embedder helper ([`Needs::Mix`]) and `hashmap` is an ELF object
//! with a hash map, run through cranebpf's ELF loader and kernel helpers
//! ([`Needs::Flows`]).

use crate::native_helpers;
use cranebpf_runtime::elf::{LoadedProgram, Object};
use std::borrow::Cow;

/// `-mcpu` level the bytecode was compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cpu {
    /// `-mcpu=v2`: no 32-bit jumps, no v4 instructions.
    V2,
    /// `-mcpu=v3`: 32-bit jumps and ALU32 subregisters.
    V3,
    /// `-mcpu=v4`: sign-extending moves and loads, signed division, `bswap`,
    /// `gotol`.
    V4,
}

impl Cpu {
    /// All levels, in order.
    pub const ALL: [Cpu; 3] = [Cpu::V2, Cpu::V3, Cpu::V4];

    /// `"v2"`, `"v3"` or `"v4"`.
    pub fn name(self) -> &'static str {
        match self {
            Cpu::V2 => "v2",
            Cpu::V3 => "v3",
            Cpu::V4 => "v4",
        }
    }
}

/// The native entry point of a workload.
pub type NativeFn = unsafe extern "C" fn(*mut u8, u64) -> u64;

unsafe extern "C" {
    fn bench_log2(p: *mut u8, len: u64) -> u64;
    fn bench_primes(p: *mut u8, len: u64) -> u64;
    fn bench_memcpy(p: *mut u8, len: u64) -> u64;
    fn bench_strcmp(p: *mut u8, len: u64) -> u64;
    fn bench_switch(p: *mut u8, len: u64) -> u64;
    fn bench_crc32(p: *mut u8, len: u64) -> u64;
    fn bench_packet(p: *mut u8, len: u64) -> u64;
    fn bench_helpers(p: *mut u8, len: u64) -> u64;
    fn bench_calls(p: *mut u8, len: u64) -> u64;
    fn bench_hashmap(p: *mut u8, len: u64) -> u64;
}

/// How a workload's eBPF code is stored.
#[derive(Clone, Copy, Debug)]
pub enum Code {
    /// Raw `.text` bytecode for v2, v3, v4.
    Raw([&'static [u8]; 3]),
    /// An ELF object for v2, v3, v4, and the name of its program.
    Elf([&'static [u8]; 3], &'static str),
}

/// What a workload needs from its engine besides memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: pure computation over the input.
    Nothing,
    /// Helper 1 = [`native_helpers::mix`].
    Mix,
    /// The `flows` hash map (filled by [`native_helpers::fill_flows`]) and
    /// helpers 1 (`bpf_map_lookup_elem`) and 2 (`bpf_map_update_elem`).
    Flows,
}

/// One C workload.
#[derive(Clone, Copy)]
pub struct CWorkload {
    /// Short name (the C file's stem).
    pub name: &'static str,
    /// What it computes.
    pub about: &'static str,
    /// The eBPF code (see [`CWorkload::bytecode`]).
    pub code: Code,
    /// What the engine must provide.
    pub needs: Needs,
    /// The same C, compiled natively.
    pub native: NativeFn,
    /// Builds the input the benchmark runs on.
    pub input: fn() -> Vec<u8>,
}

impl std::fmt::Debug for CWorkload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CWorkload")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl CWorkload {
    /// The bytecode for `cpu` as every engine runs it: the raw `.text`, or
    /// for an ELF workload the program after cranebpf's loader relocated it
    /// (map references become map handles, which the peers' helpers ignore).
    pub fn bytecode(&self, cpu: Cpu) -> Result<Cow<'static, [u8]>, String> {
        match self.code {
            Code::Raw(b) => Ok(Cow::Borrowed(b[cpu as usize])),
            Code::Elf(..) => Ok(Cow::Owned(self.load_elf(cpu)?.program().to_bytes())),
        }
    }

    /// Loads an ELF workload with cranebpf's loader (fresh maps each time).
    pub fn load_elf(&self, cpu: Cpu) -> Result<LoadedProgram, String> {
        let Code::Elf(objs, name) = self.code else {
            return Err(format!("{} is not an ELF workload", self.name));
        };
        let obj = Object::parse(objs[cpu as usize]).map_err(|e| e.to_string())?;
        obj.load(name).map_err(|e| e.to_string())
    }

    /// Runs the native build on `input`.
    pub fn run_native(&self, input: &mut [u8]) -> u64 {
        // SAFETY: every workload reads and writes only inside
        // `[p, p + len)` for the inputs built by `self.input` and for any
        // input of at least the minimum length documented in its C source;
        // the pointer and length come from one live mutable slice.
        unsafe { (self.native)(input.as_mut_ptr(), input.len() as u64) }
    }
}

macro_rules! bins {
    ($n:literal) => {
        Code::Raw([
            include_bytes!(concat!("../workloads/bin/", $n, "-v2.bin")),
            include_bytes!(concat!("../workloads/bin/", $n, "-v3.bin")),
            include_bytes!(concat!("../workloads/bin/", $n, "-v4.bin")),
        ])
    };
}

macro_rules! objs {
    ($n:literal, $prog:literal) => {
        Code::Elf(
            [
                include_bytes!(concat!("../workloads/bin/", $n, "-v2.o")),
                include_bytes!(concat!("../workloads/bin/", $n, "-v3.o")),
                include_bytes!(concat!("../workloads/bin/", $n, "-v4.o")),
            ],
            $prog,
        )
    };
}

/// A deterministic xorshift64 stream for building inputs.
fn xorshift(seed: u64) -> impl FnMut() -> u64 {
    let mut x = seed;
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

fn log2_input() -> Vec<u8> {
    let mut r = xorshift(0x9e37_79b9_7f4a_7c15);
    (0..8192u64)
        .flat_map(|i| (r() >> (i % 64)).to_le_bytes())
        .collect()
}

fn primes_input() -> Vec<u8> {
    10_000u32.to_le_bytes().to_vec()
}

/// 1 MiB of data (the first half) and 1 MiB to copy it over.
fn memcpy_input() -> Vec<u8> {
    let mut r = xorshift(7);
    let mut v: Vec<u8> = (0..MIB).map(|_| r() as u8).collect();
    v.resize(2 * MIB, 0);
    v
}

const MIB: usize = 1024 * 1024;

/// Two equal 1 MiB strings (no NUL: the whole half is compared).
fn strcmp_input() -> Vec<u8> {
    let s: Vec<u8> = (0..MIB).map(|i| b'a' + (i % 26) as u8).collect();
    [s.as_slice(), s.as_slice()].concat()
}

/// Two 1 MiB strings that differ 64 bytes before their end.
fn strcmp_late_input() -> Vec<u8> {
    let mut v = strcmp_input();
    v[2 * MIB - 64] = b'#';
    v
}

/// 8 192 u64 values, each passed to one helper call.
fn helpers_input() -> Vec<u8> {
    let mut r = xorshift(11);
    (0..8192).flat_map(|_| r().to_le_bytes()).collect()
}

/// 4 096 records of 16 bytes.
fn calls_input() -> Vec<u8> {
    let mut r = xorshift(5);
    (0..4096 * 16).map(|_| r() as u8).collect()
}

fn switch_input() -> Vec<u8> {
    let mut r = xorshift(42);
    (0..4096).map(|_| r() as u8).collect()
}

fn crc32_input() -> Vec<u8> {
    let mut r = xorshift(3);
    (0..16 * 1024).map(|_| r() as u8).collect()
}

/// 1 024 frames of 64 bytes: a mix of IPv4/TCP to ports 80, 443, 22 and 23,
/// a VLAN-tagged frame, ARP, UDP, fragments and SYN+FIN.
fn packet_input() -> Vec<u8> {
    let mut r = xorshift(99);
    let mut out = Vec::with_capacity(1024 * 64);
    for i in 0..1024u32 {
        let mut f = [0u8; 64];
        let kind = r() % 8;
        let mut off = 12;
        if kind == 6 {
            f[12..16].copy_from_slice(&[0x81, 0x00, 0x00, 0x05]);
            off = 16;
        }
        let ethertype: u16 = if kind == 7 { 0x0806 } else { 0x0800 };
        f[off..off + 2].copy_from_slice(&ethertype.to_be_bytes());
        let ip = off + 2;
        f[ip] = 0x45;
        f[ip + 2..ip + 4].copy_from_slice(&40u16.to_be_bytes());
        if kind == 5 {
            f[ip + 6] = 0x20; // more fragments
        }
        f[ip + 9] = if kind == 4 { 17 } else { 6 };
        let tcp = ip + 20;
        let port: u16 = [80, 443, 22, 23, 80, 443, 8080, 80][(kind as usize + i as usize) % 8];
        f[tcp + 2..tcp + 4].copy_from_slice(&port.to_be_bytes());
        f[tcp + 13] = if i % 97 == 0 { 0x03 } else { 0x10 };
        out.extend_from_slice(&f);
    }
    out
}

/// Every C workload.
pub const C_WORKLOADS: [CWorkload; 11] = [
    CWorkload {
        name: "log2",
        about: "sum of floor(log2 x) over 8 192 u64 values",
        code: bins!("log2"),
        needs: Needs::Nothing,
        native: bench_log2,
        input: log2_input,
    },
    CWorkload {
        name: "primes",
        about: "primes below 10 000 by trial division",
        code: bins!("primes"),
        needs: Needs::Nothing,
        native: bench_primes,
        input: primes_input,
    },
    CWorkload {
        name: "memcpy",
        about: "byte-wise copy of 1 MiB",
        code: bins!("memcpy"),
        needs: Needs::Nothing,
        native: bench_memcpy,
        input: memcpy_input,
    },
    CWorkload {
        name: "strcmp",
        about: "strcmp of two equal 1 MiB strings",
        code: bins!("strcmp"),
        needs: Needs::Nothing,
        native: bench_strcmp,
        input: strcmp_input,
    },
    CWorkload {
        name: "strcmp_late",
        about: "strcmp of two 1 MiB strings differing 64 bytes before the end",
        code: bins!("strcmp"),
        needs: Needs::Nothing,
        native: bench_strcmp,
        input: strcmp_late_input,
    },
    CWorkload {
        name: "switch",
        about: "64-way switch over 4 096 bytes",
        code: bins!("switch"),
        needs: Needs::Nothing,
        native: bench_switch,
        input: switch_input,
    },
    CWorkload {
        name: "crc32",
        about: "bitwise CRC-32 of 16 KiB",
        code: bins!("crc32"),
        needs: Needs::Nothing,
        native: bench_crc32,
        input: crc32_input,
    },
    CWorkload {
        name: "packet",
        about: "Ethernet/IPv4/TCP verdict over 1 024 frames of 64 bytes",
        code: bins!("packet"),
        needs: Needs::Nothing,
        native: bench_packet,
        input: packet_input,
    },
    CWorkload {
        name: "hashmap",
        about: "hash-map lookup and update per packet over 1 024 frames",
        code: objs!("hashmap", "bench_hashmap"),
        needs: Needs::Flows,
        native: bench_hashmap,
        input: native_helpers::flows_input,
    },
    CWorkload {
        name: "helpers",
        about: "8 192 helper calls chained through an accumulator",
        code: bins!("helpers"),
        needs: Needs::Mix,
        native: bench_helpers,
        input: helpers_input,
    },
    CWorkload {
        name: "calls",
        about: "5 bpf-to-bpf calls per 16-byte record, 4 096 records",
        code: bins!("calls"),
        needs: Needs::Nothing,
        native: bench_calls,
        input: calls_input,
    },
];
