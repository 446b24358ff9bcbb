//! Gilbert–Elliott two-state loss, as netem `loss gemodel p r 1-h 1-k`: in the good state
//! a packet is lost with 1-k, in the bad state with 1-h; after each packet the state
//! moves good→bad with p and bad→good with r. One channel per action (the model
//! describes a link's burstiness, not a flow's), starting in the good state.
//! Stationary loss: (r(1-k) + p(1-h)) / (p + r).

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config {
    p: f64,
    r: f64,
    h: f64,
    k: f64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        p: f.prob("p")?,
        r: f.prob("r")?,
        h: f.prob("h")?,
        k: f.prob("k")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "gilbert-elliott"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Gilbert {
            c: self.clone(),
            bad: false,
            rng: Rng::for_stage(b.seed, b.stage),
        }))
    }
}

struct Gilbert {
    c: Config,
    bad: bool,
    rng: Rng,
}

impl Action for Gilbert {
    fn on_packet(&mut self, _: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        let deliver = if self.bad { self.c.h } else { self.c.k };
        let lost = !self.rng.chance(deliver);
        let flip = if self.bad { self.c.r } else { self.c.p };
        if self.rng.chance(flip) {
            self.bad = !self.bad;
        }
        if lost {
            Verdict::Drop(Reason::Loss)
        } else {
            Verdict::Pass
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;

    #[test]
    fn one_channel_for_all_flows_alternating_when_every_move_is_certain() {
        // p = r = 1: the state flips after every packet; good delivers (k = 1), bad loses
        // (h = 0). Two flows interleaved share the channel: flow b meets only bad states.
        let ge = action("gilbert-elliott", r#""p":1,"r":1,"h":0,"k":1"#);
        let mut p = with_actions(&[ge]);
        let pkts: Vec<_> = (0..10u64)
            .map(|i| (i * MS, Dir::Up, udp_from(1000 + (i % 2) as u16, b"x")))
            .collect();
        let got = run(&mut p, pkts);
        assert_eq!(
            tag_times(&got),
            (0..10u32)
                .step_by(2)
                .map(|i| (i, u64::from(i) * MS))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn loses_exactly_what_its_two_draws_per_packet_say() {
        let (pp, r, h, k) = (0.2, 0.4, 0.3, 0.9);
        let ge = action(
            "gilbert-elliott",
            &format!(r#""p":{pp},"r":{r},"h":{h},"k":{k}"#),
        );
        let mut p = with_actions(&[ge]);
        let got = run(&mut p, stream(500, MS, 100));
        // Per packet: deliver with k (good) or h (bad), then move with p (good) or r (bad).
        let mut rng = action_rng(0);
        let mut bad = false;
        let mut expect = Vec::new();
        for i in 0..500u32 {
            let delivered = rng.chance(if bad { h } else { k });
            if rng.chance(if bad { r } else { pp }) {
                bad = !bad;
            }
            if delivered {
                expect.push((i, u64::from(i) * MS));
            }
        }
        assert_eq!(tag_times(&got), expect);
    }

    #[test]
    fn matches_its_stationary_loss() {
        let ge = action("gilbert-elliott", r#""p":0.05,"r":0.3,"h":0.1,"k":0.99"#);
        let mut p = with_actions(&[ge]);
        let n = 1_000_000u64;
        let got = run(&mut p, stream(n, MS / 10, 60));
        let loss = 1.0 - got.len() as f64 / n as f64;
        let (pp, r, h, k) = (0.05, 0.3, 0.1, 0.99);
        let expect = (r * (1.0 - k) + pp * (1.0 - h)) / (pp + r);
        assert!((loss / expect - 1.0).abs() < 0.02, "{loss} vs {expect}");
    }
}
