//! QUIC long header (RFC 9000 §17.2): version, packet type, connection ids, token and
//! length. Enough to recognise an Initial, the packet a DPI box keys on; the payload is
//! encrypted and not read.

use super::{Error, Result};

pub const VERSION_1: u32 = 1;
pub const VERSION_2: u32 = 0x6b33_43cf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    Retry,
    /// Version 0: version negotiation, which has no type bits.
    VersionNegotiation,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongHeader {
    pub version: u32,
    pub packet_type: PacketType,
    pub dcid_len: u8,
    pub scid_len: u8,
    /// The Length field (packet number + payload) for Initial, 0-RTT and Handshake.
    pub length: Option<u64>,
    /// Bytes up to the packet number (for Initial, 0-RTT, Handshake), or up to where the
    /// header ends for Retry and Version Negotiation.
    pub header_len: usize,
}

/// RFC 9000 §16 variable-length integer at `b[*i..]`.
pub fn varint(b: &[u8], i: &mut usize) -> Result<u64> {
    let first = *b.get(*i).ok_or(Error::Truncated)?;
    let n = 1usize << (first >> 6);
    let bytes = b.get(*i..*i + n).ok_or(Error::Truncated)?;
    let mut v = u64::from(first & 0x3f);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    *i += n;
    Ok(v)
}

/// The header-form bit: a long header (cheap test before any parsing).
pub fn is_long_header(b: &[u8]) -> bool {
    b.first().is_some_and(|&f| f & 0x80 != 0)
}

/// A short-header (1-RTT) packet: header form 0, fixed bit 1 (RFC 9000 §17.3). Only
/// meaningful on a flow already known to be QUIC: other UDP protocols share these values
/// (TURN ChannelData is 0x40-0x7f too, RFC 7983).
pub fn is_short_header(b: &[u8]) -> bool {
    b.first().is_some_and(|&f| f & 0xc0 == 0x40)
}

/// Whether `b` is a client Initial's long header (any version this module knows).
pub fn is_initial(b: &[u8]) -> bool {
    is_long_header(b) && parse_long_header(b).is_ok_and(|h| h.packet_type == PacketType::Initial)
}

/// Parse the long header at the start of a UDP payload.
pub fn parse_long_header(b: &[u8]) -> Result<LongHeader> {
    let first = *b.first().ok_or(Error::Truncated)?;
    if first & 0x80 == 0 {
        return Err(Error::Malformed); // short header
    }
    let v = b.get(1..5).ok_or(Error::Truncated)?;
    let version = u32::from_be_bytes([v[0], v[1], v[2], v[3]]);
    let mut i = 5;
    let dcid_len = *b.get(i).ok_or(Error::Truncated)?;
    // v1 caps connection ids at 20 bytes; other versions may not, but 255 is the max.
    if version == VERSION_1 && dcid_len > 20 {
        return Err(Error::Malformed);
    }
    i += 1 + usize::from(dcid_len);
    let scid_len = *b.get(i).ok_or(Error::Truncated)?;
    if version == VERSION_1 && scid_len > 20 {
        return Err(Error::Malformed);
    }
    i += 1 + usize::from(scid_len);
    if i > b.len() {
        return Err(Error::Truncated);
    }
    if version == 0 {
        return Ok(LongHeader {
            version,
            packet_type: PacketType::VersionNegotiation,
            dcid_len,
            scid_len,
            length: None,
            header_len: i,
        });
    }
    if first & 0x40 == 0 {
        return Err(Error::Malformed); // fixed bit must be set (no grease here)
    }
    let bits = (first >> 4) & 0x03;
    // QUIC v2 (RFC 9369) rotated the type codes.
    let packet_type = match (version == VERSION_2, bits) {
        (false, 0) | (true, 1) => PacketType::Initial,
        (false, 1) | (true, 2) => PacketType::ZeroRtt,
        (false, 2) | (true, 3) => PacketType::Handshake,
        _ => PacketType::Retry,
    };
    if packet_type == PacketType::Initial {
        let token_len = varint(b, &mut i)?;
        i = i
            .checked_add(usize::try_from(token_len).map_err(|_| Error::Malformed)?)
            .ok_or(Error::Malformed)?;
        if i > b.len() {
            return Err(Error::Truncated);
        }
    }
    let length = match packet_type {
        PacketType::Retry | PacketType::VersionNegotiation => None,
        _ => Some(varint(b, &mut i)?),
    };
    Ok(LongHeader {
        version,
        packet_type,
        dcid_len,
        scid_len,
        length,
        header_len: i,
    })
}

/// A v1 Initial with an 8-byte DCID, padded to `size` bytes (tests and simulator).
pub fn build_initial(version: u32, size: usize) -> Vec<u8> {
    let mut b = vec![0xc3];
    b.extend_from_slice(&version.to_be_bytes());
    b.push(8);
    b.extend_from_slice(&[0xab; 8]);
    b.push(0); // no scid
    b.push(0); // no token
    let rest = size.saturating_sub(b.len() + 2);
    b.extend_from_slice(&(0x4000u16 | rest as u16).to_be_bytes());
    b.resize(size.max(b.len()), 0);
    b
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn initial_and_short_header_tests() {
        assert!(is_initial(&build_initial(VERSION_1, 1200)));
        let mut hs = build_initial(VERSION_1, 1200);
        hs[0] = 0xe3; // type 2: Handshake
        assert!(!is_initial(&hs));
        assert!(is_short_header(&[0x43, 1, 2]));
        assert!(!is_short_header(&[0xc3, 1, 2]));
        assert!(!is_short_header(&[0x80, 0x60])); // RTP version 2
    }

    #[test]
    fn initial_fixture() {
        // c3 | v1 | dcid 8 bytes | scid 0 | token 0 | length 0x4400 (2-byte varint 1024)
        let mut b = vec![
            0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0x44, 0x00,
        ];
        b.resize(1200, 0);
        let h = parse_long_header(&b).unwrap();
        assert_eq!(h.version, VERSION_1);
        assert_eq!(h.packet_type, PacketType::Initial);
        assert_eq!((h.dcid_len, h.scid_len, h.length), (8, 0, Some(1024)));
        assert_eq!(
            parse_long_header(&build_initial(1, 1200)).unwrap().length,
            Some(1182)
        );
    }

    #[test]
    fn others() {
        let mut b = build_initial(1, 100);
        b[0] = 0xe3; // type 2: Handshake
        assert_eq!(
            parse_long_header(&b).unwrap().packet_type,
            PacketType::Handshake
        );
        b[0] = 0x43; // short header
        assert_eq!(parse_long_header(&b).unwrap_err(), Error::Malformed);
        let vn = [0x80, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            parse_long_header(&vn).unwrap().packet_type,
            PacketType::VersionNegotiation
        );
        let v2 = {
            let mut b = build_initial(VERSION_2, 100);
            b[0] = 0xd3; // v2 Initial is type 1
            b
        };
        assert_eq!(
            parse_long_header(&v2).unwrap().packet_type,
            PacketType::Initial
        );
        let b = build_initial(1, 1200);
        for n in 0..40 {
            let _ = parse_long_header(&b[..n]);
        }
        assert_eq!(parse_long_header(&b[..6]).unwrap_err(), Error::Truncated);
    }
}
