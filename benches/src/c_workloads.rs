//! The C workloads (`benches/workloads/*.c`): eBPF bytecode for three ISA
//! levels, the native build of the same source, and the input each runs on.
//!
//! Every workload is `u64 f(u8 *p, u64 len)`: r1 = input pointer, r2 = input
//! length, r0 = result.

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
}

/// One C workload.
#[derive(Clone, Copy)]
pub struct CWorkload {
    /// Short name (the C file's stem).
    pub name: &'static str,
    /// What it computes.
    pub about: &'static str,
    /// Raw `.text` bytecode for v2, v3, v4 (index with [`CWorkload::bytecode`]).
    bin: [&'static [u8]; 3],
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
    /// The bytecode for `cpu`.
    pub fn bytecode(&self, cpu: Cpu) -> &'static [u8] {
        self.bin[cpu as usize]
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
        [
            include_bytes!(concat!("../workloads/bin/", $n, "-v2.bin")),
            include_bytes!(concat!("../workloads/bin/", $n, "-v3.bin")),
            include_bytes!(concat!("../workloads/bin/", $n, "-v4.bin")),
        ]
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

fn memcpy_input() -> Vec<u8> {
    let mut r = xorshift(7);
    let mut v: Vec<u8> = (0..64 * 1024).map(|_| r() as u8).collect();
    v.resize(128 * 1024, 0);
    v
}

fn strcmp_input() -> Vec<u8> {
    let half = 64 * 1024;
    let s: Vec<u8> = (0..half).map(|i| b'a' + (i % 26) as u8).collect();
    [s.as_slice(), s.as_slice()].concat()
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
pub const C_WORKLOADS: [CWorkload; 7] = [
    CWorkload {
        name: "log2",
        about: "sum of floor(log2 x) over 8 192 u64 values",
        bin: bins!("log2"),
        native: bench_log2,
        input: log2_input,
    },
    CWorkload {
        name: "primes",
        about: "primes below 10 000 by trial division",
        bin: bins!("primes"),
        native: bench_primes,
        input: primes_input,
    },
    CWorkload {
        name: "memcpy",
        about: "byte-wise copy of 64 KiB",
        bin: bins!("memcpy"),
        native: bench_memcpy,
        input: memcpy_input,
    },
    CWorkload {
        name: "strcmp",
        about: "strcmp of two equal 64 KiB strings",
        bin: bins!("strcmp"),
        native: bench_strcmp,
        input: strcmp_input,
    },
    CWorkload {
        name: "switch",
        about: "64-way switch over 4 096 bytes",
        bin: bins!("switch"),
        native: bench_switch,
        input: switch_input,
    },
    CWorkload {
        name: "crc32",
        about: "bitwise CRC-32 of 16 KiB",
        bin: bins!("crc32"),
        native: bench_crc32,
        input: crc32_input,
    },
    CWorkload {
        name: "packet",
        about: "Ethernet/IPv4/TCP verdict over 1 024 frames of 64 bytes",
        bin: bins!("packet"),
        native: bench_packet,
        input: packet_input,
    },
];
