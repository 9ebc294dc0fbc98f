//! The kernel as the oracle of cranebpf's seccomp evaluation: policies
//! built by libseccomp (`seccomp_export_bpf`) are installed in a forked
//! child (`PR_SET_NO_NEW_PRIVS`, `seccomp(SECCOMP_SET_MODE_FILTER)`), which
//! issues each system call of a list; every rule returns
//! `SECCOMP_RET_ERRNO | data` with its own data (1000 and up, above every
//! real errno), so the action the kernel took is visible in errno. The
//! action cranebpf computes for the same record, on both engines, must
//! match.
//!
//! The kernel part runs where seccomp is permitted and prints a loud
//! SKIPPED banner otherwise; `CRANEBPF_REQUIRE_KERNEL=1` makes it required.

use cranebpf::filter::{text, SockFilter};
use cranebpf::seccomp::{SeccompAction, SeccompData, SeccompFilter};
use cranebpf::EngineKind;
use libseccomp::{ScmpAction, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall};
use std::io::{Read, Seek};
use std::path::PathBuf;

/// A system call to issue: number and arguments.
#[derive(Clone, Copy, Debug)]
struct Call {
    nr: i64,
    args: [u64; 6],
}

fn call(name: &str, args: &[u64]) -> Call {
    let nr = ScmpSyscall::from_name(name).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    Call {
        nr: i32::from(nr) as i64,
        args: a,
    }
}

/// Exports a libseccomp filter as `sock_filter`s.
fn export(ctx: &ScmpFilterContext) -> Vec<SockFilter> {
    let path = std::env::temp_dir().join(format!("cranebpf-seccomp-{}.bpf", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .expect("a temporary file");
    ctx.export_bpf(&file).expect("seccomp_export_bpf");
    let mut bytes = Vec::new();
    file.rewind().expect("rewinds");
    file.read_to_end(&mut bytes).expect("reads the export");
    let _ = std::fs::remove_file(&path);
    text::from_bytes(&bytes).expect("whole sock_filter instructions")
}

/// A policy with argument comparisons of every kind; each rule's errno is
/// its own, from 1001.
fn argument_policy() -> Vec<SockFilter> {
    use ScmpCompareOp::*;
    let mut ctx = ScmpFilterContext::new(ScmpAction::Allow).expect("a context");
    let sys = |n: &str| ScmpSyscall::from_name(n).expect("a system call");
    let cmp = ScmpArgCompare::new;
    ctx.add_rule(ScmpAction::Errno(1001), sys("getppid"))
        .unwrap();
    ctx.add_rule(ScmpAction::Errno(1002), sys("getuid"))
        .unwrap();
    let rules: [(&str, i32, Vec<ScmpArgCompare>); 8] = [
        ("dup", 1003, vec![cmp(0, Equal, 1000)]),
        ("dup", 1004, vec![cmp(0, GreaterEqual, 5000)]),
        ("close", 1005, vec![cmp(0, MaskedEqual(0xff00), 0x1200)]),
        ("lseek", 1006, vec![cmp(1, Equal, 0x1_0000_0005)]),
        ("fcntl", 1007, vec![cmp(0, Equal, 7777), cmp(1, Less, 3)]),
        ("getpriority", 1008, vec![cmp(0, NotEqual, 0)]),
        (
            "kill",
            1009,
            vec![cmp(1, Equal, 0), cmp(0, Greater, 0x7000_0000)],
        ),
        ("umask", 1010, vec![cmp(0, LessOrEqual, 0o022)]),
    ];
    for (name, errno, cmps) in rules {
        ctx.add_rule_conditional(ScmpAction::Errno(errno), sys(name), &cmps)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    export(&ctx)
}

/// Harmless calls, each matching a rule or not (an allowed one fails with
/// a real errno below 1000, or succeeds).
fn argument_calls() -> Vec<Call> {
    vec![
        call("getpid", &[]),
        call("getppid", &[]),
        call("getuid", &[]),
        call("getgid", &[]),
        call("dup", &[1000]),
        call("dup", &[999]),
        call("dup", &[5000]),
        // 64-bit comparisons: not 1000, but >= 5000.
        call("dup", &[0x1_0000_03e8]),
        call("close", &[0x1234]),
        call("close", &[0x1334]),
        call("lseek", &[u64::MAX, 0x1_0000_0005, 0]),
        call("lseek", &[u64::MAX, 5, 0]),
        call("fcntl", &[7777, 1]),
        call("fcntl", &[7777, 3]),
        call("fcntl", &[7776, 1]),
        call("getpriority", &[1, 0]),
        call("getpriority", &[0, 0]),
        call("kill", &[0x7fff_fff0, 0]),
        call("kill", &[0x6fff_fff0, 0]),
        call("umask", &[0o022]),
        call("umask", &[0o077]),
    ]
}

/// The Docker-default-like policy: the names of
/// `examples/seccomp/docker-like.txt` allowed, everything else ERRNO(1).
fn docker_like_policy(default_errno: i32) -> Vec<SockFilter> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/seccomp/docker-like.txt");
    let names = std::fs::read_to_string(path).expect("the allow list");
    let mut ctx = ScmpFilterContext::new(ScmpAction::Errno(default_errno)).expect("a context");
    for name in names
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
    {
        if let Ok(sys) = ScmpSyscall::from_name(name) {
            ctx.add_rule(ScmpAction::Allow, sys).expect("adds the rule");
        }
    }
    export(&ctx)
}

/// cranebpf's errno for each call (None: allowed), on both engines.
fn cranebpf_errnos(filters: &[SockFilter], calls: &[Call]) -> Vec<Option<i32>> {
    let mut per_engine = Vec::new();
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let mut f = SeccompFilter::new(filters.to_vec(), engine).expect("a valid seccomp filter");
        let out: Vec<Option<i32>> = calls
            .iter()
            .map(|c| {
                match f
                    .evaluate(&SeccompData::new(c.nr as i32, c.args))
                    .expect("runs")
                {
                    SeccompAction::Errno { errno } => Some(errno as i32),
                    SeccompAction::Allow => None,
                    other => panic!("unexpected action {other} for {c:?}"),
                }
            })
            .collect();
        // The batch path gives the same actions.
        let data: Vec<SeccompData> = calls
            .iter()
            .map(|c| SeccompData::new(c.nr as i32, c.args))
            .collect();
        let mut batch = Vec::new();
        f.evaluate_batch(&data, &mut batch).expect("runs");
        let singles: Vec<SeccompAction> =
            data.iter().map(|d| f.evaluate(d).expect("runs")).collect();
        assert_eq!(batch, singles, "{engine:?}: batch vs one call at a time");
        per_engine.push(out);
    }
    assert_eq!(per_engine[0], per_engine[1], "interpreter and JIT disagree");
    per_engine.swap_remove(0)
}

/// The kernel's verdicts: installs `filters` in a forked child, which makes
/// each call; `Err` says why the kernel could not be asked.
fn kernel_errnos(filters: &[SockFilter], calls: &[Call]) -> Result<Vec<Option<i32>>, String> {
    let mut raw: Vec<libc::sock_filter> = filters
        .iter()
        .map(|f| libc::sock_filter {
            code: f.code,
            jt: f.jt,
            jf: f.jf,
            k: f.k,
        })
        .collect();
    let prog = libc::sock_fprog {
        len: raw.len() as u16,
        filter: raw.as_mut_ptr(),
    };
    // Results are written by the child into this buffer's copy and sent
    // back through the pipe: [status, (ret, errno) per call].
    let mut results = vec![0i64; 1 + 2 * calls.len()];
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    // SAFETY: the child runs only async-signal-safe calls (prctl, syscall,
    // write, _exit) on memory allocated before the fork, then exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            let ok = libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
                && libc::syscall(libc::SYS_seccomp, 1 /* SET_MODE_FILTER */, 0, &prog) == 0;
            results[0] = if ok {
                1
            } else {
                -(*libc::__errno_location() as i64)
            };
            if ok {
                for (i, c) in calls.iter().enumerate() {
                    let a = c.args;
                    let r = libc::syscall(c.nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                    results[1 + 2 * i] = r;
                    results[2 + 2 * i] = *libc::__errno_location() as i64;
                }
            }
            let bytes = results.len() * 8;
            libc::write(fds[1], results.as_ptr() as *const libc::c_void, bytes);
            libc::_exit(0);
        }
    }
    // SAFETY: closing our copy of the write end; reading into a buffer of
    // the right size; waiting for the child we forked.
    unsafe { libc::close(fds[1]) };
    let mut file = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fds[0]) };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let mut status = 0;
    unsafe { libc::waitpid(pid, &mut status, 0) };
    if bytes.len() != results.len() * 8 {
        return Err(format!(
            "the child sent {} bytes (status {status:#x})",
            bytes.len()
        ));
    }
    let words: Vec<i64> = bytes
        .chunks_exact(8)
        .map(|c| i64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    if words[0] != 1 {
        return Err(format!(
            "seccomp(SET_MODE_FILTER) failed: errno {}",
            -words[0]
        ));
    }
    Ok((0..calls.len())
        .map(|i| {
            let (ret, errno) = (words[1 + 2 * i], words[2 + 2 * i] as i32);
            (ret == -1 && errno >= 1000).then_some(errno)
        })
        .collect())
}

/// Compares with the kernel, or skips loudly (required under
/// `CRANEBPF_REQUIRE_KERNEL=1`).
fn check_against_kernel(what: &str, filters: &[SockFilter], calls: &[Call]) {
    let ours = cranebpf_errnos(filters, calls);
    match kernel_errnos(filters, calls) {
        Ok(kernel) => {
            for (i, c) in calls.iter().enumerate() {
                assert_eq!(
                    ours[i], kernel[i],
                    "{what}: call {i} {c:?}: cranebpf vs the kernel"
                );
            }
            eprintln!("{what}: {} calls agree with the kernel", calls.len());
        }
        Err(why) => {
            let required = std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "CRANEBPF_REQUIRE_KERNEL=1 but the seccomp oracle cannot run: {why}"
            );
            eprintln!("!!! SECCOMP KERNEL ORACLE SKIPPED ({what}): {why}");
        }
    }
}

#[test]
fn seccomp_argument_policy_agrees_with_the_kernel() {
    let filters = argument_policy();
    let calls = argument_calls();
    let ours = cranebpf_errnos(&filters, &calls);
    // Worked by hand from the rules, so the test also fails if both sides
    // ignore the arguments.
    let want = [
        None,
        Some(1001),
        Some(1002),
        None,
        Some(1003),
        None,
        Some(1004),
        Some(1004),
        Some(1005),
        None,
        Some(1006),
        None,
        Some(1007),
        None,
        None,
        Some(1008),
        None,
        Some(1009),
        None,
        Some(1010),
        None,
    ];
    assert_eq!(ours, want);
    check_against_kernel("argument policy", &filters, &calls);
}

#[test]
fn seccomp_docker_like_policy_agrees_with_the_kernel() {
    let filters = docker_like_policy(1234);
    assert!(
        filters.len() > 100,
        "a real policy: {} instructions",
        filters.len()
    );
    let names = [
        "getpid",
        "getppid",
        "getuid",
        "uname",
        "umask",
        "sched_yield",
        "gettid",
        "acct",
        "swapoff",
        "reboot",
        "syslog",
        "vhangup",
        "pivot_root",
        "settimeofday",
        "sethostname",
        "setdomainname",
        "personality",
        "ptrace",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "keyctl",
        "unshare",
    ];
    // Arguments that make a refused or allowed call harmless.
    let calls: Vec<Call> = names
        .iter()
        .filter_map(|n| {
            ScmpSyscall::from_name(n)
                .ok()
                .map(|_| call(n, &[u64::MAX, 0, 0, 0, 0, 0]))
        })
        .collect();
    let ours = cranebpf_errnos(&filters, &calls);
    assert_eq!(ours[0], None, "getpid is allowed");
    assert_eq!(ours[7], Some(1234), "acct is refused");
    check_against_kernel("docker-like policy", &filters, &calls);
}

#[test]
fn seccomp_libseccomp_kills_a_foreign_architecture() {
    let filters = docker_like_policy(1);
    let mut f = SeccompFilter::new(filters, EngineKind::Jit).expect("valid");
    let mut data = SeccompData::new(39, [0; 6]);
    data.arch = 0x1234_5678;
    let action = f.evaluate(&data).expect("runs");
    assert!(
        matches!(
            action,
            SeccompAction::KillThread | SeccompAction::KillProcess
        ),
        "{action}"
    );
}

#[test]
fn seccomp_shipped_example_matches_a_fresh_libseccomp_export() {
    // examples/seccomp/docker-like.bpf was exported from the same list; it
    // must still behave as a fresh export for every system call number.
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/seccomp/docker-like.bpf");
    let shipped =
        text::from_bytes(&std::fs::read(path).expect("the shipped filter")).expect("bytes");
    let fresh = docker_like_policy(1);
    let mut a = SeccompFilter::new(shipped, EngineKind::Interpreter).expect("valid");
    let mut b = SeccompFilter::new(fresh, EngineKind::Interpreter).expect("valid");
    for nr in -1..600 {
        let d = SeccompData::new(nr, [0; 6]);
        assert_eq!(
            a.evaluate_raw(&d).unwrap(),
            b.evaluate_raw(&d).unwrap(),
            "nr {nr}"
        );
    }
}
