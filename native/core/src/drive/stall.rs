//! The forwarding thread's own lateness: how long it was not there when it should have
//! been, so that a stop of the process (Ctrl-Z, SIGSTOP) or a starved CPU is reported as
//! the lab's stall instead of reading as the network's delay.
//!
//! Two observations, both nearly free on the hot path:
//! - A periodic watchdog timer (`WATCHDOG_NS`) in the thread's epoll set. When it is
//!   served, the expirations it counted say how many ticks went by unserved: the first
//!   of them was due `(n - 1) * period + (now - latest tick)` ago. This sees a stop of the
//!   whole process, idle or busy, and a thread that waits for a CPU, with the period as
//!   its resolution. One clock read per tick, none per packet.
//! - With a scenario, a held packet released past its due time: the pipeline's next
//!   wakeup from the previous loop iteration against the clock reading the driver already
//!   takes each iteration (no extra read).
//!
//! A lateness of `EPISODE_NS` or more is an episode `[start, end)` on CLOCK_MONOTONIC;
//! overlapping observations of one stall (the watchdog and a late release both see it)
//! are counted once. Episodes wait in a bounded list until JS takes them (`take_json`,
//! about once a second); the totals are cumulative and go with the lab counters.

use crate::config::json::write_u64;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;

/// The watchdog's period. Each tick is one wakeup (a few microseconds of CPU, 200 a
/// second on an idle lab); a stall shorter than this may fall between two ticks unseen.
pub const WATCHDOG_NS: u64 = 5_000_000;

/// Lateness from which a wake-up is a stall episode. A timerfd wakes 25 us late at the
/// median and 60 us at p99 on an idle machine; a loaded 2-core one reaches ~1 ms at p99.
pub const EPISODE_NS: u64 = 1_000_000;

/// Episodes kept until JS takes them; later ones only count (`dropped`).
const MAX_PENDING: usize = 4096;

/// Shared between the forwarding thread (writes) and JS (reads).
#[derive(Debug, Default)]
pub struct StallLog {
    total_ns: AtomicU64,
    max_ns: AtomicU64,
    count: AtomicU64,
    dropped: AtomicU64,
    /// `[start, end)` pairs, CLOCK_MONOTONIC ns, oldest first.
    pending: Mutex<Vec<(u64, u64)>>,
}

impl StallLog {
    /// Add the stall `[start, end)`; one that continues the last pending episode extends it.
    fn add(&self, start: u64, end: u64) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let full = pending.len() >= MAX_PENDING;
        let length = match pending.last_mut() {
            Some(last) if last.1 == start => {
                last.1 = end;
                end - last.0
            }
            _ if full => {
                self.dropped.fetch_add(1, Relaxed);
                end - start
            }
            _ => {
                pending.push((start, end));
                self.count.fetch_add(1, Relaxed);
                end - start
            }
        };
        drop(pending);
        self.total_ns.fetch_add(end - start, Relaxed);
        self.max_ns.fetch_max(length, Relaxed);
    }

    /// `{"total_ns","max_ns","count","dropped"}`: cumulative since the lab opened.
    pub fn totals_json(&self) -> String {
        let mut out = String::with_capacity(96);
        self.write_totals(&mut out);
        out.push('}');
        out
    }

    fn write_totals(&self, out: &mut String) {
        let fields = [
            ("total_ns", self.total_ns.load(Relaxed)),
            ("max_ns", self.max_ns.load(Relaxed)),
            ("count", self.count.load(Relaxed)),
            ("dropped", self.dropped.load(Relaxed)),
        ];
        out.push('{');
        for (i, (name, n)) in fields.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('"');
            out.push_str(name);
            out.push_str("\":");
            write_u64(out, n);
        }
    }

    /// The totals plus `"episodes":[[start,end],...]`, the episodes not taken before
    /// (they are taken now).
    pub fn take_json(&self) -> String {
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let mut out = String::with_capacity(128 + taken.len() * 44);
        self.write_totals(&mut out);
        out.push_str(",\"episodes\":[");
        for (i, (start, end)) in taken.into_iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            write_u64(&mut out, start);
            out.push(',');
            write_u64(&mut out, end);
            out.push(']');
        }
        out.push_str("]}");
        out
    }
}

/// The forwarding thread's side: turns observations into episodes without counting one
/// stall twice.
#[derive(Debug)]
pub struct Lateness {
    /// Until when (CLOCK_MONOTONIC ns) a stall has been recorded already.
    covered_until: u64,
    /// The watchdog's first expiry; later ones follow every `WATCHDOG_NS`.
    watchdog_first: u64,
}

impl Lateness {
    /// `watchdog_first`: the absolute time the watchdog was armed to fire first.
    pub fn new(watchdog_first: u64) -> Lateness {
        Lateness {
            covered_until: 0,
            watchdog_first,
        }
    }

    /// The thread is running at `now` and should have been since `now - late`.
    #[inline]
    pub fn observe(&mut self, log: &StallLog, now: u64, late: u64) {
        if late < EPISODE_NS {
            return;
        }
        // What an earlier observation covered is that stall; the thread ran since then, and
        // only a new stretch of at least an episode is a stall of its own.
        let start = now.saturating_sub(late).max(self.covered_until);
        if now.saturating_sub(start) < EPISODE_NS {
            return;
        }
        self.covered_until = now;
        log.add(start, now);
    }

    /// The watchdog was served at `now` (read before its counter) with `expirations`
    /// counted since it was last served.
    pub fn watchdog(&mut self, log: &StallLog, now: u64, expirations: u64) {
        if expirations == 0 || now < self.watchdog_first {
            return;
        }
        let latest = self.watchdog_first + (now - self.watchdog_first) / WATCHDOG_NS * WATCHDOG_NS;
        // The first unserved tick; a tick that expired between the clock read and the
        // counter read makes this one period short, never long.
        let late = (now - latest).saturating_add((expirations - 1).saturating_mul(WATCHDOG_NS));
        self.observe(log, now, late);
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::config::json::Value;

    const MS: u64 = 1_000_000;

    fn episodes(log: &StallLog) -> Vec<(u64, u64)> {
        let v = Value::parse(&log.take_json()).unwrap();
        v.get("episodes")
            .and_then(Value::as_array)
            .unwrap()
            .iter()
            .map(|e| {
                let pair = e.as_array().unwrap();
                (
                    pair[0].as_f64().unwrap() as u64,
                    pair[1].as_f64().unwrap() as u64,
                )
            })
            .collect()
    }

    #[test]
    fn a_timely_watchdog_records_nothing() {
        let log = StallLog::default();
        let mut l = Lateness::new(100 * MS);
        // Served 60 us after each tick.
        for k in 0..10 {
            l.watchdog(&log, 100 * MS + k * WATCHDOG_NS + 60_000, 1);
        }
        assert_eq!(episodes(&log), vec![]);
        assert!(log.totals_json().contains("\"count\":0"));
    }

    #[test]
    fn a_stopped_process_is_one_episode_as_long_as_the_stop() {
        let log = StallLog::default();
        let first = 100 * MS;
        let mut l = Lateness::new(first);
        l.watchdog(&log, first + 50_000, 1);
        // Stopped just after the tick at first+5 ms was served; back 2.25 s later: the
        // ticks from first+10 ms on were not served.
        let now = first + 5 * MS + 2250 * MS + 1;
        let latest = first + (now - first) / WATCHDOG_NS * WATCHDOG_NS;
        let n = (latest - (first + 10 * MS)) / WATCHDOG_NS + 1;
        l.watchdog(&log, now, n);
        let e = episodes(&log);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0], (first + 10 * MS, now));
        // The late release of a packet held over the stop is the same stall: not counted again.
        l.observe(&log, now + 20_000, 2200 * MS);
        assert_eq!(episodes(&log), vec![]);
        let t = Value::parse(&log.totals_json()).unwrap();
        assert_eq!(t.get("count").and_then(Value::as_f64), Some(1.0));
        assert_eq!(
            t.get("total_ns").and_then(Value::as_f64),
            Some((now - first - 10 * MS) as f64)
        );
    }

    #[test]
    fn a_late_release_beyond_the_covered_part_extends_the_episode() {
        let log = StallLog::default();
        let mut l = Lateness::new(0);
        l.observe(&log, 10 * MS, 3 * MS);
        l.observe(&log, 12 * MS, 4 * MS); // [8, 12): only [10, 12) is new
        l.observe(&log, 12 * MS + 500_000, 5 * MS); // half a millisecond new: no stall
        assert_eq!(episodes(&log), vec![(7 * MS, 12 * MS)]);
        let t = Value::parse(&log.totals_json()).unwrap();
        assert_eq!(t.get("max_ns").and_then(Value::as_f64), Some(5e6));
        assert_eq!(t.get("total_ns").and_then(Value::as_f64), Some(5e6));
    }

    #[test]
    fn small_lateness_is_no_episode_and_episodes_are_bounded() {
        let log = StallLog::default();
        let mut l = Lateness::new(0);
        l.observe(&log, 5 * MS, EPISODE_NS - 1);
        assert_eq!(episodes(&log), vec![]);
        for k in 0..(MAX_PENDING as u64 + 10) {
            l.observe(&log, (k + 1) * 10 * MS, 2 * MS);
        }
        let t = Value::parse(&log.take_json()).unwrap();
        assert_eq!(t.get("dropped").and_then(Value::as_f64), Some(10.0));
        assert_eq!(
            t.get("episodes")
                .and_then(Value::as_array)
                .map(<[Value]>::len),
            Some(MAX_PENDING)
        );
    }
}
