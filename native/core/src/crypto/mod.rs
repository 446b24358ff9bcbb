//! The few cryptographic primitives a DPI box needs to read a QUIC Initial: SHA-256,
//! HMAC, HKDF (RFC 5869 and TLS 1.3's Expand-Label), AES-128 (encryption only: header
//! protection is AES-ECB and GCM runs AES in counter mode) and AES-128-GCM decryption.
//!
//! Written here because the core has no crates.io dependencies. Nothing here protects a
//! secret: Initial keys are derived from bytes on the wire, so plain table-free code
//! that is not constant-time is fine. Every primitive is tested against published
//! vectors (FIPS 180-4, RFC 4231, RFC 5869, FIPS-197, the GCM specification).

pub mod aes;
pub mod gcm;
pub mod hkdf;
pub mod sha256;

#[cfg(test)]
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 16).unwrap())
        .collect()
}
