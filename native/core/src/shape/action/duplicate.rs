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

#[cfg(test)]
mod tests {
    use crate::shape::testkit::*;

    #[test]
    fn hit_packets_leave_twice_identical_at_the_same_time() {
        let mut p = with_actions(&[action("duplicate", r#""rate":0.25"#)]);
        let pkts = stream(100, MS, 300);
        let sent: Vec<Vec<u8>> = pkts.iter().map(|x| x.2.clone()).collect();
        let got = run(&mut p, pkts);
        // Original first, then its copy, both when the packet came.
        let mut rng = action_rng(0);
        let mut expect = Vec::new();
        for i in 0..100u32 {
            let t = u64::from(i) * MS;
            expect.push((i, t));
            if rng.chance(0.25) {
                expect.push((i, t));
            }
        }
        assert_eq!(tag_times(&got), expect);
        let copies = got.len() as u64 - 100;
        assert!((10..=40).contains(&copies), "{copies} copies at 25 %");
        assert_eq!(p.stats.totals.duplicated, copies);
        assert!(got.iter().all(|g| g.3 == sent[g.0 as usize]));
    }

    #[test]
    fn rate_1_doubles_every_packet_and_rate_0_none() {
        let mut p = with_actions(&[action("duplicate", r#""rate":1"#)]);
        let got = run(&mut p, stream(3, MS, 100));
        assert_eq!(
            tag_times(&got),
            vec![(0, 0), (0, 0), (1, MS), (1, MS), (2, 2 * MS), (2, 2 * MS)]
        );
        let mut p = with_actions(&[action("duplicate", r#""rate":0"#)]);
        assert_eq!(tags(&run(&mut p, stream(3, MS, 100))), vec![0, 1, 2]);
    }
}
