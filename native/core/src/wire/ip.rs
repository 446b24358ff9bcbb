//! IPv4 and IPv6 headers: version, addresses, lengths, protocol, fragments, and the
//! IPv6 extension-header chain (walked in `packet.rs`). Mutable views can rewrite the
//! few fields segmentation and RST forging need.

use super::{be16, Error, Field, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Ipv4,
    Ipv6,
}

impl Version {
    /// The version nibble of the first byte, as TUN hands packets over without a PI header.
    pub fn of_packet(buffer: &[u8]) -> Result<Version> {
        match buffer.first().map(|b| b >> 4) {
            None => Err(Error::Truncated),
            Some(4) => Ok(Version::Ipv4),
            Some(6) => Ok(Version::Ipv6),
            Some(_) => Err(Error::Malformed),
        }
    }
}

mod field4 {
    use super::Field;
    pub const VER_IHL: usize = 0;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
    pub const HEADER_LEN: usize = 20;
}

mod field6 {
    use super::Field;
    pub const VER_TC: usize = 0;
    pub const PAYLOAD_LEN: Field = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
    pub const HEADER_LEN: usize = 40;
}

/// A read-only view of an IPv4 header at the start of `buffer`.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    pub const HEADER_LEN: usize = field4::HEADER_LEN;

    /// Wrap without checks; accessors may panic on a short buffer. Use `new_checked`.
    pub const fn new_unchecked(buffer: T) -> Ipv4Packet<T> {
        Ipv4Packet { buffer }
    }

    /// Wrap after checking version, header length and total length against the buffer.
    /// The total length may be shorter than the buffer (Ethernet-style trailing padding),
    /// never longer.
    pub fn new_checked(buffer: T) -> Result<Ipv4Packet<T>> {
        let packet = Ipv4Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field4::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[field4::VER_IHL] >> 4 != 4 {
            return Err(Error::Malformed);
        }
        let header_len = self.header_len();
        let total_len = usize::from(self.total_len());
        if header_len < field4::HEADER_LEN || total_len < header_len {
            return Err(Error::Malformed);
        }
        if b.len() < header_len || b.len() < total_len {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field4::VER_IHL] & 0x0f) * 4
    }

    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field4::LENGTH)
    }

    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field4::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field4::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field4::IDENT)
    }

    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field4::PROTOCOL]
    }

    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field4::TTL]
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), field4::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(be16(self.buffer.as_ref(), field4::FLG_OFF) & 0x1fff) * 8
    }

    /// Part of a fragmented datagram (first or later): its L4 header may be incomplete.
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    pub fn verify_checksum(&self) -> bool {
        let h = &self.buffer.as_ref()[..self.header_len()];
        super::checksum::verify(super::checksum::add(0, h))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    pub fn set_total_len(&mut self, len: u16) {
        self.buffer.as_mut()[field4::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    pub fn set_ident(&mut self, id: u16) {
        self.buffer.as_mut()[field4::IDENT].copy_from_slice(&id.to_be_bytes());
    }

    /// Recompute the header checksum after any header change.
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let b = self.buffer.as_mut();
        b[field4::CHECKSUM].copy_from_slice(&[0, 0]);
        let c = super::checksum::finish(super::checksum::add(0, &b[..hl]));
        b[field4::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

/// A read-only view of an IPv6 fixed header at the start of `buffer`.
#[derive(Debug, Clone, Copy)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    pub const HEADER_LEN: usize = field6::HEADER_LEN;

    pub const fn new_unchecked(buffer: T) -> Ipv6Packet<T> {
        Ipv6Packet { buffer }
    }

    /// Wrap after checking version and that the payload length fits the buffer. A zero
    /// payload length is accepted: it is also how jumbograms / BIG TCP super-packets look.
    pub fn new_checked(buffer: T) -> Result<Ipv6Packet<T>> {
        let packet = Ipv6Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        if b.len() < field6::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[field6::VER_TC] >> 4 != 6 {
            return Err(Error::Malformed);
        }
        if b.len() < field6::HEADER_LEN + usize::from(self.payload_len()) {
            return Err(Error::Truncated);
        }
        Ok(())
    }

    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field6::PAYLOAD_LEN)
    }

    pub fn src_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field6::SRC_ADDR]);
        Ipv6Addr::from(a)
    }

    pub fn dst_addr(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field6::DST_ADDR]);
        Ipv6Addr::from(a)
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field6::NEXT_HEADER]
    }

    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field6::HOP_LIMIT]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field6::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
    }
}

/// The owned summary the forwarder needs, parsed from either version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRepr {
    pub version: Version,
    pub src_addr: IpAddr,
    pub dst_addr: IpAddr,
}

impl IpRepr {
    pub fn parse(buffer: &[u8]) -> Result<IpRepr> {
        match Version::of_packet(buffer)? {
            Version::Ipv4 => {
                let p = Ipv4Packet::new_checked(buffer)?;
                Ok(IpRepr {
                    version: Version::Ipv4,
                    src_addr: p.src_addr().into(),
                    dst_addr: p.dst_addr().into(),
                })
            }
            Version::Ipv6 => {
                let p = Ipv6Packet::new_checked(buffer)?;
                Ok(IpRepr {
                    version: Version::Ipv6,
                    src_addr: p.src_addr().into(),
                    dst_addr: p.dst_addr().into(),
                })
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;

    /// ICMP echo 198.18.0.1 -> 198.19.0.1, 28 bytes (header + 8 bytes ICMP).
    pub(crate) static V4_ECHO: [u8; 28] = [
        0x45, 0x00, 0x00, 0x1c, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00, //
        198, 18, 0, 1, //
        198, 19, 0, 1, //
        0x08, 0x00, 0xf7, 0xff, 0x00, 0x00, 0x00, 0x00,
    ];

    /// UDP fd71:6c61:6200:1::1 -> fd71:6c61:6200:2::1 with an 8-byte payload (UDP header only).
    pub(crate) static V6_UDP: [u8; 48] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x11, 0x40, //
        0xfd, 0x71, 0x6c, 0x61, 0x62, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, //
        0xfd, 0x71, 0x6c, 0x61, 0x62, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 1, //
        0x30, 0x39, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00,
    ];

    #[test]
    fn v4_fields() {
        let p = Ipv4Packet::new_checked(&V4_ECHO[..]).unwrap();
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 28);
        assert_eq!(p.src_addr(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 19, 0, 1));
    }

    #[test]
    fn v4_trailing_padding_is_accepted() {
        let mut b = V4_ECHO.to_vec();
        b.extend_from_slice(&[0; 18]);
        assert!(Ipv4Packet::new_checked(&b[..]).is_ok());
    }

    #[test]
    fn v4_rejects_bad_lengths() {
        assert_eq!(
            Ipv4Packet::new_checked(&V4_ECHO[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv4Packet::new_checked(&V4_ECHO[..27]).unwrap_err(),
            Error::Truncated
        );
        let mut b = V4_ECHO;
        b[0] = 0x44; // IHL 4 words < 20 bytes
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        let mut b = V4_ECHO;
        b[0] = 0x4f; // IHL 60 bytes > buffer
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        let mut b = V4_ECHO;
        b[2] = 0;
        b[3] = 10; // total length shorter than the header
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        let mut b = V4_ECHO;
        b[0] = 0x65;
        assert_eq!(
            Ipv4Packet::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
    }

    #[test]
    fn v6_fields() {
        let p = Ipv6Packet::new_checked(&V6_UDP[..]).unwrap();
        assert_eq!(p.payload_len(), 8);
        assert_eq!(
            p.src_addr(),
            "fd71:6c61:6200:1::1".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            p.dst_addr(),
            "fd71:6c61:6200:2::1".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn v6_rejects_truncation() {
        assert_eq!(
            Ipv6Packet::new_checked(&V6_UDP[..39]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Ipv6Packet::new_checked(&V6_UDP[..47]).unwrap_err(),
            Error::Truncated
        );
    }

    #[test]
    fn repr_dispatches_on_version() {
        let r = IpRepr::parse(&V4_ECHO).unwrap();
        assert_eq!(r.version, Version::Ipv4);
        assert_eq!(r.dst_addr, IpAddr::from([198, 19, 0, 1]));
        let r = IpRepr::parse(&V6_UDP).unwrap();
        assert_eq!(r.version, Version::Ipv6);
        assert_eq!(IpRepr::parse(&[]).unwrap_err(), Error::Truncated);
        assert_eq!(IpRepr::parse(&[0x50; 60]).unwrap_err(), Error::Malformed);
        // A v6 header claiming to be v4 by its first nibble only.
        let mut b = V6_UDP;
        b[0] = 0x45;
        assert!(IpRepr::parse(&b).is_err());
    }

    #[test]
    fn never_panics_on_any_prefix_or_noise() {
        for fixture in [&V4_ECHO[..], &V6_UDP[..]] {
            for n in 0..=fixture.len() {
                let _ = IpRepr::parse(&fixture[..n]);
            }
        }
        // Deterministic xorshift noise, with the version nibble forced to 4 and 6.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut buf = [0u8; 80];
        for round in 0..20_000 {
            for b in buf.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            buf[0] = (buf[0] & 0x0f) | if round % 2 == 0 { 0x40 } else { 0x60 };
            let n = (x as usize) % buf.len();
            let _ = IpRepr::parse(&buf[..n]);
        }
    }
}
