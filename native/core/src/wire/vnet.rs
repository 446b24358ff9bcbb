//! `struct virtio_net_hdr` (<linux/virtio_net.h>), which a TUN opened with IFF_VNET_HDR
//! puts before every packet. It describes checksum and segmentation work the kernel left
//! undone (a GSO "super-packet"), so the forwarder must hand it on unchanged.
//!
//! TUN uses the legacy (pre-1.0) virtio layout in host byte order unless TUNSETVNETLE is
//! set; we never set it, hence the native-endian accessors.

use super::{Error, Field, Result};

mod field {
    use super::Field;
    pub const FLAGS: usize = 0;
    pub const GSO_TYPE: usize = 1;
    pub const HDR_LEN: Field = 2..4;
    pub const GSO_SIZE: Field = 4..6;
    pub const CSUM_START: Field = 6..8;
    pub const CSUM_OFFSET: Field = 8..10;
    pub const HEADER_LEN: usize = 10;
}

pub const HEADER_LEN: usize = field::HEADER_LEN;

pub const FLAG_NEEDS_CSUM: u8 = 1;
pub const FLAG_DATA_VALID: u8 = 2;
pub const FLAG_RSC_INFO: u8 = 4;

pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;
pub const GSO_UDP: u8 = 3;
pub const GSO_TCPV6: u8 = 4;
pub const GSO_UDP_L4: u8 = 5;
pub const GSO_ECN: u8 = 0x80;

fn ne16(b: &[u8], f: Field) -> u16 {
    u16::from_ne_bytes([b[f.start], b[f.start + 1]])
}

#[derive(Debug, Clone, Copy)]
pub struct VnetHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> VnetHeader<T> {
    pub const fn new_unchecked(buffer: T) -> VnetHeader<T> {
        VnetHeader { buffer }
    }

    /// Check the length and that flags and GSO type are ones the kernel defines, so a
    /// corrupted header is dropped here rather than rejected (or misread) by the far TUN.
    pub fn new_checked(buffer: T) -> Result<VnetHeader<T>> {
        let h = VnetHeader::new_unchecked(buffer);
        if h.buffer.as_ref().len() < field::HEADER_LEN {
            return Err(Error::Truncated);
        }
        if h.flags() & !(FLAG_NEEDS_CSUM | FLAG_DATA_VALID | FLAG_RSC_INFO) != 0 {
            return Err(Error::Malformed);
        }
        match h.gso_type() & !GSO_ECN {
            GSO_NONE | GSO_TCPV4 | GSO_UDP | GSO_TCPV6 | GSO_UDP_L4 => Ok(h),
            _ => Err(Error::Malformed),
        }
    }

    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    pub fn gso_type(&self) -> u8 {
        self.buffer.as_ref()[field::GSO_TYPE]
    }

    pub fn hdr_len(&self) -> u16 {
        ne16(self.buffer.as_ref(), field::HDR_LEN)
    }

    pub fn gso_size(&self) -> u16 {
        ne16(self.buffer.as_ref(), field::GSO_SIZE)
    }

    pub fn csum_start(&self) -> u16 {
        ne16(self.buffer.as_ref(), field::CSUM_START)
    }

    pub fn csum_offset(&self) -> u16 {
        ne16(self.buffer.as_ref(), field::CSUM_OFFSET)
    }

    /// Whatever follows the header: the IP packet (possibly a GSO super-packet).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::HEADER_LEN..]
    }
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;

    /// TCPv4 TSO super-packet header: NEEDS_CSUM, hdr_len 52, gso_size 1448,
    /// csum_start 20, csum_offset 16 (host byte order, little-endian here).
    pub(crate) fn tso4_header() -> [u8; HEADER_LEN] {
        let mut h = [0u8; HEADER_LEN];
        h[0] = FLAG_NEEDS_CSUM;
        h[1] = GSO_TCPV4;
        h[2..4].copy_from_slice(&52u16.to_ne_bytes());
        h[4..6].copy_from_slice(&1448u16.to_ne_bytes());
        h[6..8].copy_from_slice(&20u16.to_ne_bytes());
        h[8..10].copy_from_slice(&16u16.to_ne_bytes());
        h
    }

    #[test]
    fn fields() {
        let mut b = tso4_header().to_vec();
        b.extend_from_slice(&[0x45, 0]);
        let h = VnetHeader::new_checked(&b[..]).unwrap();
        assert_eq!(h.flags(), FLAG_NEEDS_CSUM);
        assert_eq!(h.gso_type(), GSO_TCPV4);
        assert_eq!(h.hdr_len(), 52);
        assert_eq!(h.gso_size(), 1448);
        assert_eq!(h.csum_start(), 20);
        assert_eq!(h.csum_offset(), 16);
        assert_eq!(h.payload(), &[0x45, 0]);
    }

    #[test]
    fn ecn_bit_is_allowed() {
        let mut h = tso4_header();
        h[1] = GSO_TCPV6 | GSO_ECN;
        assert!(VnetHeader::new_checked(&h[..]).is_ok());
    }

    #[test]
    fn rejects_short_and_unknown() {
        assert_eq!(
            VnetHeader::new_checked(&[0u8; 9][..]).unwrap_err(),
            Error::Truncated
        );
        let mut h = tso4_header();
        h[1] = 2;
        assert_eq!(
            VnetHeader::new_checked(&h[..]).unwrap_err(),
            Error::Malformed
        );
        let mut h = tso4_header();
        h[0] = 0x80;
        assert_eq!(
            VnetHeader::new_checked(&h[..]).unwrap_err(),
            Error::Malformed
        );
    }
}
