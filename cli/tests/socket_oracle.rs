//! The kernel as the oracle of cBPF packet filters: the same filters are
//! attached with `SO_ATTACH_FILTER` to a UDP socket on the loopback device
//! of a network namespace a forked child creates (`unshare(CLONE_NEWNET)`),
//! and datagrams are sent to it. A UDP socket's filter sees the UDP header
//! and the payload; its result drops the datagram (0) or trims it to at
//! least the header. For every filter and datagram, what arrives (nothing,
//! or how many payload bytes) must be what cranebpf's result says, on both
//! engines. The sender sets `SO_NO_CHECK`, so the checksum the filter sees
//! is 0.
//!
//! Runs where the kernel permits it (root: network namespaces) and prints a
//! loud SKIPPED banner otherwise; `CRANEBPF_REQUIRE_KERNEL=1` makes it
//! required.

#[allow(dead_code)]
#[path = "common/cbpf_gen.rs"]
mod cbpf_gen;

use cbpf_gen::{random_filter, Rng};
use cranebpf::filter::{disassemble, PacketFilter, PacketMeta, SockFilter};
use cranebpf::EngineKind;
use cranebpf_runtime::isa::cbpf::insn::code::*;
use std::io::Read;

const SEED: u64 = 0x5eed_50c4_0001;
const RECEIVER_PORT: u16 = 40000;
const SENDER_PORT: u16 = 40001;

/// The datagrams: payloads of several lengths and contents.
fn payloads(rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = vec![Vec::new(), vec![0x45], b"hello".to_vec()];
    for _ in 0..12 {
        let len = rng.pick(&[1u64, 4, 12, 20, 40, 70, 100]) as usize;
        out.push((0..len).map(|_| rng.below(256) as u8).collect());
    }
    out
}

/// The filters: hand-made ones on the UDP header, and random ones.
fn filters(rng: &mut Rng) -> Vec<Vec<SockFilter>> {
    let s = SockFilter::stmt;
    let j = SockFilter::jump;
    let mut out = vec![
        vec![s(RET | K, 0xffff_ffff)],
        vec![s(RET | K, 0)],
        // Keep 10 bytes (the header and 2 bytes of payload).
        vec![s(RET | K, 10)],
        // Source port 40001 and at least 5 payload bytes: accept.
        vec![
            s(LD | H | ABS, 0),
            j(JMP | JEQ | K, SENDER_PORT as u32, 0, 3),
            s(LD | W | LEN, 0),
            j(JMP | JGE | K, 13, 0, 1),
            s(RET | K, 0xffff),
            s(RET | K, 0),
        ],
        // The UDP length field minus the first payload byte, as a length.
        vec![
            s(LD | B | ABS, 8),
            s(MISC | TAX, 0),
            s(LD | H | ABS, 4),
            s(ALU | SUB | X, 0),
            s(RET | A, 0),
        ],
    ];
    for _ in 0..40 {
        let body = 1 + rng.below(30) as usize;
        out.push(random_filter(rng, body));
    }
    out
}

/// The bytes a UDP socket's filter sees: the header as received, then the
/// payload.
fn datagram(payload: &[u8]) -> Vec<u8> {
    let mut d = Vec::with_capacity(8 + payload.len());
    d.extend_from_slice(&SENDER_PORT.to_be_bytes());
    d.extend_from_slice(&RECEIVER_PORT.to_be_bytes());
    d.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(payload);
    d
}

/// What cranebpf says arrives: `None` (dropped) or the payload length.
fn cranebpf_received(filter: &[SockFilter], payloads: &[Vec<u8>]) -> Vec<Option<usize>> {
    let mut per_engine = Vec::new();
    for engine in [EngineKind::Interpreter, EngineKind::Jit] {
        let mut f = PacketFilter::new(filter.to_vec(), engine).expect("a valid filter");
        let got: Vec<Option<usize>> = payloads
            .iter()
            .map(|p| {
                let d = datagram(p);
                let ret = f
                    .run(&d, &PacketMeta::with_len(d.len() as u32))
                    .expect("runs");
                (ret != 0).then(|| (ret as usize).max(8).min(d.len()) - 8)
            })
            .collect();
        per_engine.push(got);
    }
    assert_eq!(per_engine[0], per_engine[1], "interpreter and JIT disagree");
    per_engine.swap_remove(0)
}

/// Sends every payload through every filter in a new network namespace;
/// `Err` says why the kernel could not be asked.
fn kernel_received(
    filters: &[Vec<SockFilter>],
    payloads: &[Vec<u8>],
) -> Result<Vec<Vec<Option<usize>>>, String> {
    // Everything the child touches is allocated before the fork.
    let raw: Vec<Vec<libc::sock_filter>> = filters
        .iter()
        .map(|f| {
            f.iter()
                .map(|i| libc::sock_filter {
                    code: i.code,
                    jt: i.jt,
                    jf: i.jf,
                    k: i.k,
                })
                .collect()
        })
        .collect();
    let mut results = vec![0i64; 1 + filters.len() * payloads.len()];
    let mut buf = vec![0u8; 2048];
    let mut fds = [0i32; 2];
    // SAFETY: pipe writes two descriptors into the array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err("pipe failed".into());
    }
    // SAFETY: the child makes only system calls on memory allocated before
    // the fork (no allocation, no locks), then exits with _exit.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        unsafe {
            results[0] = child(&raw, payloads, &mut results[1..], &mut buf);
            libc::write(
                fds[1],
                results.as_ptr() as *const libc::c_void,
                results.len() * 8,
            );
            libc::_exit(0);
        }
    }
    // SAFETY: our copy of the write end; the read end as a File; the child we forked.
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
    if words[0] != 0 {
        return Err(format!(
            "the namespace setup failed at step {} (errno {})",
            words[0] >> 32,
            words[0] & 0xffff_ffff
        ));
    }
    Ok(words[1..]
        .chunks(payloads.len())
        .map(|row| {
            row.iter()
                .map(|&w| (w >= 0).then_some(w as usize))
                .collect()
        })
        .collect())
}

/// The child: a new network namespace with loopback up; per filter, a
/// receiver with the filter attached; per payload, a datagram and a
/// non-blocking receive (loopback delivers during `sendto`). Returns 0, or
/// `step << 32 | errno` of the first failing setup call.
unsafe fn child(
    filters: &[Vec<libc::sock_filter>],
    payloads: &[Vec<u8>],
    out: &mut [i64],
    buf: &mut [u8],
) -> i64 {
    let fail = |step: i64| (step << 32) | *libc::__errno_location() as i64;
    if libc::unshare(libc::CLONE_NEWNET) != 0 {
        return fail(1);
    }
    let ctl = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
    let mut ifr: libc::ifreq = std::mem::zeroed();
    ifr.ifr_name[0] = b'l' as libc::c_char;
    ifr.ifr_name[1] = b'o' as libc::c_char;
    ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    if ctl < 0 || libc::ioctl(ctl, libc::SIOCSIFFLAGS, &ifr) != 0 {
        return fail(2);
    }
    let addr = |port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_be_bytes([127, 0, 0, 1]).to_be(),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let (to, from) = (addr(RECEIVER_PORT), addr(SENDER_PORT));
    let one: libc::c_int = 1;
    let tx = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
    if tx < 0
        || libc::setsockopt(
            tx,
            libc::SOL_SOCKET,
            libc::SO_NO_CHECK,
            &one as *const _ as *const libc::c_void,
            4,
        ) != 0
        || libc::bind(tx, &from as *const _ as *const libc::sockaddr, len) != 0
    {
        return fail(3);
    }
    for (fi, f) in filters.iter().enumerate() {
        let rx = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        let prog = libc::sock_fprog {
            len: f.len() as u16,
            filter: f.as_ptr() as *mut libc::sock_filter,
        };
        if rx < 0
            || libc::bind(rx, &to as *const _ as *const libc::sockaddr, len) != 0
            || libc::setsockopt(
                rx,
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                &prog as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
            ) != 0
        {
            return fail(4);
        }
        for (pi, p) in payloads.iter().enumerate() {
            libc::sendto(
                tx,
                p.as_ptr() as *const libc::c_void,
                p.len(),
                0,
                &to as *const _ as *const libc::sockaddr,
                len,
            );
            let n = libc::recv(
                rx,
                buf.as_mut_ptr() as *mut libc::c_void,
                buf.len(),
                libc::MSG_DONTWAIT,
            );
            out[fi * payloads.len() + pi] = if n < 0 { -1 } else { n as i64 };
        }
        libc::close(rx);
    }
    0
}

#[test]
fn socket_filters_agree_with_so_attach_filter() {
    let mut rng = Rng(SEED);
    eprintln!("socket filter oracle: seed {SEED:#x}");
    let payloads = payloads(&mut rng);
    let filters = filters(&mut rng);
    let ours: Vec<Vec<Option<usize>>> = filters
        .iter()
        .map(|f| cranebpf_received(f, &payloads))
        .collect();
    // Worked by hand: accept all, drop all, keep 2 payload bytes.
    assert!(ours[0]
        .iter()
        .zip(&payloads)
        .all(|(r, p)| *r == Some(p.len())));
    assert!(ours[1].iter().all(Option::is_none));
    assert_eq!(ours[2][2], Some(2));
    let kernel = match kernel_received(&filters, &payloads) {
        Ok(k) => k,
        Err(why) => {
            let required = std::env::var("CRANEBPF_REQUIRE_KERNEL").is_ok_and(|v| v == "1");
            assert!(
                !required,
                "CRANEBPF_REQUIRE_KERNEL=1 but the socket filter oracle cannot run: {why}"
            );
            eprintln!("!!! SOCKET FILTER KERNEL ORACLE SKIPPED: {why}");
            return;
        }
    };
    for (fi, f) in filters.iter().enumerate() {
        for (pi, p) in payloads.iter().enumerate() {
            assert_eq!(
                ours[fi][pi],
                kernel[fi][pi],
                "filter {fi}, payload {pi} ({p:?}): cranebpf vs the kernel; the filter:\n{}",
                disassemble(f)
            );
        }
    }
    eprintln!(
        "{} filters x {} datagrams agree with the kernel",
        filters.len(),
        payloads.len()
    );
}
