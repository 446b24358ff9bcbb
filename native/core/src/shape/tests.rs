//! End-to-end tests of the shaping path in virtual time, with exact expectations.

use super::compiled::Scenario;
use super::packet::{Dir, Pkt, HEADROOM};
use super::pipeline::{Options, Pipeline};
use super::sim::{self, Source};
use crate::json::Value;
use crate::rng::Rng;
use crate::wire::packet::{build_tcp, build_udp, l4_checksum_ok, parse};
use crate::wire::tcp::{ACK, PSH, RST, SYN};
use crate::wire::{quic, stun, tls};
use std::net::IpAddr;

const MS: u64 = 1_000_000;
const S: u64 = 1_000_000_000;

/// A JSON object from defaults with some keys replaced (values are JSON text).
fn obj(defaults: &str, overrides: &[(&str, &str)]) -> String {
    let mut v = Value::parse(defaults).unwrap();
    if let Value::Object(fields) = &mut v {
        for (k, val) in overrides {
            let val = Value::parse(val).unwrap();
            match fields.iter_mut().find(|(fk, _)| fk == k) {
                Some(slot) => slot.1 = val,
                None => fields.push((k.to_string(), val)),
            }
        }
    }
    v.to_string()
}

const LINK: &str = r#"{"rate_bps":null,"trace_file":null,"delay_ns":0,"jitter_ns":0,"loss":0,
  "queue_bytes":null,"queue_packets":null,"aqm":"droptail"}"#;
const MATCHER: &str = r#"{"sni":null,"hosts":null,"cidr":null,"tcp_ports":null,"udp_ports":null,
  "proto":null,"alpn":null,"ech":null,"ja4":null,"quic":null,"stun":false,"payload":null,"inspect_packets":1,"reassembly":"none","initiator":"client"}"#;

fn matcher(o: &[(&str, &str)]) -> String {
    obj(MATCHER, o)
}

fn class(name: &str, matchers: &[String]) -> String {
    format!(r#"{{"name":"{name}","any_of":[{}]}}"#, matchers.join(","))
}

fn policy(name: &str, classes: &str, actions: &[String]) -> String {
    format!(
        r#"{{"name":"{name}","classes":{classes},"except_classes":[],"proto":null,"direction":"both","idle_timeout_ns":null,"actions":[{}]}}"#,
        actions.join(",")
    )
}

fn action(ty: &str, fields: &str) -> String {
    let sep = if fields.is_empty() { "" } else { "," };
    format!(r#"{{"type":"{ty}","direction":"both"{sep}{fields}}}"#)
}

fn scenario_json(classes: &[String], policies: &[String], up: &str, down: &str) -> String {
    let names: Vec<String> = policies
        .iter()
        .map(|p| Value::parse(p).unwrap().get("name").unwrap().to_string())
        .collect();
    format!(
        r#"{{"format":1,"name":"t","seed":7,"duration_ns":60000000000,
        "network":{{"mtu":1500,"ipv6":true,"uplink":{up},"downlink":{down}}},
        "hosts":[{{"name":"server","names":["server.lab"],"address":"198.19.0.1","address6":"fd71:6c61:6200:2::1"}}],
        "classes":[{}],"policies":[{}],
        "timeline":[{{"at_ns":0,"phase":"main","enable":[],"disable":[],"active":[{}]}}],
        "workloads":[],"expect":[]}}"#,
        classes.join(","),
        policies.join(","),
        names.join(",")
    )
}

fn pipeline_with(json: &str, traces: &'static [(&'static str, &'static [u64])]) -> Pipeline {
    let s = Scenario::parse_json(json).unwrap();
    let read = move |p: &str| -> Result<Vec<u64>, crate::error::Error> {
        Ok(traces
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, t)| t.to_vec())
            .unwrap_or_default())
    };
    Pipeline::with_traces(&s, Options::default(), &read).unwrap()
}

fn pipeline(classes: &[String], policies: &[String]) -> Pipeline {
    pipeline_with(&scenario_json(classes, policies, LINK, LINK), &[])
}

fn c4() -> (IpAddr, u16) {
    ([198, 18, 0, 2].into(), 40000)
}
fn s4() -> (IpAddr, u16) {
    ([198, 19, 0, 1].into(), 443)
}

/// A source of explicit packets (sorted by time).
struct List(Vec<(u64, Dir, Vec<u8>)>, usize);

impl Source for List {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
        let (t, d, b) = self.0.get(self.1)?;
        buf.clear();
        buf.extend_from_slice(b);
        self.1 += 1;
        Some((*t, *d, (self.1 - 1) as u32))
    }
}

/// Every emitted packet: (tag, time, dir, bytes).
fn run(p: &mut Pipeline, pkts: Vec<(u64, Dir, Vec<u8>)>) -> Vec<(u32, u64, Dir, Vec<u8>)> {
    let mut got = Vec::new();
    sim::run(p, &mut List(pkts, 0), &[], &mut |k: &Pkt| {
        got.push((k.tag, k.stage_at, k.dir, k.ip().to_vec()))
    })
    .unwrap();
    let t = p.stats.totals;
    assert_eq!(
        t.entered + t.duplicated + t.injected,
        t.emitted + t.dropped + t.in_flight
    );
    assert_eq!(t.in_flight, 0);
    got
}

fn udp(len_ip: usize) -> Vec<u8> {
    let mut b = Vec::new();
    build_udp(&mut b, c4(), s4(), &vec![0u8; len_ip - 28]);
    b
}

#[test]
fn police_passes_exactly_what_the_bucket_allows() {
    let mut p = pipeline(
        &[],
        &[policy(
            "p",
            "[]",
            &[action("police", r#""rate_bps":128000,"burst_bytes":16000"#)],
        )],
    );
    // 10 Mbit/s of 1250-byte packets: one per millisecond, for 10 s.
    let pkts: Vec<_> = (0..10_000u64)
        .map(|i| (i * MS, Dir::Up, udp(1250)))
        .collect();
    let got = run(&mut p, pkts);
    let passed = got.len() as u64 * 1250;
    // Bucket: 16 000 bytes at the start + 16 000 bytes/s for the 9.999 s of the stream.
    let allowed = 16_000 + 16_000 * 9_999 / 1000;
    assert!(
        passed <= allowed && passed + 1250 > allowed,
        "{passed} vs {allowed}"
    );
    // The first 12 packets (15 000 bytes) pass back to back; then 16 bytes/ms refill the
    // remaining 1 000 to 1 250 at 16 ms.
    let tags: Vec<u32> = got.iter().map(|g| g.0).collect();
    assert_eq!(&tags[..13], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16]);
}

#[test]
fn delay_normal_has_its_mean_and_sd_and_keeps_order() {
    let d = action(
        "delay",
        r#""time_ns":20000000,"jitter_ns":5000000,"distribution":"normal","correlation":0,"reorder":false"#,
    );
    let mut p = pipeline(&[], &[policy("p", "[]", &[d])]);
    let n = 100_000u64;
    let pkts: Vec<_> = (0..n).map(|i| (i * 100 * MS, Dir::Up, udp(100))).collect();
    let got = run(&mut p, pkts);
    assert_eq!(got.len() as u64, n);
    assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
    let delays: Vec<f64> = got
        .iter()
        .map(|g| (g.1 - u64::from(g.0) * 100 * MS) as f64)
        .collect();
    let mean = delays.iter().sum::<f64>() / n as f64;
    let sd = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    assert!((mean / 20e6 - 1.0).abs() < 0.02, "mean {mean}");
    assert!((sd / 5e6 - 1.0).abs() < 0.02, "sd {sd}");
}

#[test]
fn gilbert_elliott_matches_its_stationary_loss() {
    let ge = action("gilbert-elliott", r#""p":0.05,"r":0.3,"h":0.1,"k":0.99"#);
    let mut p = pipeline(&[], &[policy("p", "[]", &[ge])]);
    let n = 1_000_000u64;
    let pkts: Vec<_> = (0..n).map(|i| (i * MS / 10, Dir::Up, udp(60))).collect();
    let got = run(&mut p, pkts);
    let loss = 1.0 - got.len() as f64 / n as f64;
    let (pp, r, h, k) = (0.05, 0.3, 0.1, 0.99);
    let expect = (r * (1.0 - k) + pp * (1.0 - h)) / (pp + r);
    assert!((loss / expect - 1.0).abs() < 0.02, "{loss} vs {expect}");
}

#[test]
fn drop_after_passes_16kb_of_payload_and_nothing_after() {
    let da = action(
        "drop-after",
        r#""bytes":16000,"packets":null,"time_ns":null"#,
    );
    let mut p = pipeline(&[], &[policy("p", "[]", &[da])]);
    // IP payload 1000 bytes each (UDP header + 992 data); a small one after the cut too.
    let mut pkts: Vec<_> = (0..40u64).map(|i| (i * MS, Dir::Down, udp(1020))).collect();
    for (_, d, b) in pkts.iter_mut() {
        let mut r = Vec::new();
        build_udp(&mut r, s4(), c4(), &b[28..]);
        *b = r;
        *d = Dir::Down;
    }
    pkts.push((100 * MS, Dir::Up, udp(40)));
    let got = run(&mut p, pkts);
    let payload: usize = got
        .iter()
        .map(|g| parse(&g.3).unwrap().ip_payload_len())
        .sum();
    assert_eq!(payload, 16_000);
    assert_eq!(got.len(), 16);
    assert_eq!(p.stats.drops[super::Reason::DropAfter.index()], 25);
}

#[test]
fn penalty_blocks_new_flows_on_its_scope_for_its_duration() {
    let pen = action(
        "penalty",
        r#""scope":["client_ip","server_ip","server_port"],"duration_ns":90000000000,"probability":1,"block":"both","include_trigger":false"#,
    );
    let https = class("https", &[matcher(&[("tcp_ports", "[[443,443]]")])]);
    let mut p = pipeline(&[https], &[policy("p", r#"["https"]"#, &[pen])]);
    let syn = |port: u16, t: u64| {
        let mut b = Vec::new();
        build_tcp(&mut b, (c4().0, port), s4(), 1, 0, SYN, 1000, &[]);
        (t, Dir::Up, b)
    };
    let got = run(
        &mut p,
        vec![
            syn(1000, 0),          // triggers
            syn(1000, S),          // same flow: not a later flow, passes
            syn(1001, 10 * S),     // within 90 s: dropped
            syn(1001, 11 * S),     // its later packets too
            syn(1002, 89 * S),     // still within
            syn(1003, 90 * S + 1), // after: passes
        ],
    );
    let tags: Vec<u32> = got.iter().map(|g| g.0).collect();
    assert_eq!(tags, vec![0, 1, 5]);
    assert_eq!(p.stats.drops[super::Reason::Penalty.index()], 3);
}

/// The GFW's QUIC residual block (USENIX Security 2025): a decrypted Initial with a
/// blocked SNI drops client→server UDP on (client, server, port) for 180 s — the
/// detected flow included, server→client untouched, other ports untouched.
#[test]
fn gfw_quic_residual_blocks_the_triple_upstream_for_180s() {
    use crate::wire::quic_initial::{crypto_frame, seal_client_initial};
    let class_q = class(
        "q",
        &[matcher(&[
            ("sni", r#"["www.blocked.lab"]"#),
            ("quic", r#"{"version":1,"min_size_bytes":null}"#),
        ])],
    );
    let pen = action(
        "penalty",
        r#""scope":["client_ip","server_ip","server_port"],"duration_ns":180000000000,"probability":1,"block":"up","include_trigger":true"#,
    );
    let mut p = pipeline(&[class_q], &[policy("p", r#"["q"]"#, &[pen])]);
    let hello = tls::build_client_hello("www.blocked.lab", &["h3"], false, 0);
    let initial = seal_client_initial(1, &[4; 8], 0, &crypto_frame(0, &hello[5..]), 1200);
    let dg = |from: (IpAddr, u16), to: (IpAddr, u16), payload: &[u8], t: u64, dir: Dir| {
        let mut b = Vec::new();
        build_udp(&mut b, from, to, payload);
        (t, dir, b)
    };
    let (c, s) = (c4(), (s4().0, 443));
    let c2 = (c.0, 40001);
    let got = run(
        &mut p,
        vec![
            dg(c, s, &initial, 0, Dir::Up),           // 0: detected, passes
            dg(c, s, &[0x40; 100], S, Dir::Up),       // 1: same flow, up: dropped
            dg(s, c, &[0x40; 100], S, Dir::Down),     // 2: down: passes
            dg(c2, s, &[0x40; 100], 10 * S, Dir::Up), // 3: new flow, same triple: dropped
            dg(c2, (s.0, 8443), &[0x40; 100], 10 * S, Dir::Up), // 4: other port: passes
            dg(c2, s, &[0x40; 100], 181 * S, Dir::Up), // 5: after 180 s: passes
        ],
    );
    let tags: Vec<u32> = got.iter().map(|g| g.0).collect();
    assert_eq!(tags, vec![0, 2, 4, 5]);
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

#[test]
fn rate_shaper_achieves_its_rate_exactly() {
    let r = action(
        "rate",
        r#""rate_bps":1000000,"queue_bytes":null,"queue_packets":null,"aqm":"droptail""#,
    );
    let mut p = pipeline(&[], &[policy("p", "[]", &[r])]);
    let pkts: Vec<_> = (0..100).map(|_| (0, Dir::Up, udp(1250))).collect();
    let got = run(&mut p, pkts);
    let t: Vec<u64> = got.iter().map(|g| g.1).collect();
    assert_eq!(t, (1..=100).map(|i| i * 10 * MS).collect::<Vec<_>>());
    // And as a shared link with a 20 ms delay on top.
    let up = obj(LINK, &[("rate_bps", "1000000"), ("delay_ns", "20000000")]);
    let mut p = pipeline_with(&scenario_json(&[], &[], &up, LINK), &[]);
    let got = run(&mut p, (0..10).map(|_| (0, Dir::Up, udp(1250))).collect());
    assert_eq!(got.last().unwrap().1, 120 * MS);
}

#[test]
fn reset_forges_two_valid_rsts_with_the_right_numbers() {
    let rst = action("reset", r#""after_bytes":100,"to":"both""#);
    let mut p = pipeline(&[], &[policy("p", "[]", &[rst])]);
    let (c, s) = (c4(), s4());
    let mk = |src, dst, seq, ack, flags, data: &[u8], t| {
        let mut b = Vec::new();
        build_tcp(&mut b, src, dst, seq, ack, flags, 1000, data);
        (t, if src == c { Dir::Up } else { Dir::Down }, b)
    };
    let got = run(
        &mut p,
        vec![
            mk(c, s, 1000, 0, SYN, &[], 0),
            mk(s, c, 5000, 1001, SYN | ACK, &[], MS),
            mk(c, s, 1001, 5001, ACK, &[], 2 * MS),
            mk(s, c, 5001, 1001, ACK | PSH, &[1; 10], 3 * MS), // 50 bytes so far
            mk(c, s, 1001, 5011, ACK | PSH, &[2; 300], 4 * MS), // crosses 100: reset
            mk(s, c, 5011, 1301, ACK, &[], 5 * MS),            // dead flow
        ],
    );
    let rsts: Vec<_> = got
        .iter()
        .filter(|g| g.0 == super::packet::TAG_INJECTED)
        .collect();
    assert_eq!(rsts.len(), 2);
    for (_, _, dir, b) in &rsts {
        let pp = parse(b).unwrap();
        assert!(l4_checksum_ok(b, &pp));
        assert!(crate::wire::ip::Ipv4Packet::new_checked(&b[..])
            .unwrap()
            .verify_checksum());
        let t = pp.tcp.unwrap();
        assert_eq!(t.flags, RST | ACK);
        match dir {
            // To the server, as the client: the dropped segment's seq, server's next as ack.
            Dir::Up => assert_eq!((pp.src, pp.dst, t.seq, t.ack), (c.0, s.0, 1001, 5011)),
            Dir::Down => assert_eq!((pp.src, pp.dst, t.seq, t.ack), (s.0, c.0, 5011, 1301)),
        }
    }
    assert_eq!(got.len(), 4 + 2);
    assert_eq!(p.stats.drops[super::Reason::Reset.index()], 2);
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

#[test]
fn sni_classification_of_10k_globs_is_fast() {
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
    let mut hits = Vec::new();
    let mut times = Vec::new();
    for _ in 0..2001 {
        let t0 = std::time::Instant::now();
        let h = tls::parse_client_hello(&hello).unwrap();
        hits.clear();
        set.matches(h.sni(&hello).unwrap(), &mut hits);
        times.push(t0.elapsed().as_nanos());
    }
    assert_eq!(hits, vec![16]);
    hits.clear();
    set.matches(b"xvideo19y.org", &mut hits);
    assert_eq!(hits, vec![19]);
    times.sort_unstable();
    let median = times[times.len() / 2];
    eprintln!("SNI classification median: {median} ns (10,000 globs)");
    if !cfg!(debug_assertions) {
        assert!(median <= 1_000, "{median} ns");
    }
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
        action("reset", r#""after_bytes":300000,"to":"both""#),
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
        },
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

#[test]
fn simulate_json_reports_per_flow_outcomes() {
    let sni = class("tw", &[matcher(&[("sni", r#"["*.twimg.com"]"#)])]);
    let pol = policy(
        "p",
        r#"["tw"]"#,
        &[action("police", r#""rate_bps":128000,"burst_bytes":16000"#)],
    );
    let compiled = scenario_json(&[sni], &[pol], LINK, LINK);
    let traffic = r#"{"until_ns":2000000000,"per_packet":true,"flows":[
      {"name":"tw","proto":"tcp","client":"198.18.0.2:40000","server":"198.19.0.1:443",
       "interval_ns":1000000,"size_bytes":1200,"direction":"down","count":1000,
       "first_payload":{"tls_sni":"pbs.twimg.com"}},
      {"name":"other","proto":"udp","client":"198.18.0.2:40001","server":"198.19.0.1:3478",
       "interval_ns":20000000,"size_bytes":80}]}"#;
    let out = sim::simulate_json(&compiled, traffic).unwrap();
    let v = Value::parse(&out).unwrap();
    let flows = v.get("flows").unwrap().as_array().unwrap();
    let num = |f: &Value, d: &str, k: &str| f.get(d).unwrap().get(k).unwrap().as_f64().unwrap();
    // The throttled download: 16 KB burst then 16 KB/s.
    let tw = &flows[0];
    assert!(num(tw, "down", "delivered") < 0.1 * num(tw, "down", "sent"));
    assert!(num(tw, "down", "delivered_bytes") <= 16_000.0 + 16_000.0 * 2.0);
    let other = &flows[1];
    assert_eq!(num(other, "up", "delivered"), num(other, "up", "sent"));
    assert!(num(other, "up", "sent") >= 99.0);
    assert!(v.get("packets").unwrap().as_array().unwrap().len() > 1000);
    assert!(v
        .get("counters")
        .unwrap()
        .get("classes")
        .unwrap()
        .get("tw")
        .is_some());
    // Errors name their path.
    let e = sim::simulate_json(&compiled, r#"{"flows":[{"name":"x"}]}"#).unwrap_err();
    assert!(e.message().contains("traffic.flows[0].proto"), "{e}");
}
