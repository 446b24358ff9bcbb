//! Userspace segmentation of GSO super-packets — TCP (virtio-net `gso_type` TCPV4/TCPV6)
//! and UDP (`UDP_L4`, from UDP segmentation offload) — for flows where an action or a
//! shaping link needs per-packet semantics. Each segment gets the headers of the original
//! with its own IPv4 total length, ID and header checksum (or IPv6 payload length) and a
//! full L4 checksum — the original's is partial (NEEDS_CSUM) and the segments leave with
//! an all-zero virtio-net header. A TCP segment also gets its own sequence number, FIN/PSH
//! only on the last and CWR only on the first; a UDP datagram its own UDP length, as the
//! kernel's `__udp_gso_segment` cuts it (`gso_size` is the payload per datagram).
//!
//! A plain packet with NEEDS_CSUM gets its checksum completed the same way.

use crate::shape::packet::Pool;
use crate::wire::ip::{Ipv4Packet, Ipv6Packet, Version};
use crate::wire::packet::{parse, Parsed, PROTO_TCP, PROTO_UDP};
use crate::wire::tcp::{TcpPacket, FIN, PSH};
use crate::wire::udp::{self, UdpPacket};
use crate::wire::vnet::{FLAG_NEEDS_CSUM, GSO_ECN, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4};
use crate::wire::{checksum, Error, Result};

const CWR: u8 = 0x80;

/// The virtio-net header fields segmentation needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offload {
    pub flags: u8,
    pub gso_type: u8,
    pub gso_size: u16,
    pub csum_start: u16,
    pub csum_offset: u16,
}

impl Offload {
    pub fn of<T: AsRef<[u8]>>(h: &crate::wire::vnet::VnetHeader<T>) -> Offload {
        Offload {
            flags: h.flags(),
            gso_type: h.gso_type(),
            gso_size: h.gso_size(),
            csum_start: h.csum_start(),
            csum_offset: h.csum_offset(),
        }
    }

    pub fn is_gso(&self) -> bool {
        self.gso_type & !GSO_ECN != GSO_NONE
    }
}

/// Cut `ip` (the packet after a virtio-net header `o`) into buffers from `pool` (each
/// with the pipeline's headroom) appended to `out`.
pub fn segment(o: Offload, ip: &[u8], pool: &mut Pool, out: &mut Vec<Vec<u8>>) -> Result<()> {
    let Offload {
        flags,
        gso_type,
        gso_size,
        csum_start,
        csum_offset,
    } = o;
    match gso_type & !GSO_ECN {
        GSO_NONE => {
            let mut b = pool.take_with(ip);
            if flags & FLAG_NEEDS_CSUM != 0 {
                let start = crate::shape::packet::HEADROOM + usize::from(csum_start);
                let at = start + usize::from(csum_offset);
                if at + 2 > b.len() {
                    pool.give(b);
                    return Err(Error::Malformed);
                }
                // The field holds the pseudo-header sum; the device would add the rest.
                let c = checksum::finish(checksum::add(0, &b[start..]));
                b[at..at + 2].copy_from_slice(&c.to_be_bytes());
            }
            out.push(b);
            Ok(())
        }
        GSO_TCPV4 | GSO_TCPV6 => segment_tcp(gso_size, ip, pool, out),
        GSO_UDP_L4 => segment_udp(gso_size, ip, pool, out),
        // UFO (GSO_UDP, IP fragmentation) is never enabled on our TUNs.
        _ => Err(Error::Malformed),
    }
}

fn segment_tcp(mss: u16, ip: &[u8], pool: &mut Pool, out: &mut Vec<Vec<u8>>) -> Result<()> {
    let p = parse(ip)?;
    let t = p.tcp.ok_or(Error::Malformed)?;
    if p.proto != PROTO_TCP || p.fragment || mss == 0 {
        return Err(Error::Malformed);
    }
    let hlen = p.payload;
    let data = &ip[hlen..p.end];
    let mss = usize::from(mss);
    let n = data.len().div_ceil(mss).max(1);
    let ident = first_ident(ip, &p);
    for i in 0..n {
        let chunk = &data[(i * mss).min(data.len())..((i + 1) * mss).min(data.len())];
        let mut b = pool.take();
        let base = b.len();
        b.extend_from_slice(&ip[..hlen]);
        b.extend_from_slice(chunk);
        let seg = &mut b[base..];
        set_ip_lengths(seg, &p, ident.wrapping_add(i as u16));
        let mut tcp = TcpPacket::new_unchecked(&mut seg[p.l4..]);
        tcp.set_seq(t.seq.wrapping_add((i * mss) as u32));
        let mut f = t.flags;
        if i + 1 < n {
            f &= !(FIN | PSH);
        }
        if i > 0 {
            f &= !CWR;
        }
        tcp.set_flags(f);
        tcp.fill_checksum(p.src, p.dst);
        out.push(b);
    }
    Ok(())
}

/// Cut a UDP super-packet into datagrams of `size` payload bytes (the last may be shorter).
fn segment_udp(size: u16, ip: &[u8], pool: &mut Pool, out: &mut Vec<Vec<u8>>) -> Result<()> {
    let p = parse(ip)?;
    if p.proto != PROTO_UDP || p.fragment || size == 0 || p.payload != p.l4 + udp::HEADER_LEN {
        return Err(Error::Malformed);
    }
    let data = &ip[p.payload..p.end];
    let size = usize::from(size);
    let n = data.len().div_ceil(size).max(1);
    let ident = first_ident(ip, &p);
    for i in 0..n {
        let chunk = &data[(i * size).min(data.len())..((i + 1) * size).min(data.len())];
        let mut b = pool.take();
        let base = b.len();
        b.extend_from_slice(&ip[..p.payload]);
        b.extend_from_slice(chunk);
        let seg = &mut b[base..];
        set_ip_lengths(seg, &p, ident.wrapping_add(i as u16));
        let mut u = UdpPacket::new_unchecked(&mut seg[p.l4..]);
        u.set_len((udp::HEADER_LEN + chunk.len()) as u16);
        u.fill_checksum(p.src, p.dst);
        out.push(b);
    }
    Ok(())
}

fn first_ident(ip: &[u8], p: &Parsed) -> u16 {
    if p.version == Version::Ipv4 {
        Ipv4Packet::new_unchecked(ip).ident()
    } else {
        0
    }
}

/// A segment's own IP lengths (and IPv4 ID and header checksum).
fn set_ip_lengths(seg: &mut [u8], p: &Parsed, ident: u16) {
    let total = seg.len();
    match p.version {
        Version::Ipv4 => {
            let mut v4 = Ipv4Packet::new_unchecked(&mut seg[..]);
            v4.set_total_len(total as u16);
            v4.set_ident(ident);
            v4.fill_checksum();
        }
        Version::Ipv6 => {
            Ipv6Packet::new_unchecked(&mut seg[..]).set_payload_len((total - 40) as u16);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::shape::packet::HEADROOM;
    use crate::wire::packet::{build_tcp, build_udp, l4_checksum_ok};
    use crate::wire::tcp::ACK;
    use std::net::IpAddr;

    fn off(flags: u8, gso_type: u8, gso_size: u16, csum_start: u16, csum_offset: u16) -> Offload {
        Offload {
            flags,
            gso_type,
            gso_size,
            csum_start,
            csum_offset,
        }
    }

    fn addresses(v6: bool) -> (IpAddr, IpAddr) {
        if v6 {
            (
                "fd71:6c61:6200:1::2".parse().unwrap(),
                "fd71:6c61:6200:2::101".parse().unwrap(),
            )
        } else {
            ([198, 18, 0, 2].into(), [198, 19, 1, 1].into())
        }
    }

    fn super_packet(v6: bool, len: usize) -> Vec<u8> {
        let (s, d) = addresses(v6);
        let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
        let mut b = Vec::new();
        build_tcp(
            &mut b,
            (s, 40000),
            (d, 443),
            0xffff_f000,
            77,
            ACK | PSH | FIN | CWR,
            512,
            &data,
        );
        // Leave a partial checksum in place, as the kernel does with NEEDS_CSUM.
        let p = parse(&b).unwrap();
        let pseudo = checksum::fold(checksum::pseudo(s, d, 6, (p.end - p.l4) as u32));
        b[p.l4 + 16..p.l4 + 18].copy_from_slice(&pseudo.to_be_bytes());
        b
    }

    #[test]
    fn segments_are_valid_and_concatenate_to_the_original() {
        for v6 in [false, true] {
            let ip = super_packet(v6, 40_000);
            let gso = if v6 { GSO_TCPV6 } else { GSO_TCPV4 };
            let mut pool = Pool::default();
            let mut out = Vec::new();
            segment(
                off(FLAG_NEEDS_CSUM, gso, 1448, 0, 0),
                &ip,
                &mut pool,
                &mut out,
            )
            .unwrap();
            assert_eq!(out.len(), 40_000usize.div_ceil(1448));
            let mut joined = Vec::new();
            let mut ids = Vec::new();
            for (i, b) in out.iter().enumerate() {
                let seg = &b[HEADROOM..];
                let p = parse(seg).unwrap();
                assert!(l4_checksum_ok(seg, &p), "segment {i} checksum");
                if !v6 {
                    let v4 = Ipv4Packet::new_checked(seg).unwrap();
                    assert!(v4.verify_checksum());
                    assert_eq!(usize::from(v4.total_len()), seg.len());
                    ids.push(v4.ident());
                }
                let t = p.tcp.unwrap();
                assert_eq!(t.seq, 0xffff_f000u32.wrapping_add((i * 1448) as u32));
                let last = i + 1 == out.len();
                assert_eq!(t.flags & (FIN | PSH) != 0, last);
                assert_eq!(t.flags & CWR != 0, i == 0);
                assert!(p.payload_len() <= 1448);
                joined.extend_from_slice(&seg[p.payload..p.end]);
            }
            let orig = parse(&ip).unwrap();
            assert_eq!(joined, &ip[orig.payload..orig.end]);
            if !v6 {
                assert!(ids.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
            }
        }
    }

    fn udp_super_packet(v6: bool, len: usize) -> Vec<u8> {
        let (s, d) = addresses(v6);
        let data: Vec<u8> = (0..len).map(|i| (i * 5 + 1) as u8).collect();
        let mut b = Vec::new();
        build_udp(&mut b, (s, 40000), (d, 443), &data);
        let p = parse(&b).unwrap();
        let pseudo = checksum::fold(checksum::pseudo(s, d, 17, (p.end - p.l4) as u32));
        b[p.l4 + 6..p.l4 + 8].copy_from_slice(&pseudo.to_be_bytes());
        b
    }

    #[test]
    fn udp_datagrams_are_valid_and_concatenate_to_the_original() {
        for v6 in [false, true] {
            // 10 full datagrams of 1200 bytes and a short one of 345.
            let ip = udp_super_packet(v6, 12_345);
            let mut pool = Pool::default();
            let mut out = Vec::new();
            segment(
                off(FLAG_NEEDS_CSUM, GSO_UDP_L4, 1200, 0, 0),
                &ip,
                &mut pool,
                &mut out,
            )
            .unwrap();
            assert_eq!(out.len(), 11);
            let mut joined = Vec::new();
            let mut ids = Vec::new();
            for (i, b) in out.iter().enumerate() {
                let seg = &b[HEADROOM..];
                let p = parse(seg).unwrap();
                assert!(l4_checksum_ok(seg, &p), "datagram {i} checksum");
                let u = UdpPacket::new_checked(&seg[p.l4..]).unwrap();
                let payload = if i == 10 { 345 } else { 1200 };
                assert_eq!(usize::from(u.len()), 8 + payload);
                assert_eq!((u.src_port(), u.dst_port()), (40000, 443));
                assert_eq!(p.payload_len(), payload);
                if !v6 {
                    let v4 = Ipv4Packet::new_checked(seg).unwrap();
                    assert!(v4.verify_checksum());
                    assert_eq!(usize::from(v4.total_len()), seg.len());
                    ids.push(v4.ident());
                }
                joined.extend_from_slice(&seg[p.payload..p.end]);
            }
            let orig = parse(&ip).unwrap();
            assert_eq!(joined, &ip[orig.payload..orig.end]);
            assert!(ids.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        }
    }

    #[test]
    fn udp_segmentation_rejects_what_it_cannot_cut() {
        let ip = udp_super_packet(false, 3000);
        let mut pool = Pool::default();
        let mut out = Vec::new();
        // No size, or a TCP packet labelled UDP_L4.
        assert!(segment(off(0, GSO_UDP_L4, 0, 0, 0), &ip, &mut pool, &mut out).is_err());
        let tcp = super_packet(false, 3000);
        assert!(segment(off(0, GSO_UDP_L4, 1200, 0, 0), &tcp, &mut pool, &mut out).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn needs_csum_alone_is_completed() {
        let ip = super_packet(false, 100);
        let mut pool = Pool::default();
        let mut out = Vec::new();
        segment(
            off(FLAG_NEEDS_CSUM, GSO_NONE, 0, 20, 16),
            &ip,
            &mut pool,
            &mut out,
        )
        .unwrap();
        let seg = &out[0][HEADROOM..];
        assert!(l4_checksum_ok(seg, &parse(seg).unwrap()));
        assert!(segment(
            off(FLAG_NEEDS_CSUM, GSO_NONE, 0, 200, 16),
            &ip,
            &mut pool,
            &mut out
        )
        .is_err());
        assert!(segment(off(0, GSO_TCPV4, 0, 0, 0), &ip, &mut pool, &mut out).is_err());
    }
}
