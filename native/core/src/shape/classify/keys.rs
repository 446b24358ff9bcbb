//! The classifier keys other than `sni`: each a small predicate over the flow (static
//! keys, decided by addresses and ports) or over one payload (payload keys).

use crate::config::prefix::PrefixSet;
use crate::shape::compiled::{PayloadSpec, Proto, QuicSpec};
use crate::shape::flow::FlowKey;
use crate::wire::packet::{PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::wire::{quic, stun};

/// `hosts` and `cidr`: the server address is in one of the prefixes.
pub fn server_in(set: &PrefixSet, key: &FlowKey) -> bool {
    set.contains(key.server)
}

/// `tcp_ports` / `udp_ports`: the flow has that protocol and its server port is in a range.
pub fn port_in(ranges: &[(u16, u16)], proto: u8, key: &FlowKey) -> bool {
    key.proto == proto
        && ranges
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&key.server_port))
}

/// `proto` as a bit mask over tcp (1), udp (2), icmp (4).
pub fn proto_mask(list: &[Proto]) -> u8 {
    list.iter().fold(0, |m, p| {
        m | match p {
            Proto::Tcp => 1,
            Proto::Udp => 2,
            Proto::Icmp => 4,
        }
    })
}

pub fn proto_in(mask: u8, proto: u8) -> bool {
    let bit = match proto {
        PROTO_TCP => 1,
        PROTO_UDP => 2,
        PROTO_ICMP | PROTO_ICMPV6 => 4,
        _ => 0,
    };
    mask & bit != 0
}

/// The least Length field a protected packet has: header protection samples 16 bytes
/// starting 4 bytes into the packet number field (RFC 9001 §5.4.2).
const MIN_PROTECTED_LENGTH: u64 = 4 + 16;

/// `quic`: a long-header Initial of the required version and minimum UDP payload size.
/// Its Length must be one a protected packet can have and fit the datagram: the header
/// bits alone also read 1 in 16 DNS queries (an ID of 0xc0.. is a long-header Initial of
/// an unknown version with a Length of 0), so a lab with `quic` blackholed lost those
/// lookups.
pub fn quic_initial(spec: &QuicSpec, payload: &[u8]) -> bool {
    if spec
        .min_size_bytes
        .is_some_and(|m| (payload.len() as u64) < m)
    {
        return false;
    }
    match quic::parse_long_header(payload) {
        Ok(h) => {
            h.packet_type == quic::PacketType::Initial
                && spec.version.is_none_or(|v| v == h.version)
                && h.length.is_some_and(|l| {
                    l >= MIN_PROTECTED_LENGTH
                        && (h.header_len as u64).saturating_add(l) <= payload.len() as u64
                })
        }
        Err(_) => false,
    }
}

/// `stun`: a well-formed STUN header with the magic cookie.
pub fn is_stun(payload: &[u8]) -> bool {
    stun::parse(payload).is_ok()
}

/// `payload`: the size is in range and every byte rule holds (under its mask).
pub fn payload_matches(spec: &PayloadSpec, payload: &[u8]) -> bool {
    let n = payload.len() as u64;
    spec.size_min.is_none_or(|m| n >= m)
        && spec.size_max.is_none_or(|m| n <= m)
        && spec.rules.iter().all(|r| {
            payload
                .get(r.offset..r.offset + r.value.len())
                .is_some_and(|got| {
                    got.iter()
                        .zip(&r.value)
                        .zip(&r.mask)
                        .all(|((g, v), m)| g & m == v & m)
                })
        })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn quic_v1_initial_min_size() {
        // The TSPU 2022 rule: QUIC v1, UDP payload >= 1001 bytes.
        let spec = QuicSpec {
            version: Some(1),
            min_size_bytes: Some(1001),
        };
        assert!(quic_initial(&spec, &quic::build_initial(1, 1200)));
        assert!(quic_initial(&spec, &quic::build_initial(1, 1001)));
        assert!(!quic_initial(&spec, &quic::build_initial(1, 1000)));
        assert!(!quic_initial(
            &spec,
            &quic::build_initial(quic::VERSION_2, 1200)
        ));
        let any = QuicSpec {
            version: None,
            min_size_bytes: None,
        };
        assert!(quic_initial(&any, &quic::build_initial(0xff00_001d, 300)));
        assert!(!quic_initial(&any, &[0x40; 1200])); // short header
    }

    #[test]
    fn a_dns_query_whose_id_reads_as_a_long_header_is_not_quic() {
        let any = QuicSpec {
            version: None,
            min_size_bytes: None,
        };
        // A query for "www.aparat.com" A, ID 0xc4f1: first byte 0xc4 is a long-header
        // Initial's, the flags and counts parse as version 0xf1010000, a 1-byte DCID, no
        // SCID, no token and a Length of 0.
        let mut q = vec![0xc4, 0xf1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["www", "aparat", "com"] {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        let h = quic::parse_long_header(&q).unwrap();
        assert_eq!(
            (h.packet_type, h.length),
            (quic::PacketType::Initial, Some(0))
        );
        assert!(!quic_initial(&any, &q));
        // A Length longer than the datagram is no packet either.
        let mut cut = quic::build_initial(1, 1200);
        cut.truncate(600);
        assert!(!quic_initial(&any, &cut));
        assert!(quic_initial(&any, &quic::build_initial(1, 40)));
    }

    #[test]
    fn ports_and_payload() {
        let k = FlowKey {
            client: [198, 18, 0, 2].into(),
            server: [198, 19, 1, 1].into(),
            client_port: 5000,
            server_port: 3478,
            proto: PROTO_UDP,
        };
        assert!(port_in(&[(590, 1400), (3478, 3478)], PROTO_UDP, &k));
        assert!(!port_in(&[(3478, 3478)], PROTO_TCP, &k));
        let rule = |offset, value: &[u8], mask: &[u8]| crate::shape::compiled::ByteRule {
            offset,
            value: value.to_vec(),
            mask: mask.to_vec(),
        };
        // ValdikSS's TSPU rule: payload > 1000 and int32be(1) == 1, whatever byte 0 holds.
        let tspu = PayloadSpec::tspu_quic_v1();
        assert!(payload_matches(&tspu, &quic::build_initial(1, 1200)));
        let mut short_header_form = quic::build_initial(1, 1200);
        short_header_form[0] = 0x40;
        assert!(payload_matches(&tspu, &short_header_form));
        assert!(!payload_matches(&tspu, &quic::build_initial(1, 1000)));
        assert!(!payload_matches(&tspu, &quic::build_initial(2, 1200)));
        // A mask: the long-header bit alone.
        let long = PayloadSpec {
            rules: vec![rule(0, &[0x80], &[0x80])],
            ..PayloadSpec::default()
        };
        assert!(payload_matches(&long, &[0xc3]) && !payload_matches(&long, &[0x43]));
        let far = PayloadSpec {
            rules: vec![rule(100, &[0], &[0xff])],
            size_min: None,
            size_max: Some(50),
        };
        assert!(!payload_matches(&far, &[0; 10]));
        assert!(is_stun(&stun::build_binding_request()));
        assert!(proto_in(proto_mask(&[Proto::Icmp]), PROTO_ICMPV6));
    }
}
