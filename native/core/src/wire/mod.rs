//! Typed, zero-copy views of the packet formats the core reads.
//!
//! The shape follows smoltcp's `wire`: one file per format, a view generic over the byte
//! storage, field offsets as named ranges in a private `field` module, a checked
//! constructor that validates lengths once (so accessors can index freely), and byte
//! fixtures in the tests at the bottom of each file. Malformed input is an `Error`, never
//! a panic.

pub mod checksum;
pub mod dns;
pub mod icmp;
pub mod ip;
pub mod ja4;
pub mod packet;
pub mod pcapng;
pub mod quic;
pub mod quic_initial;
pub mod stun;
pub mod tcp;
pub mod tls;
pub mod udp;
pub mod vnet;

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than the fixed header, or than a length field says.
    Truncated,
    /// A field holds a value the format does not allow (bad version, header length, ...).
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated packet"),
            Error::Malformed => f.write_str("malformed packet"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Field offsets are half-open byte ranges, as in smoltcp.
pub(crate) type Field = std::ops::Range<usize>;

/// The big-endian 16-bit field `f` of a header whose checked constructor has made sure
/// `b` holds it: one reader for every view, inlined into each per-packet accessor.
#[inline]
pub(crate) fn be16(b: &[u8], f: Field) -> u16 {
    u16::from_be_bytes([b[f.start], b[f.start + 1]])
}

/// The big-endian 32-bit field `f`, under the same contract as `be16`.
#[inline]
pub(crate) fn be32(b: &[u8], f: Field) -> u32 {
    u32::from_be_bytes([b[f.start], b[f.start + 1], b[f.start + 2], b[f.start + 3]])
}
