//! The Internet checksum (RFC 1071) and the TCP/UDP pseudo-headers.
//!
//! Sums are carried unfolded in a u64 so long buffers (64 KiB GSO segments) need one fold
//! at the end; `finish` folds and complements.

use std::net::IpAddr;

/// Add `data` (big-endian 16-bit words, odd tail padded with zero) to `acc`.
pub fn add(mut acc: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        // Four 16-bit words at once; fine for u64: 2^48 such adds before overflow.
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc += (w >> 48) + ((w >> 32) & 0xffff) + ((w >> 16) & 0xffff) + (w & 0xffff);
    }
    let rest = chunks.remainder();
    let mut pairs = rest.chunks_exact(2);
    for p in &mut pairs {
        acc += u64::from(u16::from_be_bytes([p[0], p[1]]));
    }
    if let [last] = pairs.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Fold to 16 bits without complementing.
pub fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for a sum over everything it covers (field zeroed).
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The pseudo-header sum of TCP/UDP/ICMPv6 (`len` is the upper-layer length).
pub fn pseudo(src: IpAddr, dst: IpAddr, proto: u8, len: u32) -> u64 {
    let mut acc = u64::from(proto) + u64::from(len >> 16) + u64::from(len & 0xffff);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = add(acc, &s.octets());
            acc = add(acc, &d.octets());
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = add(acc, &s.octets());
            acc = add(acc, &d.octets());
        }
        // Mixed families cannot happen for a parsed packet; a zero sum is harmless.
        _ => {}
    }
    acc
}

/// The unfolded sum over an upper-layer segment (TCP, UDP, ICMPv6) and its pseudo-header:
/// what `verify` checks and `finish` turns into the checksum field, in one place so the
/// length the pseudo-header carries is always the segment's own.
pub fn segment(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u64 {
    add(pseudo(src, dst, proto, segment.len() as u32), segment)
}

/// True if a buffer including its checksum field sums to 0xffff (i.e. is valid).
pub fn verify(acc: u64) -> bool {
    fold(acc) == 0xffff
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(fold(add(0, &data)), 0xddf2);
        assert_eq!(finish(add(0, &data)), !0xddf2);
        // Chunked and byte-pair paths agree, odd tails are padded.
        let long: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let slow = long
            .chunks(2)
            .map(|c| u64::from(c[0]) << 8 | u64::from(*c.get(1).unwrap_or(&0)))
            .sum::<u64>();
        assert_eq!(fold(add(0, &long)), fold(slow));
    }

    #[test]
    fn ipv4_header_checksum() {
        // A textbook IPv4 header whose checksum is b861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(finish(add(0, &h)), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert!(verify(add(0, &h)));
    }
}
