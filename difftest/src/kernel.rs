//! The Linux kernel as a third oracle: runs kernel-acceptable programs
//! ([`crate::gen::GenConfig::kernel`]) with `BPF_PROG_TEST_RUN`.
//!
//! This checks the *interpreter's* reading of the spec against an
//! implementation nobody here wrote; interpreter ≡ JIT alone cannot catch a
//! misreading both share.
//!
//! # How a case runs in the kernel
//!
//! The case's program is loaded as an XDP program (GPL licence, raw `bpf()`
//! syscalls through `libc`) behind a short prologue that turns the XDP
//! context into the harness convention:
//!
//! ```text
//! ldxw r2, [r1+4]      ; data_end
//! ldxw r1, [r1+0]      ; data: the packet is the case's input
//! mov r3, r1
//! add r3, LEN
//! jle r3, r2, +2       ; the verifier now knows LEN bytes are there
//! mov r0, 0
//! exit
//! <the case's program>  ; r1 = input, as under our engines
//! ```
//!
//! The packet is the case's input; the kernel's final packet (`data_out`)
//! is written back into the input region, so the comparison covers the
//! input, and through the dump generated programs write there, every data
//! register (all 64 bits of r0 included) and the top of the stack. The XDP
//! return value is only 32 bits, so kernel-mode programs end with r0 = 2.
//! Each case runs twice, after the stack was zeroed and after it was filled
//! with a pattern (by a helper XDP program run just before): a case whose
//! result differs reads stack bytes it never wrote (the verifier allows
//! that to root) and is refused, not compared; with the zeroed stack it
//! matches our engines' zeroed stacks.
//!
//! The kernel does not count instructions the way we do, so its
//! [`Capabilities::counts_instructions`] is false and counts are not
//! compared. The prologue depends on the input's length, so the program is
//! loaded when it runs: [`Prepared::try_run`] fails when the verifier
//! rejects it, with the verifier's log tail as the text.

use cranebpf_runtime::engine::{Capabilities, Engine, PrepareError, Prepared};
use cranebpf_runtime::{
    AluOp, Fault, FaultKind, HelperError, Helpers, Insn, JmpCond, MemoryMap, Program, Reg,
    RunOptions, RunOutcome, Size, Src, Stack, Width,
};
use std::any::Any;

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_TEST_RUN: libc::c_long = 10;
const BPF_PROG_TYPE_XDP: u32 = 6;

/// The size of the `bpf_attr` buffer we pass (zero beyond the fields set;
/// the kernel accepts trailing zeros).
const ATTR_LEN: usize = 160;

/// A `union bpf_attr`, as bytes.
struct Attr([u64; ATTR_LEN / 8]);

impl Attr {
    fn new() -> Attr {
        Attr([0; ATTR_LEN / 8])
    }

    fn set_u32(&mut self, off: usize, v: u32) {
        let word = &mut self.0[off / 8];
        let shift = (off % 8) * 8;
        *word = (*word & !(0xffff_ffffu64 << shift)) | ((v as u64) << shift);
    }

    fn set_u64(&mut self, off: usize, v: u64) {
        self.0[off / 8] = v;
    }

    fn get_u32(&self, off: usize) -> u32 {
        (self.0[off / 8] >> ((off % 8) * 8)) as u32
    }

    /// `bpf(cmd, self, ATTR_LEN)`.
    fn bpf(&mut self, cmd: libc::c_long) -> Result<i64, std::io::Error> {
        // SAFETY: `self.0` is a live, writable buffer of ATTR_LEN bytes laid
        // out as the `bpf_attr` variant `cmd` expects; every pointer stored
        // in it refers to a buffer the caller keeps alive (and, for output
        // buffers, writable) until this call returns.
        let r = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                self.0.as_mut_ptr() as *mut libc::c_void,
                ATTR_LEN as libc::c_uint,
            )
        };
        if r < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }
}

/// An open file descriptor, closed on drop.
struct Fd(i32);

impl Drop for Fd {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a descriptor this process opened and owns.
        unsafe { libc::close(self.0) };
    }
}

/// Loads `bytecode` as an XDP program; the error is the errno and the
/// verifier log's tail.
fn load_xdp(bytecode: &[u8]) -> Result<Fd, String> {
    load_as(BPF_PROG_TYPE_XDP, bytecode)
}

/// Loads `bytecode` as a program of kernel type `prog_type`
/// (`BPF_PROG_TYPE_*`); the error is the errno and the verifier log's tail.
fn load_as(prog_type: u32, bytecode: &[u8]) -> Result<Fd, String> {
    let license = b"GPL\0";
    let load = |log: Option<&mut Vec<u8>>| -> Result<Fd, std::io::Error> {
        let mut a = Attr::new();
        a.set_u32(0, prog_type);
        a.set_u32(4, (bytecode.len() / 8) as u32);
        a.set_u64(8, bytecode.as_ptr() as u64);
        a.set_u64(16, license.as_ptr() as u64);
        if let Some(log) = log {
            a.set_u32(24, 1);
            a.set_u32(28, log.len() as u32);
            a.set_u64(32, log.as_mut_ptr() as u64);
        }
        a.bpf(BPF_PROG_LOAD).map(|fd| Fd(fd as i32))
    };
    match load(None) {
        Ok(fd) => Ok(fd),
        Err(e) => {
            let mut log = vec![0u8; 1 << 20];
            let _ = load(Some(&mut log));
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            let text = String::from_utf8_lossy(&log[..end]);
            let tail: Vec<&str> = text.lines().rev().take(4).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(format!(
                "kernel rejects the program ({e}): {}",
                tail.join(" | ")
            ))
        }
    }
}

/// `program` behind the XDP prologue for an input of `len` bytes (see the
/// module docs): what the kernel oracle loads.
pub fn xdp_wrapped(program: &[Insn], len: usize) -> Result<Program, String> {
    let mut insns = prologue(len);
    insns.extend_from_slice(program);
    Program::from_insns(&insns).map_err(|e| e.to_string())
}

/// Whether the kernel verifier accepts `program` as an XDP program (as
/// root); the refusal's text is the errno and the verifier log's tail.
pub fn verifier_accepts(program: &Program) -> Result<(), String> {
    load_xdp(&program.to_bytes()).map(drop)
}

/// Runs a loaded XDP program once on `packet`; returns the return value and
/// the final packet.
fn test_run(fd: &Fd, packet: &[u8]) -> Result<(u32, Vec<u8>), String> {
    let mut out = vec![0u8; packet.len() + 256];
    let mut a = Attr::new();
    a.set_u32(0, fd.0 as u32);
    a.set_u32(8, packet.len() as u32);
    a.set_u32(12, out.len() as u32);
    a.set_u64(16, packet.as_ptr() as u64);
    a.set_u64(24, out.as_mut_ptr() as u64);
    a.set_u32(32, 1);
    a.bpf(BPF_PROG_TEST_RUN)
        .map_err(|e| format!("BPF_PROG_TEST_RUN: {e}"))?;
    let retval = a.get_u32(4);
    let size = (a.get_u32(12) as usize).min(out.len());
    out.truncate(size);
    Ok((retval, out))
}

/// A program loaded into the kernel as some type, for tests that run it
/// with a context of their own ([`LoadedInKernel::test_run_ctx`]); closed
/// on drop.
pub struct LoadedInKernel(Fd);

impl LoadedInKernel {
    /// Loads `insns` as kernel program type `prog_type` (`BPF_PROG_TYPE_*`:
    /// 1 socket filter, 3 sched_cls, 6 XDP, ...). The error is the
    /// verifier's refusal (errno and log tail) or why `bpf()` failed.
    pub fn load(prog_type: u32, insns: &[Insn]) -> Result<LoadedInKernel, String> {
        let prog = Program::from_insns(insns).map_err(|e| e.to_string())?;
        load_as(prog_type, &prog.to_bytes()).map(LoadedInKernel)
    }

    /// One `BPF_PROG_TEST_RUN` on `packet` with `ctx_in` as the context
    /// (for skb types, a `struct __sk_buff`): the return value, the packet
    /// as the program left it and the context the kernel copied back
    /// (`ctx_in.len()` bytes).
    pub fn test_run_ctx(
        &self,
        packet: &[u8],
        ctx_in: &[u8],
    ) -> Result<(u32, Vec<u8>, Vec<u8>), String> {
        let mut out = vec![0u8; packet.len() + 70_000];
        let mut ctx_out = vec![0u8; ctx_in.len()];
        let mut a = Attr::new();
        a.set_u32(0, self.0 .0 as u32);
        a.set_u32(8, packet.len() as u32);
        a.set_u32(12, out.len() as u32);
        a.set_u64(16, packet.as_ptr() as u64);
        a.set_u64(24, out.as_mut_ptr() as u64);
        a.set_u32(32, 1);
        a.set_u32(40, ctx_in.len() as u32);
        a.set_u32(44, ctx_out.len() as u32);
        a.set_u64(48, ctx_in.as_ptr() as u64);
        a.set_u64(56, ctx_out.as_mut_ptr() as u64);
        a.bpf(BPF_PROG_TEST_RUN)
            .map_err(|e| format!("BPF_PROG_TEST_RUN: {e}"))?;
        out.truncate((a.get_u32(12) as usize).min(out.len()));
        Ok((a.get_u32(4), out, ctx_out))
    }
}

/// The XDP prologue (see the module docs) for an input of `len` bytes.
fn prologue(len: usize) -> Vec<Insn> {
    vec![
        Insn::Ldx {
            size: Size::W,
            sx: false,
            dst: Reg::R2,
            src: Reg::R1,
            off: 4,
        },
        Insn::Ldx {
            size: Size::W,
            sx: false,
            dst: Reg::R1,
            src: Reg::R1,
            off: 0,
        },
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R3,
            src: Src::Reg(Reg::R1),
        },
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Add,
            dst: Reg::R3,
            src: Src::Imm(len as i32),
        },
        Insn::Jmp {
            w: Width::W64,
            cond: JmpCond::Le,
            dst: Reg::R3,
            src: Src::Reg(Reg::R2),
            off: 2,
        },
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(0),
        },
        Insn::Exit,
    ]
}

/// A program that fills its 512-byte frame with `pattern` (run just before
/// a case, it leaves that pattern where the case's frames will be).
fn dirtier(pattern: u64) -> Vec<Insn> {
    let mut v = vec![Insn::Lddw {
        dst: Reg::R1,
        kind: cranebpf_runtime::LddwKind::Imm64,
        imm: pattern as u32 as i32,
        next_imm: (pattern >> 32) as u32 as i32,
    }];
    for k in 1..=64i16 {
        v.push(Insn::Stx {
            size: Size::DW,
            dst: Reg::R10,
            src: Reg::R1,
            off: -8 * k,
        });
    }
    v.push(Insn::Alu {
        w: Width::W64,
        op: AluOp::Mov,
        dst: Reg::R0,
        src: Src::Imm(2),
    });
    v.push(Insn::Exit);
    v
}

/// The two dirtiers (zeros, then a pattern), loaded once per process.
fn dirtiers() -> Result<&'static [Fd; 2], String> {
    static D: std::sync::OnceLock<Result<[Fd; 2], String>> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let load = |p: u64| -> Result<Fd, String> {
            let prog = Program::from_insns(&dirtier(p)).map_err(|e| e.to_string())?;
            load_xdp(&prog.to_bytes())
        };
        Ok([load(0)?, load(0x5a5a_5a5a_5a5a_5a5a)?])
    })
    .as_ref()
    .map_err(|e| e.clone())
}

/// Whether `bpf()` can load and test-run an XDP program here; the error
/// says why not.
pub fn available() -> Result<(), String> {
    let insns = [
        Insn::Alu {
            w: Width::W64,
            op: AluOp::Mov,
            dst: Reg::R0,
            src: Src::Imm(2),
        },
        Insn::Exit,
    ];
    let prog = Program::from_insns(&insns).map_err(|e| e.to_string())?;
    let fd = load_xdp(&prog.to_bytes())?;
    let (ret, _) = test_run(&fd, &[0u8; 64])?;
    if ret != 2 {
        return Err(format!("test run returned {ret}, expected 2"));
    }
    Ok(())
}

/// The Linux kernel as an [`Engine`] (see the module docs). Helpers and
/// budgets are not supported: kernel-mode cases use neither (the verifier
/// proves termination).
#[derive(Clone, Copy, Debug, Default)]
pub struct Kernel;

impl Engine for Kernel {
    fn name(&self) -> &str {
        "kernel"
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = Capabilities::EXACT;
        c.counts_instructions = false;
        c.may_reject = true;
        c.result_bits = 32;
        c.uses_given_stack = false;
        c
    }

    fn prepare(
        &self,
        program: &Program,
        _helpers: Helpers,
    ) -> Result<Box<dyn Prepared>, PrepareError> {
        Ok(Box::new(KernelProgram {
            insns: program.insns().iter().map(|&(_, i)| i).collect(),
        }))
    }
}

/// A program for the kernel: loaded behind the prologue for each input
/// length when it runs.
struct KernelProgram {
    insns: Vec<Insn>,
}

impl Prepared for KernelProgram {
    /// [`Prepared::try_run`], with the kernel's refusal reported as a
    /// helper fault at pc 0 (callers that compare use `try_run`).
    fn run(
        &self,
        stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        opts: &RunOptions,
        user: Option<&mut (dyn Any + Send)>,
    ) -> RunOutcome {
        self.try_run(stack, mem, args, opts, user)
            .unwrap_or_else(|e| RunOutcome {
                result: Err(Fault {
                    kind: FaultKind::Helper {
                        id: 0,
                        error: HelperError::new(e.to_string()),
                    },
                    pc: 0,
                }),
                insn_count: 0,
            })
    }

    fn try_run(
        &self,
        _stack: &mut Stack,
        mem: &mut MemoryMap<'_>,
        args: [u64; 5],
        _opts: &RunOptions,
        _user: Option<&mut (dyn Any + Send)>,
    ) -> Result<RunOutcome, PrepareError> {
        Ok(run_in_kernel(&self.insns, mem, args)?)
    }
}

/// Loads `program` behind the prologue for the input at r1 (length r2),
/// runs it twice (see the module docs) and writes the final packet back.
fn run_in_kernel(
    program: &[Insn],
    mem: &mut MemoryMap<'_>,
    args: [u64; 5],
) -> Result<RunOutcome, String> {
    let (ptr, len) = (args[0], args[1]);
    let packet = mem
        .read_bytes(ptr, len)
        .map_err(|e| format!("kernel: cannot read the input: {e}"))?;
    let wrapped = xdp_wrapped(program, packet.len())?;
    let fd = load_xdp(&wrapped.to_bytes())?;
    // The verifier lets root read stack bytes never written; their
    // value is whatever the kernel stack held. Run twice, after zeroing
    // the stack and after filling it with a pattern: a result that
    // differs read such bytes and is refused rather than compared.
    let dirty = dirtiers()?;
    let mut results = Vec::with_capacity(2);
    for d in dirty {
        test_run(d, &packet)?;
        results.push(test_run(&fd, &packet)?);
    }
    if results[0] != results[1] {
        return Err("kernel: the result depends on uninitialised stack bytes".into());
    }
    let (ret, out) = results.swap_remove(0);
    if out.len() != packet.len() {
        return Err(format!(
            "kernel: the packet came back with {} bytes, not {}",
            out.len(),
            packet.len()
        ));
    }
    mem.write_bytes(ptr, &out)
        .map_err(|e| format!("kernel: cannot write the input back: {e}"))?;
    Ok(RunOutcome {
        result: Ok(ret as u64),
        insn_count: 0,
    })
}
