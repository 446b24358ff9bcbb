//! A shaper: packets over the rate wait in a FIFO (bytes or packets limited, droptail or
//! CoDel). One queue per direction, shared by all flows the policy applies to — the
//! class's aggregate is shaped, as a tc class would be (per-flow limits: `police`).

use super::class_queue::ClassQueue;
use super::{positive, Action, ActionConfig, Build};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::queue::{Bottleneck, Server};
use crate::shape::spec::Aqm;

#[derive(Debug, Clone)]
struct Config {
    rate_bps: u64,
    queue_bytes: Option<u64>,
    queue_packets: Option<u64>,
    aqm: Aqm,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        rate_bps: positive(f, "rate_bps")?,
        queue_bytes: f.opt_u64("queue_bytes")?,
        queue_packets: f.opt_u64("queue_packets")?,
        aqm: Aqm::parse(f, "aqm")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "rate"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        let q = || {
            Bottleneck::new(
                Server::rate(self.rate_bps),
                self.queue_bytes,
                self.queue_packets,
                self.aqm,
                1500,
            )
        };
        Ok(Box::new(ClassQueue::new(q)))
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;

    fn rate(queue_packets: &str) -> String {
        action(
            "rate",
            &format!(
                r#""rate_bps":1000000,"queue_bytes":null,"queue_packets":{queue_packets},"aqm":"droptail""#
            ),
        )
    }

    #[test]
    fn achieves_its_rate_exactly() {
        // 1250 bytes at 1 Mbit/s: one every 10 ms.
        let mut p = with_actions(&[rate("null")]);
        let got = run(&mut p, (0..100).map(|_| (0, Dir::Up, udp(1250))).collect());
        let t: Vec<u64> = got.iter().map(|g| g.1).collect();
        assert_eq!(t, (1..=100).map(|i| i * 10 * MS).collect::<Vec<_>>());
    }

    #[test]
    fn one_queue_per_direction_shared_by_flows_with_its_limit() {
        let mut p = with_actions(&[rate("2")]);
        let other = |t| (t, Dir::Up, udp_from(1000, &[0; 1222]));
        let got = run(
            &mut p,
            vec![
                (0, Dir::Up, udp(1250)),
                other(0),                       // same queue: after the first
                (0, Dir::Up, udp(1250)),        // two in the queue: dropped
                (0, Dir::Down, udp_down(1250)), // the other direction's queue
                other(10 * MS),                 // the first left: room again
            ],
        );
        assert_eq!(
            tag_times(&got),
            vec![(0, 10 * MS), (3, 10 * MS), (1, 20 * MS), (4, 30 * MS)]
        );
        assert_eq!(p.stats.drops[Reason::Queue.index()], 1);
    }
}
