//! Flip one random bit of the payload with a probability. Headers stay intact and the
//! upper-layer checksum is recomputed, so the damage reaches the application (as with a
//! middlebox that rewrites payload) instead of being discarded by the receiving kernel.
//! Packets without payload pass untouched.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;
use crate::wire::packet::fill_l4_checksum;

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
        "corrupt"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Corrupt {
            rate: self.rate,
            rng: Rng::for_stage(b.seed, b.stage),
        }))
    }
}

struct Corrupt {
    rate: f64,
    rng: Rng,
}

impl Action for Corrupt {
    fn on_packet(&mut self, pkt: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        if !self.rng.chance(self.rate) {
            return Verdict::Pass;
        }
        let p = pkt.parsed;
        let n = p.payload_len();
        if n == 0 || p.fragment {
            return Verdict::Pass;
        }
        let bit = self.rng.below(n as u64 * 8) as usize;
        let ip = pkt.ip_mut();
        ip[p.payload + bit / 8] ^= 1 << (bit % 8);
        fill_l4_checksum(ip, &p);
        Verdict::Pass
    }
}
