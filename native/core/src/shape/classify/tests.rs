//! The ClientHello keys over TCP and QUIC, and the byte rules, through the classifier.

use super::Classifier;
use crate::shape::compiled::{ClassSpec, MatcherSpec, PayloadSpec, QuicSpec};
use crate::shape::flow::{FlowKey, FlowTable, Lookup};
use crate::shape::packet::Dir;
use crate::wire::packet::{build_tcp, build_udp, parse};
use crate::wire::quic::{VERSION_1, VERSION_2};
use crate::wire::quic_initial::seal_client_hello;
use crate::wire::tcp::{ACK, PSH};
use crate::wire::{quic, tls};
use std::net::IpAddr;

const C: (IpAddr, u16) = (IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2)), 50000);
const S: (IpAddr, u16) = (IpAddr::V4(std::net::Ipv4Addr::new(198, 19, 1, 1)), 443);

fn class(name: &str, m: MatcherSpec) -> ClassSpec {
    ClassSpec {
        name: name.into(),
        any_of: vec![m],
    }
}

fn globs(l: &[&str]) -> Option<Vec<String>> {
    Some(l.iter().map(|s| s.to_string()).collect())
}

/// The class bits a flow earns from these client→server payloads (UDP or TCP).
fn classes_of(classes: &[ClassSpec], udp: bool, payloads: &[Vec<u8>]) -> u64 {
    let mut c = Classifier::new(classes);
    let mut table = FlowTable::new(16);
    let mut bits = 0;
    for (i, pl) in payloads.iter().enumerate() {
        let mut ip = Vec::new();
        if udp {
            build_udp(&mut ip, C, S, pl);
        } else {
            build_tcp(&mut ip, C, S, 1000 + i as u32, 1, ACK | PSH, 100, pl);
        }
        let p = parse(&ip).unwrap();
        let slot = match table.lookup(FlowKey::of(&p, Dir::Up), Dir::Up, i as u64) {
            Lookup::New(s) | Lookup::Existing(s) => s,
        };
        let f = table.get_mut(slot);
        if f.inspecting {
            bits |= c.inspect(f, &ip, &p, Dir::Up);
            f.classes |= bits;
        }
    }
    bits
}

fn initial(version: u32, sni: &str, alpn: &[&str], ech: bool) -> Vec<u8> {
    let rec = tls::build_client_hello(sni, alpn, ech, 0);
    seal_client_hello(version, &[9; 8], &rec, usize::MAX, 1200).remove(0)
}

/// Chrome-like: a ClientHello too large for one Initial, in two.
fn two_initials(sni: &str) -> Vec<Vec<u8>> {
    let rec = tls::build_client_hello(sni, &["h3"], false, 1900);
    seal_client_hello(VERSION_1, &[3; 8], &rec, 1100, 1250)
}

fn sni_quic(reassemble: bool, packets: u32) -> MatcherSpec {
    MatcherSpec {
        sni: globs(&["*.blocked.lab"]),
        quic: Some(QuicSpec {
            version: None,
            min_size_bytes: None,
        }),
        reassemble,
        inspect_packets: packets,
        ..MatcherSpec::new()
    }
}

#[test]
fn quic_and_sni_together_read_the_decrypted_initial() {
    let classes = [class("q", sni_quic(false, 1))];
    for v in [VERSION_1, VERSION_2] {
        assert_eq!(
            classes_of(
                &classes,
                true,
                &[initial(v, "www.blocked.lab", &["h3"], false)]
            ),
            1
        );
        assert_eq!(
            classes_of(
                &classes,
                true,
                &[initial(v, "www.open.lab", &["h3"], false)]
            ),
            0
        );
    }
    // The same name in a TLS-over-TCP ClientHello is not a QUIC Initial.
    let rec = tls::build_client_hello("www.blocked.lab", &[], false, 0);
    assert_eq!(classes_of(&classes, false, std::slice::from_ref(&rec)), 0);
    // `sni` alone reads both.
    let any = [class(
        "s",
        MatcherSpec {
            sni: globs(&["*.blocked.lab"]),
            ..MatcherSpec::new()
        },
    )];
    assert_eq!(classes_of(&any, false, &[rec]), 1);
    assert_eq!(
        classes_of(&any, true, &[initial(1, "a.blocked.lab", &[], false)]),
        1
    );
    // An unencrypted look-alike (the old header-only builder) has no ClientHello.
    assert_eq!(
        classes_of(&classes, true, &[quic::build_initial(1, 1200)]),
        0
    );
}

#[test]
fn a_client_hello_over_two_initials_needs_reassembly() {
    let pair = two_initials("rr1.blocked.lab");
    let seg = [class("seg", sni_quic(true, 1))];
    let none = [class("none", sni_quic(false, 1))];
    assert_eq!(classes_of(&seg, true, &pair), 1);
    // The GFW's reading: first Initial only, so the split ClientHello escapes.
    assert_eq!(classes_of(&none, true, &pair), 0);
    // Out of order: still one ClientHello.
    let rev = vec![pair[1].clone(), pair[0].clone()];
    assert_eq!(classes_of(&seg, true, &rev), 1);
    let other = two_initials("rr1.open.lab");
    assert_eq!(classes_of(&seg, true, &other), 0);
}

#[test]
fn alpn_ech_and_ja4() {
    let ech_on = |sni: &str, ech: Option<bool>| MatcherSpec {
        sni: globs(&[sni]),
        ech,
        ..MatcherSpec::new()
    };
    let classes = [
        class("ech", ech_on("cloudflare-ech.com", Some(true))),
        class("plain", ech_on("cloudflare-ech.com", Some(false))),
        class(
            "h3",
            MatcherSpec {
                alpn: globs(&["h3*"]),
                ..MatcherSpec::new()
            },
        ),
        class(
            "quic-fp",
            MatcherSpec {
                ja4: globs(&["q13d*"]),
                ..MatcherSpec::new()
            },
        ),
        class(
            "tcp-fp",
            MatcherSpec {
                ja4: globs(&["t13d0101h2_*"]),
                ..MatcherSpec::new()
            },
        ),
    ];
    let tcp = |sni: &str, alpn: &[&str], ech: bool| {
        classes_of(
            &classes,
            false,
            &[tls::build_client_hello(sni, alpn, ech, 0)],
        )
    };
    assert_eq!(tcp("cloudflare-ech.com", &["h2"], true), 0b00001);
    assert_eq!(tcp("cloudflare-ech.com", &["h2"], false), 0b00010);
    assert_eq!(tcp("www.example.com", &["h2"], true), 0);
    assert_eq!(tcp("x.org", &["h3-29", "h3"], false), 0b00100);
    // build_client_hello: legacy 1.2 version and no supported_versions: "t12".
    assert_eq!(tcp("x.org", &["h2"], false) & 0b10000, 0);
    let q = classes_of(
        &classes,
        true,
        &[initial(1, "cloudflare-ech.com", &["h3"], true)],
    );
    assert_eq!(q & 0b00101, 0b00101);
    assert_eq!(
        q & 0b01000,
        0,
        "build_client_hello is TLS 1.2 style: q12, not q13"
    );
    let fp = [class(
        "fp",
        MatcherSpec {
            ja4: globs(&["q12d0102h3_*"]),
            ..MatcherSpec::new()
        },
    )];
    assert_eq!(
        classes_of(&fp, true, &[initial(1, "a.b", &["h3"], false)]),
        1
    );
    assert_eq!(
        classes_of(
            &fp,
            false,
            &[tls::build_client_hello("a.b", &["h3"], false, 0)]
        ),
        0
    );
}

#[test]
fn valdikss_tspu_rule_ignores_the_header_form_bit() {
    let m = MatcherSpec {
        udp_ports: Some(vec![(443, 443)]),
        payload: Some(PayloadSpec::tspu_quic_v1()),
        ..MatcherSpec::new()
    };
    let classes = [class("tspu", m)];
    assert_eq!(
        classes_of(&classes, true, &[initial(1, "a.b", &[], false)]),
        1
    );
    let mut short = initial(1, "a.b", &[], false);
    short[0] &= 0x7f; // header form bit cleared: the rule still holds
    assert_eq!(classes_of(&classes, true, &[short]), 1);
    assert_eq!(
        classes_of(&classes, true, &[initial(VERSION_2, "a.b", &[], false)]),
        0
    );
    let small = quic::build_initial(1, 1000);
    assert_eq!(classes_of(&classes, true, &[small]), 0);
}
