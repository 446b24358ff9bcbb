//! What the twin's applications record: the same events the lab's agents write
//! (src/record/events.ts), so `simulate` summarises them with the lab's own metrics.

use super::plan::Workload;
use crate::config::json::write_str;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub enum Event {
    Send {
        w: u32,
        up: bool,
        c: u32,
        seq: u64,
        t: u64,
        bytes: u64,
    },
    Recv {
        w: u32,
        up: bool,
        c: u32,
        seq: u64,
        t: u64,
        sent: u64,
        bytes: u64,
    },
    Connect {
        w: u32,
        c: u32,
        t: u64,
        connect_ns: u64,
        tls_ns: Option<u64>,
        reconnect: bool,
    },
    Fail {
        w: u32,
        c: u32,
        t: u64,
        connect: bool,
        error: &'static str,
        bytes: Option<u64>,
    },
    /// One direction's RTP over a sampling interval, as a WebRTC stack's getStats says it.
    Rtc {
        w: u32,
        c: u32,
        up: bool,
        from: u64,
        t: u64,
        sent: u64,
        received: u64,
        lost: u64,
        late: u64,
        bytes: u64,
        jitter_ns: u64,
        rtt_ns: Option<u64>,
    },
}

/// Whose events these are: a workload (its index in the plan) and one of its connections.
/// A session records its messages' `send`, `recv` and `fail` through it, so each is
/// stamped in one place the way the lab's agents stamp it.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    pub w: u32,
    pub c: u32,
}

impl Who {
    /// Message `seq`, `bytes` long, handed to the sender's stack at `t`.
    pub fn send(self, up: bool, seq: u64, t: u64, bytes: u64) -> Event {
        Event::Send {
            w: self.w,
            up,
            c: self.c,
            seq,
            t,
            bytes,
        }
    }

    /// Message `seq` (sent at `sent`), whose bytes reached the receiving endpoint at `now`:
    /// its application reads them the workload's stack delay later (`stack_ns`, the time
    /// the lab measured through the endpoints' stacks), and that is what the lab records.
    pub fn recv(self, now: u64, wl: &Workload, up: bool, seq: u64, sent: u64, bytes: u64) -> Event {
        Event::Recv {
            w: self.w,
            up,
            c: self.c,
            seq,
            t: now + wl.stack_ns,
            sent,
            bytes,
        }
    }

    /// The connection failed at `now`: while connecting (`connect`) or carrying data;
    /// `bytes` is what an unfinished transfer had received, where there was one.
    pub fn fail(self, now: u64, connect: bool, error: &'static str, bytes: Option<u64>) -> Event {
        Event::Fail {
            w: self.w,
            c: self.c,
            t: now,
            connect,
            error,
            bytes,
        }
    }
}

const DIR: [&str; 2] = ["down", "up"];

impl Event {
    /// The event as the lab writes it, with the workload's name.
    pub fn write_json(&self, out: &mut String, names: &[String]) {
        let name = |w: &u32| names.get(*w as usize).map_or("", String::as_str);
        match self {
            Event::Send {
                w,
                up,
                c,
                seq,
                t,
                bytes,
            } => {
                out.push_str("{\"ev\":\"send\",\"w\":");
                write_str(out, name(w));
                let _ = write!(
                    out,
                    ",\"dir\":\"{}\",\"c\":{c},\"seq\":{seq},\"t\":{t},\"bytes\":{bytes}}}",
                    DIR[usize::from(*up)]
                );
            }
            Event::Recv {
                w,
                up,
                c,
                seq,
                t,
                sent,
                bytes,
            } => {
                out.push_str("{\"ev\":\"recv\",\"w\":");
                write_str(out, name(w));
                let _ = write!(
                    out,
                    ",\"dir\":\"{}\",\"c\":{c},\"seq\":{seq},\"t\":{t},\"sent\":{sent},\"bytes\":{bytes}}}",
                    DIR[usize::from(*up)]
                );
            }
            Event::Connect {
                w,
                c,
                t,
                connect_ns,
                tls_ns,
                reconnect,
            } => {
                out.push_str("{\"ev\":\"connect\",\"w\":");
                write_str(out, name(w));
                let tls = tls_ns.map_or("null".to_string(), |v| v.to_string());
                let _ = write!(out, ",\"c\":{c},\"t\":{t},\"connect_ns\":{connect_ns},\"tls_ns\":{tls},\"reconnect\":{reconnect}}}");
            }
            Event::Fail {
                w,
                c,
                t,
                connect,
                error,
                bytes,
            } => {
                out.push_str("{\"ev\":\"fail\",\"w\":");
                write_str(out, name(w));
                let stage = if *connect { "connect" } else { "io" };
                let _ = write!(out, ",\"c\":{c},\"t\":{t},\"stage\":\"{stage}\",\"error\":");
                write_str(out, error);
                if let Some(b) = bytes {
                    let _ = write!(out, ",\"bytes\":{b}");
                }
                out.push('}');
            }
            Event::Rtc {
                w,
                c,
                up,
                from,
                t,
                sent,
                received,
                lost,
                late,
                bytes,
                jitter_ns,
                rtt_ns,
            } => {
                // The sender's and the receiver's samples, as two events.
                let dir = DIR[usize::from(*up)];
                out.push_str("{\"ev\":\"rtc\",\"w\":");
                write_str(out, name(w));
                let rtt = rtt_ns.map_or("null".to_string(), |v| format!("{}", v as f64 / 1e9));
                let _ = write!(
                    out,
                    ",\"c\":{c},\"dir\":\"{dir}\",\"side\":\"send\",\"from\":{from},\"t\":{t},\"kind\":\"audio\",\"packets_sent\":{sent},\"target_bitrate_bps\":null,\"rtt_s\":{rtt}}},"
                );
                out.push_str("{\"ev\":\"rtc\",\"w\":");
                write_str(out, name(w));
                // 48 kHz Opus, 20 ms a packet: what was lost or late is concealed.
                let total = (t - from) * 48_000 / 1_000_000_000;
                let concealed = ((lost + late) * 960).min(total);
                let _ = write!(
                    out,
                    ",\"c\":{c},\"dir\":\"{dir}\",\"side\":\"recv\",\"from\":{from},\"t\":{t},\"kind\":\"audio\",\"packets_received\":{received},\"packets_lost\":{lost},\"packets_discarded\":{late},\"bytes_received\":{bytes},\"jitter_s\":{},\"total_samples\":{total},\"concealed_samples\":{concealed},\"concealment_events\":{},\"jitter_buffer_delay_s\":{},\"jitter_buffer_emitted\":{}}}",
                    *jitter_ns as f64 / 1e9,
                    lost + late,
                    // A 60 ms target delay per emitted sample, NetEq's usual floor.
                    (total - concealed) as f64 * 0.06,
                    total - concealed,
                );
            }
        }
    }
}
