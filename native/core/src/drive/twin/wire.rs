//! The twin's endpoints on the wire: TCP segments with the options Linux sends (MSS,
//! SACK-permitted, timestamps and window scale on SYNs; timestamps and up to three SACK
//! blocks after), read back from the bytes the pipeline emits, and UDP datagrams. What the
//! pipeline sees is what a lab's kernel would send: header sizes, flags, window, the first
//! payload bytes a classifier reads.

use crate::wire::packet::{self, Parsed};
use std::net::IpAddr;

pub type Addr = (IpAddr, u16);

/// TCP option kinds.
const NOP: u8 = 1;
const MSS: u8 = 2;
const WSCALE: u8 = 3;
const SACK_PERM: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMP: u8 = 8;

/// The window scale both ends announce (Linux with a large receive buffer).
pub const WSCALE_SHIFT: u8 = 7;
/// Bytes of TCP header with the timestamp option (every segment after the SYNs).
pub const TCP_HEADER_TS: usize = 32;

/// What a segment says, besides its payload.
#[derive(Debug, Clone, Default)]
pub struct SegmentHead {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    /// Receive window in bytes (scaled, except on SYNs).
    pub window: u64,
    pub ts_val: u32,
    pub ts_ecr: u32,
    /// SACK blocks as sequence numbers (left, right).
    pub sacks: Vec<(u32, u32)>,
    /// On SYNs: the MSS announced.
    pub mss: Option<u16>,
}

fn ip_header_len(src: IpAddr) -> usize {
    if src.is_ipv4() {
        20
    } else {
        40
    }
}

/// Append a TCP/IP packet: `h` and `payload` (which `fill` writes, `len` bytes), its
/// checksum left empty (see `intact`).
pub fn build_segment(
    out: &mut Vec<u8>,
    src: Addr,
    dst: Addr,
    h: &SegmentHead,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) {
    let syn = h.flags & crate::wire::tcp::SYN != 0;
    let mut opts = [0u8; 40];
    let mut n = 0;
    let mut put = |b: &[u8]| {
        opts[n..n + b.len()].copy_from_slice(b);
        n += b.len();
    };
    if syn {
        put(&[MSS, 4]);
        put(&h.mss.unwrap_or(1460).to_be_bytes());
        put(&[SACK_PERM, 2]);
    } else {
        put(&[NOP, NOP]);
    }
    put(&[TIMESTAMP, 10]);
    put(&h.ts_val.to_be_bytes());
    put(&h.ts_ecr.to_be_bytes());
    if syn {
        put(&[NOP, WSCALE, 3, WSCALE_SHIFT]);
    } else if !h.sacks.is_empty() {
        let k = h.sacks.len().min(3);
        put(&[NOP, NOP, SACK, (2 + 8 * k) as u8]);
        for &(l, r) in &h.sacks[..k] {
            put(&l.to_be_bytes());
            put(&r.to_be_bytes());
        }
    }
    let tcp_len = 20 + n;
    let ip_len = ip_header_len(src.0);
    let start = out.len();
    out.resize(start + ip_len + tcp_len + len, 0);
    write_ip(
        &mut out[start..],
        src.0,
        dst.0,
        packet::PROTO_TCP,
        tcp_len + len,
    );
    let l4 = start + ip_len;
    let window = if syn {
        h.window.min(65535) as u16
    } else {
        (h.window >> WSCALE_SHIFT).min(65535) as u16
    };
    {
        let t = &mut out[l4..];
        t[0..2].copy_from_slice(&src.1.to_be_bytes());
        t[2..4].copy_from_slice(&dst.1.to_be_bytes());
        t[4..8].copy_from_slice(&h.seq.to_be_bytes());
        t[8..12].copy_from_slice(&h.ack.to_be_bytes());
        t[12] = ((tcp_len / 4) as u8) << 4;
        t[13] = h.flags;
        t[14..16].copy_from_slice(&window.to_be_bytes());
        t[20..20 + n].copy_from_slice(&opts[..n]);
    }
    fill(&mut out[l4 + tcp_len..]);
}

/// An IP header at the start of `b` for `l4_len` bytes of `proto` (TTL 64, DF).
fn write_ip(b: &mut [u8], src: IpAddr, dst: IpAddr, proto: u8, l4_len: usize) {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            b[0] = 0x60;
            b[1..4].fill(0);
            b[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
            b[6] = proto;
            b[7] = 64;
            b[8..24].copy_from_slice(&s.octets());
            b[24..40].copy_from_slice(&d.octets());
        }
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            b[0] = 0x45;
            b[1] = 0;
            b[2..4].copy_from_slice(&((20 + l4_len) as u16).to_be_bytes());
            b[4..10].copy_from_slice(&[0, 0, 0x40, 0, 64, proto]);
            b[10..12].fill(0);
            b[12..16].copy_from_slice(&s.octets());
            b[16..20].copy_from_slice(&d.octets());
            let c = crate::wire::checksum::finish(crate::wire::checksum::add(0, &b[..20]));
            b[10..12].copy_from_slice(&c.to_be_bytes());
        }
        // Mixed families never reach here: the plan refuses them.
        _ => {}
    }
}

/// Read a TCP segment's head back (the options this module writes, any order).
pub fn read_segment(ip: &[u8], p: &Parsed) -> Option<SegmentHead> {
    let t = p.tcp?;
    let opts = ip.get(p.l4 + 20..p.payload)?;
    let mut h = SegmentHead {
        seq: t.seq,
        ack: t.ack,
        flags: t.flags,
        window: u64::from(t.window),
        ..SegmentHead::default()
    };
    let syn = t.flags & crate::wire::tcp::SYN != 0;
    if !syn {
        h.window <<= WSCALE_SHIFT;
    }
    let mut i = 0;
    while i < opts.len() {
        match opts[i] {
            0 => break,
            NOP => i += 1,
            kind => {
                let len = usize::from(*opts.get(i + 1)?);
                if len < 2 || i + len > opts.len() {
                    return None;
                }
                let v = &opts[i + 2..i + len];
                let word = |k: usize| u32::from_be_bytes([v[k], v[k + 1], v[k + 2], v[k + 3]]);
                match kind {
                    MSS if v.len() == 2 => h.mss = Some(u16::from_be_bytes([v[0], v[1]])),
                    TIMESTAMP if v.len() == 8 => {
                        h.ts_val = word(0);
                        h.ts_ecr = word(4);
                    }
                    SACK => {
                        for k in 0..v.len() / 8 {
                            h.sacks.push((word(8 * k), word(8 * k + 4)));
                        }
                    }
                    _ => {}
                }
                i += len;
            }
        }
    }
    Some(h)
}

/// Append a UDP/IP datagram whose payload `fill` writes (`len` bytes), its checksum
/// left empty (see `intact`).
pub fn build_datagram(
    out: &mut Vec<u8>,
    src: Addr,
    dst: Addr,
    len: usize,
    fill: impl FnOnce(&mut [u8]),
) {
    let ip_len = ip_header_len(src.0);
    let start = out.len();
    out.resize(start + ip_len + 8 + len, 0);
    write_ip(&mut out[start..], src.0, dst.0, packet::PROTO_UDP, 8 + len);
    let l4 = start + ip_len;
    out[l4..l4 + 2].copy_from_slice(&src.1.to_be_bytes());
    out[l4 + 2..l4 + 4].copy_from_slice(&dst.1.to_be_bytes());
    out[l4 + 4..l4 + 6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
    out[l4 + 6..l4 + 8].fill(0);
    fill(&mut out[l4 + 8..]);
}

/// Whether a packet is intact: its L4 checksum holds, or it has none. The endpoints
/// leave it empty, as a kernel with checksum offload does; the world fills it in for
/// a packet the pipeline's stages see (an action may change its bytes), and a packet of
/// a flow nothing shapes crosses without one.
pub fn intact(ip: &[u8], p: &Parsed) -> bool {
    let at = match p.proto {
        packet::PROTO_TCP => p.l4 + 16,
        packet::PROTO_UDP => p.l4 + 6,
        _ => return true,
    };
    ip.get(at..at + 2) == Some(&[0, 0]) || packet::l4_checksum_ok(ip, p)
}

/// Fill in the L4 checksum an endpoint left empty (a packet about to enter the stages).
pub fn fill_checksum(ip: &mut [u8]) {
    if let Ok(p) = packet::parse(ip) {
        packet::fill_l4_checksum(ip, &p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tcp::{ACK, SYN};

    fn addrs() -> (Addr, Addr) {
        (
            ([198, 18, 0, 1].into(), 40000),
            ([198, 19, 0, 1].into(), 443),
        )
    }

    #[test]
    fn syn_with_linux_options_reads_back() {
        let (c, s) = addrs();
        let mut b = Vec::new();
        let h = SegmentHead {
            seq: 7,
            flags: SYN,
            window: 64240,
            ts_val: 5,
            mss: Some(1460),
            ..SegmentHead::default()
        };
        build_segment(&mut b, c, s, &h, 0, |_| {});
        // 20 IP + 20 TCP + 20 options, as Linux's SYN.
        assert_eq!(b.len(), 60);
        let p = packet::parse(&b).unwrap();
        assert!(intact(&b, &p));
        fill_checksum(&mut b);
        assert!(packet::l4_checksum_ok(&b, &p));
        b[59] ^= 1;
        assert!(!intact(&b, &p));
        let r = read_segment(&b, &p).unwrap();
        assert_eq!(
            (r.seq, r.flags, r.window, r.ts_val, r.mss),
            (7, SYN, 64240, 5, Some(1460))
        );
    }

    #[test]
    fn data_with_sack_blocks_reads_back() {
        let (c, s) = addrs();
        let mut b = Vec::new();
        let h = SegmentHead {
            seq: 1000,
            ack: 2000,
            flags: ACK,
            window: 1 << 20,
            ts_val: 9,
            ts_ecr: 8,
            sacks: vec![(3000, 4448), (5000, 6448)],
            mss: None,
        };
        build_segment(&mut b, c, s, &h, 100, |d| d.fill(0xab));
        let p = packet::parse(&b).unwrap();
        assert_eq!(p.payload_len(), 100);
        let r = read_segment(&b, &p).unwrap();
        assert_eq!(r.sacks, h.sacks);
        assert_eq!((r.ack, r.window, r.ts_ecr), (2000, 1 << 20, 8));
        // A full segment without SACK blocks is 1500 bytes at MSS 1448.
        let mut f = Vec::new();
        let h = SegmentHead {
            flags: ACK,
            ..SegmentHead::default()
        };
        build_segment(&mut f, c, s, &h, 1448, |_| {});
        assert_eq!(f.len(), 1500);
    }
}
