//! A mahimahi delivery-opportunity trace as this class's bottleneck: one unlimited FIFO
//! per direction, shared by the policy's flows (like `rate`).

use super::class_queue::ClassQueue;
use super::{Action, ActionConfig, Build};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::queue::{Bottleneck, Server};
use crate::shape::spec::Aqm;

#[derive(Debug, Clone)]
struct Config {
    file: String,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        file: f.str("file")?.to_owned(),
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "trace"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        let trace = (b.read_trace)(&self.file)?;
        let q = || {
            Bottleneck::new(
                Server::trace(trace.clone()),
                None,
                None,
                Aqm::Droptail,
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

    #[test]
    fn replays_the_traces_opportunities_exactly() {
        // Opportunities at 1, 1, 3 and 5 ms, repeating every 5 ms; 1504-byte packets take
        // one each.
        let t = action("trace", r#""file":"t1""#);
        let json = scenario_json(&[], &[policy("p", "[]", &[t])], LINK, LINK);
        let mut p = pipeline_with(&json, &[("t1", &[1, 1, 3, 5])]);
        let mut pkts: Vec<_> = (0..8).map(|_| (0, Dir::Up, udp(1504))).collect();
        // The downlink has its own queue on the same trace.
        pkts.push((0, Dir::Down, udp_down(1504)));
        let got = run(&mut p, pkts);
        let ms: Vec<(u32, u64)> = got.iter().map(|g| (g.0, g.1 / MS)).collect();
        assert_eq!(
            ms,
            vec![
                (0, 1),
                (1, 1),
                (8, 1),
                (2, 3),
                (3, 5),
                (4, 6),
                (5, 6),
                (6, 8),
                (7, 10)
            ]
        );
        assert!(got.iter().all(|g| g.1 % MS == 0));
    }
}
