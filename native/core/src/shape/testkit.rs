//! Test helpers shared by the virtual-time tests (tests.rs and each action file's
//! `mod tests`): compiled-config JSON built from defaults, packet builders, and a run
//! that records every emitted packet with its virtual time.

use super::compiled::Scenario;
use super::packet::{Dir, Pkt};
use super::pipeline::{Options, Pipeline};
use crate::config::json::Value;
use crate::drive::sim::{self, Source};
use crate::rng::Rng;
use crate::wire::packet::{build_tcp, build_udp};
use std::net::IpAddr;

pub const MS: u64 = 1_000_000;
pub const S: u64 = 1_000_000_000;
/// The seed of every scenario built here.
pub const SEED: u64 = 7;

/// The generator the action at `index` (config order, from 0) draws from: stage ids of
/// actions are 1.. (pipeline.rs), so tests can replay an action's draws exactly.
pub fn action_rng(index: u64) -> Rng {
    Rng::for_stage(SEED, index + 1)
}

/// A JSON object from defaults with some keys replaced (values are JSON text).
pub fn obj(defaults: &str, overrides: &[(&str, &str)]) -> String {
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

pub const LINK: &str = r#"{"rate_bps":null,"trace_file":null,"delay_ns":0,"jitter_ns":0,"loss":0,
  "queue_bytes":null,"queue_packets":null,"aqm":"droptail"}"#;
pub const MATCHER: &str = r#"{"sni":null,"hosts":null,"cidr":null,"tcp_ports":null,"udp_ports":null,
  "proto":null,"alpn":null,"ech":null,"ja4":null,"quic":null,"stun":false,"payload":null,"inspect_packets":1,"reassembly":"none","initiator":"client"}"#;

pub fn matcher(o: &[(&str, &str)]) -> String {
    obj(MATCHER, o)
}

pub fn class(name: &str, matchers: &[String]) -> String {
    format!(r#"{{"name":"{name}","any_of":[{}]}}"#, matchers.join(","))
}

pub fn policy(name: &str, classes: &str, actions: &[String]) -> String {
    format!(
        r#"{{"name":"{name}","classes":{classes},"except_classes":[],"proto":null,"direction":"both","idle_timeout_ns":null,"actions":[{}]}}"#,
        actions.join(",")
    )
}

/// An action applying to both directions; `fields` is the rest of its JSON object.
pub fn action(ty: &str, fields: &str) -> String {
    let sep = if fields.is_empty() { "" } else { "," };
    format!(r#"{{"type":"{ty}","direction":"both"{sep}{fields}}}"#)
}

/// A compiled scenario with every policy active from 0.
pub fn scenario_json(classes: &[String], policies: &[String], up: &str, down: &str) -> String {
    let names: Vec<String> = policies
        .iter()
        .map(|p| Value::parse(p).unwrap().get("name").unwrap().to_string())
        .collect();
    format!(
        r#"{{"format":1,"name":"t","seed":{SEED},"duration_ns":60000000000,
        "network":{{"mtu":1500,"ipv6":true,"tcp_congestion":null,"uplink":{up},"downlink":{down}}},
        "hosts":[{{"name":"server","names":["server.lab"],"address":"198.19.0.1","address6":"fd71:6c61:6200:2::1"}}],
        "classes":[{}],"policies":[{}],
        "timeline":[{{"at_ns":0,"phase":"main","enable":[],"disable":[],"active":[{}],"dns_active":[]}}],
        "workloads":[],"expect":[],"dns":{{}}}}"#,
        classes.join(","),
        policies.join(","),
        names.join(",")
    )
}

pub fn pipeline_with(json: &str, traces: &'static [(&'static str, &'static [u64])]) -> Pipeline {
    let s = Scenario::parse_json(json).unwrap();
    let read = move |p: &str| -> Result<crate::shape::trace::Trace, crate::error::Error> {
        crate::shape::trace::Trace::new(
            traces
                .iter()
                .find(|(n, _)| *n == p)
                .map(|(_, t)| *t)
                .unwrap_or_default(),
        )
    };
    Pipeline::with_traces(&s, Options::default(), &read).unwrap()
}

pub fn pipeline(classes: &[String], policies: &[String]) -> Pipeline {
    pipeline_with(&scenario_json(classes, policies, LINK, LINK), &[])
}

/// A pipeline whose only policy (all flows, active) has these actions.
pub fn with_actions(actions: &[String]) -> Pipeline {
    pipeline(&[], &[policy("p", "[]", actions)])
}

pub fn c4() -> (IpAddr, u16) {
    ([198, 18, 0, 2].into(), 40000)
}
pub fn s4() -> (IpAddr, u16) {
    ([198, 19, 0, 1].into(), 443)
}

/// A source of explicit packets (sorted by time); a packet's tag is its index.
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

/// Every emitted packet: (tag, time, dir, bytes), in emission order.
pub type Emitted = Vec<(u32, u64, Dir, Vec<u8>)>;

pub fn run(p: &mut Pipeline, pkts: Vec<(u64, Dir, Vec<u8>)>) -> Emitted {
    run_timeline(p, pkts, &[])
}

/// As `run`, switching the active policies at the given times.
pub fn run_timeline(
    p: &mut Pipeline,
    pkts: Vec<(u64, Dir, Vec<u8>)>,
    timeline: &[(u64, Vec<String>)],
) -> Emitted {
    let mut got = Vec::new();
    sim::run(p, &mut List(pkts, 0), timeline, &mut |k: &Pkt| {
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

/// The tags of what came out, in order.
pub fn tags(got: &Emitted) -> Vec<u32> {
    got.iter().map(|g| g.0).collect()
}

/// (tag, time) of what came out, in order.
pub fn tag_times(got: &Emitted) -> Vec<(u32, u64)> {
    got.iter().map(|g| (g.0, g.1)).collect()
}

/// A client → server UDP packet of this IP length (>= 28).
pub fn udp(len_ip: usize) -> Vec<u8> {
    let mut b = Vec::new();
    build_udp(&mut b, c4(), s4(), &vec![0u8; len_ip - 28]);
    b
}

/// A server → client UDP packet of this IP length (>= 28), on the same flow as `udp`.
pub fn udp_down(len_ip: usize) -> Vec<u8> {
    let mut b = Vec::new();
    build_udp(&mut b, s4(), c4(), &vec![0u8; len_ip - 28]);
    b
}

/// A UDP packet from client port `port` (one flow per port) carrying `payload`.
pub fn udp_from(port: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    build_udp(&mut b, (c4().0, port), s4(), payload);
    b
}

/// A TCP segment from client port `port` to the server's 443.
pub fn tcp_from(port: u16, seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    build_tcp(&mut b, (c4().0, port), s4(), seq, 0, flags, 1000, payload);
    b
}

/// A TCP segment at time `t` from `src` to `dst`, travelling up if it comes from the
/// client `c4()`'s address and down otherwise.
pub fn segment(
    t: u64,
    (src, dst): ((IpAddr, u16), (IpAddr, u16)),
    seq: u32,
    ack: u32,
    flags: u8,
    data: &[u8],
) -> (u64, Dir, Vec<u8>) {
    let mut b = Vec::new();
    build_tcp(&mut b, src, dst, seq, ack, flags, 1000, data);
    let dir = if src.0 == c4().0 { Dir::Up } else { Dir::Down };
    (t, dir, b)
}

/// `n` uplink packets of one flow, `gap` apart from 0, each `len_ip` bytes.
pub fn stream(n: u64, gap: u64, len_ip: usize) -> Vec<(u64, Dir, Vec<u8>)> {
    (0..n).map(|i| (i * gap, Dir::Up, udp(len_ip))).collect()
}
