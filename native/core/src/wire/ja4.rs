//! JA4, FoxIO's TLS client fingerprint (github.com/FoxIO-LLC/ja4, technical_details/JA4.md):
//! `t13d1516h2_8daaf6152771_e5627efa2ab1` = protocol (t TCP, q QUIC), TLS version, SNI
//! (d) or not (i), cipher and extension counts, first and last character of the first
//! ALPN, then truncated SHA-256 of the sorted cipher list and of the sorted extension
//! list (SNI and ALPN left out) followed by the signature algorithms in their order.
//! GREASE values are ignored everywhere.

use super::tls::{ClientHello, EXT_ALPN, EXT_SERVER_NAME};
use sha2::{Digest, Sha256};

const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// RFC 8701 GREASE: 0x?a?a with both bytes equal.
fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

fn u16s(b: &[u8]) -> impl Iterator<Item = u16> + '_ {
    b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]))
}

/// (type, body) of each extension; stops quietly at a malformed entry (the parser that
/// produced the range has already checked the lengths).
fn extensions(b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    let mut rest = b;
    std::iter::from_fn(move || {
        let (head, tail) = rest.split_at_checked(4)?;
        let ty = u16::from_be_bytes([head[0], head[1]]);
        let n = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let (body, tail) = tail.split_at_checked(n)?;
        rest = tail;
        Some((ty, body))
    })
}

fn version_code(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0200 => "s2",
        0x0100 => "s1",
        0xfeff => "d1", // DTLS 1.0, 1.2, 1.3
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// The first 12 hex digits of SHA-256 over the comma-joined 4-digit hex values, with
/// `tail` (if any) after an underscore; "000000000000" for an empty list.
fn truncated_hash(list: &[u16], tail: &[u16]) -> String {
    if list.is_empty() {
        return "000000000000".into();
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // The text hashed, built in one buffer (this runs for each ClientHello read).
    let mut text = Vec::with_capacity(5 * (list.len() + tail.len()));
    for (i, v) in list.iter().chain(tail).enumerate() {
        if i == list.len() {
            text.push(b'_');
        } else if i > 0 {
            text.push(b',');
        }
        text.extend([12, 8, 4, 0].map(|s| HEX[usize::from(v >> s & 0xf)]));
    }
    let d = Sha256::digest(&text);
    d[..6]
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .map(char::from)
        .collect()
}

/// The first ALPN value's first and last characters, or hex digits if not alphanumeric.
fn alpn_code(hello: &ClientHello, buf: &[u8]) -> [char; 2] {
    match hello.alpn(buf).next() {
        Some(v) => {
            let (f, l) = (v[0], v[v.len() - 1]);
            if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() {
                [char::from(f), char::from(l)]
            } else {
                let hex = |d: u8| char::from(b"0123456789abcdef"[usize::from(d)]);
                [hex(f >> 4), hex(l & 0xf)]
            }
        }
        None => ['0', '0'],
    }
}

/// The highest non-GREASE version in a supported_versions extension body.
fn supported_version(body: &[u8]) -> Option<u16> {
    u16s(body.get(1..).unwrap_or(&[]))
        .filter(|&v| !is_grease(v))
        .max()
}

/// JA4's first section, `q13d0312h3` (always 10 characters): protocol, version, SNI or
/// not, cipher and extension counts, ALPN. It needs no hashing, and a glob such as
/// `q13d*` is decided by it alone.
pub fn ja4_a(hello: &ClientHello, buf: &[u8], quic: bool) -> String {
    let ciphers = u16s(&buf[hello.ciphers.clone()])
        .filter(|&c| !is_grease(c))
        .count();
    let mut ext_count = 0usize;
    let mut version = hello.legacy_version;
    for (ty, body) in extensions(&buf[hello.extensions.clone()]) {
        if is_grease(ty) {
            continue;
        }
        ext_count += 1;
        if ty == EXT_SUPPORTED_VERSIONS {
            version = supported_version(body).unwrap_or(version);
        }
    }
    let mut a = String::with_capacity(36);
    a.push(if quic { 'q' } else { 't' });
    a.push_str(version_code(version));
    a.push(if hello.sni.is_some() { 'd' } else { 'i' });
    for n in [ciphers.min(99), ext_count.min(99)] {
        a.push(char::from(b'0' + (n / 10) as u8));
        a.push(char::from(b'0' + (n % 10) as u8));
    }
    a.extend(alpn_code(hello, buf));
    a
}

/// The JA4 fingerprint of a parsed ClientHello: the first section, then the truncated
/// hashes of the sorted ciphers and of the sorted extensions with the signature
/// algorithms.
pub fn ja4(hello: &ClientHello, buf: &[u8], quic: bool) -> String {
    let mut ciphers: Vec<u16> = u16s(&buf[hello.ciphers.clone()])
        .filter(|&c| !is_grease(c))
        .collect();
    let block = &buf[hello.extensions.clone()];
    let mut exts = Vec::with_capacity(block.len() / 4);
    let mut sig_algs = Vec::new();
    for (ty, body) in extensions(block) {
        if is_grease(ty) {
            continue;
        }
        if ty != EXT_SERVER_NAME && ty != EXT_ALPN {
            exts.push(ty);
        }
        if ty == EXT_SIGNATURE_ALGORITHMS {
            let list = body.get(2..).unwrap_or(&[]);
            sig_algs.extend(u16s(list).filter(|&v| !is_grease(v)));
        }
    }
    ciphers.sort_unstable();
    exts.sort_unstable();
    let mut out = ja4_a(hello, buf, quic);
    out.push('_');
    out.push_str(&truncated_hash(&ciphers, &[]));
    out.push('_');
    out.push_str(&truncated_hash(&exts, &sig_algs));
    out
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::tls::parse_client_hello;

    /// A ClientHello record with these ciphers and extensions, in this order. Extension
    /// bodies: SNI, ALPN ("h2"), supported_versions (GREASE, 1.3, 1.2), the given
    /// signature algorithms; every other extension is empty.
    fn hello(ciphers: &[u16], exts: &[u16], sig_algs: &[u16]) -> Vec<u8> {
        let mut ext = Vec::new();
        for &ty in exts {
            let body: Vec<u8> = match ty {
                0x0000 => [&[0, 9, 0, 0, 6][..], b"a.test"].concat(),
                0x0010 => vec![0, 3, 2, b'h', b'2'],
                0x002b => vec![6, 0x7a, 0x7a, 3, 4, 3, 3],
                0x000d => {
                    let mut b = ((sig_algs.len() * 2) as u16).to_be_bytes().to_vec();
                    b.extend(sig_algs.iter().flat_map(|s| s.to_be_bytes()));
                    b
                }
                _ => vec![],
            };
            ext.extend_from_slice(&ty.to_be_bytes());
            ext.extend_from_slice(&(body.len() as u16).to_be_bytes());
            ext.extend_from_slice(&body);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.push(0);
        body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        body.extend(ciphers.iter().flat_map(|c| c.to_be_bytes()));
        body.extend_from_slice(&[1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
        rec.push(1);
        rec.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        rec.extend_from_slice(&body);
        rec
    }

    const CIPHERS: [u16; 16] = [
        0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    const SIG_ALGS: [u16; 8] = [
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    ];

    fn fingerprint(b: &[u8], quic: bool) -> String {
        ja4(&parse_client_hello(b).unwrap(), b, quic)
    }

    #[test]
    fn foxio_published_example() {
        // JA4.md's worked example (GREASE added at the front of both lists).
        let exts = [
            0xdada, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023,
            0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let b = hello(&CIPHERS, &exts, &SIG_ALGS);
        assert_eq!(
            fingerprint(&b, false),
            "t13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        assert_eq!(
            fingerprint(&b, true),
            "q13d1516h2_8daaf6152771_e5627efa2ab1"
        );
        // "If there are no signature algorithms ... the string ends without an underscore".
        let b = hello(&CIPHERS, &exts, &[]);
        assert!(fingerprint(&b, false).ends_with("_6d807ffa2a79"));
    }

    #[test]
    fn chrome_with_ech_published_example() {
        // A published Chrome 143 fingerprint (with ECH, 0xfe0d, and X25519MLKEM768's
        // 0x44cd): ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd, ja4_ro order below.
        let exts = [
            0x002d, 0x0033, 0x0010, 0xfe0d, 0x0017, 0x44cd, 0x0000, 0x000b, 0x000a, 0x002b, 0xff01,
            0x0023, 0x0012, 0x0005, 0x000d, 0x001b,
        ];
        let b = hello(&CIPHERS, &exts, &SIG_ALGS);
        assert_eq!(
            fingerprint(&b, false),
            "t13d1516h2_8daaf6152771_d8a2da3f94cd"
        );
        assert!(parse_client_hello(&b).unwrap().ech);
    }

    #[test]
    fn no_sni_no_alpn_tls12() {
        let b = hello(&[0x009c, 0x002f], &[0x000a, 0x000b], &[]);
        let f = fingerprint(&b, false);
        assert!(f.starts_with("t12i020200_"), "{f}");
        let b = hello(&[], &[], &[]);
        assert_eq!(
            fingerprint(&b, false),
            "t12i000000_000000000000_000000000000"
        );
    }

    #[test]
    fn grease_detection() {
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && is_grease(0x3a3a));
        assert!(!is_grease(0x0a1a) && !is_grease(0x1301) && !is_grease(0xfe0d));
    }
}
