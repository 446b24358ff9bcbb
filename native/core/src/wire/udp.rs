//! UDP header view.

use super::checksum;
use super::{be16, Error, Field, Result};
use std::net::IpAddr;

mod field {
    use super::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const HEADER_LEN: usize = 8;
}

pub const HEADER_LEN: usize = field::HEADER_LEN;

#[derive(Debug, Clone, Copy)]
pub struct UdpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> UdpPacket<T> {
    pub const fn new_unchecked(buffer: T) -> UdpPacket<T> {
        UdpPacket { buffer }
    }

    /// Checks the header fits. The length field is not trusted for slicing: GSO UDP
    /// super-packets and padded packets disagree with it, so `payload` uses the buffer.
    pub fn new_checked(buffer: T) -> Result<UdpPacket<T>> {
        let p = UdpPacket::new_unchecked(buffer);
        if p.buffer.as_ref().len() < field::HEADER_LEN {
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
    pub fn len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }
    pub fn is_empty(&self) -> bool {
        self.len() as usize <= field::HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::HEADER_LEN..]
    }
    /// A zero checksum means "none" over IPv4.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if self.checksum() == 0 && src.is_ipv4() {
            return true;
        }
        checksum::verify(checksum::segment(src, dst, 17, self.buffer.as_ref()))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::LENGTH].copy_from_slice(&len.to_be_bytes());
    }

    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        let b = self.buffer.as_mut();
        b[field::CHECKSUM].copy_from_slice(&[0, 0]);
        let mut c = checksum::finish(checksum::segment(src, dst, 17, b));
        if c == 0 {
            c = 0xffff; // 0 would mean "no checksum"
        }
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn fields_and_checksum() {
        let mut b = vec![0x30, 0x39, 0x0d, 0x96, 0x00, 0x0c, 0, 0, 1, 2, 3, 4];
        let (s, d): (IpAddr, IpAddr) = ([198, 18, 0, 2].into(), [198, 19, 1, 1].into());
        let mut p = UdpPacket::new_checked(&mut b[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len()), (12345, 3478, 12));
        p.fill_checksum(s, d);
        assert!(p.verify_checksum(s, d));
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
        assert_eq!(
            UdpPacket::new_checked(&b[..7]).unwrap_err(),
            Error::Truncated
        );
    }
}
