//! Counters of the shaping path: per class, policy, action and link, with queue-delay
//! histograms in log2 buckets. Plain integers: the pipeline is single-threaded and the
//! real-time driver publishes JSON snapshots of them.

use super::Reason;
use crate::config::json::{write_str, write_u64};
use std::fmt::Write;

/// Bucket 0: under 1 µs; bucket i: [2^(i-1), 2^i) µs; the last one is open-ended.
pub const HIST_BUCKETS: usize = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hist(pub [u64; HIST_BUCKETS]);

impl Default for Hist {
    fn default() -> Hist {
        Hist([0; HIST_BUCKETS])
    }
}

impl Hist {
    pub fn record(&mut self, ns: u64) {
        let us = ns / 1000;
        let b = if us == 0 {
            0
        } else {
            (64 - us.leading_zeros() as usize).min(HIST_BUCKETS - 1)
        };
        self.0[b] += 1;
    }
    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageStats {
    pub packets: u64,
    pub bytes: u64,
    pub drops: [u64; Reason::ALL.len()],
    pub queue_delay: Hist,
}

impl StageStats {
    pub fn see(&mut self, bytes: usize) {
        self.packets += 1;
        self.bytes += bytes as u64;
    }
    pub fn drop(&mut self, r: Reason) {
        self.drops[r.index()] += 1;
    }
    pub fn dropped(&self) -> u64 {
        self.drops.iter().sum()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClassStats {
    pub flows: u64,
    pub packets: u64,
    pub bytes: u64,
}

/// Packet conservation: entered + duplicated + injected = emitted + dropped + in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub entered: u64,
    pub duplicated: u64,
    pub injected: u64,
    pub emitted: u64,
    pub dropped: u64,
    pub in_flight: u64,
    /// Super-packets forwarded whole because nothing on their flow needed them cut.
    pub bypassed: u64,
}

#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub totals: Totals,
    pub drops: [u64; Reason::ALL.len()],
    pub classes: Vec<ClassStats>,
    pub policies: Vec<StageStats>,
    pub actions: Vec<StageStats>,
    pub links: [StageStats; 2],
}

fn drops_json(out: &mut String, drops: &[u64]) {
    out.push('{');
    for (i, r) in Reason::ALL.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, r.as_str());
        out.push(':');
        write_u64(out, drops[i]);
    }
    out.push('}');
}

fn stage_json(out: &mut String, s: &StageStats) {
    let _ = write!(
        out,
        "\"packets\":{},\"bytes\":{},\"drops\":",
        s.packets, s.bytes
    );
    drops_json(out, &s.drops);
    out.push_str(",\"queue_delay_us_log2\":[");
    for (i, n) in s.queue_delay.0.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_u64(out, *n);
    }
    out.push(']');
}

/// Names the JSON needs, from the pipeline.
pub struct Names<'a> {
    pub classes: &'a [String],
    pub policies: &'a [String],
    /// (policy index, index in the policy, type) of each action.
    pub actions: &'a [(usize, usize, &'static str)],
}

impl Stats {
    pub fn write_json(
        &self,
        out: &mut String,
        names: &Names<'_>,
        flows: (u64, &super::flow::FlowStats),
    ) {
        let t = &self.totals;
        let _ = write!(
            out,
            "{{\"packets\":{{\"entered\":{},\"duplicated\":{},\"injected\":{},\"emitted\":{},\"dropped\":{},\"in_flight\":{},\"bypassed\":{}}},\"drops\":",
            t.entered, t.duplicated, t.injected, t.emitted, t.dropped, t.in_flight, t.bypassed
        );
        drops_json(out, &self.drops);
        let _ = write!(
            out,
            ",\"flows\":{{\"active\":{},\"created\":{},\"expired\":{},\"evicted\":{}}},\"classes\":{{",
            flows.0, flows.1.created, flows.1.expired, flows.1.evicted
        );
        for (i, c) in self.classes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, &names.classes[i]);
            let _ = write!(
                out,
                ":{{\"flows\":{},\"packets\":{},\"bytes\":{}}}",
                c.flows, c.packets, c.bytes
            );
        }
        out.push_str("},\"policies\":{");
        for (i, p) in self.policies.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(out, &names.policies[i]);
            out.push_str(":{");
            stage_json(out, p);
            out.push('}');
        }
        out.push_str("},\"actions\":[");
        for (i, a) in self.actions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (p, k, ty) = names.actions[i];
            out.push_str("{\"policy\":");
            write_str(out, &names.policies[p]);
            let _ = write!(out, ",\"index\":{k},\"type\":");
            write_str(out, ty);
            out.push(',');
            stage_json(out, a);
            out.push('}');
        }
        out.push_str("],\"links\":{\"uplink\":{");
        stage_json(out, &self.links[0]);
        out.push_str("},\"downlink\":{");
        stage_json(out, &self.links[1]);
        out.push_str("}}}");
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn histogram_buckets_are_log2_microseconds() {
        let mut h = Hist::default();
        for ns in [0, 999, 1000, 1999, 2000, 3999, 4000, u64::MAX] {
            h.record(ns);
        }
        assert_eq!(&h.0[..4], &[2, 2, 2, 1]);
        assert_eq!(h.0[HIST_BUCKETS - 1], 1);
    }
}
