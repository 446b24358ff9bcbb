//! Reordering: with probability `rate` (considered only every `gap`-th packet of the
//! action), a packet is held back until the flow's next packet in the same direction has
//! gone ahead of it — the pair swaps — or for at most `MAX_HOLD_NS` if none comes.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::Pkt;

/// A held packet is released after this long even without a packet to swap with.
pub const MAX_HOLD_NS: u64 = 10_000_000;

#[derive(Debug, Clone)]
struct Config {
    rate: f64,
    gap: u64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        rate: f.prob("rate")?,
        gap: f.u64("gap")?.max(1),
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "reorder"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Reorder {
            c: self.clone(),
            rng: Rng::for_stage(b.seed, b.stage),
            seen: 0,
            held: Vec::new(),
        }))
    }
}

struct Held {
    flow_id: u64,
    /// Release time: the deadline, or "now" once the swap partner passed.
    release: u64,
    pkt: Pkt,
}

struct Reorder {
    c: Config,
    rng: Rng,
    seen: u64,
    /// Few at a time (one per flow and direction at most), so a Vec scan is cheapest.
    held: Vec<Held>,
}

impl Action for Reorder {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let id = cx.flow.id;
        if let Some(h) = self
            .held
            .iter_mut()
            .find(|h| h.flow_id == id && h.pkt.dir == pkt.dir && h.release > cx.now)
        {
            // This packet overtakes the held one, which follows right after it.
            h.release = cx.now;
            return Verdict::Pass;
        }
        self.seen += 1;
        if !self.seen.is_multiple_of(self.c.gap) || !self.rng.chance(self.c.rate) {
            return Verdict::Pass;
        }
        let taken = std::mem::take(&mut pkt.buf);
        let mut kept = pkt.clone();
        kept.buf = taken;
        self.held.push(Held {
            flow_id: id,
            release: cx.now + MAX_HOLD_NS,
            pkt: kept,
        });
        Verdict::Keep
    }

    fn next_wakeup(&self) -> Option<u64> {
        self.held.iter().map(|h| h.release).min()
    }

    fn poll(&mut self, now: u64, out: &mut Vec<Pkt>) {
        let mut i = 0;
        while i < self.held.len() {
            if self.held[i].release <= now {
                let mut h = self.held.swap_remove(i);
                h.pkt.stage_at = h.release;
                out.push(h.pkt);
            } else {
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MAX_HOLD_NS;
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;

    #[test]
    fn every_gap_th_packet_swaps_with_the_next_of_its_flow_and_direction() {
        let mut p = with_actions(&[action("reorder", r#""rate":1,"gap":2"#)]);
        let mut pkts = stream(8, MS, 100);
        // The other direction of the same flow does not release a held uplink packet.
        pkts.push((8 * MS, Dir::Down, udp_down(100)));
        let got = run(&mut p, pkts);
        assert_eq!(
            tag_times(&got),
            vec![
                (0, 0),
                // 1 is held; 2 overtakes it and 1 follows at once.
                (2, 2 * MS),
                (1, 2 * MS),
                (3, 3 * MS),
                (5, 5 * MS),
                (4, 5 * MS),
                (6, 6 * MS),
                (8, 8 * MS),
                // 7 had no follower in its direction: out after the longest hold.
                (7, 7 * MS + MAX_HOLD_NS),
            ]
        );
    }

    #[test]
    fn draws_only_on_gap_multiples_and_replays_exactly() {
        let mut p = with_actions(&[action("reorder", r#""rate":0.5,"gap":3"#)]);
        let got = run(&mut p, stream(300, MS, 100));
        // Model: a packet arriving while one is held overtakes it (and is not counted);
        // otherwise it is counted, and every third counted one draws.
        let mut rng = action_rng(0);
        let (mut seen, mut held, mut expect) = (0u64, None, Vec::new());
        for i in 0..300u32 {
            let t = u64::from(i) * MS;
            if let Some(h) = held.take() {
                expect.push((i, t));
                expect.push((h, t));
                continue;
            }
            seen += 1;
            if seen % 3 == 0 && rng.chance(0.5) {
                held = Some(i);
            } else {
                expect.push((i, t));
            }
        }
        if let Some(h) = held {
            expect.push((h, u64::from(h) * MS + MAX_HOLD_NS));
        }
        assert_eq!(tag_times(&got), expect);
        let swapped = expect.windows(2).filter(|w| w[0].0 > w[1].0).count();
        assert!((25..=75).contains(&swapped), "{swapped} swaps");
        // rate 0: never held.
        let mut p = with_actions(&[action("reorder", r#""rate":0,"gap":1"#)]);
        assert_eq!(
            tags(&run(&mut p, stream(20, MS, 100))),
            (0..20).collect::<Vec<u32>>()
        );
    }
}
