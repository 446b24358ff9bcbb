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

#[cfg(test)]
mod tests {
    use crate::shape::testkit::*;
    use crate::shape::Reason;

    #[test]
    fn drops_exactly_the_packets_its_own_draws_hit() {
        let mut p = with_actions(&[action("loss", r#""rate":0.3"#)]);
        let got = run(&mut p, stream(200, MS, 100));
        // One draw per packet from the action's own stream; the rest pass untouched, at
        // the time they came.
        let mut rng = action_rng(0);
        let expect: Vec<(u32, u64)> = (0..200u32)
            .filter(|_| !rng.chance(0.3))
            .map(|i| (i, u64::from(i) * MS))
            .collect();
        assert_eq!(tag_times(&got), expect);
        let lost = 200 - got.len() as u64;
        assert!((40..=80).contains(&lost), "{lost} of 200 lost at 30 %");
        assert_eq!(p.stats.drops[Reason::Loss.index()], lost);
    }

    #[test]
    fn rate_0_loses_nothing_and_rate_1_everything() {
        let mut p = with_actions(&[action("loss", r#""rate":0"#)]);
        assert_eq!(run(&mut p, stream(50, MS, 100)).len(), 50);
        let mut p = with_actions(&[action("loss", r#""rate":1"#)]);
        assert!(run(&mut p, stream(50, MS, 100)).is_empty());
        assert_eq!(p.stats.drops[Reason::Loss.index()], 50);
    }
}
