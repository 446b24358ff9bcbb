//! ICMP and ICMPv6 share the 4-byte type/code/checksum head, which is all the core reads.

use super::{Error, Result};

pub const HEADER_LEN: usize = 4;

#[derive(Debug, Clone, Copy)]
pub struct IcmpPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> IcmpPacket<T> {
    pub fn new_checked(buffer: T) -> Result<IcmpPacket<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(IcmpPacket { buffer })
    }
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[0]
    }
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[1]
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.buffer.as_ref()[2], self.buffer.as_ref()[3]])
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn echo_request() {
        let p = IcmpPacket::new_checked(&[8u8, 0, 0xf7, 0xff][..]).unwrap();
        assert_eq!((p.msg_type(), p.code(), p.checksum()), (8, 0, 0xf7ff));
        assert_eq!(
            IcmpPacket::new_checked(&[8u8][..]).unwrap_err(),
            Error::Truncated
        );
    }
}
