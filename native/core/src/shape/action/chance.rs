//! The shared shape of actions that hit a packet with a probability (`rate`), each with
//! its own seeded generator: loss, duplicate, corrupt. Such an action only says what a hit
//! does; parsing, building and the draw live here once.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;
use std::fmt::Debug;
use std::marker::PhantomData;

pub trait Hit: Debug + Send + Sync + 'static {
    /// The compiled action `type`.
    const NAME: &'static str;
    /// What happens to a packet that drew a hit; `rng` is the action's own generator, for
    /// hits that need more randomness (which bit to flip).
    fn hit(pkt: &mut Pkt, rng: &mut Rng) -> Verdict;
}

#[derive(Debug)]
struct Config<H: Hit> {
    rate: f64,
    hit: PhantomData<H>,
}

/// Parse `{ rate }` for the action whose hit is `H`.
pub fn parse<H: Hit>(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config::<H> {
        rate: f.prob("rate")?,
        hit: PhantomData,
    }))
}

impl<H: Hit> ActionConfig for Config<H> {
    fn type_name(&self) -> &'static str {
        H::NAME
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Chance::<H> {
            rate: self.rate,
            rng: Rng::for_stage(b.seed, b.stage),
            hit: PhantomData,
        }))
    }
}

struct Chance<H: Hit> {
    rate: f64,
    rng: Rng,
    hit: PhantomData<H>,
}

impl<H: Hit> Action for Chance<H> {
    fn on_packet(&mut self, pkt: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        if self.rng.chance(self.rate) {
            H::hit(pkt, &mut self.rng)
        } else {
            Verdict::Pass
        }
    }
}
