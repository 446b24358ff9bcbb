//! Passive per-flow metrics: what every flow that crosses the lab lived, measured from
//! its packets alone, whoever sent them (qoslab's own workloads or any program).
//!
//! The pipeline calls the meter at three points of the packet path: where a packet
//! enters (before shaping: what its sender sent), where it leaves (after shaping: what
//! reached the other end, and when), and where the lab drops it (with the reason). From
//! these: per-direction packets, bytes and goodput; for TCP the handshake and RTT as each
//! end lives them, retransmissions, stalls and FIN/RST with who sent them (tcp.rs); TLS
//! and QUIC handshake times (hello.rs); RTP loss and jitter (rtp.rs); and the classes,
//! policies and actions the flow met with its drops by reason.
//!
//! The meter is a side table indexed like the flow table's slots (a flow id tells a
//! reused slot from its earlier flow), so `Flow` stays within its memory budget and a
//! lab without metrics pays one branch per packet. Records are cumulative; the driver
//! publishes snapshots of the flows that changed (`write_json`), and the orchestrator
//! makes per-second series from the differences. A flow whose slot is freed (idle,
//! evicted) leaves its final record for the next snapshot.

pub mod hello;
pub mod rtp;
pub mod tcp;

use super::flow::{Flow, FlowKey};
use super::packet::Dir;
use super::Reason;
use crate::config::json::{write_str, write_u64};
use crate::wire::packet::{Parsed, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::wire::tcp::{ACK, RST};
use hello::Hello;
use rtp::RtpDir;
use std::fmt::Write;
use tcp::{Handshake, Segment, TcpDir, NONE};

/// Default stall threshold: data outstanding and no acknowledgement for this long.
pub const DEFAULT_STALL_NS: u64 = 1_000_000_000;
/// Ended flows kept for the next snapshot at most; beyond, they are counted as lost.
const MAX_ENDED: usize = 65_536;
/// What one metered flow may cost (the record, its slot pointer excluded); a unit test
/// holds `FlowMeter` to it. RTP streams and drops live out of line. (528: each TCP
/// direction keeps the receiver's acknowledgement and its sender's FIN for goodput.)
pub const METER_BYTES_BUDGET: usize = 528;

type Drops = [[u32; Reason::ALL.len()]; 2];

/// Packets and bytes of one direction, as they entered and as they left the lab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirCount {
    pub packets_in: u64,
    /// IP bytes as read (a GSO super-packet's headers count once).
    pub bytes_in: u64,
    pub packets_out: u64,
    pub bytes_out: u64,
    /// Payload bytes delivered: UDP, every datagram's that left the lab; TCP, each byte
    /// once the receiver acknowledged it in order, however often it was sent.
    pub goodput_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct FlowMeter {
    pub id: u64,
    pub key: FlowKey,
    pub client_opened: bool,
    pub first_ns: u64,
    pub last_ns: u64,
    pub classes: u64,
    /// Policies and actions (bit = index; actions past 63 are not recorded) that applied.
    pub policies: u64,
    pub actions: u64,
    pub dirs: [DirCount; 2],
    pub tcp: [TcpDir; 2],
    pub handshake: Handshake,
    pub hello: Hello,
    /// First RST the lab forged on this flow (`reset`).
    pub lab_rst_ns: u64,
    pub rtp: Option<Box<[RtpDir; 2]>>,
    pub drops: Option<Box<Drops>>,
    /// Changed since the last snapshot.
    dirty: bool,
}

impl FlowMeter {
    fn new(f: &Flow, now: u64) -> FlowMeter {
        FlowMeter {
            id: f.id,
            key: f.key,
            client_opened: f.client_opened,
            first_ns: now,
            last_ns: now,
            classes: f.classes,
            policies: 0,
            actions: 0,
            dirs: [DirCount::default(); 2],
            tcp: [TcpDir::default(); 2],
            handshake: Handshake::default(),
            hello: Hello::default(),
            lab_rst_ns: NONE,
            rtp: None,
            drops: None,
            dirty: true,
        }
    }

    fn opener(&self) -> Dir {
        if self.client_opened {
            Dir::Up
        } else {
            Dir::Down
        }
    }

    /// DNS (53, mDNS 5353) is never RTP: a query's random ID passes RTP's first-byte test
    /// one time in four, and would read as streams with heavy "loss".
    fn may_carry_rtp(&self) -> bool {
        ![53, 5353].contains(&self.key.server_port) && ![53, 5353].contains(&self.key.client_port)
    }

    fn reset(&self) -> bool {
        self.lab_rst_ns != NONE || self.tcp.iter().any(|d| d.rst_ns != NONE)
    }

    fn check_stalls(&mut self, now: u64, threshold: u64) {
        if self.key.proto != PROTO_TCP {
            return;
        }
        let reset = self.reset();
        for d in &mut self.tcp {
            let was = d.stalled();
            d.check_stall(now, threshold, reset);
            self.dirty |= d.stalled() != was;
        }
    }
}

fn tcp_segment(p: &Parsed) -> Option<Segment> {
    p.tcp.map(|t| Segment {
        seq: t.seq,
        ack: t.ack,
        flags: t.flags,
        payload: p.payload_len() as u32,
    })
}

fn payload<'a>(p: &Parsed, ip: &'a [u8]) -> &'a [u8] {
    ip.get(p.payload..p.end).unwrap_or(&[])
}

pub struct Meter {
    slots: Vec<Option<Box<FlowMeter>>>,
    ended: Vec<FlowMeter>,
    stall_ns: u64,
    /// Ended flows whose record was not kept (nobody took snapshots).
    lost_records: u64,
}

/// Names a snapshot needs from the pipeline, and whether a flow is still in the table.
pub struct View<'a> {
    pub classes: &'a [String],
    pub policies: &'a [String],
    pub live: &'a dyn Fn(u32, u64) -> bool,
}

impl Meter {
    pub fn new(stall_ns: u64) -> Meter {
        Meter {
            slots: Vec::new(),
            ended: Vec::new(),
            stall_ns,
            lost_records: 0,
        }
    }

    fn finish(&mut self, m: Box<FlowMeter>) {
        if self.ended.len() < MAX_ENDED {
            self.ended.push(*m);
        } else {
            self.lost_records += 1;
        }
    }

    /// The meter of the flow in `slot`, made (or remade, for a new flow in a reused
    /// slot) from the flow itself.
    fn entry(&mut self, slot: u32, f: &Flow, now: u64) -> &mut FlowMeter {
        let i = slot as usize;
        if i >= self.slots.len() {
            self.slots.resize_with(i + 1, || None);
        }
        let stale = self.slots[i].as_ref().is_some_and(|m| m.id != f.id);
        if stale {
            if let Some(old) = self.slots[i].take() {
                self.finish(old);
            }
        }
        self.slots[i].get_or_insert_with(|| Box::new(FlowMeter::new(f, now)))
    }

    fn get(&mut self, slot: u32, id: u64) -> Option<&mut FlowMeter> {
        self.slots
            .get_mut(slot as usize)?
            .as_deref_mut()
            .filter(|m| m.id == id)
    }

    /// A packet of flow `f` (in `slot`) entered the lab; `segments`: how many packets a
    /// GSO super-packet stands for.
    #[allow(clippy::too_many_arguments)]
    pub fn entered(
        &mut self,
        slot: u32,
        f: &Flow,
        p: &Parsed,
        ip: &[u8],
        dir: Dir,
        now: u64,
        segments: u64,
    ) {
        let stall_ns = self.stall_ns;
        let m = self.entry(slot, f, now);
        let d = dir.index();
        m.dirty = true;
        m.last_ns = now;
        m.classes = f.classes;
        m.dirs[d].packets_in += segments;
        m.dirs[d].bytes_in += p.end as u64;
        let from_opener = dir == m.opener();
        if let Some(s) = tcp_segment(p) {
            m.handshake.sent(s.flags, d, now);
            m.tcp[d].sent(&s, now);
            // The receiver's cumulative acknowledgement, as it sent it: the other
            // direction's goodput (an RST's acknowledgement number says nothing).
            if s.flags & ACK != 0 && s.flags & RST == 0 {
                let o = dir.other().index();
                m.dirs[o].goodput_bytes += m.tcp[o].received(s.ack);
            }
            m.hello.sent(true, from_opener, payload(p, ip), now);
            m.check_stalls(now, stall_ns);
        } else if p.proto == PROTO_UDP {
            let body = payload(p, ip);
            m.hello.sent(false, from_opener, body, now);
            if let Some(h) = rtp::header(body).filter(|_| m.may_carry_rtp()) {
                m.rtp.get_or_insert_with(Box::default)[d].sent(&h);
            }
        }
    }

    /// A packet left the lab toward the other end; `injected`: forged by the lab (`reset`).
    #[allow(clippy::too_many_arguments)]
    pub fn left(
        &mut self,
        slot: u32,
        id: u64,
        p: &Parsed,
        ip: &[u8],
        dir: Dir,
        now: u64,
        segments: u64,
        injected: bool,
    ) {
        let Some(m) = self.get(slot, id) else {
            return;
        };
        let d = dir.index();
        m.dirty = true;
        m.last_ns = m.last_ns.max(now);
        m.dirs[d].packets_out += segments;
        m.dirs[d].bytes_out += p.end as u64;
        if let Some(s) = tcp_segment(p) {
            if injected {
                if s.flags & RST != 0 && m.lab_rst_ns == NONE {
                    m.lab_rst_ns = now;
                }
                return;
            }
            m.handshake.delivered(s.flags, d, now);
            if s.flags & ACK != 0 {
                m.tcp[dir.other().index()].acked(s.ack, now);
            }
            let to_opener = dir != m.opener();
            m.hello.delivered(to_opener, payload(p, ip), now);
        } else if p.proto == PROTO_UDP {
            let body = payload(p, ip);
            m.dirs[d].goodput_bytes += body.len() as u64;
            if let (Some(h), Some(r)) = (rtp::header(body), m.rtp.as_deref_mut()) {
                r[d].received(&h, now);
            }
        }
    }

    /// The lab dropped `n` packets of the flow, for `r`.
    pub fn dropped(&mut self, slot: u32, id: u64, dir: Dir, r: Reason, n: u64) {
        if let Some(m) = self.get(slot, id) {
            m.dirty = true;
            let drops = m.drops.get_or_insert_with(Box::default);
            let c = &mut drops[dir.index()][r.index()];
            *c = c.saturating_add(n.min(u64::from(u32::MAX)) as u32);
        }
    }

    /// Action `action` of policy `policy` saw a packet of the flow.
    pub fn met(&mut self, slot: u32, id: u64, policy: usize, action: usize) {
        if let Some(m) = self.get(slot, id) {
            m.policies |= 1u64 << (policy & 63);
            if action < 64 {
                m.actions |= 1u64 << action;
            }
        }
    }

    /// The snapshot: `{"t","clock_base_ns","lost_records","flows":[…]}` with every flow
    /// that changed since the last one (every live flow with `all`), and the final record
    /// of every flow that ended; stall thresholds are checked at `now` first.
    pub fn write_json(&mut self, out: &mut String, now: u64, base: u64, all: bool, v: &View<'_>) {
        let _ = write!(
            out,
            "{{\"t\":{now},\"clock_base_ns\":{base},\"lost_records\":{},\"flows\":[",
            self.lost_records
        );
        let mut first = true;
        let stall_ns = self.stall_ns;
        for slot in 0..self.slots.len() {
            let Some(id) = self.slots[slot].as_ref().map(|m| m.id) else {
                continue;
            };
            if !(v.live)(slot as u32, id) {
                if let Some(old) = self.slots[slot].take() {
                    self.finish(old);
                }
                continue;
            }
            let Some(m) = self.slots[slot].as_deref_mut() else {
                continue;
            };
            m.check_stalls(now, stall_ns);
            if m.dirty || all {
                m.dirty = false;
                if !first {
                    out.push(',');
                }
                first = false;
                write_flow(out, m, now, true, v);
            }
        }
        for m in std::mem::take(&mut self.ended) {
            if !first {
                out.push(',');
            }
            first = false;
            write_flow(out, &m, now, false, v);
        }
        out.push_str("]}");
    }
}

fn opt(out: &mut String, key: &str, v: Option<u64>) {
    let _ = write!(out, ",\"{key}\":");
    match v {
        Some(n) => write_u64(out, n),
        None => out.push_str("null"),
    }
}

fn time(out: &mut String, key: &str, t: u64) {
    opt(out, key, (t != NONE).then_some(t));
}

fn names(out: &mut String, key: &str, bits: u64, names: &[String]) {
    let _ = write!(out, ",\"{key}\":[");
    let mut first = true;
    for (i, n) in names.iter().enumerate().take(64) {
        if bits & (1u64 << i) != 0 {
            if !first {
                out.push(',');
            }
            first = false;
            write_str(out, n);
        }
    }
    out.push(']');
}

fn proto_name(p: u8) -> Option<&'static str> {
    match p {
        PROTO_TCP => Some("tcp"),
        PROTO_UDP => Some("udp"),
        PROTO_ICMP | PROTO_ICMPV6 => Some("icmp"),
        _ => None,
    }
}

fn write_dir(out: &mut String, m: &FlowMeter, d: usize, now: u64) {
    let c = &m.dirs[d];
    let tcp = m.key.proto == PROTO_TCP;
    let t = &m.tcp[d];
    let _ = write!(
        out,
        "{{\"packets_in\":{},\"bytes_in\":{},\"packets_out\":{},\"bytes_out\":{},\"goodput_bytes\":{},\"drops\":{{",
        c.packets_in, c.bytes_in, c.packets_out, c.bytes_out, c.goodput_bytes
    );
    if let Some(drops) = &m.drops {
        let mut first = true;
        for r in Reason::ALL {
            let n = drops[d][r.index()];
            if n > 0 {
                if !first {
                    out.push(',');
                }
                first = false;
                write_str(out, r.as_str());
                out.push(':');
                write_u64(out, u64::from(n));
            }
        }
    }
    out.push('}');
    if tcp {
        let _ = write!(
            out,
            ",\"retransmits\":{},\"retransmit_bytes\":{},\"rtt\":{{\"n\":{},\"sum_ns\":{},\"min_ns\":{},\"max_ns\":{}}},\"stalls\":{},\"stalled_ns\":{},\"stalled\":{}",
            t.retransmits,
            t.retransmit_bytes,
            t.rtt_n,
            t.rtt_sum_ns,
            t.rtt_min_ns,
            t.rtt_max_ns,
            t.stalls,
            t.stalled_ns(now),
            t.stalled()
        );
        time(out, "fin_ns", t.fin_ns);
        time(out, "rst_ns", t.rst_ns);
    }
    if let Some(rtp) = &m.rtp {
        let r = &rtp[d];
        let _ = write!(out, ",\"rtp_other\":{},\"rtp\":[", r.other);
        for (i, s) in r.streams.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"ssrc\":{},\"sent\":{},\"received\":{},\"expected\":{},\"lost\":{},\"clock_hz\":{}",
                s.ssrc,
                s.sent,
                s.received,
                s.expected(),
                s.lost(),
                s.rate
            );
            opt(out, "jitter_ns", s.jitter_ns().map(|j| j.round() as u64));
            out.push('}');
        }
        out.push(']');
    }
    out.push('}');
}

fn write_flow(out: &mut String, m: &FlowMeter, now: u64, live: bool, v: &View<'_>) {
    let k = &m.key;
    let _ = write!(out, "{{\"id\":{},\"proto\":", m.id);
    match proto_name(k.proto) {
        Some(n) => write_str(out, n),
        None => write_u64(out, u64::from(k.proto)),
    }
    out.push_str(",\"client\":");
    write_str(out, &k.client.to_string());
    let _ = write!(out, ",\"client_port\":{},\"server\":", k.client_port);
    write_str(out, &k.server.to_string());
    let _ = write!(
        out,
        ",\"server_port\":{},\"opened_by\":\"{}\",\"first_ns\":{},\"last_ns\":{},\"live\":{live}",
        k.server_port,
        if m.client_opened { "client" } else { "server" },
        m.first_ns,
        m.last_ns
    );
    names(out, "classes", m.classes, v.classes);
    names(out, "policies", m.policies, v.policies);
    out.push_str(",\"actions\":[");
    let mut first = true;
    for a in 0..64 {
        if m.actions & (1u64 << a) != 0 {
            if !first {
                out.push(',');
            }
            first = false;
            write_u64(out, a);
        }
    }
    out.push_str("],\"up\":");
    write_dir(out, m, 0, now);
    out.push_str(",\"down\":");
    write_dir(out, m, 1, now);
    if k.proto == PROTO_TCP {
        let h = &m.handshake;
        out.push_str(",\"tcp\":{");
        let _ = write!(out, "\"syn_by\":");
        if h.syn_ns == NONE {
            out.push_str("null");
        } else {
            write_str(out, if h.syn_dir == 0 { "client" } else { "server" });
        }
        time(out, "syn_ns", h.syn_ns);
        opt(out, "handshake_ns", h.opener_ns());
        opt(out, "accept_handshake_ns", h.accepter_ns());
        time(out, "lab_rst_ns", m.lab_rst_ns);
        out.push('}');
    }
    let hl = &m.hello;
    if hl.client_hello_ns != NONE {
        out.push_str(",\"tls\":{\"client_hello_ns\":");
        write_u64(out, hl.client_hello_ns);
        time(out, "server_hello_ns", hl.server_hello_ns);
        time(out, "app_data_ns", hl.app_data_ns);
        out.push('}');
    }
    if hl.quic_initial_ns != NONE {
        out.push_str(",\"quic\":{\"initial_ns\":");
        write_u64(out, hl.quic_initial_ns);
        time(out, "one_rtt_ns", hl.quic_1rtt_ns);
        out.push('}');
    }
    out.push('}');
}

#[cfg(test)]
mod tests;
