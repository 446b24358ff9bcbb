//! The meter through the whole pipeline in virtual time: exact numbers for flows whose
//! every packet time is known.

use super::*;
use crate::config::json::Value;
use crate::shape::pipeline::{Options, Pipeline};
use crate::shape::testkit::*;
use crate::wire::tcp::{FIN, PSH, SYN};
use crate::wire::tls::build_client_hello;

/// Links of `delay` each way, no loss.
fn delayed(delay: u64, classes: &[String], policies: &[String]) -> Pipeline {
    let link = obj(LINK, &[("delay_ns", &delay.to_string())]);
    pipeline_with(&scenario_json(classes, policies, &link, &link), &[])
}

fn snapshot(p: &mut Pipeline, now: u64, all: bool) -> Value {
    Value::parse(&p.flows_json(now, 0, all).unwrap()).unwrap()
}

fn flows(v: &Value) -> &[Value] {
    v.get("flows").and_then(Value::as_array).unwrap()
}

fn num(v: &Value, path: &str) -> f64 {
    let mut at = v;
    for k in path.split('.') {
        at = at.get(k).unwrap_or_else(|| panic!("no {path} in {v}"));
    }
    at.as_f64().unwrap_or_else(|| panic!("{path} is {at}"))
}

fn is_null(v: &Value, path: &str) -> bool {
    let mut at = v;
    for k in path.split('.') {
        at = at.get(k).unwrap();
    }
    matches!(at, Value::Null)
}

const UP: ((std::net::IpAddr, u16), (std::net::IpAddr, u16)) = (
    (
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, 2)),
        40000,
    ),
    (
        std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 19, 0, 1)),
        443,
    ),
);
const DOWN: ((std::net::IpAddr, u16), (std::net::IpAddr, u16)) = (UP.1, UP.0);

/// A TLS 1.3 connection over a 20 ms each way path, packet by packet as the two stacks
/// would send them (each answer 1 ms after what it answers arrived).
fn tls_exchange() -> Vec<(u64, Dir, Vec<u8>)> {
    let hello = build_client_hello("chat.example", &["h2"], false, 0);
    let server_flight = [22u8, 3, 3, 0, 4, 2, 0, 0, 0];
    let finished = [20u8, 3, 3, 0, 1, 1, 23, 3, 3, 0, 3, 1, 2, 3];
    let ch = hello.len() as u32;
    let sf = server_flight.len() as u32;
    let fl = finished.len() as u32;
    vec![
        segment(0, UP, 100, 0, SYN, &[]),
        segment(21 * MS, DOWN, 500, 101, SYN | ACK, &[]),
        segment(42 * MS, UP, 101, 501, ACK, &[]),
        segment(42 * MS, UP, 101, 501, ACK | PSH, &hello),
        segment(63 * MS, DOWN, 501, 101 + ch, ACK | PSH, &server_flight),
        segment(84 * MS, UP, 101 + ch, 501 + sf, ACK | PSH, &finished),
        segment(105 * MS, DOWN, 501 + sf, 101 + ch + fl, ACK, &[]),
        segment(200 * MS, UP, 101 + ch + fl, 501 + sf, ACK | FIN, &[]),
        segment(221 * MS, DOWN, 501 + sf, 102 + ch + fl, ACK | FIN, &[]),
        segment(242 * MS, UP, 102 + ch + fl, 502 + sf, ACK, &[]),
    ]
}

#[test]
fn a_tls_connection_is_timed_on_both_sides_of_a_delay() {
    let mut p = delayed(20 * MS, &[], &[]);
    let got = run(&mut p, tls_exchange());
    assert_eq!(got.len(), 10);
    let v = snapshot(&mut p, S_AT_END, false);
    let f = &flows(&v)[0];
    // The client's connect(): SYN in at 0, SYN/ACK out toward it at 21 + 20 ms.
    assert_eq!(num(f, "tcp.handshake_ns"), (41 * MS) as f64);
    // The server's: SYN/ACK in at 21 ms, the client's ACK out toward it at 42 + 20 ms.
    assert_eq!(num(f, "tcp.accept_handshake_ns"), (41 * MS) as f64);
    // ClientHello in at 42, ServerHello out at 83, the client's Finished in at 84.
    assert_eq!(num(f, "tls.client_hello_ns"), (42 * MS) as f64);
    assert_eq!(num(f, "tls.server_hello_ns"), (83 * MS) as f64);
    assert_eq!(num(f, "tls.app_data_ns"), (84 * MS) as f64);
    // The client's ClientHello is acknowledged to it at 63 + 20: an RTT of 41 ms; its
    // Finished at 105 + 20 - 84. The server's flight: in at 63, acked at 84 + 20.
    assert_eq!(num(f, "up.rtt.n"), 2.0);
    assert_eq!(num(f, "up.rtt.min_ns"), (41 * MS) as f64);
    assert_eq!(num(f, "up.rtt.max_ns"), (41 * MS) as f64);
    assert_eq!(num(f, "down.rtt.sum_ns"), (41 * MS) as f64);
    let hello = build_client_hello("chat.example", &["h2"], false, 0);
    assert_eq!(num(f, "up.goodput_bytes"), (hello.len() + 14) as f64);
    assert_eq!(num(f, "down.goodput_bytes"), 9.0);
    assert_eq!(num(f, "up.fin_ns"), (200 * MS) as f64);
    assert_eq!(num(f, "down.fin_ns"), (221 * MS) as f64);
    assert!(is_null(f, "up.rst_ns") && is_null(f, "tcp.lab_rst_ns"));
    assert_eq!(num(f, "up.retransmits"), 0.0);
    assert_eq!(
        (num(f, "up.packets_in"), num(f, "up.packets_out")),
        (6.0, 6.0)
    );
    assert_eq!(f.get("opened_by").and_then(Value::as_str), Some("client"));
    assert_eq!(f.get("proto").and_then(Value::as_str), Some("tcp"));
    assert_eq!(num(f, "server_port"), 443.0);
    // Nothing changed since: the next snapshot is empty, unless all are asked for.
    assert!(flows(&snapshot(&mut p, S_AT_END, false)).is_empty());
    assert_eq!(flows(&snapshot(&mut p, S_AT_END, true)).len(), 1);
}

const S_AT_END: u64 = 10 * S;

#[test]
fn drops_by_reason_and_the_class_and_policy_a_flow_met() {
    let classes = [class("chat", &[matcher(&[("sni", r#"["chat.*"]"#)])])];
    // Police at 8 kbit/s with a 1500-byte bucket: the second full packet is dropped.
    let policies = [policy(
        "throttle",
        r#"["chat"]"#,
        &[action("police", r#""rate_bps":8000,"burst_bytes":1500"#)],
    )];
    let mut p = delayed(0, &classes, &policies);
    let hello = build_client_hello("chat.example", &["h2"], false, 0);
    let n = hello.len() as u32;
    let data = vec![0u8; 1400];
    run(
        &mut p,
        vec![
            segment(0, UP, 1, 0, SYN, &[]),
            segment(MS, DOWN, 9, 2, SYN | ACK, &[]),
            segment(2 * MS, UP, 2, 10, ACK | PSH, &hello),
            segment(3 * MS, UP, 2 + n, 10, ACK | PSH, &data),
            segment(4 * MS, UP, 2 + n + 1400, 10, ACK | PSH, &data),
        ],
    );
    let v = snapshot(&mut p, S, false);
    let f = &flows(&v)[0];
    assert_eq!(f.get("classes").unwrap().to_string(), r#"["chat"]"#);
    assert_eq!(f.get("policies").unwrap().to_string(), r#"["throttle"]"#);
    assert_eq!(f.get("actions").unwrap().to_string(), "[0]");
    let dropped = p.stats.drops[Reason::Police.index()];
    assert!(dropped >= 1);
    assert_eq!(num(f, "up.drops.police"), dropped as f64);
    assert_eq!(
        num(f, "up.packets_in") - num(f, "up.packets_out"),
        dropped as f64
    );
    assert_eq!(
        f.get("down").unwrap().get("drops").unwrap().to_string(),
        "{}"
    );
}

#[test]
fn a_blackholed_flow_stalls_and_its_retransmissions_are_counted() {
    let policies = [policy("cut", "[]", &[action("blackhole", "")])];
    let mut p = delayed(0, &[], &policies);
    // Handshake and a first segment acknowledged, then the policy cuts the flow: the
    // client retransmits at 0.3, 0.9 and 2.1 s and nothing comes back.
    let pkts = vec![
        segment(0, UP, 1, 0, SYN, &[]),
        segment(MS, DOWN, 9, 2, SYN | ACK, &[]),
        segment(2 * MS, UP, 2, 10, ACK | PSH, &[1; 100]),
        segment(3 * MS, DOWN, 10, 102, ACK, &[]),
        segment(100 * MS, UP, 102, 10, ACK | PSH, &[2; 100]),
        segment(300 * MS, UP, 102, 10, ACK | PSH, &[2; 100]),
        segment(900 * MS, UP, 102, 10, ACK | PSH, &[2; 100]),
        segment(2100 * MS, UP, 102, 10, ACK | PSH, &[2; 100]),
    ];
    run_timeline(&mut p, pkts, &[(0, vec![]), (50 * MS, vec!["cut".into()])]);
    let v = snapshot(&mut p, 2500 * MS, false);
    let f = &flows(&v)[0];
    assert_eq!(num(f, "up.retransmits"), 3.0);
    assert_eq!(num(f, "up.retransmit_bytes"), 300.0);
    assert_eq!(num(f, "up.drops.blackhole"), 4.0);
    // Outstanding from 100 ms on, never acknowledged: one stall, open, 2.4 s long.
    assert_eq!(num(f, "up.stalls"), 1.0);
    assert_eq!(
        f.get("up").unwrap().get("stalled"),
        Some(&Value::Bool(true))
    );
    assert_eq!(num(f, "up.stalled_ns"), (2400 * MS) as f64);
    assert_eq!(num(f, "down.stalls"), 0.0);
    // The delivered bytes: the first segment only.
    assert_eq!(num(f, "up.goodput_bytes"), 100.0);
}

#[test]
fn rsts_say_who_sent_them() {
    let reset = [policy(
        "rst",
        "[]",
        &[action(
            "reset",
            r#""after_bytes":null,"to":"both","replace_reply":false"#,
        )],
    )];
    let mut p = delayed(0, &[], &reset);
    run_timeline(
        &mut p,
        vec![
            segment(0, UP, 1, 0, SYN, &[]),
            segment(MS, DOWN, 9, 2, SYN | ACK, &[]),
            segment(2 * MS, UP, 2, 10, ACK | PSH, &[1; 10]),
        ],
        &[(0, vec![]), (2 * MS, vec!["rst".into()])],
    );
    let v = snapshot(&mut p, S, false);
    let f = &flows(&v)[0];
    assert_eq!(num(f, "tcp.lab_rst_ns"), (2 * MS) as f64);
    assert!(is_null(f, "up.rst_ns") && is_null(f, "down.rst_ns"));
    // And one a client sent.
    let mut q = delayed(0, &[], &[]);
    run(
        &mut q,
        vec![
            segment(0, UP, 1, 0, SYN, &[]),
            segment(5 * MS, UP, 2, 0, RST, &[]),
        ],
    );
    let v = snapshot(&mut q, S, false);
    assert_eq!(num(&flows(&v)[0], "up.rst_ns"), (5 * MS) as f64);
}

fn rtp(seq: u16, ts: u32) -> Vec<u8> {
    let mut b = vec![0x80, 111];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&ts.to_be_bytes());
    b.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    b.extend_from_slice(&[0; 80]);
    b
}

#[test]
fn rtp_loss_from_the_flow_equals_the_labs_drops_and_a_steady_stream_has_no_jitter() {
    // 10 % random loss on the uplink (seeded), 20 ms delay; 500 Opus frames every 20 ms.
    let up = obj(LINK, &[("delay_ns", "20000000"), ("loss", "0.1")]);
    let mut p = pipeline_with(&scenario_json(&[], &[], &up, LINK), &[]);
    let pkts = (0..500u32)
        .map(|i| {
            (
                u64::from(i) * 20 * MS,
                Dir::Up,
                udp_from(5004, &rtp(i as u16, i * 960)),
            )
        })
        .collect();
    let got = run(&mut p, pkts);
    let lost_in_lab = 500 - got.len() as u64;
    // RFC 3550 counts from the first packet received to the highest: losses before and
    // after those are not in its count.
    let first = u64::from(got.iter().map(|g| g.0).min().unwrap());
    let trailing = u64::from(499 - got.iter().map(|g| g.0).max().unwrap());
    let v = snapshot(&mut p, 20 * S, false);
    let f = &flows(&v)[0];
    let s = &f
        .get("up")
        .unwrap()
        .get("rtp")
        .and_then(Value::as_array)
        .unwrap()[0];
    assert_eq!(num(s, "ssrc"), f64::from(0x1234_5678u32));
    assert_eq!(num(s, "sent"), 500.0);
    assert_eq!(num(s, "received"), got.len() as f64);
    assert_eq!(num(s, "lost"), (lost_in_lab - first - trailing) as f64);
    assert!((40..=60).contains(&lost_in_lab), "{lost_in_lab}");
    assert_eq!(num(s, "clock_hz"), 48_000.0);
    assert_eq!(num(s, "jitter_ns"), 0.0);
    assert_eq!(num(f, "up.drops.loss"), lost_in_lab as f64);
    assert_eq!(num(f, "up.goodput_bytes"), (got.len() * 92) as f64);
}

#[test]
fn dns_is_never_read_as_rtp() {
    // A DNS message whose random ID happens to start with RTP's version bits.
    let mut p = delayed(0, &[], &[]);
    run(&mut p, vec![(0, Dir::Up, udp_from(53, &rtp(1, 960)))]);
    let v = snapshot(&mut p, S, false);
    assert!(flows(&v)[0].get("up").unwrap().get("rtp").is_none());
}

#[test]
fn a_flow_that_ended_leaves_its_final_record_once() {
    let mut p = delayed(0, &[], &[]);
    run(&mut p, vec![(0, Dir::Up, udp(100))]);
    assert_eq!(flows(&snapshot(&mut p, S, false)).len(), 1);
    // Past UDP's idle timeout a packet of another flow sweeps it out of the table.
    run(&mut p, vec![(70 * S, Dir::Up, udp_from(5, b"x"))]);
    let v = snapshot(&mut p, 70 * S, false);
    let ended: Vec<_> = flows(&v)
        .iter()
        .filter(|f| f.get("live") == Some(&Value::Bool(false)))
        .collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(num(ended[0], "client_port"), 40000.0);
    assert!(flows(&snapshot(&mut p, 71 * S, false)).is_empty());
}

#[test]
fn metering_can_be_switched_off() {
    let s =
        crate::shape::compiled::Scenario::parse_json(&scenario_json(&[], &[], LINK, LINK)).unwrap();
    let opts = Options {
        flow_metrics: false,
        ..Options::default()
    };
    let mut p = Pipeline::new(&s, opts, &Default::default()).unwrap();
    run(&mut p, vec![(0, Dir::Up, udp(100))]);
    assert!(p.flows_json(0, 0, true).is_none());
}

#[test]
fn a_metered_flow_stays_within_its_budget() {
    let size = std::mem::size_of::<FlowMeter>();
    assert!(size <= METER_BYTES_BUDGET, "FlowMeter is {size} bytes");
}
