//! Independent random loss.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config {
    rate: f64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        rate: f.prob("rate")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "loss"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Loss {
            rate: self.rate,
            rng: Rng::for_stage(b.seed, b.stage),
        }))
    }
}

struct Loss {
    rate: f64,
    rng: Rng,
}

impl Action for Loss {
    fn on_packet(&mut self, _: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        if self.rng.chance(self.rate) {
            Verdict::Drop(Reason::Loss)
        } else {
            Verdict::Pass
        }
    }
}
