//! seccomp as a program type: the context `struct seccomp_data`, the
//! `SECCOMP_RET_*` actions, and the evaluation of a translated seccomp
//! filter for one system call on any engine.
//!
//! A seccomp filter is classic BPF checked with
//! [`Flavor::Seccomp`](crate::isa::cbpf::Flavor) and translated by
//! [`translate`](crate::isa::cbpf::translate): its only loads are aligned
//! 32-bit words of the read-only [`SeccompData`] (the kernel allows nothing
//! else), which the run passes as r1. [`evaluate`] runs one filter;
//! [`evaluate_stack`] runs several the way the kernel runs the filters a
//! process installed, keeping the action of highest precedence.

use crate::engine::fault::Fault;
use crate::engine::run::RunOptions;
use crate::engine::Prepared;
use crate::host::mem::{MemoryMap, Stack};
use std::fmt;

/// `AUDIT_ARCH_X86_64`.
pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// `AUDIT_ARCH_AARCH64`.
pub const AUDIT_ARCH_AARCH64: u32 = 0xc000_00b7;
/// `AUDIT_ARCH_I386`.
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
/// `AUDIT_ARCH_RISCV64`.
pub const AUDIT_ARCH_RISCV64: u32 = 0xc000_00f3;

/// The `AUDIT_ARCH_*` value of the host, as the kernel fills `arch`.
pub const fn host_audit_arch() -> u32 {
    if cfg!(target_arch = "x86_64") {
        AUDIT_ARCH_X86_64
    } else if cfg!(target_arch = "aarch64") {
        AUDIT_ARCH_AARCH64
    } else if cfg!(target_arch = "riscv64") {
        AUDIT_ARCH_RISCV64
    } else {
        0
    }
}

/// `struct seccomp_data`: what a seccomp filter sees of a system call.
/// 64 bytes; a filter reads it as 16 native-endian words
/// ([`SeccompData::to_bytes`]), so a 64-bit field is two loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SeccompData {
    /// Offset 0: the system call number.
    pub nr: i32,
    /// Offset 4: the `AUDIT_ARCH_*` value of the calling convention.
    pub arch: u32,
    /// Offset 8: the address of the system call instruction.
    pub instruction_pointer: u64,
    /// Offsets 16..64: the six arguments.
    pub args: [u64; 6],
}

impl SeccompData {
    /// A call of `nr` on the host's architecture with `args`.
    pub fn new(nr: i32, args: [u64; 6]) -> SeccompData {
        SeccompData {
            nr,
            arch: host_audit_arch(),
            instruction_pointer: 0,
            args,
        }
    }

    /// The 64 bytes a filter reads, in the host's byte order.
    pub fn to_bytes(&self) -> [u8; 64] {
        let mut b = [0u8; 64];
        b[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        b[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        b[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            b[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_ne_bytes());
        }
        b
    }
}

/// The `SECCOMP_RET_*` action of a filter's 32-bit result: the high 16 bits
/// choose the action (`SECCOMP_RET_ACTION_FULL`), the low 16 are its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeccompAction {
    /// `0x80000000`: kill the process.
    KillProcess,
    /// `0x00000000`: kill the thread.
    KillThread,
    /// `0x00030000`: send `SIGSYS` with `data` in `si_errno`.
    Trap {
        /// The low 16 bits.
        data: u16,
    },
    /// `0x00050000`: fail the call with `-errno`.
    Errno {
        /// The error number.
        errno: u16,
    },
    /// `0x7fc00000`: ask the user-space notifier.
    UserNotif,
    /// `0x7ff00000`: notify a ptrace tracer with `data`.
    Trace {
        /// The low 16 bits.
        data: u16,
    },
    /// `0x7ffc0000`: allow and log.
    Log,
    /// `0x7fff0000`: allow.
    Allow,
    /// Any other action value: the kernel treats it as
    /// [`SeccompAction::KillProcess`].
    Unknown {
        /// The filter's whole result.
        raw: u32,
    },
}

impl SeccompAction {
    /// `SECCOMP_RET_ACTION_FULL`.
    pub const ACTION_MASK: u32 = 0xffff_0000;

    /// The action of a filter's result.
    pub fn from_ret(ret: u32) -> SeccompAction {
        let data = ret as u16;
        match ret & Self::ACTION_MASK {
            0x8000_0000 => SeccompAction::KillProcess,
            0x0000_0000 => SeccompAction::KillThread,
            0x0003_0000 => SeccompAction::Trap { data },
            0x0005_0000 => SeccompAction::Errno { errno: data },
            0x7fc0_0000 => SeccompAction::UserNotif,
            0x7ff0_0000 => SeccompAction::Trace { data },
            0x7ffc_0000 => SeccompAction::Log,
            0x7fff_0000 => SeccompAction::Allow,
            _ => SeccompAction::Unknown { raw: ret },
        }
    }

    /// The precedence the kernel ranks actions by, lowest first wins: the
    /// action bits as a signed number (so `KILL_PROCESS` comes first).
    pub fn precedence(ret: u32) -> i32 {
        (ret & Self::ACTION_MASK) as i32
    }

    /// The action's name, as `seccomp(2)` spells it (without `SECCOMP_RET_`).
    pub fn name(&self) -> &'static str {
        match self {
            SeccompAction::KillProcess => "KILL_PROCESS",
            SeccompAction::KillThread => "KILL_THREAD",
            SeccompAction::Trap { .. } => "TRAP",
            SeccompAction::Errno { .. } => "ERRNO",
            SeccompAction::UserNotif => "USER_NOTIF",
            SeccompAction::Trace { .. } => "TRACE",
            SeccompAction::Log => "LOG",
            SeccompAction::Allow => "ALLOW",
            SeccompAction::Unknown { .. } => "UNKNOWN",
        }
    }
}

impl fmt::Display for SeccompAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SeccompAction::Trap { data } | SeccompAction::Trace { data } => {
                write!(f, "{}({data})", self.name())
            }
            SeccompAction::Errno { errno } => write!(f, "ERRNO({errno})"),
            SeccompAction::Unknown { raw } => write!(f, "UNKNOWN({raw:#010x})"),
            _ => f.write_str(self.name()),
        }
    }
}

/// Runs one translated seccomp filter for `data` on `stack`: the filter's
/// 32-bit result, or the engine's fault (a translated filter cannot fault
/// on a correct engine: its loads are checked in range at load time).
pub fn evaluate(
    prepared: &dyn Prepared,
    stack: &mut Stack,
    data: &SeccompData,
) -> Result<u32, Fault> {
    let bytes = data.to_bytes();
    let mut mem = MemoryMap::new();
    let region = mem.add_ref(&bytes);
    let out = prepared.run(
        stack,
        &mut mem,
        [region.start, 0, 0, 0, 0],
        &RunOptions::default(),
        None,
    );
    out.result.map(|r0| r0 as u32)
}

/// Runs every filter, as the kernel runs a process's filters, and returns
/// the result of highest precedence ([`SeccompAction::precedence`]; on a
/// tie the first filter's). An empty list allows.
pub fn evaluate_stack(
    filters: &[&dyn Prepared],
    stack: &mut Stack,
    data: &SeccompData,
) -> Result<u32, Fault> {
    let mut best = 0x7fff_0000;
    for (i, p) in filters.iter().enumerate() {
        let ret = evaluate(*p, stack, data)?;
        if i == 0 || SeccompAction::precedence(ret) < SeccompAction::precedence(best) {
            best = ret;
        }
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seccomp_data_layout_is_the_kernels() {
        let d = SeccompData {
            nr: 59,
            arch: AUDIT_ARCH_X86_64,
            instruction_pointer: 0x1122_3344_5566_7788,
            args: [1, 2, 3, 4, 5, 0xdead_beef_0000_0006],
        };
        let b = d.to_bytes();
        let w = |o: usize| u32::from_ne_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        assert_eq!(w(0), 59);
        assert_eq!(w(4), 0xc000_003e);
        assert_eq!(w(16), 1);
        assert_eq!(w(56), 6);
        assert_eq!(
            u64::from_ne_bytes(b[56..64].try_into().unwrap()),
            0xdead_beef_0000_0006
        );
    }

    /// `ld [0]; jeq #nr, 0, 1; ret #hit; ret #miss`, checked as seccomp and
    /// translated, on the interpreter.
    fn policy(nr: u32, hit: u32, miss: u32) -> crate::Interpreter {
        use crate::isa::cbpf::{translate, CbpfProgram, Flavor, SockFilter};
        let f = vec![
            SockFilter::stmt(0x20, 0),
            SockFilter::jump(0x15, nr, 0, 1),
            SockFilter::stmt(0x06, hit),
            SockFilter::stmt(0x06, miss),
        ];
        let prog = translate(&CbpfProgram::new(f, Flavor::Seccomp).unwrap()).unwrap();
        crate::Interpreter::new(&prog, crate::Helpers::new()).unwrap()
    }

    #[test]
    fn seccomp_evaluate_stack_keeps_the_highest_precedence() {
        let errno = policy(39, 0x0005_0001, 0x7fff_0000);
        let kill = policy(59, 0x8000_0000, 0x7fff_0000);
        let log = policy(39, 0x7ffc_0000, 0x7fff_0000);
        let mut stack = Stack::new();
        let getpid = SeccompData::new(39, [0; 6]);
        let execve = SeccompData::new(59, [0; 6]);
        assert_eq!(evaluate(&errno, &mut stack, &getpid), Ok(0x0005_0001));
        let all: [&dyn Prepared; 3] = [&log, &kill, &errno];
        assert_eq!(evaluate_stack(&all, &mut stack, &getpid), Ok(0x0005_0001));
        assert_eq!(evaluate_stack(&all, &mut stack, &execve), Ok(0x8000_0000));
        assert_eq!(
            evaluate_stack(&all, &mut stack, &SeccompData::new(1, [0; 6])),
            Ok(0x7fff_0000)
        );
        assert_eq!(evaluate_stack(&[], &mut stack, &getpid), Ok(0x7fff_0000));
    }

    #[test]
    fn seccomp_actions_split_action_and_data() {
        assert_eq!(
            SeccompAction::from_ret(0x0005_0001),
            SeccompAction::Errno { errno: 1 }
        );
        assert_eq!(SeccompAction::from_ret(0x7fff_0000), SeccompAction::Allow);
        assert_eq!(
            SeccompAction::from_ret(0x8000_0000),
            SeccompAction::KillProcess
        );
        assert_eq!(SeccompAction::from_ret(0), SeccompAction::KillThread);
        assert_eq!(
            SeccompAction::from_ret(0x1234_0000),
            SeccompAction::Unknown { raw: 0x1234_0000 }
        );
        assert_eq!(
            SeccompAction::from_ret(0x0005_000d).to_string(),
            "ERRNO(13)"
        );
        assert!(SeccompAction::precedence(0x8000_0000) < SeccompAction::precedence(0));
        assert!(SeccompAction::precedence(0x0005_0000) < SeccompAction::precedence(0x7fff_0000));
    }
}
