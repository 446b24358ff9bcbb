//! Drop everything: the "IP block" of a DPI box.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config;

pub fn parse(_: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "blackhole"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Blackhole))
    }
    /// A whole super-packet can be dropped at once: no need to cut it.
    fn per_packet(&self) -> bool {
        false
    }
}

struct Blackhole;

impl Action for Blackhole {
    fn on_packet(&mut self, _: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        Verdict::Drop(Reason::Blackhole)
    }
}
