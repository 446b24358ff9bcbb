//! mahimahi delivery-opportunity traces: one millisecond timestamp per line, each line
//! one opportunity to deliver 1504 bytes; the file loops with a period of its last
//! timestamp. Opportunity k happens at `(k / n) · period + t[k mod n]` ms after time 0
//! of the run. As in mahimahi's LinkQueue, a packet uses only opportunities strictly
//! after its arrival, a packet larger than what is left of an opportunity continues in
//! the next one, and bytes of an opportunity nobody queued for are lost.

//!
//! The core never reads a trace file: the caller (TypeScript, src/scenario/trace-file.ts)
//! reads and checks the file a scenario names and hands over its opportunities run-length
//! encoded, `[ms, count, ms, count, ...]` — a real trace repeats a millisecond once per
//! packet the link carries in it, so memory grows with the trace's length, not its rate.

use crate::config::json::Value;
use crate::error::Error;
use crate::shape::fields::as_u64;

pub const OPPORTUNITY_BYTES: u64 = 1504;
const MS: u64 = 1_000_000;
/// The longest duration a scenario may have (168 h), in ms: times in ns stay far from
/// overflowing.
pub const MAX_TRACE_MS: u64 = 168 * 3600 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    /// Distinct opportunity times within one period, in ns, increasing.
    times: Vec<u64>,
    /// `cum[i]`: opportunities at `times[..=i]`.
    cum: Vec<u64>,
    period: u64,
}

impl Trace {
    /// From one millisecond timestamp per opportunity (the file's lines), as tests write them.
    pub fn new(ms: &[u64]) -> Result<Trace, Error> {
        let mut runs: Vec<u64> = Vec::new();
        for &t in ms {
            match runs.len() {
                n if n >= 2 && runs[n - 2] == t => runs[n - 1] += 1,
                _ => runs.extend([t, 1]),
            }
        }
        Trace::from_runs(&runs)
    }

    /// From `[ms, count, ...]`: times strictly increasing, counts at least 1.
    pub fn from_runs(runs: &[u64]) -> Result<Trace, Error> {
        if !runs.len().is_multiple_of(2) {
            return Err(Error::bad_config("trace runs must be pairs of [ms, count]"));
        }
        let mut times = Vec::with_capacity(runs.len() / 2);
        let mut cum = Vec::with_capacity(runs.len() / 2);
        let mut total = 0u64;
        for (i, pair) in runs.chunks_exact(2).enumerate() {
            let (ms, count) = (pair[0], pair[1]);
            if ms > MAX_TRACE_MS {
                return Err(Error::bad_config(format!(
                    "trace run {i}: at most {MAX_TRACE_MS} ms"
                )));
            }
            if count == 0 || times.last().is_some_and(|&l| ms * MS <= l) {
                return Err(Error::bad_config(format!(
                    "trace run {i}: times must increase and counts be at least 1"
                )));
            }
            total = total.saturating_add(count);
            times.push(ms * MS);
            cum.push(total);
        }
        match times.last() {
            None => Err(Error::bad_config("trace has no delivery opportunities")),
            Some(0) => Err(Error::bad_config(
                "trace must end after 0 ms (it loops on its last timestamp)",
            )),
            Some(&period) => Ok(Trace { times, cum, period }),
        }
    }

    fn per_period(&self) -> u64 {
        self.cum[self.cum.len() - 1]
    }

    pub fn at(&self, k: u64) -> u64 {
        let n = self.per_period();
        let i = self.cum.partition_point(|&c| c <= k % n);
        (k / n) * self.period + self.times[i]
    }

    /// The first opportunity strictly after `t`.
    pub fn first_after(&self, t: u64) -> u64 {
        let cycle = t / self.period;
        let within = t - cycle * self.period;
        let i = self.times.partition_point(|&x| x <= within);
        cycle * self.per_period() + if i == 0 { 0 } else { self.cum[i - 1] }
    }
}

/// The traces a scenario names, by the path its compiled form carries (`trace_file`, the
/// `trace` action's `file`), as the caller read them.
#[derive(Debug, Clone, Default)]
pub struct TraceSet(Vec<(String, Trace)>);

impl TraceSet {
    /// `{ "<path>": [ms, count, ...], ... }`; `null` or absent reads as none.
    pub fn parse(v: Option<&Value>, path: &str) -> Result<TraceSet, Error> {
        let obj = match v {
            None | Some(Value::Null) => return Ok(TraceSet::default()),
            Some(v) => v.as_object().ok_or_else(|| {
                Error::bad_config(format!("{path} must be an object, got {}", v.kind()))
            })?,
        };
        let mut set = Vec::with_capacity(obj.len());
        for (name, runs) in obj {
            let at = format!("{path}[{name:?}]");
            let items = runs.as_array().ok_or_else(|| {
                Error::bad_config(format!("{at} must be an array, got {}", runs.kind()))
            })?;
            let nums = items
                .iter()
                .enumerate()
                .map(|(i, n)| as_u64(n, &format!("{at}[{i}]")))
                .collect::<Result<Vec<u64>, Error>>()?;
            let trace = Trace::from_runs(&nums)
                .map_err(|e| Error::bad_config(format!("{at}: {}", e.message())))?;
            set.push((name.clone(), trace));
        }
        Ok(TraceSet(set))
    }

    pub fn insert(&mut self, name: &str, trace: Trace) {
        self.0.push((name.to_owned(), trace));
    }

    /// The trace for a path the scenario names; an error when the caller sent none.
    pub fn get(&self, name: &str) -> Result<Trace, Error> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.clone())
            .ok_or_else(|| {
                Error::bad_config(format!(
                    "no trace was given for {name:?} (the caller reads the files a scenario names)"
                ))
            })
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
        let t = Trace::new(&[1, 1, 3, 5]).unwrap();
        let ms: Vec<u64> = (0..8).map(|k| t.at(k) / MS).collect();
        assert_eq!(ms, vec![1, 1, 3, 5, 6, 6, 8, 10]);
        assert_eq!(t.first_after(0), 0);
        assert_eq!(t.first_after(MS), 2);
        assert_eq!(t.first_after(5 * MS), 4);
        assert!(Trace::new(&[2, 1]).is_err());
        assert!(Trace::new(&[0, 0]).is_err());
        assert!(Trace::from_runs(&[1, 0, 2, 1]).is_err());
        assert!(Trace::from_runs(&[1, 1, 2]).is_err());
        assert!(Trace::from_runs(&[MAX_TRACE_MS + 1, 1]).is_err());
        assert_eq!(
            Trace::from_runs(&[1, 2, 3, 1, 5, 1]).unwrap(),
            Trace::new(&[1, 1, 3, 5]).unwrap()
        );
        assert!(Trace::new(&[]).is_err());
    }

    #[test]
    fn a_trace_set_is_read_from_json_and_names_what_is_missing() {
        let v = Value::parse(r#"{"/s/a.down":[1,2,3,1],"/s/b.up":[5,1]}"#).unwrap();
        let set = TraceSet::parse(Some(&v), "config.traces").unwrap();
        assert_eq!(
            set.get("/s/a.down").unwrap(),
            Trace::new(&[1, 1, 3]).unwrap()
        );
        let e = set.get("/etc/passwd").unwrap_err();
        assert!(e.message().contains("no trace was given"), "{e}");
        let bad = Value::parse(r#"{"x":[1,-2]}"#).unwrap();
        let e = TraceSet::parse(Some(&bad), "config.traces").unwrap_err();
        assert!(e.message().contains(r#"config.traces["x"][1]"#), "{e}");
        assert!(TraceSet::parse(None, "t").unwrap().get("x").is_err());
    }

    #[test]
    fn a_millisecond_with_a_million_opportunities_costs_one_entry() {
        let t = Trace::from_runs(&[1, 1_000_000, 2, 1]).unwrap();
        assert_eq!(t.times.len(), 2);
        assert_eq!(t.at(999_999) / MS, 1);
        assert_eq!(t.at(1_000_000) / MS, 2);
        assert_eq!(t.at(1_000_001) / MS, 3);
        assert_eq!(t.first_after(MS), 1_000_000);
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
