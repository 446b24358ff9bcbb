//! Fixed delay plus jitter from a distribution, with correlation, keeping each flow's
//! packet order unless `reorder` is set. The jitter itself (distributions, correlation,
//! clamping at zero) is jitter.rs, shared with the links.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::jitter::{Distribution, Jitter};
use crate::shape::Pkt;

#[derive(Debug, Clone)]
struct Config {
    time_ns: u64,
    jitter_ns: u64,
    distribution: Distribution,
    correlation: f64,
    reorder: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    use Distribution::*;
    Ok(Box::new(Config {
        time_ns: f.u64("time_ns")?,
        jitter_ns: f.u64("jitter_ns")?,
        distribution: [Uniform, Normal, Pareto, ParetoNormal][f.one_of(
            "distribution",
            &["uniform", "normal", "pareto", "paretonormal"],
        )?],
        correlation: f.prob("correlation")?,
        reorder: f.bool("reorder")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "delay"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Delay {
            c: self.clone(),
            jitter: Jitter::new(
                self.distribution,
                self.correlation,
                Rng::for_stage(b.seed, b.stage),
            ),
            last: PerFlow::default(),
        }))
    }
}

struct Delay {
    c: Config,
    jitter: Jitter,
    /// Per flow, per direction: the last departure, to keep order.
    last: PerFlow<[u64; 2]>,
}

impl Action for Delay {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let mut t = self.jitter.depart(cx.now, self.c.time_ns, self.c.jitter_ns);
        if !self.c.reorder {
            let last = &mut self.last.get(cx.flow.id, || [0; 2])[pkt.dir.index()];
            t = t.max(*last);
            *last = t;
        }
        Verdict::Hold(t)
    }

    fn forget(&mut self, flow_id: u64) {
        self.last.forget(flow_id);
    }
}
