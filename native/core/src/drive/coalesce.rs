//! Userspace GRO for what the core writes: consecutive UDP datagrams, or TCP segments, of
//! one flow leave as a single GSO super-packet (GSO_UDP_L4, GSO_TCPV4/6), so the kernel's
//! receive path (routing, netfilter, the TUN write itself, and for TCP the receiver's
//! per-segment work) runs once per run instead of once per packet. The receiving socket
//! still gets what it would have: the kernel cuts a UDP super-packet in `udp_rcv_segment`
//! for a socket without UDP_GRO, and TCP takes it as its own GRO would have merged it.
//! Used on the unshaped path (runs within one read batch) and for what the shaper
//! releases in one wakeup; UDP only when the TUN written to took UDP segmentation
//! offload, TCP whenever offload is on. Packets are never held back: whatever is pending
//! is written at the end of the batch, before anything that does not coalesce, and when
//! the next packet differs, so order is kept within and across flows.
//!
//! A packet joins only if it matches the first one in every header field the kernel
//! copies into each segment (addresses, ports, TOS / traffic class and flow label, TTL /
//! hop limit, DF; for TCP also the acknowledgement, window, options and flags), continues
//! it (TCP: its sequence number follows) and is not longer than the first; a shorter one
//! closes the super-packet, as in UDP_SEGMENT and TSO. A TCP segment with PSH joins as the
//! last one (TSO puts PSH on the last segment only); one with any flag but ACK and PSH
//! never joins. IPv4 identification numbers are renumbered from the first packet's by the
//! kernel's segmentation, as a sender's TSO does.
//!
//! The super-packet carries a partial checksum (NEEDS_CSUM), so every packet arrives with
//! a checksum computed by the kernel over its own bytes. That would repair a packet whose
//! checksum is wrong (a raw-socket sender's, or damage the lab must deliver as it is), so
//! a packet coalesces only if the kernel was going to compute its checksum anyway
//! (NEEDS_CSUM at the standard place) or the checksum it carries is valid; any other
//! leaves byte for byte as read.

use crate::wire::checksum;
use crate::wire::ip::{Ipv4Packet, Ipv6Packet};
use crate::wire::tcp::{ACK, PSH};
use crate::wire::udp::UdpPacket;
use crate::wire::vnet::{self, FLAG_NEEDS_CSUM, GSO_NONE, GSO_TCPV4, GSO_TCPV6, GSO_UDP_L4};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

/// Packets per super-packet; the kernel accepts up to 128 UDP segments
/// (UDP_MAX_SEGMENTS) and a TCP super-packet is bounded by its 64 KiB anyway.
const MAX_SEGMENTS: u32 = 64;

/// The largest IP packet a super-packet may become (IPv4 total length, IPv6 payload
/// length plus its header are 16-bit).
const MAX_IP: usize = 65_535;

/// Which protocols may coalesce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Protocols {
    pub udp: bool,
    pub tcp: bool,
}

/// Where a frame (virtio-net header, then IP) of a plain UDP datagram or TCP segment
/// keeps its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Datagram {
    v6: bool,
    /// Offset of the UDP / TCP header in the IP packet.
    l4: usize,
    /// Length of that header (8 for UDP).
    l4_len: usize,
    /// Payload bytes after it.
    payload: usize,
    /// TCP only: sequence number and flags.
    tcp: Option<(u32, u8)>,
}

impl Datagram {
    fn proto(&self) -> u8 {
        if self.tcp.is_some() {
            PROTO_TCP
        } else {
            PROTO_UDP
        }
    }

    /// Offset of the checksum field in the L4 header.
    fn csum_offset(&self) -> usize {
        if self.tcp.is_some() {
            16
        } else {
            6
        }
    }
}

/// A frame that may join a super-packet: no GSO, IPv4 without options or fragments, or
/// IPv6 without extension headers, UDP or TCP (as `protocols` allow) with lengths that
/// agree with the frame and some payload.
fn datagram(frame: &[u8], protocols: Protocols) -> Option<Datagram> {
    if frame.len() < vnet::HEADER_LEN || frame[1] != GSO_NONE {
        return None;
    }
    let ip = &frame[vnet::HEADER_LEN..];
    let (v6, l4, proto) = match ip.first()? >> 4 {
        4 if ip.len() >= 28 && ip[0] == 0x45 => {
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let fragment = u16::from_be_bytes([ip[6], ip[7]]) & 0x3fff != 0;
            if total != ip.len() || fragment {
                return None;
            }
            (false, 20, ip[9])
        }
        6 if ip.len() >= 48 => {
            let payload = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            if payload + 40 != ip.len() {
                return None;
            }
            (true, 40, ip[6])
        }
        _ => return None,
    };
    let d = match proto {
        PROTO_UDP if protocols.udp => {
            let udp_len = usize::from(u16::from_be_bytes([ip[l4 + 4], ip[l4 + 5]]));
            if udp_len != ip.len() - l4 {
                return None;
            }
            Datagram {
                v6,
                l4,
                l4_len: 8,
                payload: ip.len() - l4 - 8,
                tcp: None,
            }
        }
        PROTO_TCP if protocols.tcp && ip.len() >= l4 + 20 => {
            let th = usize::from(ip[l4 + 12] >> 4) * 4;
            let flags = ip[l4 + 13];
            // ACK set; nothing but PSH beside it (no SYN, FIN, RST, URG, ECE, CWR).
            if th < 20 || ip.len() < l4 + th || flags & !PSH != ACK {
                return None;
            }
            let seq = u32::from_be_bytes([ip[l4 + 4], ip[l4 + 5], ip[l4 + 6], ip[l4 + 7]]);
            Datagram {
                v6,
                l4,
                l4_len: th,
                payload: ip.len() - l4 - th,
                tcp: Some((seq, flags)),
            }
        }
        _ => return None,
    };
    (d.payload > 0 && checksum_kept(frame, d)).then_some(d)
}

/// Source and destination of an IP header known to be plain IPv4 or IPv6.
fn addresses(ip: &[u8], v6: bool) -> (IpAddr, IpAddr) {
    if v6 {
        let a = |at: usize| {
            <[u8; 16]>::try_from(&ip[at..at + 16]).map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
        };
        (a(8).into(), a(24).into())
    } else {
        let a = |at: usize| Ipv4Addr::new(ip[at], ip[at + 1], ip[at + 2], ip[at + 3]);
        (a(12).into(), a(16).into())
    }
}

/// Whether the checksum each packet gets from the kernel equals what it would have
/// carried without coalescing: it is to be computed (partial, at the checksum field) or
/// it is already valid. A zero (absent) UDP checksum over IPv4 is not valid here:
/// coalesced, it would gain one.
fn checksum_kept(frame: &[u8], d: Datagram) -> bool {
    let h = vnet::VnetHeader::new_unchecked(frame);
    if h.flags() & FLAG_NEEDS_CSUM != 0 {
        return usize::from(h.csum_start()) == d.l4
            && usize::from(h.csum_offset()) == d.csum_offset();
    }
    let ip = &frame[vnet::HEADER_LEN..];
    let (src, dst) = addresses(ip, d.v6);
    let l4 = &ip[d.l4..];
    let at = d.csum_offset();
    (d.tcp.is_some() || l4[at..at + 2] != [0, 0])
        && checksum::verify(checksum::segment(src, dst, d.proto(), l4))
}

/// Byte ranges of the headers that must be equal for two packets to be segments of one
/// super-packet: the IP header but for lengths, identification and checksum; the ports;
/// for TCP also acknowledgement, header length, window, urgent pointer and options
/// (flags are compared by the caller, sequence numbers by position).
fn same_flow(a: &[u8], b: &[u8], d: Datagram) -> bool {
    let ports = d.l4..d.l4 + 4;
    let ip = if d.v6 {
        a[..4] == b[..4] && a[6..40] == b[6..40]
    } else {
        a[..2] == b[..2]
            && a[6] & 0x40 == b[6] & 0x40
            && a[8..10] == b[8..10]
            && a[12..20] == b[12..20]
    };
    let tcp = || {
        let (l4, end) = (d.l4, d.l4 + d.l4_len);
        a[l4 + 8..l4 + 13] == b[l4 + 8..l4 + 13]
            && a[l4 + 14..l4 + 16] == b[l4 + 14..l4 + 16]
            && a[l4 + 18..end] == b[l4 + 18..end]
    };
    ip && a[ports.clone()] == b[ports] && (d.tcp.is_none() || tcp())
}

#[derive(Debug, Default)]
pub struct Coalescer {
    protocols: Protocols,
    /// The first frame as read, then the payloads of the others appended.
    buf: Vec<u8>,
    first: Option<Datagram>,
    count: u32,
    /// TCP: the sequence number the next segment must carry; PSH of the last joined.
    next_seq: u32,
    psh: bool,
    /// A packet shorter than the first (or with PSH) joined: nothing more may follow it.
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
    pub fn new(protocols: Protocols) -> Coalescer {
        Coalescer {
            protocols,
            ..Coalescer::default()
        }
    }

    pub fn protocols(&self) -> Protocols {
        self.protocols
    }

    pub fn fit(&self, frame: &[u8]) -> Fit {
        let Some(d) = datagram(frame, self.protocols) else {
            return Fit::Alone;
        };
        let Some(first) = self.first else {
            return Fit::Starts;
        };
        let ip = &frame[vnet::HEADER_LEN..];
        let pending = &self.buf[vnet::HEADER_LEN..];
        let follows = match (first.tcp, d.tcp) {
            (None, None) => true,
            // Both carry ACK and at most PSH (`datagram`), which closes the run.
            (Some(_), Some((seq, _))) => seq == self.next_seq && d.l4_len == first.l4_len,
            _ => false,
        };
        let joins = !self.closed
            && follows
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
        self.first = datagram(frame, self.protocols);
        self.count = 1;
        self.note(self.first);
    }

    /// Append the payload of `frame` (for which `fit` said `Joins`).
    pub fn join(&mut self, frame: &[u8]) {
        let (Some(first), Some(d)) = (self.first, datagram(frame, self.protocols)) else {
            return;
        };
        let ip = &frame[vnet::HEADER_LEN..];
        self.buf.extend_from_slice(&ip[d.l4 + d.l4_len..]);
        self.count += 1;
        self.note(Some(d));
        self.closed |= d.payload < first.payload;
    }

    /// Track what the next packet must look like after `d`.
    fn note(&mut self, d: Option<Datagram>) {
        self.closed = false;
        self.psh = false;
        if let Some(Datagram {
            tcp: Some((seq, flags)),
            payload,
            ..
        }) = d
        {
            self.next_seq = seq.wrapping_add(payload as u32);
            self.psh = flags & PSH != 0;
            self.closed = self.psh;
        }
    }

    /// The pending frame to write and how many packets it carries (none pending: None).
    /// One packet leaves exactly as it was read. Clears the coalescer.
    pub fn finish(&mut self) -> Option<(&[u8], u64)> {
        let first = self.first.take()?;
        let count = std::mem::take(&mut self.count);
        if count > 1 {
            self.seal(first);
        }
        Some((&self.buf, u64::from(count)))
    }

    /// Turn the pending packets into one GSO super-packet.
    fn seal(&mut self, first: Datagram) {
        let psh = self.psh;
        let (head, ip) = self.buf.split_at_mut(vnet::HEADER_LEN);
        let total = ip.len();
        let l4 = first.l4;
        if first.v6 {
            Ipv6Packet::new_unchecked(&mut ip[..]).set_payload_len((total - 40) as u16);
        } else {
            let mut v4 = Ipv4Packet::new_unchecked(&mut ip[..]);
            v4.set_total_len(total as u16);
            v4.fill_checksum();
        }
        let (src, dst) = addresses(ip, first.v6);
        let l4_total = total - l4;
        let gso = if first.tcp.is_some() {
            // PSH as TSO leaves it: on the last segment, which is the last one joined.
            if psh {
                ip[l4 + 13] |= PSH;
            }
            if first.v6 {
                GSO_TCPV6
            } else {
                GSO_TCPV4
            }
        } else {
            UdpPacket::new_unchecked(&mut ip[l4..]).set_len(l4_total as u16);
            GSO_UDP_L4
        };
        // A partial checksum: the pseudo-header sum, which the kernel adjusts to each
        // segment's length and completes over its bytes (NEEDS_CSUM).
        let pseudo = checksum::fold(checksum::pseudo(src, dst, first.proto(), l4_total as u32));
        let at = l4 + first.csum_offset();
        ip[at..at + 2].copy_from_slice(&pseudo.to_be_bytes());
        head[0] = FLAG_NEEDS_CSUM;
        head[1] = gso;
        head[2..4].copy_from_slice(&((l4 + first.l4_len) as u16).to_le_bytes());
        head[4..6].copy_from_slice(&(first.payload as u16).to_le_bytes());
        head[6..8].copy_from_slice(&(l4 as u16).to_le_bytes());
        head[8..10].copy_from_slice(&(first.csum_offset() as u16).to_le_bytes());
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::io::gso::{segment, Offload};
    use crate::shape::packet::{Pool, HEADROOM};
    use crate::wire::packet::{build_tcp, build_udp, l4_checksum_ok, parse};
    use crate::wire::tcp::{ACK, PSH};
    use crate::wire::vnet::VnetHeader;

    const BOTH: Protocols = Protocols {
        udp: true,
        tcp: true,
    };

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

    /// The kernel cuts `super_packet` into exactly `frames`' L4 headers and payloads,
    /// each with a valid checksum.
    fn assert_cuts_back_into(super_packet: &[u8], frames: &[Vec<u8>]) {
        assert_same_datagrams(&delivered(super_packet), frames);
    }

    /// `segs` carry exactly `frames`' L4 headers and payloads, each with a valid checksum.
    fn assert_same_datagrams(segs: &[Vec<u8>], frames: &[Vec<u8>]) {
        assert_eq!(segs.len(), frames.len());
        for (seg, f) in segs.iter().zip(frames) {
            let p = parse(seg).unwrap();
            assert!(l4_checksum_ok(seg, &p));
            let orig = &f[vnet::HEADER_LEN..];
            let o = parse(orig).unwrap();
            assert_eq!(&seg[p.l4..], &orig[o.l4..], "L4 header and payload");
        }
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
            let out = feed(&mut Coalescer::new(BOTH), &frames);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].1, 5);
            assert_cuts_back_into(&out[0].0, &frames);
        }
    }

    #[test]
    fn a_single_datagram_leaves_as_it_came() {
        let f = frame("198.18.0.2", "198.19.0.1", 40000, &[1; 100]);
        assert_eq!(
            feed(&mut Coalescer::new(BOTH), std::slice::from_ref(&f)),
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
        let out = feed(&mut Coalescer::new(BOTH), &frames);
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
    fn a_datagram_with_a_wrong_checksum_leaves_untouched_so_the_receiver_sees_it_wrong() {
        let good = frame("198.18.0.2", "198.19.0.1", 40000, &[4; 500]);
        let mut bad = good.clone();
        let at = bad.len() - 1;
        bad[at] ^= 0x10; // payload damaged after the checksum was computed
        let mut none = good.clone();
        let csum = vnet::HEADER_LEN + 20 + 6;
        none[csum..csum + 2].copy_from_slice(&[0, 0]); // IPv4: no checksum at all
        let frames = vec![good.clone(), bad.clone(), good.clone(), none.clone(), good];
        let out = feed(&mut Coalescer::new(BOTH), &frames);
        let counts: Vec<u64> = out.iter().map(|o| o.1).collect();
        assert_eq!(counts, vec![1, 1, 1, 1, 1]);
        assert_eq!(out[1].0, bad);
        assert_eq!(out[3].0, none);
        let seg = &bad[vnet::HEADER_LEN..];
        assert!(!l4_checksum_ok(seg, &parse(seg).unwrap()));
    }

    #[test]
    fn partial_checksums_coalesce_and_are_completed_per_datagram() {
        // As the kernel hands over a local sender's datagram: NEEDS_CSUM, the checksum
        // field holding the pseudo-header sum.
        let partial = |payload: &[u8]| {
            let mut f = frame("198.18.0.2", "198.19.0.1", 40000, payload);
            let ip = &f[vnet::HEADER_LEN..];
            let p = parse(ip).unwrap();
            let sum = checksum::fold(checksum::pseudo(p.src, p.dst, 17, (p.end - p.l4) as u32));
            let at = vnet::HEADER_LEN + p.l4;
            f[at + 6..at + 8].copy_from_slice(&sum.to_be_bytes());
            f[0] = FLAG_NEEDS_CSUM;
            f[6..8].copy_from_slice(&(p.l4 as u16).to_le_bytes());
            f[8..10].copy_from_slice(&6u16.to_le_bytes());
            f
        };
        let frames = vec![partial(&[1; 800]), partial(&[2; 800]), partial(&[3; 10])];
        let out = feed(&mut Coalescer::new(BOTH), &frames);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].1, 3);
        for (seg, fill) in delivered(&out[0].0).iter().zip([1u8, 2, 3]) {
            let p = parse(seg).unwrap();
            assert!(l4_checksum_ok(seg, &p));
            assert!(seg[p.payload..p.end].iter().all(|&b| b == fill));
        }
    }

    fn tcp(src: &str, dst: &str, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
        let mut ip = Vec::new();
        let (s, d): (IpAddr, IpAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        build_tcp(&mut ip, (s, 40000), (d, 5201), seq, 77, flags, 512, payload);
        let mut f = vec![0u8; vnet::HEADER_LEN];
        f.extend_from_slice(&ip);
        f
    }

    #[test]
    fn a_tcp_run_becomes_one_tso_super_packet_that_cuts_back_into_the_segments() {
        for (s, d) in [
            ("198.18.0.2", "198.19.0.1"),
            ("fd71:6c61:6200:1::2", "fd71:6c61:6200:2::1"),
        ] {
            let sizes = [1000, 1000, 1000, 400];
            let mut seq = 4_294_966_000u32; // wraps inside the run
            let frames: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let flags = if i == 3 { ACK | PSH } else { ACK };
                    let f = tcp(s, d, seq, flags, &vec![i as u8 + 1; n]);
                    seq = seq.wrapping_add(n as u32);
                    f
                })
                .collect();
            let out = feed(&mut Coalescer::new(BOTH), &frames);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].1, 4);
            let gso = if s.contains(':') {
                GSO_TCPV6
            } else {
                GSO_TCPV4
            };
            assert_eq!(out[0].0[1], gso);
            assert_cuts_back_into(&out[0].0, &frames);
        }
    }

    #[test]
    fn tcp_joins_only_in_sequence_with_plain_ack_flags_and_stops_after_psh() {
        let (s, d) = ("198.18.0.2", "198.19.0.1");
        let f = |seq: u32, flags: u8| tcp(s, d, seq, flags, &[5; 100]);
        let mut other_ack = f(550, ACK);
        other_ack[vnet::HEADER_LEN + 20 + 11] ^= 1;
        let frames = vec![
            f(0, ACK),
            f(100, ACK),
            f(250, ACK), // a gap
            f(350, ACK | PSH),
            f(450, ACK), // after PSH
            other_ack,   // same sequence, another acknowledgement
            f(600, ACK | crate::wire::tcp::FIN),
            f(700, ACK),
        ];
        let counts: Vec<u64> = feed(&mut Coalescer::new(BOTH), &frames)
            .iter()
            .map(|o| o.1)
            .collect();
        assert_eq!(counts, vec![2, 2, 1, 1, 1, 1]);
        // Without TCP among the protocols nothing joins.
        let udp_only = Protocols {
            udp: true,
            tcp: false,
        };
        let n = feed(&mut Coalescer::new(udp_only), &frames[..2]).len();
        assert_eq!(n, 2);
    }

    proptest::proptest! {
        /// UDP datagrams of a few flows, of any sizes, in any order: what the coalescer
        /// writes (super-packets and single frames) cuts back into exactly those
        /// datagrams, in order.
        #[test]
        fn any_udp_run_cuts_back_into_its_datagrams(
            v6: bool,
            run in proptest::collection::vec((0..3u16, 1..1400usize), 1..40),
        ) {
            let (s, d) = if v6 {
                ("fd71:6c61:6200:1::2", "fd71:6c61:6200:2::1")
            } else {
                ("198.18.0.2", "198.19.0.1")
            };
            let frames: Vec<Vec<u8>> = run
                .iter()
                .enumerate()
                .map(|(i, &(port, len))| frame(s, d, 40000 + port, &vec![i as u8; len]))
                .collect();
            let mut segs = Vec::new();
            for (written, n) in feed(&mut Coalescer::new(BOTH), &frames) {
                let cut = delivered(&written);
                proptest::prop_assert_eq!(cut.len() as u64, n);
                segs.extend(cut);
            }
            assert_same_datagrams(&segs, &frames);
        }
    }

    #[test]
    fn a_run_stops_at_the_segment_limit() {
        let f = frame("198.18.0.2", "198.19.0.1", 40000, &[3; 100]);
        let frames = vec![f; 70];
        let counts: Vec<u64> = feed(&mut Coalescer::new(BOTH), &frames)
            .iter()
            .map(|o| o.1)
            .collect();
        assert_eq!(counts, vec![64, 6]);
    }
}
