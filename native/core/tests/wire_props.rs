//! Property tests of the wire parsers (proptest): any byte string goes through each
//! parser without a panic, and what the core emits parses back to what it was built
//! from. Random bytes rarely get past a header check, so each parser is also fed
//! well-formed input damaged at random places: that is where the deep code runs.

use proptest::collection::vec;
use proptest::prelude::*;
use qoslab_core::io::gso::{segment, Offload};
use qoslab_core::shape::packet::{Pool, HEADROOM};
use qoslab_core::wire::ip::{IpRepr, Ipv4Packet, Ipv6Packet};
use qoslab_core::wire::packet::{
    build_tcp, build_udp, fill_l4_checksum, l4_checksum_ok, parse, PROTO_TCP, PROTO_UDP,
};
use qoslab_core::wire::quic::{self, VERSION_1, VERSION_2};
use qoslab_core::wire::quic_initial::{self, ClientHelloReader, Progress};
use qoslab_core::wire::tcp::TcpPacket;
use qoslab_core::wire::udp::UdpPacket;
use qoslab_core::wire::vnet::{self, VnetHeader};
use qoslab_core::wire::{ja4, stun, tls};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

/// Damage: (position as a fraction of the length, new byte) pairs, then a cut.
fn damage() -> impl Strategy<Value = (Vec<(f64, u8)>, Option<f64>)> {
    (
        vec((0.0..1.0f64, any::<u8>()), 1..6),
        prop::option::weighted(0.3, 0.0..1.0f64),
    )
}

fn apply(mut b: Vec<u8>, (edits, cut): &(Vec<(f64, u8)>, Option<f64>)) -> Vec<u8> {
    for &(at, v) in edits {
        if !b.is_empty() {
            let i = ((at * b.len() as f64) as usize).min(b.len() - 1);
            b[i] = v;
        }
    }
    if let Some(c) = cut {
        b.truncate((c * b.len() as f64) as usize);
    }
    b
}

fn addr_pair() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        (any::<[u8; 4]>(), any::<[u8; 4]>())
            .prop_map(|(a, b)| (Ipv4Addr::from(a).into(), Ipv4Addr::from(b).into())),
        (any::<[u8; 16]>(), any::<[u8; 16]>())
            .prop_map(|(a, b)| (Ipv6Addr::from(a).into(), Ipv6Addr::from(b).into())),
    ]
}

/// Everything the packet path reads from one IP packet, none of which may panic; what
/// `parse` accepts stays inside the buffer.
fn read_packet(b: &[u8]) {
    let _ = IpRepr::parse(b);
    let _ =
        Ipv4Packet::new_checked(b).map(|p| (p.src_addr(), p.frag_offset(), p.verify_checksum()));
    let _ = Ipv6Packet::new_checked(b).map(|p| (p.payload_len(), p.next_header()));
    let Ok(p) = parse(b) else { return };
    assert!(
        p.l4 <= p.payload && p.payload <= p.end && p.end <= b.len(),
        "{p:?}"
    );
    let mut copy = b.to_vec();
    fill_l4_checksum(&mut copy, &p);
    if !p.fragment && matches!(p.proto, PROTO_TCP | PROTO_UDP) && p.src_port != 0 {
        assert!(l4_checksum_ok(&copy, &p), "fresh checksum verifies: {p:?}");
    }
    let payload = &b[p.payload..p.end];
    read_payload(payload);
}

/// The payload readers: TLS, QUIC, STUN.
fn read_payload(b: &[u8]) {
    let _ = tls::handshake_record_len(b);
    let _ = tls::client_hello_message_len(b);
    for (h, buf) in [
        (tls::parse_client_hello(b), b),
        (tls::parse_client_hello_message(b), b),
    ] {
        if let Ok(h) = h {
            let _ = h.sni(buf);
            let _ = h.alpn(buf).count();
            let (a, full) = (ja4::ja4_a(&h, buf, true), ja4::ja4(&h, buf, true));
            assert!(a.len() == 10 && full.starts_with(&a), "{a} {full}");
        }
    }
    let _ = quic::parse_long_header(b);
    let _ = quic_initial::layout(b);
    if let Ok((mut r, _)) = ClientHelloReader::start(b) {
        let _ = r.feed(b);
        let _ = r.hello().map(tls::parse_client_hello_message);
    }
    let _ = stun::parse(b);
}

fn tcp_packet() -> impl Strategy<Value = Vec<u8>> {
    (
        addr_pair(),
        any::<(u16, u16, u32, u32, u8, u16)>(),
        bytes(600),
    )
        .prop_map(|((s, d), (sp, dp, seq, ack, flags, win), payload)| {
            let mut b = Vec::new();
            build_tcp(&mut b, (s, sp), (d, dp), seq, ack, flags, win, &payload);
            b
        })
}

fn udp_packet() -> impl Strategy<Value = Vec<u8>> {
    (addr_pair(), any::<(u16, u16)>(), bytes(600)).prop_map(|((s, d), (sp, dp), payload)| {
        let mut b = Vec::new();
        build_udp(&mut b, (s, sp), (d, dp), &payload);
        b
    })
}

/// A ClientHello record as a client builds it: a name, ALPN values, maybe ECH and padding.
fn hello_parts() -> impl Strategy<Value = (String, Vec<String>, bool, usize)> {
    (
        "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}",
        vec("[a-z0-9/.]{1,12}", 0..4),
        any::<bool>(),
        prop_oneof![Just(0usize), 300..2200usize],
    )
}

fn hello_record((name, alpn, ech, pad): &(String, Vec<String>, bool, usize)) -> Vec<u8> {
    let alpn: Vec<&str> = alpn.iter().map(String::as_str).collect();
    tls::build_client_hello(name, &alpn, *ech, *pad)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_bytes_parse_without_panic(b in bytes(1600)) {
        read_packet(&b);
        read_payload(&b);
        let _ = TcpPacket::new_checked(&b[..]).map(|t| (t.payload().len(), t.flags()));
        let _ = UdpPacket::new_checked(&b[..]).map(|u| u.payload().len());
        if let Ok(h) = VnetHeader::new_checked(&b[..]) {
            let mut out = Vec::new();
            let _ = segment(Offload::of(&h), h.payload(), &mut Pool::default(), &mut out);
        }
    }

    #[test]
    fn damaged_packets_parse_without_panic(
        p in prop_oneof![tcp_packet(), udp_packet()],
        d in damage(),
    ) {
        read_packet(&apply(p, &d));
    }

    #[test]
    fn tcp_emit_then_parse_round_trips(
        (s, d) in addr_pair(),
        (sp, dp, seq, ack, flags, win) in any::<(u16, u16, u32, u32, u8, u16)>(),
        payload in bytes(1400),
    ) {
        let mut b = Vec::new();
        build_tcp(&mut b, (s, sp), (d, dp), seq, ack, flags, win, &payload);
        let p = parse(&b).unwrap();
        prop_assert_eq!((p.src, p.dst, p.proto), (s, d, PROTO_TCP));
        prop_assert_eq!((p.src_port, p.dst_port), (sp, dp));
        let t = p.tcp.unwrap();
        prop_assert_eq!((t.seq, t.ack, t.flags, t.window), (seq, ack, flags, win));
        prop_assert_eq!(&b[p.payload..p.end], &payload[..]);
        prop_assert!(l4_checksum_ok(&b, &p));
    }

    #[test]
    fn udp_emit_then_parse_round_trips(
        (s, d) in addr_pair(),
        (sp, dp) in any::<(u16, u16)>(),
        payload in bytes(1400),
    ) {
        let mut b = Vec::new();
        build_udp(&mut b, (s, sp), (d, dp), &payload);
        let p = parse(&b).unwrap();
        prop_assert_eq!((p.src, p.dst, p.proto, p.src_port, p.dst_port), (s, d, PROTO_UDP, sp, dp));
        prop_assert_eq!(&b[p.payload..p.end], &payload[..]);
        prop_assert!(l4_checksum_ok(&b, &p));
    }

    #[test]
    fn client_hello_emit_then_parse_round_trips(parts in hello_parts()) {
        let record = hello_record(&parts);
        let (name, alpn, ech, _) = &parts;
        let h = tls::parse_client_hello(&record).unwrap();
        prop_assert_eq!(h.sni(&record), Some(name.as_bytes()));
        let got: Vec<&[u8]> = h.alpn(&record).collect();
        let want: Vec<&[u8]> = alpn.iter().map(|a| a.as_bytes()).collect();
        prop_assert_eq!(got, want);
        prop_assert_eq!(h.ech, *ech);
        prop_assert_eq!(tls::handshake_record_len(&record), Some(record.len()));
        // The same message without its record header, as QUIC carries it.
        let m = tls::parse_client_hello_message(&record[5..]).unwrap();
        prop_assert_eq!(m.sni(&record[5..]), Some(name.as_bytes()));
    }

    #[test]
    fn damaged_client_hellos_parse_without_panic(parts in hello_parts(), d in damage()) {
        let b = apply(hello_record(&parts), &d);
        read_payload(&b);
    }

    /// Seal a ClientHello into Initials (any version, DCID, cut, size), read it back.
    #[test]
    fn quic_initials_seal_then_read_round_trips(
        parts in hello_parts(),
        v2 in any::<bool>(),
        dcid in vec(any::<u8>(), 0..21),
        chunk in prop_oneof![Just(usize::MAX), 200..1100usize],
        min_size in 1200..1400usize,
        reverse in any::<bool>(),
    ) {
        let record = hello_record(&parts);
        let version = if v2 { VERSION_2 } else { VERSION_1 };
        let mut initials = quic_initial::seal_client_hello(version, &dcid, &record, chunk, min_size);
        prop_assert!(initials.iter().all(|p| p.len() >= min_size));
        if reverse {
            initials.reverse(); // reordered on the wire: the DCID is the same in all
        }
        let (mut r, mut progress) = ClientHelloReader::start(&initials[0]).unwrap();
        for p in &initials[1..] {
            prop_assert_eq!(progress, Progress::NeedMore);
            progress = r.feed(p).unwrap();
        }
        prop_assert_eq!(progress, Progress::Complete);
        prop_assert_eq!(r.hello(), Some(&record[5..]));
        prop_assert_eq!(r.packets() as usize, initials.len());
    }

    #[test]
    fn damaged_quic_initials_read_without_panic(
        parts in hello_parts(),
        dcid in vec(any::<u8>(), 0..21),
        d in damage(),
    ) {
        let initials = quic_initial::seal_client_hello(VERSION_1, &dcid, &hello_record(&parts), 700, 1200);
        let first = apply(initials[0].clone(), &d);
        read_payload(&first);
        if let Ok((mut r, _)) = ClientHelloReader::start(&initials[0]) {
            for p in &initials[1..] {
                let _ = r.feed(&apply(p.clone(), &d));
            }
        }
    }

    #[test]
    fn stun_binding_request_parses_and_damage_does_not_panic(d in damage()) {
        let b = stun::build_binding_request();
        let h = stun::parse(&b).unwrap();
        prop_assert_eq!((h.msg_type, h.length), (1, 0));
        let _ = stun::parse(&apply(b, &d));
    }

    /// The virtio-net header with any fields in front of a real packet: GSO cutting never
    /// panics, and what it cuts parses.
    #[test]
    fn vnet_headers_and_gso_cutting_do_not_panic(
        head in any::<[u8; vnet::HEADER_LEN]>(),
        p in prop_oneof![tcp_packet(), udp_packet()],
    ) {
        let mut frame = head.to_vec();
        frame.extend_from_slice(&p);
        if let Ok(h) = VnetHeader::new_checked(&frame[..]) {
            let mut out = Vec::new();
            if segment(Offload::of(&h), h.payload(), &mut Pool::default(), &mut out).is_ok() {
                for seg in &out {
                    read_packet(&seg[HEADROOM..]);
                }
            }
        }
    }
}
