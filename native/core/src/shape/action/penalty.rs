//! Residual blocking: once a flow reaches this action, later flows sharing its scope
//! (any of client address, server address, server port) are dropped for `duration_ns`
//! — the GFW's 90–180 s "penalty box". Each later flow is blocked with `probability`
//! (decided once, on its first packet). The triggering flow itself is not affected.
//!
//! The block is applied by the admission hook, which sees every new flow before any
//! policy, so a penalty reaches flows of any class (and outlives its policy being
//! disabled). Each penalty action keeps its own box, draw and blocked flows.
//!
//! `block` limits the drop to one direction of the penalised flows (the GFW's QUIC
//! residual drops client→server only); `include_trigger` blocks the flow that set the
//! penalty too, from its next packet on (the QUIC residual applies to the triple, the
//! detected connection included).
//!
//! `throttle` (a `rate` or `police` action) throttles the penalised flows instead of
//! dropping them ("UDP to a suspect server is throttled", Turkey's tainted addresses):
//! their packets in the `block` directions are steered through it (`Action::steers`),
//! whatever policies apply to them. A `police` throttle keeps a bucket per penalised
//! flow; a `rate` throttle is one queue per direction shared by all of them, as an
//! endpoint's capacity would be.

use super::{Action, ActionConfig, Admit, Build, Cx, PerFlow, Verdict};
use crate::config::json::Value;
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::flow::FlowKey;
use crate::shape::hash::FxMap;
use crate::shape::spec::Direction;
use crate::shape::{Dir, Pkt, Reason};
use std::net::{IpAddr, Ipv4Addr};

const SCOPE_CLIENT_IP: u8 = 1;
const SCOPE_SERVER_IP: u8 = 2;
const SCOPE_SERVER_PORT: u8 = 4;

#[derive(Debug, Clone)]
struct Config {
    scope: u8,
    duration_ns: u64,
    probability: f64,
    block: Direction,
    include_trigger: bool,
    /// What penalised flows go through instead of being dropped.
    throttle: Option<std::sync::Arc<dyn ActionConfig>>,
}

/// The actions a penalty may throttle with.
const THROTTLES: [&str; 2] = ["rate", "police"];

fn parse_throttle(v: &Value, path: &str) -> Result<std::sync::Arc<dyn ActionConfig>, Error> {
    let spec = super::parse(v, path)?;
    let ty = spec.config.type_name();
    if !THROTTLES.contains(&ty) {
        return Err(Error::bad_config(format!(
            "{path}.type: a penalty throttles with rate or police, got {ty:?}"
        )));
    }
    Ok(std::sync::Arc::from(spec.config))
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    let path = f.at("scope");
    let mut scope = 0;
    for (i, s) in f.strings("scope")?.iter().enumerate() {
        scope |= match s.as_str() {
            "client_ip" => SCOPE_CLIENT_IP,
            "server_ip" => SCOPE_SERVER_IP,
            "server_port" => SCOPE_SERVER_PORT,
            other => {
                return Err(Error::bad_config(format!(
                    "{path}[{i}]: expected client_ip, server_ip or server_port, got {other:?}"
                )))
            }
        };
    }
    Ok(Box::new(Config {
        scope,
        duration_ns: f.u64("duration_ns")?,
        probability: f.prob("probability")?,
        block: Direction::parse(f, "block")?,
        include_trigger: f.bool("include_trigger")?,
        throttle: match f.absent_or_null("throttle")? {
            Some(v) => Some(parse_throttle(v, &f.at("throttle"))?),
            None => None,
        },
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "penalty"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Penalty {
            throttle: self.throttle.as_ref().map(|t| t.build(b)).transpose()?,
            c: self.clone(),
            set_by: PerFlow::default(),
            scopes: PenaltyBox::default(),
            rng: Rng::for_stage(b.seed, b.stage),
            blocked: PerFlow::default(),
        }))
    }
    fn per_packet(&self) -> bool {
        false
    }
}

struct Penalty {
    c: Config,
    /// Flows that reached this action (each sets its penalty once).
    set_by: PerFlow<()>,
    scopes: PenaltyBox,
    /// The probability draw for each new flow in a penalised scope.
    rng: Rng,
    /// Flows found in a penalised scope: dropped (or throttled) until this time.
    blocked: PerFlow<u64>,
    throttle: Option<Box<dyn Action>>,
}

impl Penalty {
    /// The flow is penalised at `now` in direction `dir`.
    fn penalised(&self, flow_id: u64, dir: Dir, now: u64) -> bool {
        self.c.block.admits(dir) && self.blocked.peek(flow_id).is_some_and(|&u| u > now)
    }
}

impl Action for Penalty {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        if self.throttle.is_some() && self.penalised(cx.flow.id, cx.dir, cx.now) {
            if let Some(t) = self.throttle.as_mut() {
                return t.on_packet(pkt, cx);
            }
        }
        if cx.steered {
            // A penalty that ran out since: only the flows of its policy set penalties.
            if self.blocked.peek(cx.flow.id).is_some_and(|&u| u <= cx.now) {
                self.blocked.forget(cx.flow.id);
            }
            return Verdict::Pass;
        }
        let mut first = false;
        self.set_by.get(cx.flow.id, || first = true);
        if first {
            let e = Entry {
                until: cx.now + self.c.duration_ns,
                probability: self.c.probability,
            };
            self.scopes.set(self.c.scope, &cx.flow.key, e);
            if self.c.include_trigger {
                self.blocked.set(cx.flow.id, e.until);
            }
        }
        Verdict::Pass
    }

    fn gates_flows(&self) -> bool {
        true
    }

    fn admit(&mut self, a: &Admit<'_>) -> Option<Reason> {
        if a.new {
            // Only new flows are checked, so the flow that set a penalty (already
            // admitted) is never blocked by it.
            if let Some(e) = self.scopes.check(&a.flow.key, a.now) {
                if self.rng.chance(e.probability) {
                    self.blocked.set(a.flow.id, e.until);
                }
            }
        }
        if self.throttle.is_none() && self.penalised(a.flow.id, a.dir, a.now) {
            return Some(Reason::Penalty);
        }
        None
    }

    fn steers(&self, flow_id: u64, dir: Dir) -> bool {
        // Until the next packet after the penalty ends (on_packet then forgets it).
        self.throttle.is_some() && self.c.block.admits(dir) && self.blocked.peek(flow_id).is_some()
    }

    fn next_wakeup(&self) -> Option<u64> {
        self.throttle.as_ref().and_then(|t| t.next_wakeup())
    }

    fn poll(&mut self, now: u64, out: &mut Vec<Pkt>) {
        if let Some(t) = self.throttle.as_mut() {
            t.poll(now, out);
        }
    }

    fn forget(&mut self, flow_id: u64) {
        self.set_by.forget(flow_id);
        self.blocked.forget(flow_id);
        if let Some(t) = self.throttle.as_mut() {
            t.forget(flow_id);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ScopeKey {
    mask: u8,
    client: IpAddr,
    server: IpAddr,
    port: u16,
}

const NONE: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl ScopeKey {
    fn of(mask: u8, k: &FlowKey) -> ScopeKey {
        ScopeKey {
            mask,
            client: if mask & SCOPE_CLIENT_IP != 0 {
                k.client
            } else {
                NONE
            },
            server: if mask & SCOPE_SERVER_IP != 0 {
                k.server
            } else {
                NONE
            },
            port: if mask & SCOPE_SERVER_PORT != 0 {
                k.server_port
            } else {
                0
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    until: u64,
    probability: f64,
}

/// The penalties in force, by scope.
#[derive(Default)]
struct PenaltyBox {
    entries: FxMap<ScopeKey, Entry>,
    masks: Vec<u8>,
}

impl PenaltyBox {
    fn set(&mut self, mask: u8, key: &FlowKey, e: Entry) {
        if !self.masks.contains(&mask) {
            self.masks.push(mask);
        }
        let cur = self.entries.entry(ScopeKey::of(mask, key)).or_insert(e);
        if e.until >= cur.until {
            *cur = e;
        }
    }

    /// The latest-ending penalty in force over this flow's scopes (expired ones are
    /// removed on the way).
    fn check(&mut self, key: &FlowKey, now: u64) -> Option<Entry> {
        if self.entries.is_empty() {
            return None;
        }
        let mut hit: Option<Entry> = None;
        for &m in &self.masks {
            let sk = ScopeKey::of(m, key);
            match self.entries.get(&sk) {
                Some(e) if e.until > now => {
                    hit = Some(hit.filter(|h| h.until >= e.until).unwrap_or(*e));
                }
                Some(_) => {
                    self.entries.remove(&sk);
                }
                None => {}
            }
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;
    use crate::wire::packet::{build_tcp, build_udp};
    use crate::wire::tcp::SYN;

    fn syn(port: u16, t: u64) -> (u64, Dir, Vec<u8>) {
        (t, Dir::Up, tcp_from(port, 1, SYN, &[]))
    }

    fn https_penalty(scope: &str, probability: &str) -> crate::shape::Pipeline {
        let pen = action(
            "penalty",
            &format!(
                r#""scope":{scope},"duration_ns":90000000000,"probability":{probability},"block":"both","include_trigger":false"#
            ),
        );
        let https = class("https", &[matcher(&[("tcp_ports", "[[443,443]]")])]);
        pipeline(&[https], &[policy("p", r#"["https"]"#, &[pen])])
    }

    #[test]
    fn blocks_new_flows_on_its_scope_for_its_duration() {
        let mut p = https_penalty(r#"["client_ip","server_ip","server_port"]"#, "1");
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
        assert_eq!(tag_times(&got), vec![(0, 0), (1, S), (5, 90 * S + 1)]);
        assert_eq!(p.stats.drops[Reason::Penalty.index()], 3);
        // Counted on the action that set the penalty.
        assert_eq!(p.stats.actions[0].drops[Reason::Penalty.index()], 3);
    }

    #[test]
    fn reaches_flows_of_any_class_and_outlives_its_policy() {
        let mut p = https_penalty(r#"["client_ip"]"#, "1");
        let udp_of = |client: [u8; 4], t| {
            let mut b = Vec::new();
            build_udp(&mut b, (client.into(), 2000), s4(), b"x");
            (t, Dir::Up, b)
        };
        let got = run_timeline(
            &mut p,
            vec![
                syn(1000, 0),                   // https: sets the penalty on its client
                udp_of([198, 18, 0, 2], S),     // no class, same client: dropped
                udp_of([198, 18, 0, 3], 2 * S), // another client: passes
                syn(1001, 10 * S),              // policy disabled since 5 s: still dropped
                syn(1002, 91 * S),              // penalty over
            ],
            &[(5 * S, vec![])],
        );
        assert_eq!(tags(&got), vec![0, 2, 4]);
        assert_eq!(p.stats.drops[Reason::Penalty.index()], 2);
    }

    #[test]
    fn blocks_the_later_flows_its_draws_pick() {
        let mut p = https_penalty(r#"["server_port"]"#, "0.5");
        let mut pkts = vec![syn(1000, 0)];
        // 40 later flows to the same port, two packets each.
        for f in 0..40u16 {
            pkts.push(syn(2000 + f, (u64::from(f) + 1) * MS));
        }
        for f in 0..40u16 {
            let mut b = Vec::new();
            build_tcp(&mut b, (c4().0, 2000 + f), s4(), 2, 0, 0, 1000, b"x");
            pkts.push((S + u64::from(f), Dir::Up, b));
        }
        let got = run(&mut p, pkts);
        // One draw per later flow, on its first packet; a blocked flow stays blocked.
        let mut rng = action_rng(0);
        let spared: Vec<u32> = (1..=40u32).filter(|_| !rng.chance(0.5)).collect();
        let want: Vec<u32> = [0]
            .into_iter()
            .chain(spared.iter().copied())
            .chain(spared.iter().map(|t| t + 40))
            .collect();
        assert_eq!(tags(&got), want);
        assert!((10..=30).contains(&spared.len()), "{} spared", spared.len());
    }

    /// The GFW's QUIC residual block (USENIX Security 2025): a decrypted Initial with a
    /// blocked SNI drops client→server UDP on (client, server, port) for 180 s — the
    /// detected flow included, server→client untouched, other ports untouched.
    #[test]
    fn gfw_quic_residual_blocks_the_triple_upstream_for_180s() {
        use crate::wire::quic_initial::{crypto_frame, seal_client_initial};
        use crate::wire::tls;
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
        let dg = |from: (std::net::IpAddr, u16), to, payload: &[u8], t: u64, dir: Dir| {
            let mut b = Vec::new();
            build_udp(&mut b, from, to, payload);
            (t, dir, b)
        };
        let (c, s) = (c4(), (s4().0, 443));
        let c2 = (c.0, 40001);
        let got = run(
            &mut p,
            vec![
                dg(c, s, &initial, 0, Dir::Up),                     // detected, passes
                dg(c, s, &[0x40; 100], S, Dir::Up),                 // same flow, up: dropped
                dg(s, c, &[0x40; 100], S, Dir::Down),               // down: passes
                dg(c2, s, &[0x40; 100], 10 * S, Dir::Up),           // same triple: dropped
                dg(c2, (s.0, 8443), &[0x40; 100], 10 * S, Dir::Up), // other port: passes
                dg(c2, s, &[0x40; 100], 181 * S, Dir::Up),          // after 180 s: passes
            ],
        );
        assert_eq!(tags(&got), vec![0, 2, 4, 5]);
        // The same name in a plain look-alike Initial (no ClientHello) sets nothing.
        let mut p2 = pipeline(
            &[class(
                "q",
                &[matcher(&[
                    ("sni", r#"["www.blocked.lab"]"#),
                    ("quic", r#"{"version":1,"min_size_bytes":null}"#),
                ])],
            )],
            &[policy(
                "p",
                r#"["q"]"#,
                &[action(
                    "penalty",
                    r#""scope":["server_ip"],"duration_ns":180000000000,"probability":1,"block":"up","include_trigger":true"#,
                )],
            )],
        );
        let plain = crate::wire::quic::build_initial(1, 1200);
        let got = run(
            &mut p2,
            vec![
                dg(c, s, &plain, 0, Dir::Up),
                dg(c, s, &[0x40; 100], S, Dir::Up),
            ],
        );
        assert_eq!(tags(&got), vec![0, 1]);
    }

    /// A penalty on the server's address that throttles with `throttle` (JSON) and
    /// blocks `block`; the trigger is any flow to port 443/tcp.
    fn throttling(throttle: &str, block: &str) -> crate::shape::Pipeline {
        let pen = action(
            "penalty",
            &format!(
                r#""scope":["server_ip"],"duration_ns":60000000000,"probability":1,"block":"{block}","include_trigger":false,"throttle":{throttle}"#
            ),
        );
        let https = class("https", &[matcher(&[("tcp_ports", "[[443,443]]")])]);
        pipeline(&[https], &[policy("p", r#"["https"]"#, &[pen])])
    }

    const POLICE_8KBIT: &str =
        r#"{"type":"police","direction":"both","rate_bps":8000,"burst_bytes":1500}"#;
    const RATE_80KBIT: &str = r#"{"type":"rate","direction":"both","rate_bps":80000,"queue_bytes":null,"queue_packets":null,"aqm":"droptail"}"#;

    /// A UDP datagram of 1000 IP bytes between the client port and the server.
    fn dg(port: u16, t: u64, dir: Dir) -> (u64, Dir, Vec<u8>) {
        let mut b = Vec::new();
        let (c, s) = ((c4().0, port), (s4().0, 5000));
        match dir {
            Dir::Up => build_udp(&mut b, c, s, &[0; 972]),
            Dir::Down => build_udp(&mut b, s, c, &[0; 972]),
        }
        (t, dir, b)
    }

    #[test]
    fn a_police_throttle_polices_each_later_flow_to_the_endpoint() {
        let mut p = throttling(POLICE_8KBIT, "both");
        let got = run(
            &mut p,
            vec![
                syn(1000, 0),               // triggers the penalty on the server address
                dg(2000, S, Dir::Up),       // later flow, any class: the bucket's 1500 B
                dg(2000, S, Dir::Up),       // over the bucket: dropped
                dg(2000, 2 * S, Dir::Up),   // 1000 B refilled in 1 s: passes
                dg(2001, 2 * S, Dir::Up),   // another flow: its own bucket
                dg(2000, 2 * S, Dir::Down), // the other direction: its own bucket
                dg(2000, 61 * S, Dir::Up),  // penalty over: free again
                dg(2000, 61 * S, Dir::Up),
            ],
        );
        assert_eq!(
            tag_times(&got),
            vec![
                (0, 0),
                (1, S),
                (3, 2 * S),
                (4, 2 * S),
                (5, 2 * S),
                (6, 61 * S),
                (7, 61 * S)
            ]
        );
        assert_eq!(p.stats.drops[Reason::Police.index()], 1);
        assert_eq!(p.stats.drops[Reason::Penalty.index()], 0);
    }

    #[test]
    fn a_rate_throttle_queues_the_later_flows_together_in_the_blocked_direction() {
        let mut p = throttling(RATE_80KBIT, "up");
        let got = run(
            &mut p,
            vec![
                syn(1000, 0),
                dg(2000, 10 * S, Dir::Up),
                dg(2001, 10 * S, Dir::Up), // another flow shares the queue
                dg(2000, 10 * S, Dir::Up),
                dg(2000, 10 * S, Dir::Down), // down is not throttled
            ],
        );
        // 1000 B at 80 kbit/s: 100 ms each, one queue.
        let ms = |n: u64| 10 * S + n * MS;
        assert_eq!(
            tag_times(&got),
            vec![(0, 0), (4, ms(0)), (1, ms(100)), (2, ms(200)), (3, ms(300))]
        );
    }

    #[test]
    fn a_throttle_is_rate_or_police() {
        let bad = action(
            "penalty",
            r#""scope":["server_ip"],"duration_ns":1,"probability":1,"block":"both","include_trigger":false,"throttle":{"type":"blackhole","direction":"both"}"#,
        );
        let json = scenario_json(&[], &[policy("p", "[]", &[bad])], LINK, LINK);
        let s = crate::shape::compiled::Scenario::parse_json(&json).unwrap_err();
        assert!(
            s.message().contains("actions[0].throttle.type: a penalty throttles with rate or police, got \"blackhole\""),
            "{s}"
        );
    }
}
