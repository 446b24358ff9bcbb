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
