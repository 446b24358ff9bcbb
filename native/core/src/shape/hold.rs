//! Packets held while a flow's exemption is undecided (`undecided: { hold }` of a policy
//! with `except`): the DPI box queues a flow's payload packets until the ClientHello (or
//! the inspection window) decides, then releases them into the policy — passed if the
//! flow is exempt, shaped or dropped by the policy's actions if not. A flow still
//! undecided when its hold runs out is decided "not exempt" for good (`expired`), as a
//! box that gives up waiting applies its default.
//!
//! Only scenarios with a hold policy create any of this state; the pipeline asks nothing
//! here otherwise.

use super::hash::{self, FxMap};
use super::packet::Pkt;
use std::collections::BTreeSet;

struct HeldFlow {
    /// When the hold runs out (set by the flow's first held packet).
    deadline: u64,
    pkts: Vec<Pkt>,
}

#[derive(Default)]
pub struct Held {
    flows: FxMap<u64, HeldFlow>,
    /// (deadline, flow id) of every flow holding packets.
    deadlines: BTreeSet<(u64, u64)>,
    /// Flows whose hold ran out while undecided: not exempt from the hold policies.
    expired: FxMap<u64, ()>,
}

impl Held {
    pub fn new() -> Held {
        Held {
            flows: hash::map(),
            deadlines: BTreeSet::new(),
            expired: hash::map(),
        }
    }

    /// Whether the flow has packets waiting.
    pub fn has(&self, flow_id: u64) -> bool {
        !self.flows.is_empty() && self.flows.contains_key(&flow_id)
    }

    /// Queue a packet of the flow; its first one starts the hold of `hold_ns`.
    pub fn push(&mut self, flow_id: u64, pkt: Pkt, now: u64, hold_ns: u64) {
        let f = self.flows.entry(flow_id).or_insert_with(|| HeldFlow {
            deadline: now.saturating_add(hold_ns),
            pkts: Vec::new(),
        });
        if f.pkts.is_empty() {
            self.deadlines.insert((f.deadline, flow_id));
        }
        f.pkts.push(pkt);
    }

    /// The flow's held packets, in arrival order (the verdict came).
    pub fn take(&mut self, flow_id: u64) -> Vec<Pkt> {
        match self.flows.remove(&flow_id) {
            Some(f) => {
                self.deadlines.remove(&(f.deadline, flow_id));
                f.pkts
            }
            None => Vec::new(),
        }
    }

    /// The earliest deadline of a flow holding packets.
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.first().map(|&(t, _)| t)
    }

    /// The flow whose hold runs out first, if that is at or before `now`: its id, the
    /// deadline and its packets.
    pub fn due(&mut self, now: u64) -> Option<(u64, u64, Vec<Pkt>)> {
        let &(t, id) = self.deadlines.first().filter(|&&(t, _)| t <= now)?;
        Some((id, t, self.take(id)))
    }

    /// The flow's hold ran out while it was still undecided: decided not exempt.
    pub fn set_expired(&mut self, flow_id: u64) {
        self.expired.insert(flow_id, ());
    }

    /// The flow's hold ran out while it was undecided.
    pub fn expired(&self, flow_id: u64) -> bool {
        !self.expired.is_empty() && self.expired.contains_key(&flow_id)
    }

    /// The flow is gone. Packets it still holds are left to their deadline (they then
    /// pass, as packets of a gone flow do).
    pub fn forget(&mut self, flow_id: u64) {
        self.expired.remove(&flow_id);
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;
    use crate::wire::quic_initial::seal_client_hello;
    use crate::wire::tcp::{ACK, PSH, SYN};
    use crate::wire::tls;

    /// A default-deny policy (`actions`) exempting class `allow`; `hold`: undecided_hold_ns.
    fn deny(hold: &str, actions: &str) -> String {
        format!(
            r#"{{"name":"deny","classes":[],"except_classes":["allow"],"undecided_hold_ns":{hold},"proto":null,"direction":"both","idle_timeout_ns":null,"actions":[{actions}]}}"#
        )
    }

    const BLACKHOLE: &str = r#"{"type":"blackhole","direction":"both"}"#;
    const DELAY_50MS: &str = r#"{"type":"delay","direction":"both","time_ns":50000000,"jitter_ns":0,"distribution":"uniform","correlation":0,"reorder":false}"#;

    /// QUIC allowlist by SNI, the ClientHello read across Initials (`reassembly: segments`).
    fn quic_allow() -> String {
        class(
            "allow",
            &[matcher(&[
                ("sni", r#"["vk.com"]"#),
                ("quic", r#"{"version":null,"min_size_bytes":null}"#),
                ("reassembly", r#""segments""#),
            ])],
        )
    }

    /// Chrome-like: a ClientHello too large for one Initial, in two.
    fn two_initials(sni: &str) -> [Vec<u8>; 2] {
        let rec = tls::build_client_hello(sni, &["h3"], false, 1900);
        let two = seal_client_hello(1, &[3; 8], &rec, 1100, 1250);
        two.try_into().expect("two Initials")
    }

    /// Both Initials 10 ms apart, then a short-header packet at 30 ms.
    fn quic_flow(sni: &str) -> Vec<(u64, Dir, Vec<u8>)> {
        let [a, b] = two_initials(sni);
        vec![
            (0, Dir::Up, udp_from(50000, &a)),
            (10 * MS, Dir::Up, udp_from(50000, &b)),
            (30 * MS, Dir::Up, udp_from(50000, &[0x40; 100])),
        ]
    }

    #[test]
    fn held_initials_are_released_together_when_the_name_is_allowed() {
        let mut p = pipeline(&[quic_allow()], &[deny("500000000", BLACKHOLE)]);
        let got = run(&mut p, quic_flow("vk.com"));
        // The first Initial waits for the second, which decides: both leave at 10 ms.
        assert_eq!(
            tag_times(&got),
            vec![(0, 10 * MS), (1, 10 * MS), (2, 30 * MS)]
        );
        // Passing instead (no hold), the first Initial leaves at once.
        let mut p = pipeline(&[quic_allow()], &[deny("null", BLACKHOLE)]);
        let got = run(&mut p, quic_flow("vk.com"));
        assert_eq!(tag_times(&got), vec![(0, 0), (1, 10 * MS), (2, 30 * MS)]);
    }

    #[test]
    fn held_initials_are_dropped_when_the_name_is_not_allowed() {
        let mut p = pipeline(&[quic_allow()], &[deny("500000000", BLACKHOLE)]);
        let got = run(&mut p, quic_flow("blocked.example"));
        assert!(got.is_empty(), "{:?}", tag_times(&got));
        assert_eq!(p.stats.drops[Reason::Blackhole.index()], 3);
        // Passing instead, the first Initial reaches the server before the verdict.
        let mut p = pipeline(&[quic_allow()], &[deny("null", BLACKHOLE)]);
        assert_eq!(tags(&run(&mut p, quic_flow("blocked.example"))), vec![0]);
    }

    #[test]
    fn held_packets_go_through_the_policy_when_the_verdict_comes() {
        // Not allowed, under a 50 ms delay: the held Initial is delayed from the verdict.
        let mut p = pipeline(&[quic_allow()], &[deny("500000000", DELAY_50MS)]);
        let got = run(&mut p, quic_flow("blocked.example"));
        assert_eq!(
            tag_times(&got),
            vec![(0, 60 * MS), (1, 60 * MS), (2, 80 * MS)]
        );
    }

    #[test]
    fn a_hold_that_runs_out_decides_not_exempt_for_good() {
        // The second Initial comes after the 200 ms hold: the first is delayed from 200 ms
        // on, and the late allowlisted ClientHello no longer exempts the flow.
        let mut p = pipeline(&[quic_allow()], &[deny("200000000", DELAY_50MS)]);
        let [a, b] = two_initials("vk.com");
        let got = run(
            &mut p,
            vec![
                (0, Dir::Up, udp_from(50000, &a)),
                (300 * MS, Dir::Up, udp_from(50000, &b)),
            ],
        );
        assert_eq!(tag_times(&got), vec![(0, 250 * MS), (1, 350 * MS)]);
    }

    #[test]
    fn a_tcp_handshake_passes_and_payload_waits_for_the_window() {
        // Window of 2 payload packets: the first waits for the second (the ClientHello).
        let allow = class(
            "allow",
            &[matcher(&[
                ("sni", r#"["vk.com"]"#),
                ("inspect_packets", "2"),
            ])],
        );
        let mut p = pipeline(&[allow], &[deny("500000000", BLACKHOLE)]);
        let hello = tls::build_client_hello("vk.com", &["h2"], false, 0);
        let pkts = vec![
            (0, Dir::Up, tcp_from(1000, 100, SYN, &[])),
            (MS, Dir::Up, tcp_from(1000, 101, ACK | PSH, b"PROXY v1\r\n")),
            (2 * MS, Dir::Up, tcp_from(1000, 101, ACK, &[])),
            (5 * MS, Dir::Up, tcp_from(1000, 111, ACK | PSH, &hello)),
        ];
        let got = run(&mut p, pkts);
        // SYN and the bare ACK pass at once; the first payload waits for the ClientHello.
        assert_eq!(
            tag_times(&got),
            vec![(0, 0), (2, 2 * MS), (1, 5 * MS), (3, 5 * MS)]
        );
    }

    /// Packet conservation at this instant, and the packets still in flight.
    fn in_flight_conserved(p: &crate::shape::Pipeline) -> u64 {
        let t = p.stats.totals;
        assert_eq!(
            t.entered + t.duplicated + t.injected,
            t.emitted + t.dropped + t.in_flight,
            "{t:?}"
        );
        t.in_flight
    }

    #[test]
    fn held_packets_count_in_flight_and_a_run_out_hold_drops_them_with_a_reason() {
        // Blocked by default, 200 ms hold; the ClientHello never completes (its second
        // Initial never comes), so the hold runs out with both packets still held.
        let mut p = pipeline(&[quic_allow()], &[deny("200000000", BLACKHOLE)]);
        let [a, _] = two_initials("vk.com");
        let mut out = Vec::new();
        p.ingress(&udp_from(50000, &a), Dir::Up, 0, 0, &mut out);
        p.ingress(
            &udp_from(50000, &[0x40; 100]),
            Dir::Up,
            10 * MS,
            1,
            &mut out,
        );
        p.advance(200 * MS - 1, &mut out);
        assert!(out.is_empty());
        assert_eq!(in_flight_conserved(&p), 2);
        assert_eq!(p.stats.totals.dropped, 0);
        assert_eq!(p.next_wakeup(), Some(200 * MS));
        // The hold runs out: not exempt, so the policy's blackhole drops both, by reason.
        p.advance(200 * MS, &mut out);
        assert!(out.is_empty());
        assert_eq!(in_flight_conserved(&p), 0);
        assert_eq!(p.stats.totals.dropped, 2);
        assert_eq!(p.stats.drops[Reason::Blackhole.index()], 2);
    }

    #[test]
    fn an_inactive_policy_holds_nothing() {
        let mut p = pipeline(&[quic_allow()], &[deny("500000000", BLACKHOLE)]);
        let got = run_timeline(&mut p, quic_flow("blocked.example"), &[(0, vec![])]);
        assert_eq!(tag_times(&got), vec![(0, 0), (1, 10 * MS), (2, 30 * MS)]);
    }
}
