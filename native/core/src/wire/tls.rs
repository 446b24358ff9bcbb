//! TLS record header and ClientHello: the server name (SNI), ALPN and whether the
//! ClientHello carries an Encrypted Client Hello extension (0xfe0d).
//!
//! Only the first record is read. Like the DPI boxes it imitates, the parser reads what
//! the bytes say rather than searching for strings: a corrupted content type, handshake
//! type or length field defeats it. A ClientHello longer than the bytes at hand is
//! `Truncated`, which the classifier answers with reassembly (or not, per scenario).

use super::{Error, Result};
use std::ops::Range;

mod field {
    pub const CONTENT_TYPE: usize = 0;
    pub const RECORD_HEADER_LEN: usize = 5;
    /// Inside the record: handshake type (1) and 24-bit length (3).
    pub const HS_HEADER_LEN: usize = 4;
}

pub const CONTENT_HANDSHAKE: u8 = 22;
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
pub const EXT_SERVER_NAME: u16 = 0;
pub const EXT_ALPN: u16 = 16;
pub const EXT_ECH: u16 = 0xfe0d;

/// Whether `buf` starts like a TLS handshake record, and its full length if so. The
/// classifier uses this to decide whether a short first segment is worth reassembling.
pub fn handshake_record_len(buf: &[u8]) -> Option<usize> {
    if buf.len() < field::RECORD_HEADER_LEN || buf[field::CONTENT_TYPE] != CONTENT_HANDSHAKE {
        return None;
    }
    if buf[1] != 3 {
        return None; // record versions are 3.x
    }
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    Some(field::RECORD_HEADER_LEN + len)
}

pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CONTENT_APPLICATION_DATA: u8 = 23;
pub const HANDSHAKE_SERVER_HELLO: u8 = 2;

/// Whether `buf` starts with a handshake record whose first message is of type `hs_type`
/// (1 ClientHello, 2 ServerHello): the first bytes of a record only, nothing decrypted.
pub fn starts_with_handshake(buf: &[u8], hs_type: u8) -> bool {
    handshake_record_len(buf).is_some() && buf.get(field::RECORD_HEADER_LEN) == Some(&hs_type)
}

/// The content types of the records laid end to end from the start of `buf`, as far as
/// their headers read as TLS (types 20-23, version 3.x); the last may be cut short. A
/// segment that does not begin on a record boundary yields nothing useful, so callers
/// read segments whose start they know to be one (the first bytes after a handshake).
pub fn record_types(buf: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let h = buf.get(at..at + field::RECORD_HEADER_LEN)?;
        if !(20..=23).contains(&h[0]) || h[1] != 3 {
            return None;
        }
        at += field::RECORD_HEADER_LEN + usize::from(u16::from_be_bytes([h[3], h[4]]));
        Some(h[0])
    })
}

/// What the classifier needs from a ClientHello; ranges index the parsed buffer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientHello {
    pub sni: Option<Range<usize>>,
    /// The ALPN extension's protocol list (length-prefixed names), if present.
    pub alpn: Option<Range<usize>>,
    pub ech: bool,
    /// legacy_version, the cipher suite list and the whole extensions block: what a
    /// fingerprint (JA4, see `ja4.rs`) reads.
    pub legacy_version: u16,
    pub ciphers: Range<usize>,
    pub extensions: Range<usize>,
}

impl ClientHello {
    pub fn sni<'a>(&self, buf: &'a [u8]) -> Option<&'a [u8]> {
        self.sni.clone().map(|r| &buf[r])
    }

    /// ALPN protocol names in order.
    pub fn alpn<'a>(&self, buf: &'a [u8]) -> impl Iterator<Item = &'a [u8]> {
        let mut rest = self.alpn.clone().map(|r| &buf[r]).unwrap_or(&[]);
        std::iter::from_fn(move || {
            let (&n, tail) = rest.split_first()?;
            let n = usize::from(n);
            if tail.len() < n || n == 0 {
                return None;
            }
            let (name, tail) = tail.split_at(n);
            rest = tail;
            Some(name)
        })
    }
}

/// A bounds-checked cursor: every read is a `Result`, never an index panic.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    end: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<Range<usize>> {
        let to = self.i.checked_add(n).ok_or(Error::Malformed)?;
        if to > self.end {
            return Err(if self.end < self.b.len() {
                Error::Malformed // runs past an inner length field
            } else {
                Error::Truncated
            });
        }
        let r = self.i..to;
        self.i = to;
        Ok(r)
    }
    fn u8(&mut self) -> Result<usize> {
        let r = self.take(1)?;
        Ok(usize::from(self.b[r.start]))
    }
    fn u16(&mut self) -> Result<usize> {
        let r = self.take(2)?;
        Ok(usize::from(u16::from_be_bytes([
            self.b[r.start],
            self.b[r.start + 1],
        ])))
    }
    fn u24(&mut self) -> Result<usize> {
        let r = self.take(3)?;
        let b = &self.b[r];
        Ok((usize::from(b[0]) << 16) | (usize::from(b[1]) << 8) | usize::from(b[2]))
    }
}

/// Parse a ClientHello from the start of a TCP payload (one TLS record).
pub fn parse_client_hello(buf: &[u8]) -> Result<ClientHello> {
    let record_len = handshake_record_len(buf).ok_or(if buf.len() < 5 {
        Error::Truncated
    } else {
        Error::Malformed
    })?;
    if record_len > buf.len() {
        return Err(Error::Truncated);
    }
    // The handshake message must fit the record (no multi-record ClientHellos here).
    parse_hello_at(buf, field::RECORD_HEADER_LEN, record_len)
}

/// Parse a ClientHello handshake message without a record header: how QUIC carries it
/// in CRYPTO frames (RFC 9001 §4.1).
pub fn parse_client_hello_message(buf: &[u8]) -> Result<ClientHello> {
    parse_hello_at(buf, 0, buf.len())
}

/// The length of the handshake message starting `buf` (header included), if `buf`
/// holds at least its 4-byte header and it is a ClientHello.
pub fn client_hello_message_len(buf: &[u8]) -> Option<usize> {
    match buf {
        [HANDSHAKE_CLIENT_HELLO, a, b, c, ..] => Some(
            field::HS_HEADER_LEN
                + ((usize::from(*a) << 16) | (usize::from(*b) << 8) | usize::from(*c)),
        ),
        _ => None,
    }
}

/// The ClientHello handshake message at `buf[start..end]`.
fn parse_hello_at(buf: &[u8], start: usize, end: usize) -> Result<ClientHello> {
    let mut c = Cursor {
        b: buf,
        i: start,
        end,
    };
    let hs = c.take(1)?;
    if buf[hs.start] != HANDSHAKE_CLIENT_HELLO {
        return Err(Error::Malformed);
    }
    let hs_len = c.u24()?;
    let hs_end = start + field::HS_HEADER_LEN + hs_len;
    if hs_end > end {
        // Inside a record the message must fit it; a bare message may just be cut short.
        return Err(if start > 0 {
            Error::Malformed
        } else {
            Error::Truncated
        });
    }
    c.end = hs_end;
    let version = c.u16()?;
    c.take(32)?; // random
    let n = c.u8()?;
    c.take(n)?; // session id
    let n = c.u16()?;
    let ciphers = c.take(n)?;
    let n = c.u8()?;
    c.take(n)?; // compression methods
    let mut hello = ClientHello {
        legacy_version: version as u16,
        ciphers,
        extensions: c.i..c.i,
        ..ClientHello::default()
    };
    if c.i == c.end {
        return Ok(hello); // no extensions at all (TLS 1.0 style)
    }
    let ext_len = c.u16()?;
    let ext_end = c.i + ext_len;
    if ext_end > c.end {
        return Err(Error::Malformed);
    }
    hello.extensions = c.i..ext_end;
    while c.i < ext_end {
        let ty = c.u16()? as u16;
        let len = c.u16()?;
        let body = c.take(len)?;
        match ty {
            EXT_SERVER_NAME => hello.sni = parse_sni(buf, body)?,
            EXT_ALPN if body.len() >= 2 => hello.alpn = Some(body.start + 2..body.end),
            EXT_ECH => hello.ech = true,
            _ => {}
        }
    }
    Ok(hello)
}

/// server_name_list: u16 length, then (type u8, u16 length, name) entries; the first
/// host_name (type 0) wins, as servers do.
fn parse_sni(buf: &[u8], body: Range<usize>) -> Result<Option<Range<usize>>> {
    let mut c = Cursor {
        b: buf,
        i: body.start,
        end: body.end,
    };
    let list = c.u16()?;
    if c.i + list != body.end {
        return Err(Error::Malformed);
    }
    while c.i < body.end {
        let ty = c.u8()?;
        let n = c.u16()?;
        let name = c.take(n)?;
        if ty == 0 && n > 0 {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// Build a minimal ClientHello record (for tests and the simulator's traffic).
pub fn build_client_hello(sni: &str, alpn: &[&str], ech: bool, pad_to: usize) -> Vec<u8> {
    let mut ext = Vec::new();
    if !sni.is_empty() {
        let n = sni.len();
        ext.extend_from_slice(&EXT_SERVER_NAME.to_be_bytes());
        ext.extend_from_slice(&((n + 5) as u16).to_be_bytes());
        ext.extend_from_slice(&((n + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(n as u16).to_be_bytes());
        ext.extend_from_slice(sni.as_bytes());
    }
    if !alpn.is_empty() {
        let list: Vec<u8> = alpn
            .iter()
            .flat_map(|a| std::iter::once(a.len() as u8).chain(a.bytes()))
            .collect();
        ext.extend_from_slice(&EXT_ALPN.to_be_bytes());
        ext.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
        ext.extend_from_slice(&list);
    }
    if ech {
        ext.extend_from_slice(&EXT_ECH.to_be_bytes());
        ext.extend_from_slice(&4u16.to_be_bytes());
        ext.extend_from_slice(&[0, 1, 0, 1]);
    }
    // Padding extension (21) to reach a target size, as Chrome does.
    let base = 5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + ext.len();
    if pad_to > base + 4 {
        let n = pad_to - base - 4;
        ext.extend_from_slice(&21u16.to_be_bytes());
        ext.extend_from_slice(&(n as u16).to_be_bytes());
        ext.extend(std::iter::repeat_n(0, n));
    }
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0); // session id
    body.extend_from_slice(&[0, 2, 0x13, 0x01]); // one cipher suite
    body.extend_from_slice(&[1, 0]); // null compression
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![HANDSHAKE_CLIENT_HELLO];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![CONTENT_HANDSHAKE, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn record_walk_reads_headers_end_to_end() {
        // A TLS 1.3 client's second flight: ChangeCipherSpec, then Finished as
        // application data (opaque), then a cut-off third record.
        let mut b = vec![20, 3, 3, 0, 1, 1];
        b.extend_from_slice(&[23, 3, 3, 0, 2, 0xaa, 0xbb]);
        b.extend_from_slice(&[23, 3, 3, 0x40, 0]);
        assert_eq!(record_types(&b).collect::<Vec<_>>(), vec![20, 23, 23]);
        // Not a record boundary: nothing.
        assert_eq!(record_types(&b[1..]).count(), 0);
        assert_eq!(record_types(&[23, 3]).count(), 0);
        let hello = build_client_hello("a.example", &["h2"], false, 0);
        assert!(starts_with_handshake(&hello, HANDSHAKE_CLIENT_HELLO));
        assert!(!starts_with_handshake(&hello, HANDSHAKE_SERVER_HELLO));
        assert!(starts_with_handshake(
            &[22, 3, 3, 0, 4, 2, 0, 0, 0],
            HANDSHAKE_SERVER_HELLO
        ));
        assert!(!starts_with_handshake(
            &[22, 3, 3, 0, 4],
            HANDSHAKE_SERVER_HELLO
        ));
    }

    #[test]
    fn reads_sni_alpn_and_ech() {
        let b = build_client_hello("abs.twimg.com", &["h2", "http/1.1"], true, 0);
        let h = parse_client_hello(&b).unwrap();
        assert_eq!(h.sni(&b), Some(&b"abs.twimg.com"[..]));
        let alpn: Vec<&[u8]> = h.alpn(&b).collect();
        assert_eq!(alpn, vec![&b"h2"[..], &b"http/1.1"[..]]);
        assert!(h.ech);
        let plain = build_client_hello("x.org", &[], false, 0);
        let h = parse_client_hello(&plain).unwrap();
        assert!(!h.ech && h.alpn.is_none());
    }

    #[test]
    fn fixed_bytes_fixture() {
        // Hand-laid: record (22, 3.1, len 60), ClientHello (len 56), version 3.3, 0x11
        // random, no session id, one suite, null compression, SNI "a.io".
        let mut b = vec![22, 3, 1, 0, 0x3c, 1, 0, 0, 0x38, 3, 3];
        b.extend_from_slice(&[0x11; 32]);
        b.extend_from_slice(&[0, 0, 2, 0x13, 1, 1, 0, 0, 0x0d]);
        b.extend_from_slice(&[0, 0, 0, 9, 0, 7, 0, 0, 4, b'a', b'.', b'i', b'o']);
        let h = parse_client_hello(&b).unwrap();
        assert_eq!(h.sni(&b), Some(&b"a.io"[..]));
        assert_eq!(
            b,
            build_client_hello("a.io", &[], false, 0)[..b.len()].to_vec()
        );
    }

    #[test]
    fn truncated_and_corrupted() {
        let b = build_client_hello("www.example.com", &[], false, 600);
        assert_eq!(b.len(), 600);
        assert_eq!(handshake_record_len(&b), Some(600));
        for n in [0, 4, 5, 100, 599] {
            assert_eq!(
                parse_client_hello(&b[..n]).unwrap_err(),
                Error::Truncated,
                "{n}"
            );
        }
        let mut c = b.clone();
        c[0] = 23; // content type
        assert!(parse_client_hello(&c).is_err());
        let mut c = b.clone();
        c[5] = 2; // handshake type
        assert_eq!(parse_client_hello(&c).unwrap_err(), Error::Malformed);
        let mut c = b.clone();
        c[8] = 0xff; // handshake length beyond the record
        assert_eq!(parse_client_hello(&c).unwrap_err(), Error::Malformed);
        // Every prefix and every single-byte corruption is an answer, not a panic.
        for i in 0..b.len() {
            let _ = parse_client_hello(&b[..i]);
            let mut c = b.clone();
            c[i] ^= 0xa5;
            let _ = parse_client_hello(&c);
        }
    }
}
