//! Userspace UDP GRO for the unshaped path: consecutive datagrams of one flow read in one
//! batch leave as a single GSO_UDP_L4 super-packet, so the kernel's receive path (routing,
//! netfilter, the TUN write itself) runs once per batch instead of once per datagram; the
//! receiving socket still gets each datagram on its own (the kernel cuts the super-packet
//! in `udp_rcv_segment` for a socket without UDP_GRO). Only used when the TUN written to
//! took UDP segmentation offload. Datagrams are never held back: whatever is pending is
//! written at the end of the batch, before anything that does not coalesce, and when the
//! next datagram differs, so order is kept within and across flows.
//!
//! A datagram joins only if it matches the first one in every header field the kernel
//! copies into each segment (addresses, ports, TOS / traffic class and flow label, TTL /
//! hop limit, DF) and is not longer than the first; a shorter one closes the super-packet,
//! as in UDP_SEGMENT. The super-packet carries a partial checksum (NEEDS_CSUM), so every
//! datagram arrives with a checksum computed by the kernel over its own bytes.

use crate::wire::checksum;
use crate::wire::ip::{Ipv4Packet, Ipv6Packet};
use crate::wire::udp::UdpPacket;
use crate::wire::vnet::{self, FLAG_NEEDS_CSUM, GSO_NONE, GSO_UDP_L4};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const PROTO_UDP: u8 = 17;

/// Datagrams per super-packet; the kernel accepts up to 128 (UDP_MAX_SEGMENTS).
const MAX_SEGMENTS: u32 = 64;

/// The largest IP packet a super-packet may become (IPv4 total length, IPv6 payload
/// length plus its header are 16-bit).
const MAX_IP: usize = 65_535;

/// Where a frame (virtio-net header, then IP) of a plain UDP datagram keeps its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Datagram {
    v6: bool,
    /// Offset of the UDP header in the IP packet.
    l4: usize,
    /// UDP payload bytes.
    payload: usize,
}

/// A frame that may join a super-packet: no GSO, IPv4 without options or fragments, or
/// IPv6 without extension headers, UDP with lengths that agree with the frame.
fn datagram(frame: &[u8]) -> Option<Datagram> {
    if frame.len() < vnet::HEADER_LEN || frame[1] != GSO_NONE {
        return None;
    }
    let ip = &frame[vnet::HEADER_LEN..];
    let (v6, l4) = match ip.first()? >> 4 {
        4 if ip.len() >= 28 && ip[0] == 0x45 => {
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
            if total != ip.len() || fragment || ip[9] != PROTO_UDP {
                return None;
            }
            (false, 20)
        }
        6 if ip.len() >= 48 => {
            let payload = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            if payload + 40 != ip.len() || ip[6] != PROTO_UDP {
                return None;
            }
            (true, 40)
        }
        _ => return None,
    };
    let udp_len = usize::from(u16::from_be_bytes([ip[l4 + 4], ip[l4 + 5]]));
    let payload = ip.len() - l4 - 8;
    (udp_len == ip.len() - l4 && payload > 0).then_some(Datagram { v6, l4, payload })
}

/// Byte ranges of the IP header (plus the UDP ports) that must be equal for two datagrams
/// to be segments of one super-packet.
fn same_flow(a: &[u8], b: &[u8], d: Datagram) -> bool {
    let ports = d.l4..d.l4 + 4;
    if d.v6 {
        a[..4] == b[..4] && a[6..40] == b[6..40] && a[ports.clone()] == b[ports]
    } else {
        a[..2] == b[..2]
            && a[6] & 0x40 == b[6] & 0x40
            && a[8..10] == b[8..10]
            && a[12..20] == b[12..20]
            && a[ports.clone()] == b[ports]
    }
}

#[derive(Debug, Default)]
pub struct Coalescer {
    /// The first frame as read, then the payloads of the others appended.
    buf: Vec<u8>,
    first: Option<Datagram>,
    count: u32,
    /// A datagram shorter than the first joined: nothing more may follow it.
    closed: bool,
}

/// What to do with a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// It joins the pending super-packet.
    Joins,
    /// It may start a super-packet, after what is pending is written.
    Starts,
    /// It cannot be coalesced: write what is pending, then the frame as it is.
    Alone,
}

impl Coalescer {
    pub fn fit(&self, frame: &[u8]) -> Fit {
        let Some(d) = datagram(frame) else {
            return Fit::Alone;
        };
        let Some(first) = self.first else {
            return Fit::Starts;
        };
        let ip = &frame[vnet::HEADER_LEN..];
        let pending = &self.buf[vnet::HEADER_LEN..];
        let joins = !self.closed
            && d.v6 == first.v6
            && self.count < MAX_SEGMENTS
            && d.payload <= first.payload
            && pending.len() + d.payload <= MAX_IP
            && same_flow(pending, ip, d);
        if joins {
            Fit::Joins
        } else {
            Fit::Starts
        }
    }

    /// Begin a super-packet with `frame` (for which `fit` said `Starts`).
    pub fn start(&mut self, frame: &[u8]) {
        self.buf.clear();
        self.buf.extend_from_slice(frame);
        self.first = datagram(frame);
        self.count = 1;
        self.closed = false;
    }

    /// Append the payload of `frame` (for which `fit` said `Joins`).
    pub fn join(&mut self, frame: &[u8]) {
        let (Some(first), Some(d)) = (self.first, datagram(frame)) else {
            return;
        };
        let ip = &frame[vnet::HEADER_LEN..];
        self.buf.extend_from_slice(&ip[d.l4 + 8..]);
        self.count += 1;
        self.closed = d.payload < first.payload;
    }

    /// The pending frame to write and how many datagrams it carries (none pending: None).
    /// One datagram leaves exactly as it was read. Clears the coalescer.
    pub fn finish(&mut self) -> Option<(&[u8], u64)> {
        let first = self.first.take()?;
        let count = std::mem::take(&mut self.count);
        if count > 1 {
            self.seal(first);
        }
        Some((&self.buf, u64::from(count)))
    }

    /// Turn the pending datagrams into one GSO_UDP_L4 super-packet.
    fn seal(&mut self, first: Datagram) {
        let (head, ip) = self.buf.split_at_mut(vnet::HEADER_LEN);
        let total = ip.len();
        let l4 = first.l4;
        let (src, dst): (IpAddr, IpAddr) = if first.v6 {
            let mut v6 = Ipv6Packet::new_unchecked(&mut ip[..]);
            v6.set_payload_len((total - 40) as u16);
            let a = |r: std::ops::Range<usize>| -> Ipv6Addr {
                <[u8; 16]>::try_from(&ip[r]).map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
            };
            (a(8..24).into(), a(24..40).into())
        } else {
            let mut v4 = Ipv4Packet::new_unchecked(&mut ip[..]);
            v4.set_total_len(total as u16);
            v4.fill_checksum();
            let a = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
            (a(12).into(), a(16).into())
        };
        let udp_len = total - l4;
        let mut udp = UdpPacket::new_unchecked(&mut ip[l4..]);
        udp.set_len(udp_len as u16);
        // A partial checksum: the pseudo-header sum, which the kernel adjusts to each
        // segment's length and completes over its bytes (NEEDS_CSUM).
        let pseudo = checksum::fold(checksum::pseudo(src, dst, PROTO_UDP, udp_len as u32));
        ip[l4 + 6..l4 + 8].copy_from_slice(&pseudo.to_be_bytes());
        head[0] = FLAG_NEEDS_CSUM;
        head[1] = GSO_UDP_L4;
        head[2..4].copy_from_slice(&((l4 + 8) as u16).to_le_bytes());
        head[4..6].copy_from_slice(&(first.payload as u16).to_le_bytes());
        head[6..8].copy_from_slice(&(l4 as u16).to_le_bytes());
        head[8..10].copy_from_slice(&6u16.to_le_bytes());
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::io::gso::{segment, Offload};
    use crate::shape::packet::{Pool, HEADROOM};
    use crate::wire::packet::{build_tcp, build_udp, l4_checksum_ok, parse};
    use crate::wire::tcp::ACK;
    use crate::wire::vnet::VnetHeader;

    fn frame(src: &str, dst: &str, sport: u16, payload: &[u8]) -> Vec<u8> {
        let mut ip = Vec::new();
        let (s, d): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        build_udp(&mut ip, (s, sport), (d, 5201), payload);
        let mut f = vec![0u8; vnet::HEADER_LEN];
        f.extend_from_slice(&ip);
        f
    }

    fn feed(c: &mut Coalescer, frames: &[Vec<u8>]) -> Vec<(Vec<u8>, u64)> {
        let mut out = Vec::new();
        for f in frames {
            match c.fit(f) {
                Fit::Joins => c.join(f),
                Fit::Starts => {
                    out.extend(c.finish().map(|(b, n)| (b.to_vec(), n)));
                    c.start(f);
                }
                Fit::Alone => {
                    out.extend(c.finish().map(|(b, n)| (b.to_vec(), n)));
                    out.push((f.clone(), 1));
                }
            }
        }
        out.extend(c.finish().map(|(b, n)| (b.to_vec(), n)));
        out
    }

    /// What the kernel would deliver: the super-packet cut as `__udp_gso_segment` does.
    fn delivered(frame: &[u8]) -> Vec<Vec<u8>> {
        let off = Offload::of(&VnetHeader::new_checked(frame).unwrap());
        let mut out = Vec::new();
        segment(
            off,
            &frame[vnet::HEADER_LEN..],
            &mut Pool::default(),
            &mut out,
        )
        .unwrap();
        out.into_iter().map(|b| b[HEADROOM..].to_vec()).collect()
    }

    #[test]
    fn one_flow_becomes_one_super_packet_that_cuts_back_into_the_datagrams() {
        for (s, d) in [
            ("198.18.0.2", "198.19.0.1"),
            ("fd71:6c61:6200:1::2", "fd71:6c61:6200:2::1"),
        ] {
            let frames: Vec<Vec<u8>> = (0..5u8)
                .map(|i| frame(s, d, 40000, &vec![i; if i == 4 { 300 } else { 1200 }]))
                .collect();
            let out = feed(&mut Coalescer::default(), &frames);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].1, 5);
            let segs = delivered(&out[0].0);
            assert_eq!(segs.len(), 5);
            for (seg, f) in segs.iter().zip(&frames) {
                let p = parse(seg).unwrap();
                assert!(l4_checksum_ok(seg, &p));
                let orig = &f[vnet::HEADER_LEN..];
                let o = parse(orig).unwrap();
                assert_eq!(&seg[p.l4..], &orig[o.l4..], "UDP header and payload");
            }
        }
    }

    #[test]
    fn a_single_datagram_leaves_as_it_came() {
        let f = frame("198.18.0.2", "198.19.0.1", 40000, &[1; 100]);
        assert_eq!(
            feed(&mut Coalescer::default(), std::slice::from_ref(&f)),
            vec![(f, 1)]
        );
    }

    #[test]
    fn other_flows_longer_datagrams_and_non_udp_split_the_run_in_order() {
        let a = |n: usize| frame("198.18.0.2", "198.19.0.1", 40000, &vec![1; n]);
        let b = frame("198.18.0.2", "198.19.0.1", 40001, &[2; 100]);
        let mut tcp_ip = Vec::new();
        let (s, d): (IpAddr, IpAddr) = ([198, 18, 0, 2].into(), [198, 19, 0, 1].into());
        build_tcp(&mut tcp_ip, (s, 1), (d, 2), 0, 0, ACK, 100, &[0; 10]);
        let mut tcp = vec![0u8; vnet::HEADER_LEN];
        tcp.extend_from_slice(&tcp_ip);
        let frames = vec![
            a(100),
            a(100),
            b.clone(),
            a(100),
            a(200),
            a(50),
            a(50),
            tcp.clone(),
        ];
        let out = feed(&mut Coalescer::default(), &frames);
        let counts: Vec<u64> = out.iter().map(|o| o.1).collect();
        // [a a] [b] [a] [a(200) a(50)] [a(50)]: the 200 is longer than the run's first,
        // the second 50 follows a shorter one. TCP goes alone.
        assert_eq!(counts, vec![2, 1, 1, 2, 1, 1]);
        assert_eq!(out[1].0, b);
        assert_eq!(out[5].0, tcp);
        let total: usize = out.iter().map(|o| delivered_or_self(&o.0).len()).sum();
        assert_eq!(total, frames.len());
    }

    fn delivered_or_self(f: &[u8]) -> Vec<Vec<u8>> {
        if f[1] == GSO_UDP_L4 {
            delivered(f)
        } else {
            vec![f[vnet::HEADER_LEN..].to_vec()]
        }
    }

    #[test]
    fn a_run_stops_at_the_segment_limit() {
        let f = frame("198.18.0.2", "198.19.0.1", 40000, &[3; 100]);
        let frames = vec![f; 70];
        let counts: Vec<u64> = feed(&mut Coalescer::default(), &frames)
            .iter()
            .map(|o| o.1)
            .collect();
        assert_eq!(counts, vec![64, 6]);
    }
}
