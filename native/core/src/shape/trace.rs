//! mahimahi delivery-opportunity traces: one millisecond timestamp per line, each line
//! one opportunity to deliver 1504 bytes; the file loops with a period of its last
//! timestamp. Opportunity k happens at `(k / n) · period + t[k mod n]` ms after time 0
//! of the run. As in mahimahi's LinkQueue, a packet uses only opportunities strictly
//! after its arrival, a packet larger than what is left of an opportunity continues in
//! the next one, and bytes of an opportunity nobody queued for are lost.

use crate::error::Error;

pub const OPPORTUNITY_BYTES: u64 = 1504;
const MS: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Opportunity times within one period, in ns, sorted.
    times: Vec<u64>,
    period: u64,
}

pub fn parse_text(text: &str, name: &str) -> Result<Vec<u64>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let ms: u64 = line.parse().map_err(|_| {
            Error::bad_config(format!(
                "trace {name}:{}: expected a millisecond count, got {line:?}",
                i + 1
            ))
        })?;
        if out.last().is_some_and(|&l| ms < l) {
            return Err(Error::bad_config(format!(
                "trace {name}:{}: timestamps must not decrease",
                i + 1
            )));
        }
        out.push(ms);
    }
    Ok(out)
}

pub fn read_file(path: &str) -> Result<Vec<u64>, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::bad_config(format!("cannot read trace file {path:?}: {e}")))?;
    parse_text(&text, path)
}

impl Trace {
    pub fn new(ms: &[u64]) -> Result<Trace, Error> {
        match ms.last() {
            None => Err(Error::bad_config("trace has no delivery opportunities")),
            Some(0) => Err(Error::bad_config(
                "trace must end after 0 ms (it loops on its last timestamp)",
            )),
            Some(&last) => Ok(Trace {
                times: ms.iter().map(|t| t * MS).collect(),
                period: last * MS,
            }),
        }
    }

    pub fn at(&self, k: u64) -> u64 {
        let n = self.times.len() as u64;
        (k / n) * self.period + self.times[(k % n) as usize]
    }

    /// The first opportunity strictly after `t`.
    pub fn first_after(&self, t: u64) -> u64 {
        let n = self.times.len() as u64;
        let cycle = t / self.period;
        let within = t - cycle * self.period;
        let i = self.times.partition_point(|&x| x <= within) as u64;
        cycle * n + i
    }
}

/// The trace as a FIFO server: where the next packet's bytes go.
#[derive(Debug, Clone)]
pub struct TraceServer {
    trace: Trace,
    k: u64,
    left: u64,
}

impl TraceServer {
    pub fn new(trace: Trace) -> TraceServer {
        TraceServer {
            trace,
            k: 0,
            left: OPPORTUNITY_BYTES,
        }
    }

    /// The delivery time of a `size`-byte packet arriving at `now` behind the packets
    /// already served.
    pub fn serve(&mut self, now: u64, size: u64) -> u64 {
        if self.trace.at(self.k) <= now {
            // The queue ran dry by now: the rest of earlier opportunities is gone.
            self.k = self.trace.first_after(now);
            self.left = OPPORTUNITY_BYTES;
        }
        let mut need = size.max(1);
        loop {
            if self.left == 0 {
                self.k += 1;
                self.left = OPPORTUNITY_BYTES;
            }
            let take = need.min(self.left);
            need -= take;
            self.left -= take;
            if need == 0 {
                return self.trace.at(self.k);
            }
        }
    }

    /// Where the next packet would start, for peeking.
    pub fn cursor(&self) -> (u64, u64) {
        (self.k, self.left)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_and_loops() {
        let t = Trace::new(&parse_text("1\n1\n3\n\n5\n", "t").unwrap()).unwrap();
        let ms: Vec<u64> = (0..8).map(|k| t.at(k) / MS).collect();
        assert_eq!(ms, vec![1, 1, 3, 5, 6, 6, 8, 10]);
        assert_eq!(t.first_after(0), 0);
        assert_eq!(t.first_after(MS), 2);
        assert_eq!(t.first_after(5 * MS), 4);
        assert!(parse_text("2\n1\n", "x").is_err());
        assert!(parse_text("a\n", "x").is_err());
        assert!(Trace::new(&[0, 0]).is_err());
        assert!(Trace::new(&[]).is_err());
    }

    #[test]
    fn serves_full_packets_one_per_opportunity_and_spans_large_ones() {
        let mut s = TraceServer::new(Trace::new(&[1, 1, 3, 5]).unwrap());
        let d: Vec<u64> = (0..6).map(|_| s.serve(0, 1504) / MS).collect();
        assert_eq!(d, vec![1, 1, 3, 5, 6, 6]);
        // Two 752-byte packets share one opportunity.
        let mut s = TraceServer::new(Trace::new(&[2, 4]).unwrap());
        assert_eq!(s.serve(0, 752) / MS, 2);
        assert_eq!(s.serve(0, 752) / MS, 2);
        assert_eq!(s.serve(0, 753) / MS, 4);
        // Idle time wastes opportunities; arrival exactly at an opportunity misses it.
        assert_eq!(s.serve(8 * MS, 100) / MS, 10);
    }
}
