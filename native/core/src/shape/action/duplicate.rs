//! Send a packet twice with a probability.

use super::chance::{self, Hit};
use super::{ActionConfig, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;

#[derive(Debug)]
pub struct Duplicate;

impl Hit for Duplicate {
    const NAME: &'static str = "duplicate";
    fn hit(_: &mut Pkt, _: &mut Rng) -> Verdict {
        Verdict::Duplicate
    }
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    chance::parse::<Duplicate>(f)
}
