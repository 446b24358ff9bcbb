//! Flip one random bit of the payload with a probability. Headers stay intact and the
//! upper-layer checksum is recomputed, so the damage reaches the application (as with a
//! middlebox that rewrites payload) instead of being discarded by the receiving kernel.
//! Packets without payload pass untouched.

use super::chance::{self, Hit};
use super::{ActionConfig, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;
use crate::wire::packet::fill_l4_checksum;

#[derive(Debug)]
pub struct Corrupt;

impl Hit for Corrupt {
    const NAME: &'static str = "corrupt";
    fn hit(pkt: &mut Pkt, rng: &mut Rng) -> Verdict {
        let p = pkt.parsed;
        let n = p.payload_len();
        if n == 0 || p.fragment {
            return Verdict::Pass;
        }
        let bit = rng.below(n as u64 * 8) as usize;
        let ip = pkt.ip_mut();
        ip[p.payload + bit / 8] ^= 1 << (bit % 8);
        fill_l4_checksum(ip, &p);
        Verdict::Pass
    }
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    chance::parse::<Corrupt>(f)
}
