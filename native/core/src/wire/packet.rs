//! One pass over a packet's headers: IP (IPv6 extension chain included), then TCP, UDP
//! or ICMP. This is the only parse on the shaping path; everything downstream reads the
//! owned `Parsed` summary and offsets into the same buffer.

use super::ip::{Ipv4Packet, Ipv6Packet, Version};
use super::tcp::TcpPacket;
use super::udp::UdpPacket;
use super::{Error, Result};
use std::net::IpAddr;

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// Extension headers walked before giving up (a chain this long is an attack, not IPv6).
const MAX_EXT_HEADERS: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpInfo {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    pub version: Version,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Upper-layer protocol after any extension headers (6, 17, 1, 58, ...).
    pub proto: u8,
    /// Offset of the upper-layer header; also the length of all IP headers.
    pub l4: usize,
    /// End of the IP packet (may be shorter than the buffer: trailing padding).
    pub end: usize,
    /// A non-first fragment: no upper-layer header to read.
    pub later_fragment: bool,
    /// Any fragment (first one included).
    pub fragment: bool,
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp: Option<TcpInfo>,
    /// Offset of the upper-layer payload (== end when there is none).
    pub payload: usize,
}

impl Parsed {
    pub fn payload_len(&self) -> usize {
        self.end - self.payload
    }
    /// IP payload length (what "bytes" limits count).
    pub fn ip_payload_len(&self) -> usize {
        self.end - self.l4
    }
    pub fn is_tcp(&self) -> bool {
        self.proto == PROTO_TCP
    }
    pub fn is_udp(&self) -> bool {
        self.proto == PROTO_UDP
    }
    pub fn is_icmp(&self) -> bool {
        self.proto == PROTO_ICMP || self.proto == PROTO_ICMPV6
    }
}

pub fn parse(b: &[u8]) -> Result<Parsed> {
    let mut p = match Version::of_packet(b)? {
        Version::Ipv4 => {
            let ip = Ipv4Packet::new_checked(b)?;
            let later = ip.frag_offset() != 0;
            Parsed {
                version: Version::Ipv4,
                src: ip.src_addr().into(),
                dst: ip.dst_addr().into(),
                proto: ip.protocol(),
                l4: ip.header_len(),
                end: usize::from(ip.total_len()),
                later_fragment: later,
                fragment: ip.is_fragment(),
                src_port: 0,
                dst_port: 0,
                tcp: None,
                payload: 0,
            }
        }
        Version::Ipv6 => {
            let ip = Ipv6Packet::new_checked(b)?;
            // Payload length 0 with data behind it: a jumbo / BIG TCP super-packet.
            let end = match ip.payload_len() {
                0 => b.len(),
                n => Ipv6Packet::<&[u8]>::HEADER_LEN + usize::from(n),
            };
            let (proto, l4, fragment, later) = walk_ext(b, ip.next_header(), end)?;
            Parsed {
                version: Version::Ipv6,
                src: ip.src_addr().into(),
                dst: ip.dst_addr().into(),
                proto,
                l4,
                end,
                later_fragment: later,
                fragment,
                src_port: 0,
                dst_port: 0,
                tcp: None,
                payload: 0,
            }
        }
    };
    p.payload = p.end;
    if p.later_fragment {
        return Ok(p);
    }
    let l4 = &b[p.l4..p.end];
    match p.proto {
        PROTO_TCP => match TcpPacket::new_checked(l4) {
            Ok(t) => {
                p.src_port = t.src_port();
                p.dst_port = t.dst_port();
                p.tcp = Some(TcpInfo {
                    seq: t.seq(),
                    ack: t.ack(),
                    flags: t.flags(),
                    window: t.window(),
                });
                p.payload = p.l4 + t.header_len();
            }
            // A first fragment may cut the header short; that is not the packet's fault.
            Err(_) if p.fragment => {}
            Err(e) => return Err(e),
        },
        PROTO_UDP => match UdpPacket::new_checked(l4) {
            Ok(u) => {
                p.src_port = u.src_port();
                p.dst_port = u.dst_port();
                p.payload = p.l4 + super::udp::HEADER_LEN;
            }
            Err(_) if p.fragment => {}
            Err(e) => return Err(e),
        },
        PROTO_ICMP | PROTO_ICMPV6 => {
            if l4.len() < super::icmp::HEADER_LEN && !p.fragment {
                return Err(Error::Truncated);
            }
            p.payload = (p.l4 + super::icmp::HEADER_LEN).min(p.end);
        }
        _ => {}
    }
    Ok(p)
}

/// Recompute the upper-layer checksum (TCP, UDP, ICMP, ICMPv6) of a parsed, unfragmented
/// packet after its bytes changed. Fragments are left alone: their checksum covers
/// bytes we do not have.
pub fn fill_l4_checksum(b: &mut [u8], p: &Parsed) {
    if p.fragment || p.end > b.len() {
        return;
    }
    let l4 = &mut b[p.l4..p.end];
    match p.proto {
        PROTO_TCP => {
            if let Ok(mut t) = TcpPacket::new_checked(l4) {
                t.fill_checksum(p.src, p.dst);
            }
        }
        PROTO_UDP => {
            if let Ok(mut u) = UdpPacket::new_checked(l4) {
                u.fill_checksum(p.src, p.dst);
            }
        }
        PROTO_ICMP | PROTO_ICMPV6 if l4.len() >= 4 => {
            l4[2..4].copy_from_slice(&[0, 0]);
            let acc = if p.proto == PROTO_ICMPV6 {
                super::checksum::pseudo(p.src, p.dst, PROTO_ICMPV6, l4.len() as u32)
            } else {
                0
            };
            let c = super::checksum::finish(super::checksum::add(acc, l4));
            l4[2..4].copy_from_slice(&c.to_be_bytes());
        }
        _ => {}
    }
}

/// Append an IP header for `proto` with `l4_len` bytes to follow (TTL 64, DF, ID 0).
fn build_ip(out: &mut Vec<u8>, src: IpAddr, dst: IpAddr, proto: u8, l4_len: usize) {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&(l4_len as u16).to_be_bytes());
            out.extend_from_slice(&[proto, 64]);
            out.extend_from_slice(&s.octets());
            out.extend_from_slice(&d.octets());
        }
        (s, d) => {
            let (s, d) = match (s, d) {
                (IpAddr::V4(s), IpAddr::V4(d)) => (s.octets(), d.octets()),
                _ => ([0; 4], [0; 4]),
            };
            let start = out.len();
            out.extend_from_slice(&[0x45, 0]);
            out.extend_from_slice(&((20 + l4_len) as u16).to_be_bytes());
            out.extend_from_slice(&[0, 0, 0x40, 0, 64, proto, 0, 0]);
            out.extend_from_slice(&s);
            out.extend_from_slice(&d);
            let c = super::checksum::finish(super::checksum::add(0, &out[start..]));
            out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
        }
    }
}

/// Append a whole TCP/IP packet with a valid checksum (forged RSTs, the simulator).
#[allow(clippy::too_many_arguments)]
pub fn build_tcp(
    out: &mut Vec<u8>,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    payload: &[u8],
) {
    build_ip(out, src.0, dst.0, PROTO_TCP, 20 + payload.len());
    let l4 = out.len();
    out.extend_from_slice(&src.1.to_be_bytes());
    out.extend_from_slice(&dst.1.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.extend_from_slice(&[0x50, flags]);
    out.extend_from_slice(&window.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(payload);
    TcpPacket::new_unchecked(&mut out[l4..]).fill_checksum(src.0, dst.0);
}

/// Append a whole UDP/IP packet with a valid checksum.
pub fn build_udp(out: &mut Vec<u8>, src: (IpAddr, u16), dst: (IpAddr, u16), payload: &[u8]) {
    build_ip(out, src.0, dst.0, PROTO_UDP, 8 + payload.len());
    let l4 = out.len();
    out.extend_from_slice(&src.1.to_be_bytes());
    out.extend_from_slice(&dst.1.to_be_bytes());
    out.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    UdpPacket::new_unchecked(&mut out[l4..]).fill_checksum(src.0, dst.0);
}

/// Whether the upper-layer checksum is valid (tests and property checks).
pub fn l4_checksum_ok(b: &[u8], p: &Parsed) -> bool {
    let l4 = &b[p.l4..p.end];
    match p.proto {
        PROTO_TCP => TcpPacket::new_unchecked(l4).verify_checksum(p.src, p.dst),
        PROTO_UDP => UdpPacket::new_unchecked(l4).verify_checksum(p.src, p.dst),
        _ => true,
    }
}

/// Walk IPv6 extension headers: (upper protocol, its offset, is fragment, is later fragment).
fn walk_ext(b: &[u8], mut next: u8, end: usize) -> Result<(u8, usize, bool, bool)> {
    let mut off = Ipv6Packet::<&[u8]>::HEADER_LEN;
    let (mut fragment, mut later) = (false, false);
    for _ in 0..MAX_EXT_HEADERS {
        match next {
            // Hop-by-hop, routing, destination options: (next, len in 8-octet units - 1).
            0 | 43 | 60 => {
                let h = b.get(off..off + 2).ok_or(Error::Truncated)?;
                next = h[0];
                off += (usize::from(h[1]) + 1) * 8;
            }
            // Authentication header: length in 4-octet units - 2.
            51 => {
                let h = b.get(off..off + 2).ok_or(Error::Truncated)?;
                next = h[0];
                off += (usize::from(h[1]) + 2) * 4;
            }
            44 => {
                let h = b.get(off..off + 8).ok_or(Error::Truncated)?;
                next = h[0];
                let offset = u16::from_be_bytes([h[2], h[3]]) >> 3;
                let more = h[3] & 1 != 0;
                fragment = true;
                later = offset != 0;
                let _ = more;
                off += 8;
            }
            _ => {
                if off > end {
                    return Err(Error::Truncated);
                }
                return Ok((next, off, fragment, later));
            }
        }
        if off > end {
            return Err(Error::Truncated);
        }
    }
    Err(Error::Malformed)
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;
    use crate::wire::ip::test::{V4_ECHO, V6_UDP};

    #[test]
    fn icmp_and_udp_fixtures() {
        let p = parse(&V4_ECHO).unwrap();
        assert_eq!((p.proto, p.l4, p.end, p.payload), (PROTO_ICMP, 20, 28, 24));
        let p = parse(&V6_UDP).unwrap();
        assert_eq!((p.proto, p.l4, p.src_port, p.dst_port), (17, 40, 12345, 53));
        assert_eq!(p.payload_len(), 0);
    }

    #[test]
    fn v6_extension_headers_are_walked() {
        // Hop-by-hop (8 bytes) then a fragment header (first fragment) then UDP.
        let mut b = V6_UDP[..40].to_vec();
        b[6] = 0; // next: hop-by-hop
        b[5] = 8 + 8 + 8;
        b.extend_from_slice(&[44, 0, 1, 4, 0, 0, 0, 0]); // hbh: next = fragment
        b.extend_from_slice(&[17, 0, 0, 1, 0, 0, 0, 9]); // frag: offset 0, M=1
        b.extend_from_slice(&V6_UDP[40..]);
        let p = parse(&b).unwrap();
        assert_eq!(
            (p.proto, p.l4, p.fragment, p.later_fragment),
            (17, 56, true, false)
        );
        assert_eq!(p.dst_port, 53);
        // Later fragment: offset 1 (8 bytes), no ports read.
        b[48 + 3] = 0x08;
        let p = parse(&b).unwrap();
        assert!(p.later_fragment);
        assert_eq!(p.dst_port, 0);
    }

    #[test]
    fn v4_fragments_pass_without_l4() {
        let mut b = V4_ECHO;
        b[6] = 0x00;
        b[7] = 0x01; // offset 8 bytes
        let p = parse(&b).unwrap();
        assert!(p.later_fragment && p.fragment);
        // A first fragment too short for its TCP header is still fine.
        let mut b = V4_ECHO.to_vec();
        b[9] = 6;
        b[6] = 0x20; // MF
        let p = parse(&b).unwrap();
        assert!(p.fragment && p.tcp.is_none());
        // The same without MF is a truncated TCP header.
        b[6] = 0;
        assert_eq!(parse(&b).unwrap_err(), Error::Truncated);
    }
}
