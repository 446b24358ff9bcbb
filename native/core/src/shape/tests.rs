//! End-to-end tests of the shaping path in virtual time, with exact expectations: the
//! links, classification, conservation under random input, the simulator's report. Each
//! action's own tests are at the bottom of its file.

use super::compiled::Scenario;
use super::packet::{Dir, HEADROOM};
use super::pipeline::{Options, Pipeline};
use super::testkit::*;
use crate::config::json::Value;
use crate::rng::Rng;
use crate::wire::packet::{build_tcp, build_udp};
use crate::wire::tcp::{ACK, PSH, SYN};
use crate::wire::{quic, stun, tls};
use std::net::IpAddr;

#[test]
fn rate_link_with_delay_delivers_exactly() {
    // 1250-byte packets at 1 Mbit/s leave every 10 ms, then 20 ms of propagation.
    let up = obj(LINK, &[("rate_bps", "1000000"), ("delay_ns", "20000000")]);
    let mut p = pipeline_with(&scenario_json(&[], &[], &up, LINK), &[]);
    let got = run(&mut p, (0..10).map(|_| (0, Dir::Up, udp(1250))).collect());
    let t: Vec<u64> = got.iter().map(|g| g.1).collect();
    assert_eq!(t, (1..=10).map(|i| (i * 10 + 20) * MS).collect::<Vec<_>>());
}

#[test]
fn trace_link_replays_opportunities_exactly() {
    let up = obj(LINK, &[("trace_file", r#""t1""#)]);
    let json = scenario_json(&[], &[], &up, LINK);
    let mut p = pipeline_with(&json, &[("t1", &[1, 1, 3, 5])]);
    let pkts: Vec<_> = (0..8).map(|_| (0, Dir::Up, udp(1504))).collect();
    let got = run(&mut p, pkts);
    let ms: Vec<u64> = got.iter().map(|g| g.1 / MS).collect();
    assert_eq!(ms, vec![1, 1, 3, 5, 6, 6, 8, 10]);
    assert!(got.iter().all(|g| g.1 % MS == 0));
}

fn hello_flow(hello: &[u8], split: Option<usize>) -> Vec<(u64, Dir, Vec<u8>)> {
    let (c, s) = (c4(), s4());
    let mut v = Vec::new();
    let mut b = Vec::new();
    build_tcp(&mut b, c, s, 1000, 0, SYN, 1000, &[]);
    v.push((0, Dir::Up, b));
    let parts: Vec<&[u8]> = match split {
        Some(n) => vec![&hello[..n], &hello[n..]],
        None => vec![hello],
    };
    let mut seq = 1001;
    for (i, part) in parts.iter().enumerate() {
        let mut b = Vec::new();
        build_tcp(&mut b, c, s, seq, 1, ACK | PSH, 1000, part);
        seq += part.len() as u32;
        v.push((MS * (i as u64 + 1), Dir::Up, b));
    }
    v
}

fn classes_of(classes: &[String], pkts: Vec<(u64, Dir, Vec<u8>)>) -> u64 {
    let mut p = pipeline(classes, &[]);
    run(&mut p, pkts);
    p.stats
        .classes
        .iter()
        .enumerate()
        .fold(0, |m, (i, c)| m | u64::from(c.flows > 0) << i)
}

#[test]
fn sni_globs_classify_flows() {
    let classes = [
        class("tco", &[matcher(&[("sni", r#"["*t.co*"]"#)])]),
        class("twimg", &[matcher(&[("sni", r#"["*.twimg.com"]"#)])]),
        class("exact", &[matcher(&[("sni", r#"["twitter.com"]"#)])]),
    ];
    let f = |name: &str| {
        classes_of(
            &classes,
            hello_flow(&tls::build_client_hello(name, &[], false, 0), None),
        )
    };
    assert_eq!(f("reddit.com"), 0b001);
    assert_eq!(f("pbs.twimg.com"), 0b010);
    assert_eq!(f("rt.com"), 0b001);
    assert_eq!(f("twitter.com"), 0b100);
    assert_eq!(f("TWITTER.COM"), 0b100);
    assert_eq!(f("api.twitter.com"), 0);
    assert_eq!(f("example.org"), 0);
}

#[test]
fn reassembly_none_misses_a_split_client_hello_segments_reads_it() {
    let classes = [
        class("none", &[matcher(&[("sni", r#"["*.googlevideo.com"]"#)])]),
        class(
            "seg",
            &[matcher(&[
                ("sni", r#"["*.googlevideo.com"]"#),
                ("reassembly", r#""segments""#),
            ])],
        ),
    ];
    let hello = tls::build_client_hello("rr1.googlevideo.com", &["h2"], false, 1800);
    assert_eq!(classes_of(&classes, hello_flow(&hello, None)), 0b11);
    assert_eq!(classes_of(&classes, hello_flow(&hello, Some(1000))), 0b10);
    // Split inside the SNI itself: still only the reassembling DPI sees it.
    assert_eq!(classes_of(&classes, hello_flow(&hello, Some(60))), 0b10);
}

#[test]
fn quic_and_stun_matchers() {
    let classes = [
        class(
            "quic",
            &[matcher(&[
                ("quic", r#"{"version":1,"min_size_bytes":1001}"#),
                ("udp_ports", "[[443,443]]"),
            ])],
        ),
        class("stun", &[matcher(&[("stun", "true")])]),
    ];
    let dgram = |payload: Vec<u8>| {
        let mut b = Vec::new();
        build_udp(&mut b, c4(), s4(), &payload);
        vec![(0, Dir::Up, b)]
    };
    assert_eq!(
        classes_of(&classes, dgram(quic::build_initial(1, 1200))),
        0b01
    );
    assert_eq!(classes_of(&classes, dgram(quic::build_initial(1, 1000))), 0);
    assert_eq!(
        classes_of(&classes, dgram(quic::build_initial(quic::VERSION_2, 1200))),
        0
    );
    assert_eq!(
        classes_of(&classes, dgram(stun::build_binding_request())),
        0b10
    );
}

/// Correctness only: how fast this is belongs to the core bench (`classify_ns`).
#[test]
fn sni_classification_of_10k_globs() {
    let mut set = super::classify::sni::GlobSet::new();
    for i in 0..10_000u32 {
        match i % 10 {
            0..=5 => set.insert(&format!("host{i}.example{}.com", i % 97), i),
            6..=8 => set.insert(&format!("*.cdn{i}.net"), i),
            _ => set.insert(&format!("*video{i}*"), i),
        }
    }
    // 6,000 exact names, 3,000 suffixes, 1,000 substrings: all compiled into maps.
    let hello = tls::build_client_hello("rr3---sn-abc.cdn16.net", &["h2"], false, 0);
    let h = tls::parse_client_hello(&hello).unwrap();
    let mut hits = Vec::new();
    set.matches(h.sni(&hello).unwrap(), &mut hits);
    assert_eq!(hits, vec![16]);
    hits.clear();
    set.matches(b"xvideo19y.org", &mut hits);
    assert_eq!(hits, vec![19]);
    hits.clear();
    set.matches(b"host5.example5.com", &mut hits);
    assert_eq!(hits, vec![5]);
    hits.clear();
    set.matches(b"host5.example6.com", &mut hits);
    assert!(hits.is_empty());
}

/// Random and mutated packets never panic and every packet is accounted for.
#[test]
fn property_random_and_mutated_packets_are_conserved() {
    let acts = [
        action("trigger", r#""delay_ns":1000000,"probability":0.7"#),
        action(
            "delay",
            r#""time_ns":2000000,"jitter_ns":3000000,"distribution":"paretonormal","correlation":0.3,"reorder":true"#,
        ),
        action("loss", r#""rate":0.05"#),
        action("duplicate", r#""rate":0.05"#),
        action("corrupt", r#""rate":0.05"#),
        action("reorder", r#""rate":0.1,"gap":2"#),
        action("police", r#""rate_bps":50000000,"burst_bytes":30000"#),
        action(
            "rate",
            r#""rate_bps":80000000,"queue_bytes":200000,"queue_packets":null,"aqm":"codel""#,
        ),
        action("drop-after", r#""bytes":null,"packets":500,"time_ns":null"#),
        action(
            "reset",
            r#""after_bytes":300000,"to":"both","replace_reply":false"#,
        ),
        action(
            "penalty",
            r#""scope":["server_port"],"duration_ns":5000000,"probability":0.5,"block":"both","include_trigger":false"#,
        ),
    ];
    let classes = [
        class(
            "web",
            &[matcher(&[
                ("sni", r#"["*.a.lab","*b*"]"#),
                ("reassembly", r#""segments""#),
                ("inspect_packets", "3"),
            ])],
        ),
        class(
            "udp",
            &[matcher(&[
                ("proto", r#"["udp"]"#),
                ("initiator", r#""any""#),
            ])],
        ),
    ];
    let policies = [
        policy("all", r#"["web","udp"]"#, &acts),
        policy("bh", r#"["udp"]"#, &[action("blackhole", "")]),
    ];
    let link = obj(
        LINK,
        &[
            ("rate_bps", "100000000"),
            ("delay_ns", "1000000"),
            ("jitter_ns", "500000"),
            ("loss", "0.01"),
            ("queue_packets", "500"),
        ],
    );
    let json = scenario_json(&classes, &policies, &link, LINK);
    let s = Scenario::parse_json(&json).unwrap();
    let mut p = Pipeline::new(
        &s,
        Options {
            max_flows: 5000,
            max_in_flight: 20_000,
            ..Options::default()
        },
        &Default::default(),
    )
    .unwrap();
    p.set_active(&["all".into()]).unwrap();

    let mut rng = Rng::new(99);
    let mut seeds: Vec<Vec<u8>> = Vec::new();
    for name in ["x.a.lab", "bbb.org", "c.org"] {
        seeds.push(tls::build_client_hello(name, &["h2"], rng.chance(0.5), 0));
    }
    let total: u64 = if cfg!(debug_assertions) {
        300_000
    } else {
        1_000_000
    };
    let mut t = 0u64;
    let mut out = Vec::new();
    let mut emitted = 0u64;
    for i in 0..total {
        t += rng.below(20_000);
        let dir = if rng.chance(0.5) { Dir::Up } else { Dir::Down };
        let cport = 1000 + rng.below(300) as u16;
        let (c, s) = (
            (c4().0, cport),
            (IpAddr::from([198, 19, 0, 1 + rng.below(3) as u8]), 443),
        );
        let (src, dst) = if dir == Dir::Up { (c, s) } else { (s, c) };
        let mut b = Vec::new();
        match rng.below(4) {
            0 => build_tcp(&mut b, src, dst, rng.next_u64() as u32, 0, SYN, 100, &[]),
            1 => {
                let payload = &seeds[rng.below(3) as usize];
                build_tcp(
                    &mut b,
                    src,
                    dst,
                    rng.next_u64() as u32,
                    1,
                    ACK | PSH,
                    100,
                    payload,
                )
            }
            2 => build_udp(&mut b, src, dst, &vec![7u8; rng.below(1400) as usize]),
            _ => {
                b = (0..rng.below(120)).map(|_| rng.next_u64() as u8).collect();
                if !b.is_empty() {
                    b[0] = if rng.chance(0.5) { 0x45 } else { 0x60 };
                }
            }
        }
        // Mutate a few bytes of half the packets, and truncate some.
        if rng.chance(0.5) && !b.is_empty() {
            for _ in 0..1 + rng.below(3) {
                let k = rng.below(b.len() as u64) as usize;
                b[k] ^= 1 << rng.below(8);
            }
        }
        if rng.chance(0.05) {
            b.truncate(rng.below(b.len() as u64 + 1) as usize);
        }
        if i == total / 2 {
            p.set_active(&["all".into(), "bh".into()]).unwrap();
        }
        p.ingress(&b, dir, t, i as u32, &mut out);
        for k in out.drain(..) {
            emitted += 1;
            assert!(k.len() >= 20 && k.buf.len() >= HEADROOM);
            p.recycle(k);
        }
    }
    while let Some(w) = p.next_wakeup() {
        p.advance(w, &mut out);
        emitted += out.len() as u64;
        for k in out.drain(..) {
            p.recycle(k);
        }
    }
    let s = p.stats.totals;
    assert_eq!(s.entered, total);
    assert_eq!(s.in_flight, 0);
    assert_eq!(s.emitted, emitted);
    assert_eq!(s.entered + s.duplicated + s.injected, s.emitted + s.dropped);
    let json = p.counters_json();
    assert!(Value::parse(&json).is_ok(), "{json}");
}

/// A default-deny policy with an SNI allowlist (Russia's 2025 mobile whitelists): the
/// handshake of every flow passes while its exemption is undecided; the allowlisted
/// name's ClientHello exempts its flow, another name's ClientHello is dropped, and so
/// is everything after it. Decided at once, an IP allowlist needs no such window.
#[test]
fn allowlist_by_sni_lets_the_handshake_through_until_the_client_hello() {
    let allow = class("allow", &[matcher(&[("sni", r#"["vk.com"]"#)])]);
    let deny = r#"{"name":"deny","classes":[],"except_classes":["allow"],"proto":null,"direction":"both","idle_timeout_ns":null,"actions":[{"type":"blackhole","direction":"both"}]}"#;
    let mut p = pipeline(&[allow], &[deny.to_string()]);
    let (c, s) = (c4(), s4());
    let flow = |port: u16, name: &str, t0: u64| {
        let hello = tls::build_client_hello(name, &["h2"], false, 0);
        let mut v = Vec::new();
        let mut pk = |t: u64, dir: Dir, f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = Vec::new();
            f(&mut b);
            v.push((t0 + t, dir, b));
        };
        let cp = (c.0, port);
        pk(0, Dir::Up, &|b| build_tcp(b, cp, s, 100, 0, SYN, 1000, &[]));
        pk(1, Dir::Down, &|b| {
            build_tcp(b, s, cp, 900, 101, SYN | ACK, 1000, &[])
        });
        pk(2, Dir::Up, &|b| {
            build_tcp(b, cp, s, 101, 901, ACK, 1000, &[])
        });
        pk(3, Dir::Up, &|b| {
            build_tcp(b, cp, s, 101, 901, ACK | PSH, 1000, &hello)
        });
        pk(4, Dir::Down, &|b| {
            build_tcp(b, s, cp, 901, 500, ACK | PSH, 1000, &[1; 800])
        });
        pk(5, Dir::Up, &|b| {
            build_tcp(b, cp, s, 500, 1701, ACK, 1000, &[2; 10])
        });
        v
    };
    let mut pkts = flow(1000, "vk.com", 0);
    pkts.extend(flow(1001, "blocked.example", MS));
    let got = run(&mut p, pkts);
    // vk.com: all six pass. Other: SYN, SYN-ACK, ACK pass; the ClientHello and later drop.
    assert_eq!(tags(&got), vec![0, 1, 2, 3, 4, 5, 6, 7, 8]);

    // An IP allowlist is decided on the first packet: the other server's SYN is dropped.
    let by_ip = class("allow", &[matcher(&[("cidr", r#"["198.19.0.9/32"]"#)])]);
    let mut p = pipeline(&[by_ip], &[deny.to_string()]);
    let got = run(&mut p, flow(1002, "vk.com", 0));
    assert!(tags(&got).is_empty());
}

/// A DPI box reads the handshake whenever it happens: a flow whose ClientHello went by
/// while no policy was active is classified then, and a policy switched on later applies
/// to its later packets (a long-lived connection opened in a baseline phase is throttled).
#[test]
fn a_flow_classified_before_its_policy_is_switched_on_is_shaped_once_it_is() {
    let classes = [class("b", &[matcher(&[("sni", r#"["*.messenger.lab"]"#)])])];
    let delay = action(
        "delay",
        r#""time_ns":200000000,"jitter_ns":0,"distribution":"uniform","correlation":0,"reorder":false"#,
    );
    let pol = [policy("p", r#"["b"]"#, &[delay])];
    let data = |port: u16, t: u64| {
        let mut b = Vec::new();
        build_tcp(
            &mut b,
            (c4().0, port),
            s4(),
            5000,
            1,
            ACK | PSH,
            1000,
            b"data",
        );
        (t, Dir::Up, b)
    };
    let mut pkts = hello_flow(
        &tls::build_client_hello("chat.messenger.lab", &[], false, 0),
        None,
    );
    pkts.push(data(40000, 5 * MS)); // tag 2: before the switch, unshaped
    pkts.push(data(40000, 20 * MS)); // tag 3: after it, delayed 200 ms
    let mut p = pipeline(&classes, &pol);
    let got = run_timeline(&mut p, pkts, &[(0, vec![]), (10 * MS, vec!["p".into()])]);
    assert_eq!(
        tag_times(&got),
        vec![(0, 0), (1, MS), (2, 5 * MS), (3, 220 * MS)]
    );
    assert_eq!(p.stats.classes[0].flows, 1);
}

/// The same for a QUIC flow: its Initial, read while nothing was active, decides.
#[test]
fn a_quic_flow_classified_before_its_policy_is_switched_on_is_blocked_once_it_is() {
    use crate::wire::quic_initial::{crypto_frame, seal_client_initial};
    let classes = [class(
        "q",
        &[matcher(&[
            ("sni", r#"["video.blocked.lab"]"#),
            ("quic", r#"{"version":1,"min_size_bytes":null}"#),
        ])],
    )];
    let pol = [policy("p", r#"["q"]"#, &[action("blackhole", "")])];
    let initial = |name: &str| {
        let hello = tls::build_client_hello(name, &["h3"], false, 0);
        seal_client_initial(1, &[4; 8], 0, &crypto_frame(0, &hello[5..]), 1200)
    };
    let pkts = vec![
        (0, Dir::Up, udp_from(50000, &initial("video.blocked.lab"))),
        (0, Dir::Up, udp_from(50001, &initial("other.lab"))),
        (5 * MS, Dir::Up, udp_from(50000, &[0x40; 100])),
        (20 * MS, Dir::Up, udp_from(50000, &[0x40; 100])), // blocked from the switch on
        (20 * MS, Dir::Up, udp_from(50001, &[0x40; 100])), // another name: passes
    ];
    let mut p = pipeline(&classes, &pol);
    let got = run_timeline(&mut p, pkts, &[(0, vec![]), (10 * MS, vec!["p".into()])]);
    assert_eq!(tags(&got), vec![0, 1, 2, 4]);
}
