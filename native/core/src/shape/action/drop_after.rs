//! Per flow: pass the first `bytes` of IP payload, the first `packets`, or the packets
//! within `time_ns` of the flow's first packet — whichever limit is reached first — and
//! drop everything after, for good (the 2025 "16 KB freeze"). A packet that would cross
//! the byte limit is the first one dropped, so exactly `bytes` or fewer pass.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config {
    bytes: Option<u64>,
    packets: Option<u64>,
    time_ns: Option<u64>,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        bytes: f.opt_u64("bytes")?,
        packets: f.opt_u64("packets")?,
        time_ns: f.opt_u64("time_ns")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "drop-after"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(DropAfter {
            c: self.clone(),
            flows: PerFlow::default(),
        }))
    }
}

#[derive(Default)]
struct Count {
    bytes: u64,
    packets: u64,
    cut: bool,
}

struct DropAfter {
    c: Config,
    flows: PerFlow<Count>,
}

impl Action for DropAfter {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let since = cx.now.saturating_sub(cx.flow.created);
        let n = self.flows.get(cx.flow.id, Count::default);
        let bytes = n.bytes + pkt.parsed.ip_payload_len() as u64;
        let over = n.cut
            || self.c.bytes.is_some_and(|l| bytes > l)
            || self.c.packets.is_some_and(|l| n.packets + 1 > l)
            || self.c.time_ns.is_some_and(|l| since >= l);
        if over {
            n.cut = true;
            return Verdict::Drop(Reason::DropAfter);
        }
        n.bytes = bytes;
        n.packets += 1;
        Verdict::Pass
    }

    fn forget(&mut self, flow_id: u64) {
        self.flows.forget(flow_id);
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;
    use crate::wire::packet::parse;

    fn drop_after(bytes: &str, packets: &str, time_ns: &str) -> crate::shape::Pipeline {
        with_actions(&[action(
            "drop-after",
            &format!(r#""bytes":{bytes},"packets":{packets},"time_ns":{time_ns}"#),
        )])
    }

    #[test]
    fn passes_16kb_of_payload_and_nothing_after() {
        let mut p = drop_after("16000", "null", "null");
        // IP payload 1000 bytes each, downlink; then a small uplink one after the cut,
        // which would fit but the flow is cut for good.
        let mut pkts: Vec<_> = (0..40u64)
            .map(|i| (i * MS, Dir::Down, udp_down(1020)))
            .collect();
        pkts.push((100 * MS, Dir::Up, udp(40)));
        let got = run(&mut p, pkts);
        let payload: usize = got
            .iter()
            .map(|g| parse(&g.3).unwrap().ip_payload_len())
            .sum();
        assert_eq!(payload, 16_000);
        assert_eq!(tags(&got), (0..16).collect::<Vec<u32>>());
        assert_eq!(p.stats.drops[Reason::DropAfter.index()], 25);
    }

    #[test]
    fn a_packet_crossing_the_byte_limit_is_the_first_dropped() {
        // 600 + 600 fit in 1500, the next 600 would not: it and all after are dropped.
        let mut p = drop_after("1500", "null", "null");
        let got = run(&mut p, stream(5, MS, 620));
        assert_eq!(tag_times(&got), vec![(0, 0), (1, MS)]);
    }

    #[test]
    fn counts_packets_per_flow() {
        let mut p = drop_after("null", "3", "null");
        let a = |t| (t * MS, Dir::Up, udp_from(1000, b"a"));
        let b = |t| (t * MS, Dir::Up, udp_from(1001, b"b"));
        let got = run(&mut p, vec![a(0), a(1), b(2), a(3), a(4), b(5), b(6), b(7)]);
        assert_eq!(tags(&got), vec![0, 1, 2, 3, 5, 6]);
    }

    #[test]
    fn a_time_limit_runs_from_the_flows_first_packet() {
        let mut p = drop_after("null", "null", "10000000");
        let a = |t| (t * MS, Dir::Up, udp_from(1000, b"a"));
        let b = |t| (t * MS, Dir::Up, udp_from(1001, b"b"));
        let got = run(&mut p, vec![a(0), a(4), b(6), a(9), a(10), b(15), b(16)]);
        // a: created at 0, cut from 10 ms; b: created at 6 ms, cut from 16 ms.
        assert_eq!(
            tag_times(&got),
            vec![(0, 0), (1, 4 * MS), (2, 6 * MS), (3, 9 * MS), (5, 15 * MS)]
        );
        assert_eq!(p.stats.drops[Reason::DropAfter.index()], 2);
    }
}
