//! TCP header view: ports, sequence numbers, flags, data offset, checksum.

use super::checksum;
use super::{be16, be32, Error, Field, Result};
use std::net::IpAddr;

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ: Field = 4..8;
    pub const ACK: Field = 8..12;
    pub const OFF: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const HEADER_LEN: usize = 20;
}

pub const HEADER_LEN: usize = field::HEADER_LEN;
/// Offset of the checksum field inside the TCP header (virtio csum_offset).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TcpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> TcpPacket<T> {
        TcpPacket { buffer }
    }

    /// Checks the fixed header and that the data offset fits the buffer.
    pub fn new_checked(buffer: T) -> Result<TcpPacket<T>> {
        let p = TcpPacket::new_unchecked(buffer);
        let len = p.buffer.as_ref().len();
        if len < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = p.header_len();
        if hl < field::HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len < hl {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    pub fn src_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        be16(self.buffer.as_ref(), field::DST_PORT)
    }
    pub fn seq(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ)
    }
    pub fn ack(&self) -> u32 {
        be32(self.buffer.as_ref(), field::ACK)
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::OFF] >> 4) * 4
    }
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }
    pub fn window(&self) -> u16 {
        be16(self.buffer.as_ref(), field::WINDOW)
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    pub fn urgent(&self) -> u16 {
        be16(self.buffer.as_ref(), field::URGENT)
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// Verify against the pseudo-header; the view must span exactly the TCP segment.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verify(checksum::segment(src, dst, 6, self.buffer.as_ref()))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TcpPacket<T> {
    pub fn set_seq(&mut self, v: u32) {
        self.buffer.as_mut()[field::SEQ].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_ack(&mut self, v: u32) {
        self.buffer.as_mut()[field::ACK].copy_from_slice(&v.to_be_bytes());
    }
    pub fn set_flags(&mut self, v: u8) {
        self.buffer.as_mut()[field::FLAGS] = v;
    }
    /// Compute the full checksum over the segment (the view must span exactly it).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        let b = self.buffer.as_mut();
        b[field::CHECKSUM].copy_from_slice(&[0, 0]);
        let c = checksum::finish(checksum::segment(src, dst, 6, b));
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;

    /// SYN 40000 -> 443, seq 1000, data offset 5, window 65535, no checksum filled.
    pub(crate) const SYN_HEADER: [u8; 20] = [
        0x9c, 0x40, 0x01, 0xbb, 0x00, 0x00, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0,
        0, 0,
    ];

    #[test]
    fn fields() {
        let p = TcpPacket::new_checked(&SYN_HEADER[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (40000, 443));
        assert_eq!((p.seq(), p.ack(), p.header_len()), (1000, 0, 20));
        assert_eq!(p.flags(), SYN);
        assert_eq!(p.window(), 0xffff);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn checksum_round_trip() {
        let (s, d): (IpAddr, IpAddr) = ([198, 18, 0, 2].into(), [198, 19, 1, 1].into());
        let mut b = SYN_HEADER.to_vec();
        b.extend_from_slice(b"hello");
        let mut p = TcpPacket::new_checked(&mut b[..]).unwrap();
        p.fill_checksum(s, d);
        assert!(p.verify_checksum(s, d));
        p.set_seq(1);
        assert!(!p.verify_checksum(s, d));
    }

    #[test]
    fn rejects_bad_offsets() {
        assert_eq!(
            TcpPacket::new_checked(&SYN_HEADER[..19]).unwrap_err(),
            Error::Truncated
        );
        let mut b = SYN_HEADER;
        b[12] = 0x40;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Malformed
        );
        b[12] = 0xf0;
        assert_eq!(
            TcpPacket::new_checked(&b[..]).unwrap_err(),
            Error::Truncated
        );
    }
}
