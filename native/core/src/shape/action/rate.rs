//! A shaper: packets over the rate wait in a FIFO (bytes or packets limited, droptail or
//! CoDel). One queue per direction, shared by all flows the policy applies to — the
//! class's aggregate is shaped, as a tc class would be (per-flow limits: `police`).

use super::{positive, Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::queue::{Bottleneck, Server};
use crate::shape::spec::Aqm;
use crate::shape::Pkt;

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
        Ok(Box::new(Rate { queues: [q(), q()] }))
    }
}

struct Rate {
    queues: [Bottleneck; 2],
}

impl Action for Rate {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        match self.queues[pkt.dir.index()].enqueue(cx.now, pkt.len() as u64) {
            Ok(t) => Verdict::Hold(t),
            Err(r) => Verdict::Drop(r),
        }
    }
}
