//! The shared last-mile links (`network.uplink` / `network.downlink`): random loss at
//! entry, then the bottleneck (rate or trace, with its queue and AQM), then propagation
//! delay with uniform ±jitter. Packets keep their order on a link (a FIFO wire), so
//! jitter never reorders here; use the `delay` action with `reorder: true` for that.

use super::compiled::LinkSpec;
use super::jitter::{Distribution, Jitter};
use super::queue::{Bottleneck, Server};
use super::spec::Build;
use super::Reason;
use crate::error::Error;
use crate::rng::Rng;

pub struct Link {
    loss: f64,
    loss_rng: Rng,
    queue: Option<Bottleneck>,
    delay: u64,
    jitter_ns: u64,
    jitter: Jitter,
    last: u64,
}

impl Link {
    pub fn new(spec: &LinkSpec, mtu: u32, b: &Build<'_>) -> Result<Link, Error> {
        let server = match (&spec.trace_file, spec.rate_bps) {
            (Some(f), _) => Some(Server::trace((b.read_trace)(f)?)),
            (None, Some(bps)) => Some(Server::rate(bps)),
            (None, None) => None,
        };
        Ok(Link {
            loss: spec.loss,
            loss_rng: Rng::for_stage(b.seed, b.stage),
            queue: server.map(|s| {
                Bottleneck::new(
                    s,
                    spec.queue_bytes,
                    spec.queue_packets,
                    spec.aqm,
                    u64::from(mtu),
                )
            }),
            delay: spec.delay_ns,
            jitter_ns: spec.jitter_ns,
            jitter: Jitter::new(
                Distribution::Uniform,
                0.0,
                Rng::for_stage(b.seed, b.stage + 1),
            ),
            last: 0,
        })
    }

    /// Nothing to do: packets cross at once, untouched (the fast path).
    pub fn transparent(&self) -> bool {
        self.loss == 0.0 && self.queue.is_none() && self.delay == 0 && self.jitter_ns == 0
    }

    /// A bottleneck (rate or trace) releases packets one at a time, spaced by its rate.
    pub fn serialises(&self) -> bool {
        self.queue.is_some()
    }

    /// Delivery time and time spent queued, or the reason for a drop.
    pub fn on_packet(&mut self, now: u64, size: u64) -> Result<(u64, u64), Reason> {
        if self.loss > 0.0 && self.loss_rng.chance(self.loss) {
            return Err(Reason::Loss);
        }
        let served = match &mut self.queue {
            Some(q) => q.enqueue(now, size)?,
            None => now,
        };
        let t = self
            .jitter
            .depart(served, self.delay, self.jitter_ns)
            .max(self.last);
        self.last = t;
        Ok((t, served - now))
    }
}

#[cfg(test)]
mod tests {
    use crate::rng::Rng;
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;

    #[test]
    fn loss_then_jittered_delay_in_fifo_order_replays_exactly() {
        let up = obj(
            LINK,
            &[
                ("delay_ns", "10000000"),
                ("jitter_ns", "2000000"),
                ("loss", "0.2"),
            ],
        );
        let mut p = pipeline_with(&scenario_json(&[], &[], &up, LINK), &[]);
        let got = run(&mut p, stream(300, MS / 2, 100));
        // The uplink's stages are 1000000 (loss) and 1000001 (jitter): one loss draw per
        // packet, one uniform jitter draw per packet that survives, never overtaking.
        let mut loss = Rng::for_stage(SEED, 1_000_000);
        let mut jitter = Rng::for_stage(SEED, 1_000_001);
        let mut last = 0;
        let mut expect = Vec::new();
        for i in 0..300u32 {
            if loss.chance(0.2) {
                continue;
            }
            let d = 10e6 + (2.0 * jitter.next_f64() - 1.0) * 2e6;
            last = (u64::from(i) * MS / 2 + d.round() as u64).max(last);
            expect.push((i, last));
        }
        assert_eq!(tag_times(&got), expect);
        assert_eq!(
            p.stats.drops[Reason::Loss.index()],
            300 - expect.len() as u64
        );
        // The downlink is untouched: transparent, no delay.
        let got = run(&mut p, vec![(S, Dir::Down, udp_down(100))]);
        assert_eq!(tag_times(&got), vec![(0, S)]);
    }
}
