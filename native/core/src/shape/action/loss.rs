//! Independent random loss.

use super::chance::{self, Hit};
use super::{ActionConfig, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug)]
pub struct Loss;

impl Hit for Loss {
    const NAME: &'static str = "loss";
    fn hit(_: &mut Pkt, _: &mut Rng) -> Verdict {
        Verdict::Drop(Reason::Loss)
    }
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    chance::parse::<Loss>(f)
}
