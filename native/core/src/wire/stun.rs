//! STUN message header (RFC 5389 §6): two zero bits, type, length (multiple of 4), the
//! magic cookie 0x2112A442 and a 96-bit transaction id. Voice calls start with these.

use super::{Error, Result};

pub const MAGIC_COOKIE: u32 = 0x2112_a442;
pub const HEADER_LEN: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StunHeader {
    pub msg_type: u16,
    pub length: u16,
}

pub fn parse(b: &[u8]) -> Result<StunHeader> {
    if b.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    let msg_type = u16::from_be_bytes([b[0], b[1]]);
    let length = u16::from_be_bytes([b[2], b[3]]);
    let cookie = u32::from_be_bytes([b[4], b[5], b[6], b[7]]);
    if msg_type & 0xc000 != 0 || cookie != MAGIC_COOKIE || !length.is_multiple_of(4) {
        return Err(Error::Malformed);
    }
    if HEADER_LEN + usize::from(length) > b.len() {
        return Err(Error::Truncated);
    }
    Ok(StunHeader { msg_type, length })
}

/// A Binding Request with no attributes.
pub fn build_binding_request() -> Vec<u8> {
    let mut b = vec![0x00, 0x01, 0x00, 0x00];
    b.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
    b.extend_from_slice(&[7; 12]);
    b
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn binding_request() {
        let b = build_binding_request();
        assert_eq!(
            parse(&b).unwrap(),
            StunHeader {
                msg_type: 1,
                length: 0
            }
        );
        let mut c = b.clone();
        c[4] = 0; // cookie
        assert_eq!(parse(&c).unwrap_err(), Error::Malformed);
        let mut c = b.clone();
        c[3] = 4; // claims 4 attribute bytes it does not have
        assert_eq!(parse(&c).unwrap_err(), Error::Truncated);
        assert_eq!(parse(&b[..19]).unwrap_err(), Error::Truncated);
    }
}
