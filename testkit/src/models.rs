//! Independent Rust models of the example programs: the same logic as the C
//! sources, written from their descriptions, over the same packets.

use std::collections::BTreeMap;

/// XDP verdicts as numbers: ABORTED 0, DROP 1, PASS 2, TX 3.
pub const ABORTED: u64 = 0;
pub const DROP: u64 = 1;
pub const PASS: u64 = 2;
pub const TX: u64 = 3;

fn be16(p: &[u8], o: usize) -> u16 {
    u16::from_be_bytes([p[o], p[o + 1]])
}

/// State of `firewall.c`.
#[derive(Default, Debug)]
pub struct Firewall {
    /// flows: key bytes (saddr, daddr as on the wire; sport, dport as
    /// little-endian host values; proto; 3 pad) -> (packets, bytes).
    pub flows: BTreeMap<Vec<u8>, (u64, u64)>,
    /// proto -> (packets, bytes).
    pub proto_stats: BTreeMap<u8, (u64, u64)>,
    pub total_seen: u64,
    pub blocked_port: u16,
    pub flow_limit: u64,
}

impl Firewall {
    pub fn new() -> Firewall {
        Firewall {
            blocked_port: 23,
            flow_limit: 4,
            ..Firewall::default()
        }
    }

    pub fn run(&mut self, p: &[u8]) -> u64 {
        let len = p.len() as u64;
        self.total_seen += 1;
        if p.len() < 14 {
            return ABORTED;
        }
        if be16(p, 12) != 0x0800 {
            return PASS;
        }
        if p.len() < 34 {
            return ABORTED;
        }
        let proto = p[23];
        let s = self.proto_stats.entry(proto).or_default();
        s.0 += 1;
        s.1 += len;
        if proto != 6 && proto != 17 {
            return PASS;
        }
        let l4 = 14 + usize::from(p[14] & 0x0f) * 4;
        if l4 + 4 > p.len() {
            return ABORTED;
        }
        let (sport, dport) = (be16(p, l4), be16(p, l4 + 2));
        if proto == 6 && dport == self.blocked_port {
            return DROP;
        }
        let mut key = Vec::new();
        key.extend_from_slice(&p[26..34]);
        key.extend_from_slice(&sport.to_le_bytes());
        key.extend_from_slice(&dport.to_le_bytes());
        key.extend_from_slice(&[proto, 0, 0, 0]);
        match self.flows.get_mut(&key) {
            None => {
                self.flows.insert(key, (1, len));
                PASS
            }
            Some(c) => {
                c.0 += 1;
                c.1 += len;
                if c.0 > self.flow_limit {
                    DROP
                } else {
                    PASS
                }
            }
        }
    }
}

/// The load balancer's backends: (address, MAC).
pub fn backends() -> Vec<([u8; 4], [u8; 6])> {
    (0..4u8)
        .map(|i| ([10, 1, 0, 10 + i], [0x02, 0xbe, 0, 0, 0, i]))
        .collect()
}

/// The `backends` map value of backend `i`: addr (4), mac (6), pad (2).
pub fn backend_value(i: usize) -> Vec<u8> {
    let (a, m) = backends()[i];
    let mut v = a.to_vec();
    v.extend_from_slice(&m);
    v.extend_from_slice(&[0, 0]);
    v
}

fn flow_hash(saddr: u32, ports: u32) -> u32 {
    let mut h = saddr ^ ports;
    h ^= h >> 16;
    h = h.wrapping_mul(0x45d9f3b);
    h ^= h >> 16;
    h
}

/// State of `lb.c`'s `xdp_lb`.
#[derive(Default, Debug)]
pub struct Lb {
    pub hits: [u64; 4],
}

impl Lb {
    /// Returns the verdict; rewrites `p` like the program should, with
    /// checksums recomputed from scratch.
    pub fn run(&mut self, p: &mut [u8]) -> u64 {
        if p.len() < 34 {
            return ABORTED;
        }
        if be16(p, 12) != 0x0800 || p[14] != 0x45 || p[30..34] != crate::packets::VIP {
            return PASS;
        }
        let proto = p[23];
        if proto != 6 && proto != 17 {
            return PASS;
        }
        if 34 + 20 > p.len() {
            return ABORTED;
        }
        let saddr = u32::from_le_bytes([p[26], p[27], p[28], p[29]]);
        let ports = u32::from_le_bytes([p[34], p[35], p[36], p[37]]);
        let idx = (flow_hash(saddr, ports) % 4) as usize;
        let (addr, mac) = backends()[idx];
        p[30..34].copy_from_slice(&addr);
        let dst_mac: [u8; 6] = [p[0], p[1], p[2], p[3], p[4], p[5]];
        p[6..12].copy_from_slice(&dst_mac);
        p[0..6].copy_from_slice(&mac);
        crate::packets::fix_checksums(p);
        self.hits[idx] += 1;
        TX
    }
}

/// `hist.c` over one buffer: (histogram, count, sum, max).
pub fn hist(buf: &[u8]) -> ([u64; 32], u64, u64, u32) {
    let mut h = [0u64; 32];
    let (mut sum, mut max) = (0u64, 0u32);
    let n = buf.len() / 4;
    for c in buf.chunks_exact(4) {
        let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        let slot = if v == 0 { 0 } else { 31 - v.leading_zeros() };
        h[slot as usize] += 1;
        sum += u64::from(v);
        max = max.max(v);
    }
    (h, n as u64, sum, max)
}

/// `vlan.c`'s `xdp_vlan_push`: (verdict, packet out).
pub fn vlan_push(p: &[u8]) -> (u64, Vec<u8>) {
    if p.len() < 14 || be16(p, 12) != 0x0800 {
        return (PASS, p.to_vec());
    }
    let mut out = p[..12].to_vec();
    out.extend_from_slice(&[0x81, 0x00, 0x00, 42]);
    out.extend_from_slice(&p[12..]);
    (PASS, out)
}

/// `vlan.c`'s `xdp_trim`: (verdict, packet out, bytes trimmed).
pub fn trim(p: &[u8]) -> (u64, Vec<u8>, u64) {
    if p.len() <= 64 {
        return (PASS, p.to_vec(), 0);
    }
    (PASS, p[..64].to_vec(), p.len() as u64 - 64)
}

/// State of `dispatch.c`: a dispatcher tail-calling per-protocol handlers
/// (slot 0 IPv4, 1 IPv6, 2 ARP left empty, 3 TCP behind IPv4).
#[derive(Default, Debug, PartialEq, Eq)]
pub struct Dispatch {
    /// Packets counted by each handler slot.
    pub hits: [u64; 4],
    pub dispatched: u64,
    /// Tail calls that failed (ARP: empty slot).
    pub missed: u64,
    pub tcp_bytes: u64,
    /// Tail calls made.
    pub tail_calls: u32,
    /// The handler that gave the verdict: the program's name.
    pub last: &'static str,
}

impl Dispatch {
    pub fn run(&mut self, p: &[u8]) -> u64 {
        self.dispatched += 1;
        self.last = "xdp_dispatch";
        if p.len() < 14 {
            return ABORTED;
        }
        match be16(p, 12) {
            0x0800 => {
                self.tail_calls += 1;
                self.ipv4(p)
            }
            0x86dd => {
                self.tail_calls += 1;
                self.last = "handle_ipv6";
                self.hits[1] += 1;
                DROP
            }
            0x0806 => {
                self.missed += 1;
                PASS
            }
            _ => PASS,
        }
    }

    fn ipv4(&mut self, p: &[u8]) -> u64 {
        self.last = "handle_ipv4";
        self.hits[0] += 1;
        if p.len() < 14 + 20 {
            return DROP;
        }
        match p[14 + 9] {
            6 => {
                self.tail_calls += 1;
                self.tcp(p)
            }
            1 => DROP,
            _ => PASS,
        }
    }

    fn tcp(&mut self, p: &[u8]) -> u64 {
        self.last = "handle_tcp";
        self.hits[3] += 1;
        let ihl = usize::from(p[14] & 0xf);
        if ihl < 5 || p.len() < 14 + ihl * 4 + 4 {
            return ABORTED;
        }
        self.tcp_bytes += p.len() as u64;
        let dport = be16(p, 14 + ihl * 4 + 2);
        if dport == 22 || dport == 23 {
            DROP
        } else {
            PASS
        }
    }
}

/// State of `sockfilter.c`, which sees the packet from the network header
/// (`l3`) with `protocol` the frame's EtherType.
#[derive(Default, Debug)]
pub struct SockFilter {
    /// IP protocol -> packets.
    pub proto_count: BTreeMap<u8, u64>,
    pub not_ipv4: u64,
}

impl SockFilter {
    /// Returns (bytes to keep, cb[0]).
    pub fn run(&mut self, l3: &[u8], protocol: u16) -> (u64, u32) {
        let len = l3.len() as u64;
        if protocol != 0x0800 || l3.len() < 20 {
            self.not_ipv4 += 1;
            return (len, 0);
        }
        let proto = l3[9];
        *self.proto_count.entry(proto).or_default() += 1;
        let ihl = usize::from(l3[0] & 0xf) * 4;
        let verdict = match proto {
            6 if ihl + 4 > l3.len() => 0,
            6 if be16(l3, ihl + 2) == 23 => 0,
            17 => 64,
            _ => len,
        };
        (verdict, ihl as u32)
    }
}

/// What `tc_dnat` does to one frame: (verdict, packet out, mark, priority,
/// redirected to interface 1).
pub fn tc_dnat(p: &[u8]) -> (u64, Vec<u8>, u32, u32, bool) {
    const OK: u64 = 0;
    const SHOT: u64 = 2;
    let keep = |v| (v, p.to_vec(), 0, 0, false);
    if p.len() < 34 || be16(p, 12) != 0x0800 || p[14] & 0xf != 5 {
        return keep(OK);
    }
    if p[23] == 1 {
        return (7, p.to_vec(), 0, 0, true);
    }
    if p.len() < 38 {
        return keep(OK);
    }
    let dport = be16(p, 36);
    match p[23] {
        6 if dport == 23 => keep(SHOT),
        17 if dport == 53 => {
            if p.len() < 42 {
                return keep(OK);
            }
            if p[22] <= 1 {
                return keep(SHOT);
            }
            let mut q = p.to_vec();
            q[30..34].copy_from_slice(&[10, 0, 0, 53]);
            q[22] -= 1;
            crate::packets::fix_checksums(&mut q);
            (OK, q, 0x53, 6, false)
        }
        _ => keep(OK),
    }
}

/// The map key `tc_dnat` counts a verdict under.
pub fn tc_verdict_key(v: u64) -> u32 {
    if v == 7 {
        7
    } else {
        v as u32 & 7
    }
}

/// What `tc_vlan` does to one frame of at least 14 bytes: (packet out,
/// cb[1], cb[2]). The first tag (802.1Q, TCI 100) moves into the packet when
/// the second (802.1ad, TCI 200) is pushed out of band.
pub fn tc_vlan(p: &[u8]) -> (Vec<u8>, u32, u32) {
    let mut q = p[..12].to_vec();
    q.extend_from_slice(&[0x81, 0x00, 0, 100]);
    q.extend_from_slice(&p[12..]);
    let len = q.len() as u32;
    q.truncate(80);
    (q, 200, len)
}
