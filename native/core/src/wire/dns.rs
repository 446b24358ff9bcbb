//! DNS messages over UDP (RFC 1035 §4.1), as much as an on-path injector needs: the header
//! of a query, its first question (name, type, class), and a forged response that copies
//! the id and question and answers with addresses (a compression pointer to the question's
//! name, as real responses do). Malformed input is an `Error`, never a panic.

use super::{Error, Result};
use std::net::IpAddr;

pub const HEADER_LEN: usize = 12;
pub const TYPE_A: u16 = 1;
pub const TYPE_AAAA: u16 = 28;
pub const CLASS_IN: u16 = 1;
/// Header flags (the second 16-bit word).
const QR: u16 = 0x8000;
const OPCODE: u16 = 0x7800;
const RD: u16 = 0x0100;
const RA: u16 = 0x0080;
/// A name's labels together: at most 255 bytes on the wire (RFC 1035 §2.3.4).
const MAX_NAME: usize = 255;
/// A pointer to offset 12, where the (only) question's name starts.
const NAME_POINTER: [u8; 2] = [0xc0, 0x0c];

/// A standard query and its first question, borrowed from the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query<'a> {
    pub id: u16,
    pub flags: u16,
    /// The question's name, lowercased, labels joined by dots, no trailing dot.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// The question's wire bytes (name, type, class), copied into the response.
    pub question: &'a [u8],
}

/// The first question of a standard query (QR 0, opcode 0, at least one question; names
/// without compression, as questions are sent).
pub fn parse_query(b: &[u8]) -> Result<Query<'_>> {
    if b.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    let id = u16::from_be_bytes([b[0], b[1]]);
    let flags = u16::from_be_bytes([b[2], b[3]]);
    let qdcount = u16::from_be_bytes([b[4], b[5]]);
    if flags & (QR | OPCODE) != 0 || qdcount == 0 {
        return Err(Error::Malformed);
    }
    let mut at = HEADER_LEN;
    let mut name = String::new();
    loop {
        let len = usize::from(*b.get(at).ok_or(Error::Truncated)?);
        if len == 0 {
            at += 1;
            break;
        }
        if len & 0xc0 != 0 || at - HEADER_LEN + len + 1 > MAX_NAME {
            return Err(Error::Malformed); // a pointer or a name too long
        }
        let label = b.get(at + 1..at + 1 + len).ok_or(Error::Truncated)?;
        if !name.is_empty() {
            name.push('.');
        }
        name.extend(label.iter().map(|c| char::from(c.to_ascii_lowercase())));
        at += 1 + len;
    }
    let tail = b.get(at..at + 4).ok_or(Error::Truncated)?;
    Ok(Query {
        id,
        flags,
        name,
        qtype: u16::from_be_bytes([tail[0], tail[1]]),
        qclass: u16::from_be_bytes([tail[2], tail[3]]),
        question: &b[HEADER_LEN..at + 4],
    })
}

/// A response to `q` answering with `addresses` (those of the question's type: A takes
/// IPv4, AAAA IPv6), each with `ttl`: RD copied, RA set, NOERROR.
pub fn build_response(q: &Query<'_>, addresses: &[IpAddr], ttl: u32) -> Vec<u8> {
    let answers: Vec<&IpAddr> = addresses
        .iter()
        .filter(|a| match a {
            IpAddr::V4(_) => q.qtype == TYPE_A,
            IpAddr::V6(_) => q.qtype == TYPE_AAAA,
        })
        .collect();
    let mut out = Vec::with_capacity(HEADER_LEN + q.question.len() + answers.len() * 28);
    out.extend_from_slice(&q.id.to_be_bytes());
    out.extend_from_slice(&(QR | (q.flags & RD) | RA).to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(q.question);
    for a in answers {
        out.extend_from_slice(&NAME_POINTER);
        out.extend_from_slice(&q.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&ttl.to_be_bytes());
        match a {
            IpAddr::V4(v4) => {
                out.extend_from_slice(&4u16.to_be_bytes());
                out.extend_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                out.extend_from_slice(&16u16.to_be_bytes());
                out.extend_from_slice(&v6.octets());
            }
        }
    }
    out
}

#[cfg(test)]
mod test {
    use super::*;

    /// `dig www.Example.com A` as dns-packet encodes it: id 0x1234, RD, one question.
    const QUERY: [u8; 33] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // header
        3, b'w', b'w', b'w', 7, b'E', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
        0, // name
        0x00, 0x01, 0x00, 0x01, // A, IN
    ];

    #[test]
    fn reads_the_first_question_lowercased() {
        let q = parse_query(&QUERY).unwrap();
        assert_eq!((q.id, q.qtype, q.qclass), (0x1234, TYPE_A, CLASS_IN));
        assert_eq!(q.name, "www.example.com");
        assert_eq!(q.question, &QUERY[12..]);
    }

    #[test]
    fn refuses_responses_pointers_and_truncation() {
        let mut response = QUERY;
        response[2] |= 0x80;
        assert_eq!(parse_query(&response), Err(Error::Malformed));
        let mut pointer = QUERY;
        pointer[12] = 0xc0;
        assert_eq!(parse_query(&pointer), Err(Error::Malformed));
        for n in [0, 11, 15, 29, 32] {
            assert_eq!(parse_query(&QUERY[..n]), Err(Error::Truncated), "{n}");
        }
        let mut none = QUERY;
        none[5] = 0;
        assert_eq!(parse_query(&none), Err(Error::Malformed));
    }

    #[test]
    fn forges_a_response_a_resolver_would_send() {
        let q = parse_query(&QUERY).unwrap();
        let v4: IpAddr = "10.10.34.35".parse().unwrap();
        let v6: IpAddr = "fd71:6c61:6200:2::9".parse().unwrap();
        let r = build_response(&q, &[v4, v6], 60);
        // Header: same id, QR|RD|RA, NOERROR, 1 question, 1 answer (the AAAA is left out).
        assert_eq!(&r[..12], &[0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
        assert_eq!(&r[12..33], &QUERY[12..]);
        assert_eq!(
            &r[33..],
            &[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 10, 34, 35]
        );
        let mut aaaa = QUERY;
        aaaa[30] = 28;
        let q6 = parse_query(&aaaa).unwrap();
        let r6 = build_response(&q6, &[v4, v6], 60);
        assert_eq!(r6[7], 1);
        assert_eq!(&r6[r6.len() - 16..], &v6_octets(v6));
    }

    fn v6_octets(a: IpAddr) -> [u8; 16] {
        match a {
            IpAddr::V6(v) => v.octets(),
            IpAddr::V4(_) => unreachable!(),
        }
    }
}
