//! A token-bucket policer, one bucket per flow and direction (the 2021 Twitter throttler
//! policed each direction independently). The bucket starts full at `burst_bytes`,
//! refills at `rate_bps`, and a packet passes only if its whole IP length is in the
//! bucket; otherwise it is dropped, never queued. Tokens are kept in bytes · 8e9
//! (bit-nanoseconds), so refills are exact integers.

use super::{positive, Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

const SCALE: u128 = 8 * 1_000_000_000;

#[derive(Debug, Clone)]
struct Config {
    rate_bps: u64,
    burst_bytes: u64,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        rate_bps: positive(f, "rate_bps")?,
        burst_bytes: positive(f, "burst_bytes")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "police"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Police {
            rate: u128::from(self.rate_bps),
            depth: u128::from(self.burst_bytes) * SCALE,
            buckets: PerFlow::default(),
        }))
    }
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: u128,
    at: u64,
}

struct Police {
    rate: u128,
    depth: u128,
    buckets: PerFlow<[Bucket; 2]>,
}

impl Action for Police {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let (depth, rate, now) = (self.depth, self.rate, cx.now);
        let full = Bucket {
            tokens: depth,
            at: now,
        };
        let b = &mut self.buckets.get(cx.flow.id, || [full; 2])[pkt.dir.index()];
        let elapsed = u128::from(now.saturating_sub(b.at));
        b.tokens = (b.tokens + elapsed * rate).min(depth);
        b.at = now;
        let cost = pkt.len() as u128 * SCALE;
        if b.tokens >= cost {
            b.tokens -= cost;
            Verdict::Pass
        } else {
            Verdict::Drop(Reason::Police)
        }
    }

    fn forget(&mut self, flow_id: u64) {
        self.buckets.forget(flow_id);
    }
}
