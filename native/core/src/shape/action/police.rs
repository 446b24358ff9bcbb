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

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;

    #[test]
    fn passes_exactly_what_the_bucket_allows() {
        let mut p = with_actions(&[action("police", r#""rate_bps":128000,"burst_bytes":16000"#)]);
        // 10 Mbit/s of 1250-byte packets: one per millisecond, for 10 s.
        let got = run(&mut p, stream(10_000, MS, 1250));
        let passed = got.len() as u64 * 1250;
        // Bucket: 16 000 bytes at the start + 16 000 bytes/s for the 9.999 s of the stream.
        let allowed = 16_000 + 16_000 * 9_999 / 1000;
        assert!(
            passed <= allowed && passed + 1250 > allowed,
            "{passed} vs {allowed}"
        );
        // The first 12 packets (15 000 bytes) pass back to back; then 16 bytes/ms refill
        // the remaining 1 000 to 1 250 at 16 ms.
        assert_eq!(
            &tags(&got)[..13],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 16]
        );
        // Passed packets are never delayed.
        assert!(got.iter().all(|g| g.1 == u64::from(g.0) * MS));
    }

    #[test]
    fn one_bucket_per_flow_and_direction() {
        // 2 500 bytes of burst, refilled at 1 000 bytes/s.
        let mut p = with_actions(&[action("police", r#""rate_bps":8000,"burst_bytes":2500"#)]);
        let up = |t| (t, Dir::Up, udp(1250));
        let down = |t| (t, Dir::Down, udp_down(1250));
        let other = |t| (t, Dir::Up, udp_from(1000, &[0; 1222]));
        let got = run(
            &mut p,
            vec![
                up(0),
                up(0),
                up(0),   // the up bucket is empty
                down(0), // the down bucket is full
                down(0),
                other(0), // another flow: its own bucket
                up(1_249_999_999),
                up(1_250 * MS), // 1 250 bytes refilled
            ],
        );
        assert_eq!(tags(&got), vec![0, 1, 3, 4, 5, 7]);
        assert_eq!(p.stats.drops[Reason::Police.index()], 2);
    }
}
