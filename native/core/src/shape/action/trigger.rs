//! Arms the rest of its policy per flow: only for a `probability` fraction of flows
//! (decided once, on the flow's first packet here) and only from `delay_ns` after that
//! packet. Until then, and for unlucky flows, the policy's later actions are skipped.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;

#[derive(Debug, Clone)]
struct Config {
    delay_ns: u64,
    probability: f64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        delay_ns: f.u64("delay_ns")?,
        probability: f.prob("probability")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "trigger"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Trigger {
            c: self.clone(),
            rng: Rng::for_stage(b.seed, b.stage),
            flows: PerFlow::default(),
        }))
    }
    fn per_packet(&self) -> bool {
        false
    }
}

struct Trigger {
    c: Config,
    rng: Rng,
    /// Per flow: armed from this time on, or never (None).
    flows: PerFlow<Option<u64>>,
}

impl Action for Trigger {
    fn on_packet(&mut self, _: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let (rng, c, now) = (&mut self.rng, &self.c, cx.now);
        let armed = *self.flows.get(cx.flow.id, || {
            rng.chance(c.probability).then_some(now + c.delay_ns)
        });
        match armed {
            Some(t) if now >= t => Verdict::Pass,
            _ => Verdict::SkipPolicy,
        }
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

    fn armed_blackhole(delay_ns: u64, probability: &str) -> crate::shape::Pipeline {
        with_actions(&[
            action(
                "trigger",
                &format!(r#""delay_ns":{delay_ns},"probability":{probability}"#),
            ),
            action("blackhole", ""),
        ])
    }

    #[test]
    fn arms_the_rest_of_the_policy_per_flow_from_delay_after_its_first_packet() {
        let mut p = armed_blackhole(5 * MS, "1");
        let a = |t| (t * MS, Dir::Up, udp_from(1000, b"a"));
        let b = |t| (t * MS, Dir::Up, udp_from(1001, b"b"));
        let got = run(&mut p, vec![a(0), a(2), b(4), a(4), a(5), a(6), b(8), b(9)]);
        // Flow a is armed at 5 ms, flow b (first seen at 4 ms) at 9 ms: before, the
        // blackhole after the trigger is skipped.
        assert_eq!(
            tag_times(&got),
            vec![(0, 0), (1, 2 * MS), (2, 4 * MS), (3, 4 * MS), (6, 8 * MS)]
        );
        assert_eq!(p.stats.drops[Reason::Blackhole.index()], 3);
    }

    #[test]
    fn arms_only_the_flows_its_draws_pick() {
        let mut p = armed_blackhole(0, "0.5");
        // 40 flows, two packets each; one draw per flow, on its first packet.
        let mut pkts = Vec::new();
        for f in 0..40u16 {
            pkts.push((u64::from(f) * MS, Dir::Up, udp_from(2000 + f, b"x")));
        }
        for f in 0..40u16 {
            pkts.push((100 * MS + u64::from(f), Dir::Up, udp_from(2000 + f, b"y")));
        }
        let got = run(&mut p, pkts);
        let mut rng = action_rng(0);
        let spared: Vec<u32> = (0..40u32).filter(|_| !rng.chance(0.5)).collect();
        // A flow's first packet is tagged with its number, its second with 40 more.
        let want: Vec<u32> = spared
            .iter()
            .copied()
            .chain(spared.iter().map(|f| f + 40))
            .collect();
        assert_eq!(tags(&got), want);
        assert!((10..=30).contains(&spared.len()), "{} spared", spared.len());
        // Probability 0: never armed, nothing is dropped.
        let mut p = armed_blackhole(0, "0");
        assert_eq!(run(&mut p, stream(10, MS, 100)).len(), 10);
    }
}
