//! Gilbert–Elliott two-state loss, as netem `loss gemodel p r 1-h 1-k`: in the good state
//! a packet is lost with 1-k, in the bad state with 1-h; after each packet the state
//! moves good→bad with p and bad→good with r. One channel per action (the model
//! describes a link's burstiness, not a flow's), starting in the good state.
//! Stationary loss: (r(1-k) + p(1-h)) / (p + r).

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config {
    p: f64,
    r: f64,
    h: f64,
    k: f64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        p: f.prob("p")?,
        r: f.prob("r")?,
        h: f.prob("h")?,
        k: f.prob("k")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "gilbert-elliott"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Gilbert {
            c: self.clone(),
            bad: false,
            rng: Rng::for_stage(b.seed, b.stage),
        }))
    }
}

struct Gilbert {
    c: Config,
    bad: bool,
    rng: Rng,
}

impl Action for Gilbert {
    fn on_packet(&mut self, _: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        let deliver = if self.bad { self.c.h } else { self.c.k };
        let lost = !self.rng.chance(deliver);
        let flip = if self.bad { self.c.r } else { self.c.p };
        if self.rng.chance(flip) {
            self.bad = !self.bad;
        }
        if lost {
            Verdict::Drop(Reason::Loss)
        } else {
            Verdict::Pass
        }
    }
}
