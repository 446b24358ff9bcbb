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

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::wire::packet::{l4_checksum_ok, parse};

    #[test]
    fn flips_the_drawn_payload_bit_of_hit_packets_and_keeps_checksums_valid() {
        let mut p = with_actions(&[action("corrupt", r#""rate":0.5"#)]);
        // Payload sizes 0..=59 (0: nothing to corrupt), distinct bytes.
        let pkts: Vec<_> = (0..60u64)
            .map(|i| {
                let payload: Vec<u8> = (0..i).map(|k| (k * 7 + i) as u8).collect();
                (i * MS, Dir::Up, udp_from(40000, &payload))
            })
            .collect();
        let sent: Vec<Vec<u8>> = pkts.iter().map(|x| x.2.clone()).collect();
        let got = run(&mut p, pkts);
        assert_eq!(tags(&got), (0..60).collect::<Vec<u32>>());
        // Replay: a hit draws which bit, only when there is a payload.
        let mut rng = action_rng(0);
        let mut corrupted = 0;
        for (i, (tag, t, _, b)) in got.iter().enumerate() {
            assert_eq!((*tag as usize, *t), (i, i as u64 * MS));
            let n = i as u64;
            let hit = rng.chance(0.5);
            let bit = (hit && n > 0).then(|| rng.below(n * 8) as usize);
            let pp = parse(b).unwrap();
            assert!(l4_checksum_ok(b, &pp), "packet {i}");
            let mut expect = sent[i].clone();
            if let Some(bit) = bit {
                expect[pp.payload + bit / 8] ^= 1 << (bit % 8);
                corrupted += 1;
            }
            // Everything but the UDP checksum (bytes 26..28) is as expected.
            assert_eq!(b[..26], expect[..26], "packet {i}");
            assert_eq!(b[28..], expect[28..], "packet {i}");
            assert_eq!(bit.is_none(), b[26..28] == sent[i][26..28], "packet {i}");
        }
        assert!((15..=45).contains(&corrupted), "{corrupted} of 59 at 50 %");
    }
}
