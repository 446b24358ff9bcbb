//! Per-direction packet counters, written by the forwarding thread and read as snapshots
//! from the JS thread. Relaxed atomics: each counter is independent and a snapshot only
//! needs to be recent, not a consistent cut across counters.

use crate::config::json::write_u64;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Why a packet was not forwarded. The JSON names are part of the TS contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Destination outside the lab prefixes.
    NotLab,
    /// Not a parseable IPv4/IPv6 packet, or a bad virtio-net header.
    Malformed,
    /// Writing into the other TUN failed.
    WriteError,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::NotLab => "not-lab",
            DropReason::Malformed => "malformed",
            DropReason::WriteError => "write-error",
        }
    }
}

/// Counts gathered over one batch on the forwarding thread, then added to the shared
/// atomics at once, so a batch of 64 packets costs 6 atomic adds instead of ~200.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub packets: u64,
    pub bytes: u64,
    pub forwarded: u64,
    pub not_lab: u64,
    pub malformed: u64,
    pub write_error: u64,
}

impl Tally {
    pub fn drop(&mut self, reason: DropReason) {
        match reason {
            DropReason::NotLab => self.not_lab += 1,
            DropReason::Malformed => self.malformed += 1,
            DropReason::WriteError => self.write_error += 1,
        }
    }
}

#[derive(Debug, Default)]
pub struct DirectionCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
    forwarded: AtomicU64,
    not_lab: AtomicU64,
    malformed: AtomicU64,
    write_error: AtomicU64,
}

impl DirectionCounters {
    pub fn add(&self, t: &Tally) {
        for (counter, n) in [
            (&self.packets, t.packets),
            (&self.bytes, t.bytes),
            (&self.forwarded, t.forwarded),
            (&self.not_lab, t.not_lab),
            (&self.malformed, t.malformed),
            (&self.write_error, t.write_error),
        ] {
            if n != 0 {
                counter.fetch_add(n, Relaxed);
            }
        }
    }

    pub fn snapshot(&self) -> Tally {
        Tally {
            packets: self.packets.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            forwarded: self.forwarded.load(Relaxed),
            not_lab: self.not_lab.load(Relaxed),
            malformed: self.malformed.load(Relaxed),
            write_error: self.write_error.load(Relaxed),
        }
    }
}

/// `up` is client → server, `down` is server → client.
#[derive(Debug, Default)]
pub struct Counters {
    pub up: DirectionCounters,
    pub down: DirectionCounters,
    /// The CPU time the forwarding thread has used, as the thread itself last read its
    /// CLOCK_THREAD_CPUTIME_ID (after a wakeup's work, at most once a millisecond):
    /// against the packet and byte counts, what the packet path costs, however busy the
    /// machine is otherwise.
    pub thread_cpu_ns: AtomicU64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub up: Tally,
    pub down: Tally,
}

impl Counters {
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            up: self.up.snapshot(),
            down: self.down.snapshot(),
        }
    }
}

fn write_direction(out: &mut String, t: &Tally) {
    let fields: [(&str, u64); 3] = [
        ("packets", t.packets),
        ("bytes", t.bytes),
        ("forwarded", t.forwarded),
    ];
    out.push('{');
    for (name, n) in fields {
        out.push('"');
        out.push_str(name);
        out.push_str("\":");
        write_u64(out, n);
        out.push(',');
    }
    out.push_str("\"drops\":{");
    let drops = [
        (DropReason::NotLab, t.not_lab),
        (DropReason::Malformed, t.malformed),
        (DropReason::WriteError, t.write_error),
    ];
    for (i, (reason, n)) in drops.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        out.push_str(reason.as_str());
        out.push_str("\":");
        write_u64(out, n);
    }
    out.push_str("}}");
}

impl Snapshot {
    /// Exactly the shape of `LabCounters` in src/native/index.ts.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("{\"up\":");
        write_direction(&mut out, &self.up);
        out.push_str(",\"down\":");
        write_direction(&mut out, &self.down);
        out.push('}');
        out
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::config::json::Value;

    #[test]
    fn json_shape_matches_lab_counters() {
        let c = Counters::default();
        let mut t = Tally {
            packets: 3,
            bytes: 300,
            forwarded: 1,
            ..Tally::default()
        };
        t.drop(DropReason::NotLab);
        t.drop(DropReason::Malformed);
        c.up.add(&t);
        c.down.add(&Tally {
            write_error: 2,
            ..Tally::default()
        });
        let json = c.snapshot().to_json();
        assert_eq!(
            json,
            concat!(
                r#"{"up":{"packets":3,"bytes":300,"forwarded":1,"drops":{"not-lab":1,"malformed":1,"write-error":0}},"#,
                r#""down":{"packets":0,"bytes":0,"forwarded":0,"drops":{"not-lab":0,"malformed":0,"write-error":2}}}"#
            )
        );
        // And it is valid JSON.
        let v = Value::parse(&json).unwrap();
        assert_eq!(
            v.get("down")
                .and_then(|d| d.get("drops"))
                .and_then(|d| d.get("write-error"))
                .and_then(Value::as_f64),
            Some(2.0)
        );
    }

    #[test]
    fn adds_accumulate() {
        let c = DirectionCounters::default();
        let t = Tally {
            packets: 1,
            bytes: 10,
            ..Tally::default()
        };
        c.add(&t);
        c.add(&t);
        assert_eq!(c.snapshot().packets, 2);
        assert_eq!(c.snapshot().bytes, 20);
    }
}
