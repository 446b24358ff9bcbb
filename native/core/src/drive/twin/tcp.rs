//! One TCP endpoint of the twin, in virtual time, as Linux runs it with its defaults: the
//! three-way handshake (SYN retransmitted after 1 s, doubling), an initial window of 10
//! segments, congestion control by ./cc.rs, a SACK scoreboard, loss detection by RACK
//! (a segment sent before one that was delivered, and older than the RTT plus a
//! reordering window of a quarter of the minimum RTT, none once three segments are
//! SACKed above it), fast recovery, tail loss probes (2 SRTT, plus the 200 ms minimum RTO
//! with one segment in flight), the retransmission timeout (SRTT + max(4 RTTVAR, 200 ms),
//! doubling, at most 120 s), delayed ACKs (quick ACKs for the first 16 segments, then an
//! ACK for every second full segment or after 40 ms, at once for data out of order), a
//! receive window that starts at 64 KiB and grows to twice what arrived in a round trip,
//! TSO super-packets of about a millisecond of the sending rate, and pacing when the
//! congestion control asks for it (BBR).
//!
//! Simplified, as documented in docs/architecture.md ("The twin"): no Nagle (the lab's
//! stacks set TCP_NODELAY), no FIN (connections end by the application going away), no
//! D-SACK or undo of spurious retransmissions, no reordering detection, no zero-window
//! probes, delayed ACKs at a fixed 40 ms.

use super::cc::{AckSample, CaState, Cc, CcKind, RateSample};
use super::rtt::Rtt;
use super::wire::{build_segment, read_segment, Addr, SegmentHead};
use crate::shape::packet::Dir;
use crate::wire::packet::Parsed;
use crate::wire::tcp::{ACK, PSH, RST, SYN};
use std::collections::{BTreeMap, VecDeque};

pub const MS: u64 = 1_000_000;

/// Linux's defaults, and the link's MTU.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Payload bytes per segment: MTU − IP − 32 (TCP with timestamps).
    pub mss: u32,
    pub cc: CcKind,
    pub initial_cwnd: u32,
    pub min_rto: u64,
    pub initial_rto: u64,
    pub max_rto: u64,
    pub delack: u64,
    pub quickacks: u32,
    pub initial_rwnd: u64,
    pub max_rwnd: u64,
    /// Segments per TSO super-packet at most (64 KB of payload).
    pub max_tso: u32,
    /// SYN retransmissions before connect() fails (tcp_syn_retries).
    pub syn_retries: u32,
}

impl Params {
    pub fn linux(mtu: u32, ipv6: bool, cc: CcKind) -> Params {
        let ip = if ipv6 { 40 } else { 20 };
        let mss = mtu.saturating_sub(ip + 32).max(64);
        Params {
            mss,
            cc,
            initial_cwnd: 10,
            min_rto: 200 * MS,
            initial_rto: 1000 * MS,
            max_rto: 120_000 * MS,
            delack: 40 * MS,
            quickacks: 16,
            initial_rwnd: 64 * 1024,
            max_rwnd: 16 * 1024 * 1024,
            max_tso: (65_535 - ip - 32) / mss,
            syn_retries: 6,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Idle,
    SynSent,
    SynRcvd,
    Established,
    Closed,
}

/// What an endpoint tells its application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    Established,
    /// Bytes up to this offset of the peer's stream have arrived in order.
    Readable(u64),
    /// The peer has acknowledged this much of our stream.
    Acked(u64),
    /// A RST closed the connection.
    Reset,
    /// connect() gave up: the SYN was never answered.
    TimedOut,
}

/// One segment of the scoreboard (at most one MSS; a super-packet is several).
#[derive(Debug, Clone)]
struct Sent {
    end: u64,
    sent_at: u64,
    /// Which transmission of it is in the time-sorted list (0: none).
    tx: u64,
    ever_retransmitted: bool,
    sacked: bool,
    lost: bool,
    /// Retransmitted since it was last marked lost.
    rtx: bool,
    // Delivery-rate state when it was sent (tcp_rate.c).
    delivered: u64,
    delivered_at: u64,
    first_tx_at: u64,
    app_limited: bool,
}

/// The packets an endpoint sends: (direction, IP bytes), in order.
pub type Out = Vec<(Dir, Vec<u8>)>;

#[derive(Debug)]
pub struct Tcp {
    pub local: Addr,
    pub remote: Addr,
    /// The direction of the packets this endpoint sends.
    pub dir: Dir,
    p: Params,
    pub state: State,
    iss: u32,
    irs: u32,
    // -- sending
    written: u64,
    una: u64,
    nxt: u64,
    sent: BTreeMap<u64, Sent>,
    tsorted: VecDeque<(u64, u64)>,
    tx_serial: u64,
    packets_out: u32,
    sacked_out: u32,
    lost_out: u32,
    retrans_out: u32,
    cc: Cc,
    ca_state: CaState,
    high_seq: u64,
    rtt: Rtt,
    rto: u64,
    backoff: u32,
    rto_at: Option<u64>,
    tlp_at: Option<u64>,
    tlp_high: Option<u64>,
    reo_at: Option<u64>,
    pace_at: u64,
    /// Sending stopped for the pacing: `pace_at` is a deadline.
    pace_wait: bool,
    peer_wnd: u64,
    delivered: u64,
    delivered_at: u64,
    first_tx_at: u64,
    app_limited: u64,
    total_lost: u64,
    rack_xmit: u64,
    rack_end: u64,
    rack_rtt: u64,
    last_send: u64,
    cwnd_limited: bool,
    cwnd_usage_seq: u64,
    max_packets_out: u32,
    syn_sent_at: u64,
    syn_tries: u32,
    // -- receiving
    rcv_nxt: u64,
    ooo: Vec<(u64, u64)>,
    last_ooo: Option<(u64, u64)>,
    rcv_wnd: u64,
    rcv_wup: u64,
    delack_at: Option<u64>,
    quick: u32,
    ts_recent: u32,
    rcv_space: u64,
    rcv_space_seq: u64,
    rcv_space_at: u64,
    /// Stream bytes that are not zeros (a ClientHello, a request line), by offset.
    content: Vec<(u64, Vec<u8>)>,
    /// Packets sent (data, ACKs and retransmissions).
    pub packets_sent: u64,
    pub retransmits: u64,
}

/// Unwrap a 32-bit sequence number to the 64-bit offset nearest `near`.
fn unwrap(seq: u32, base: u32, near: u64) -> Option<u64> {
    let delta = seq.wrapping_sub(base.wrapping_add(near as u32)) as i32;
    let v = near as i64 + i64::from(delta);
    (v >= 0).then_some(v as u64)
}

impl Tcp {
    pub fn new(local: Addr, remote: Addr, dir: Dir, p: Params, iss: u32, seed: u64) -> Tcp {
        Tcp {
            local,
            remote,
            dir,
            p,
            state: State::Idle,
            iss,
            irs: 0,
            written: 0,
            una: 0,
            nxt: 0,
            sent: BTreeMap::new(),
            tsorted: VecDeque::new(),
            tx_serial: 0,
            packets_out: 0,
            sacked_out: 0,
            lost_out: 0,
            retrans_out: 0,
            cc: Cc::new(p.cc, p.initial_cwnd, p.mss, seed),
            ca_state: CaState::Open,
            high_seq: 0,
            rtt: Rtt::NONE,
            rto: p.initial_rto,
            backoff: 0,
            rto_at: None,
            tlp_at: None,
            tlp_high: None,
            reo_at: None,
            pace_at: 0,
            pace_wait: false,
            peer_wnd: p.initial_rwnd,
            delivered: 0,
            delivered_at: 0,
            first_tx_at: 0,
            app_limited: 0,
            total_lost: 0,
            rack_xmit: 0,
            rack_end: 0,
            rack_rtt: 0,
            last_send: 0,
            cwnd_limited: false,
            cwnd_usage_seq: 0,
            max_packets_out: 0,
            syn_sent_at: 0,
            syn_tries: 0,
            rcv_nxt: 0,
            ooo: Vec::new(),
            last_ooo: None,
            rcv_wnd: p.initial_rwnd,
            rcv_wup: 0,
            delack_at: None,
            quick: p.quickacks,
            ts_recent: 0,
            rcv_space: 0,
            rcv_space_seq: 0,
            rcv_space_at: 0,
            content: Vec::new(),
            packets_sent: 0,
            retransmits: 0,
        }
    }

    // ---- what the application sees ---------------------------------------------------

    /// Queue `n` bytes (zeros, or `bytes` when given); returns the stream offset after them.
    pub fn write(&mut self, n: u64, bytes: Option<&[u8]>) -> u64 {
        if let Some(b) = bytes {
            self.content.push((self.written, b.to_vec()));
        }
        self.written += n;
        self.written
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    pub fn una(&self) -> u64 {
        self.una
    }

    pub fn rcv_nxt(&self) -> u64 {
        self.rcv_nxt
    }

    pub fn cwnd(&self) -> u32 {
        self.cc.cwnd()
    }

    pub fn srtt(&self) -> u64 {
        self.rtt.srtt
    }

    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Closed | State::Idle)
    }

    /// The application goes away: nothing more is sent or received.
    pub fn close(&mut self) {
        self.state = State::Closed;
        self.rto_at = None;
        self.tlp_at = None;
        self.reo_at = None;
        self.delack_at = None;
    }

    /// The earliest time this endpoint has something to do.
    pub fn next_deadline(&self) -> Option<u64> {
        if matches!(self.state, State::Closed | State::Idle) {
            return None;
        }
        let pace = self.pace_wait.then_some(self.pace_at);
        [self.rto_at, self.tlp_at, self.reo_at, self.delack_at, pace]
            .into_iter()
            .flatten()
            .min()
    }

    // ---- the handshake ---------------------------------------------------------------

    /// connect(): send the SYN.
    pub fn connect(&mut self, now: u64, out: &mut Out) {
        self.state = State::SynSent;
        self.syn_sent_at = now;
        self.send_syn(now, false, out);
        self.rto_at = Some(now + self.p.initial_rto);
    }

    fn send_syn(&mut self, now: u64, ack: bool, out: &mut Out) {
        let h = SegmentHead {
            seq: self.iss,
            ack: if ack { self.irs.wrapping_add(1) } else { 0 },
            flags: if ack { SYN | ACK } else { SYN },
            window: 64_240,
            ts_val: ts(now),
            ts_ecr: self.ts_recent,
            sacks: Vec::new(),
            mss: Some((self.p.mss + 12) as u16),
        };
        self.emit(&h, 0, 0, out);
    }

    /// A listening server gets a SYN: answer with a SYN-ACK.
    pub fn accept(&mut self, now: u64, h: &SegmentHead, out: &mut Out) {
        self.irs = h.seq;
        self.ts_recent = h.ts_val;
        self.state = State::SynRcvd;
        self.syn_sent_at = now;
        self.send_syn(now, true, out);
        self.rto_at = Some(now + self.p.initial_rto);
    }

    // ---- packets in ------------------------------------------------------------------

    /// A packet for this endpoint has arrived.
    pub fn on_packet(
        &mut self,
        now: u64,
        ip: &[u8],
        p: &Parsed,
        notes: &mut Vec<Note>,
        out: &mut Out,
    ) {
        if matches!(self.state, State::Closed | State::Idle) {
            return;
        }
        // A segment the path corrupted fails its checksum and is dropped, as by a kernel.
        if !super::wire::intact(ip, p) {
            return;
        }
        let Some(h) = read_segment(ip, p) else { return };
        if h.flags & RST != 0 {
            return self.on_rst(&h, notes, out, now);
        }
        match self.state {
            State::SynSent => {
                if h.flags & (SYN | ACK) == SYN | ACK && h.ack == self.iss.wrapping_add(1) {
                    self.irs = h.seq;
                    self.ts_recent = h.ts_val;
                    self.state = State::Established;
                    if self.syn_tries == 0 {
                        self.rtt_sample(now - self.syn_sent_at);
                    }
                    self.rto_at = None;
                    self.backoff = 0;
                    self.peer_wnd = h.window;
                    notes.push(Note::Established);
                    self.send_ack(now, out);
                }
                return;
            }
            State::SynRcvd => {
                if h.flags & SYN != 0 {
                    // The client did not hear our SYN-ACK: say it again.
                    self.send_syn(now, true, out);
                    return;
                }
                if h.flags & ACK == 0 || h.ack != self.iss.wrapping_add(1) {
                    return;
                }
                self.state = State::Established;
                if self.syn_tries == 0 {
                    self.rtt_sample(now - self.syn_sent_at);
                }
                self.rto_at = None;
                self.backoff = 0;
                notes.push(Note::Established);
            }
            _ => {
                if h.flags & SYN != 0 {
                    // A retransmitted SYN-ACK: our ACK was lost.
                    self.send_ack(now, out);
                    return;
                }
            }
        }
        self.ts_recent = h.ts_val;
        if h.flags & ACK != 0 {
            self.on_ack(now, &h, notes);
        }
        let len = p.payload_len() as u64;
        if len > 0 {
            if let Some(off) = unwrap(h.seq, self.irs.wrapping_add(1), self.rcv_nxt) {
                self.on_data(now, off, len, notes, out);
            }
        }
        self.push(now, out);
    }

    fn on_rst(&mut self, h: &SegmentHead, notes: &mut Vec<Note>, out: &mut Out, now: u64) {
        let accept = match self.state {
            State::SynSent => h.flags & ACK != 0 && h.ack == self.iss.wrapping_add(1),
            // RFC 5961: exactly rcv_nxt resets; elsewhere in the window earns a challenge ACK.
            _ => h.seq == self.irs.wrapping_add(1).wrapping_add(self.rcv_nxt as u32),
        };
        if accept {
            self.close();
            notes.push(Note::Reset);
        } else if self.state == State::Established {
            self.send_ack(now, out);
        }
    }

    fn on_data(&mut self, now: u64, off: u64, len: u64, notes: &mut Vec<Note>, out: &mut Out) {
        let end = off + len;
        let mut ack_now = false;
        if end <= self.rcv_nxt {
            // A duplicate: the sender retransmitted what we had; tell it again.
            ack_now = true;
        } else if off <= self.rcv_nxt {
            self.rcv_nxt = end;
            let had_hole = !self.ooo.is_empty();
            while let Some(&(l, r)) = self.ooo.first() {
                if l > self.rcv_nxt {
                    break;
                }
                self.rcv_nxt = self.rcv_nxt.max(r);
                self.ooo.remove(0);
            }
            if had_hole {
                ack_now = true;
            }
            notes.push(Note::Readable(self.rcv_nxt));
            self.grow_rcv_wnd(now);
        } else {
            self.insert_ooo(off, end);
            ack_now = true;
        }
        if self.quick > 0 || self.rcv_nxt - self.rcv_wup > u64::from(self.p.mss) {
            ack_now = true;
        }
        if ack_now {
            self.send_ack(now, out);
        } else if self.delack_at.is_none() {
            self.delack_at = Some(now + self.p.delack);
        }
    }

    fn insert_ooo(&mut self, l: u64, r: u64) {
        let (mut l, mut r) = (l, r);
        self.ooo.retain(|&(a, b)| {
            if b < l || a > r {
                true
            } else {
                l = l.min(a);
                r = r.max(b);
                false
            }
        });
        let at = self.ooo.partition_point(|&(a, _)| a < l);
        self.ooo.insert(at, (l, r));
        self.last_ooo = Some((l, r));
    }

    /// Linux's receive-buffer autotuning, roughly: each round trip, the window becomes
    /// twice what arrived in the last one (plus 16 segments), if that is more.
    fn grow_rcv_wnd(&mut self, now: u64) {
        let rtt = if self.rtt.srtt > 0 {
            self.rtt.srtt
        } else {
            self.rtt.min
        };
        if rtt == u64::MAX || now < self.rcv_space_at + rtt {
            return;
        }
        let copied = self.rcv_nxt - self.rcv_space_seq;
        if copied > self.rcv_space {
            self.rcv_space = copied;
            let want = 2 * copied + 16 * u64::from(self.p.mss);
            self.rcv_wnd = self.rcv_wnd.max(want).min(self.p.max_rwnd);
        }
        self.rcv_space_seq = self.rcv_nxt;
        self.rcv_space_at = now;
    }

    fn sack_blocks(&self) -> Vec<(u32, u32)> {
        let base = self.irs.wrapping_add(1);
        let wire = |(l, r): (u64, u64)| (base.wrapping_add(l as u32), base.wrapping_add(r as u32));
        let mut blocks = Vec::new();
        if let Some(last) = self.last_ooo {
            if let Some(&b) = self.ooo.iter().find(|&&(l, r)| l <= last.0 && last.1 <= r) {
                blocks.push(wire(b));
            }
        }
        for &b in self.ooo.iter().rev() {
            if blocks.len() >= 3 {
                break;
            }
            let w = wire(b);
            if !blocks.contains(&w) {
                blocks.push(w);
            }
        }
        blocks
    }

    // ---- the ACK clock -----------------------------------------------------------------

    fn on_ack(&mut self, now: u64, h: &SegmentHead, notes: &mut Vec<Note>) {
        if self.state != State::Established {
            return;
        }
        let base = self.iss.wrapping_add(1);
        let Some(ack) = unwrap(h.ack, base, self.una) else {
            return;
        };
        if ack > self.nxt {
            return;
        }
        self.peer_wnd = h.window;
        let mut acked = 0u32;
        let mut rs = RateState::default();
        let mut seq_rtt: Option<u64> = None;
        let mut ca_rtt: Option<u64> = None;
        let lost_before = self.total_lost;
        let una_before = self.una;
        // Cumulatively acknowledged.
        while let Some(entry) = self.sent.first_entry() {
            if entry.get().end > ack {
                break;
            }
            let s = entry.remove();
            self.packets_out -= 1;
            if s.sacked {
                self.sacked_out -= 1;
                continue;
            }
            if s.lost {
                self.lost_out -= 1;
            }
            if s.rtx {
                self.retrans_out -= 1;
            }
            acked += 1;
            if !s.ever_retransmitted && seq_rtt.is_none() {
                seq_rtt = Some(now - s.sent_at);
            }
            if !s.ever_retransmitted {
                ca_rtt = Some(now - s.sent_at);
            }
            self.delivered_one(&s, now, &mut rs);
        }
        if ack > self.una {
            self.una = ack;
            self.backoff = 0;
            notes.push(Note::Acked(ack));
        }
        // Selectively acknowledged.
        let mut sack_rtt: Option<u64> = None;
        for &(l, r) in &h.sacks {
            let (Some(l), Some(r)) = (unwrap(l, base, self.una), unwrap(r, base, self.una)) else {
                continue;
            };
            if r <= self.una || r > self.nxt || l >= r {
                continue;
            }
            let keys: Vec<u64> = self
                .sent
                .range(l..r)
                .filter(|(_, s)| s.end <= r && !s.sacked)
                .map(|(&k, _)| k)
                .collect();
            for k in keys {
                let s = self.sent.get_mut(&k).expect("key from range");
                s.sacked = true;
                if s.lost {
                    s.lost = false;
                    self.lost_out -= 1;
                }
                if s.rtx {
                    s.rtx = false;
                    self.retrans_out -= 1;
                }
                let s = s.clone();
                self.sacked_out += 1;
                acked += 1;
                if !s.ever_retransmitted {
                    sack_rtt = Some(sack_rtt.map_or(now - s.sent_at, |v| v.min(now - s.sent_at)));
                }
                self.delivered_one(&s, now, &mut rs);
            }
        }
        if acked > 0 {
            self.delivered_at = now;
        }
        if let Some(rtt) = seq_rtt.or(sack_rtt) {
            self.rtt_sample(rtt);
        }
        // Loss detection and the recovery state.
        if acked > 0 {
            self.rack_detect(now);
        }
        if self.ca_state == CaState::Open && self.lost_out > 0 {
            self.ca_state = CaState::Recovery;
            self.high_seq = self.nxt;
            self.cc.on_recovery();
        } else if self.ca_state != CaState::Open && self.una >= self.high_seq {
            self.ca_state = CaState::Open;
        }
        if self.tlp_high.is_some_and(|t| self.una >= t) {
            self.tlp_high = None;
        }
        if self.app_limited != 0 && self.delivered > self.app_limited {
            self.app_limited = 0;
        }
        if self.una >= self.cwnd_usage_seq {
            self.cwnd_usage_seq = self.nxt;
            self.max_packets_out = self.packets_out;
            self.cwnd_limited = false;
        }
        let rate = rs.sample(self.delivered, now, self.rtt.min);
        let sample = AckSample {
            now,
            acked,
            lost: (self.total_lost - lost_before) as u32,
            rtt: ca_rtt.or(sack_rtt),
            una: self.una,
            nxt: self.nxt,
            inflight: self.inflight(),
            cwnd_limited: self.is_cwnd_limited(),
            state: self.ca_state,
            in_recovery: self.ca_state != CaState::Open,
            rate,
            delivered: self.delivered,
            total_lost: self.total_lost,
            min_rtt: self.rtt.min,
        };
        if acked > 0 || sample.lost > 0 {
            self.cc.on_ack(&sample);
        }
        // Timers: the retransmission timer restarts with new data acknowledged.
        if self.packets_out == 0 {
            self.rto_at = None;
            self.tlp_at = None;
            self.reo_at = None;
        } else if self.una > una_before || acked > 0 {
            self.rto_at = Some(now + self.current_rto());
            self.schedule_tlp(now);
        }
    }

    fn is_cwnd_limited(&self) -> bool {
        if self.cc.in_slow_start() {
            return self.cc.cwnd() < 2 * self.max_packets_out;
        }
        self.cwnd_limited
    }

    fn delivered_one(&mut self, s: &Sent, now: u64, rs: &mut RateState) {
        self.delivered += 1;
        // RACK: the most recently sent segment delivered (a retransmission acknowledged
        // sooner than the minimum RTT may be the original's: not taken).
        let rtt = now - s.sent_at;
        if !(s.ever_retransmitted && rtt < self.rtt.min)
            && (s.sent_at > self.rack_xmit
                || (s.sent_at == self.rack_xmit && s.end > self.rack_end))
        {
            self.rack_xmit = s.sent_at;
            self.rack_end = s.end;
            self.rack_rtt = rtt;
        }
        // tcp_rate_skb_delivered: the sample is taken from the most recently sent.
        if rs.prior_delivered.is_none() || s.sent_at > rs.tx_at {
            rs.prior_delivered = Some(s.delivered);
            rs.prior_at = s.delivered_at;
            rs.app_limited = s.app_limited;
            rs.send_elapsed = s.sent_at - s.first_tx_at;
            rs.tx_at = s.sent_at;
            self.first_tx_at = s.sent_at;
        }
    }

    fn rtt_sample(&mut self, rtt: u64) {
        let rtt = rtt.max(1);
        if self.rtt.sample(rtt) {
            self.cc.on_first_rtt(rtt);
        }
        self.rto = (self.rtt.srtt + (4 * self.rtt.var).max(self.p.min_rto)).min(self.p.max_rto);
    }

    fn current_rto(&self) -> u64 {
        (self.rto << self.backoff.min(16)).min(self.p.max_rto)
    }

    fn inflight(&self) -> u32 {
        self.packets_out - self.sacked_out - self.lost_out + self.retrans_out
    }

    /// RACK: segments sent before the newest delivered one, and unanswered for longer
    /// than its RTT plus the reordering window, are lost.
    fn rack_detect(&mut self, now: u64) {
        if self.rack_xmit == 0 {
            return;
        }
        let reo_wnd = if self.ca_state == CaState::Recovery || self.sacked_out >= 3 {
            0
        } else {
            (self.rtt.min / 4).min(self.rtt.srtt)
        };
        let mut wait: u64 = 0;
        let mut i = 0;
        while i < self.tsorted.len() {
            let (start, tx) = self.tsorted[i];
            let live = self
                .sent
                .get(&start)
                .is_some_and(|s| s.tx == tx && !s.sacked && (s.rtx || !s.lost));
            if !live {
                if i == 0 {
                    self.tsorted.pop_front();
                } else {
                    i += 1;
                }
                continue;
            }
            let s = &self.sent[&start];
            let before = s.sent_at < self.rack_xmit
                || (s.sent_at == self.rack_xmit && s.end < self.rack_end);
            if !before {
                break;
            }
            let due = s.sent_at + self.rack_rtt + reo_wnd;
            if due <= now {
                self.mark_lost(start);
                if i == 0 {
                    self.tsorted.pop_front();
                } else {
                    i += 1;
                }
            } else {
                wait = wait.max(due - now);
                i += 1;
            }
        }
        self.reo_at = (wait > 0).then_some(now + wait);
    }

    fn mark_lost(&mut self, start: u64) {
        let s = self.sent.get_mut(&start).expect("marked segment exists");
        if s.rtx {
            s.rtx = false;
            self.retrans_out -= 1;
        }
        if !s.lost {
            s.lost = true;
            self.lost_out += 1;
        }
        s.tx = 0;
        self.total_lost += 1;
    }

    fn schedule_tlp(&mut self, now: u64) {
        if self.ca_state != CaState::Open || self.packets_out == 0 || self.tlp_high.is_some() {
            self.tlp_at = None;
            return;
        }
        let mut pto = if self.rtt.srtt > 0 {
            2 * self.rtt.srtt
                + if self.packets_out == 1 {
                    self.p.min_rto
                } else {
                    2 * MS
                }
        } else {
            self.p.initial_rto
        };
        if let Some(rto) = self.rto_at {
            pto = pto.min(rto.saturating_sub(now).max(1));
        }
        self.tlp_at = Some(now + pto);
    }

    // ---- timers ------------------------------------------------------------------------

    pub fn on_timer(&mut self, now: u64, notes: &mut Vec<Note>, out: &mut Out) {
        if self.delack_at.is_some_and(|t| t <= now) {
            self.send_ack(now, out);
        }
        if self.reo_at.is_some_and(|t| t <= now) {
            self.reo_at = None;
            self.rack_detect(now);
            if self.ca_state == CaState::Open && self.lost_out > 0 {
                self.ca_state = CaState::Recovery;
                self.high_seq = self.nxt;
                self.cc.on_recovery();
            }
        }
        if self.rto_at.is_some_and(|t| t <= now) {
            self.rto_at = None;
            self.on_rto(now, notes, out);
        } else if self.tlp_at.is_some_and(|t| t <= now) {
            self.tlp_at = None;
            self.send_probe(now, out);
        }
        if self.state == State::Established {
            self.push(now, out);
        }
    }

    fn on_rto(&mut self, now: u64, notes: &mut Vec<Note>, out: &mut Out) {
        match self.state {
            State::SynSent | State::SynRcvd => {
                self.syn_tries += 1;
                if self.state == State::SynSent && self.syn_tries > self.p.syn_retries {
                    self.close();
                    notes.push(Note::TimedOut);
                    return;
                }
                self.send_syn(now, self.state == State::SynRcvd, out);
                self.rto_at = Some(now + (self.p.initial_rto << self.syn_tries.min(16)));
            }
            State::Established if self.packets_out > 0 => {
                // tcp_enter_loss: every unSACKed segment is lost; one goes again.
                let keys: Vec<u64> = self
                    .sent
                    .iter()
                    .filter(|(_, s)| !s.sacked)
                    .map(|(&k, _)| k)
                    .collect();
                for k in keys {
                    self.mark_lost(k);
                }
                self.tsorted.clear();
                self.high_seq = self.nxt;
                self.ca_state = CaState::Loss;
                self.cc
                    .on_rto(now, self.nxt, self.delivered, self.total_lost);
                self.backoff += 1;
                self.rto_at = Some(now + self.current_rto());
                self.tlp_at = None;
                self.tlp_high = None;
            }
            _ => {}
        }
    }

    /// A tail loss probe: new data if the window has room, else the last segment again.
    fn send_probe(&mut self, now: u64, out: &mut Out) {
        if self.packets_out == 0 || self.state != State::Established {
            return;
        }
        if self.written > self.nxt && self.nxt < self.una + self.peer_wnd {
            let len = (self.written - self.nxt).min(u64::from(self.p.mss));
            self.send_new(now, len, out);
        } else if let Some((&k, _)) = self.sent.iter().rev().find(|(_, s)| !s.sacked) {
            self.retransmit(now, k, out);
        }
        self.tlp_high = Some(self.nxt);
        self.rto_at = Some(now + self.current_rto());
    }

    // ---- packets out -------------------------------------------------------------------

    /// Send what the windows and the pacing allow.
    pub fn push(&mut self, now: u64, out: &mut Out) {
        if self.state != State::Established {
            return;
        }
        let paced = self.cc.pacing_rate().is_some();
        self.pace_wait = false;
        loop {
            if paced && now < self.pace_at {
                self.pace_wait = true;
                break;
            }
            let inflight = self.inflight();
            let cwnd = self.cc.cwnd();
            if self.lost_out > self.retrans_out {
                if inflight >= cwnd {
                    self.cwnd_limited = true;
                    break;
                }
                let Some((&k, _)) = self.sent.iter().find(|(_, s)| s.lost && !s.rtx) else {
                    break;
                };
                self.retransmit(now, k, out);
                continue;
            }
            let avail = self.written - self.nxt;
            if avail == 0 {
                if inflight < cwnd && self.app_limited == 0 {
                    self.app_limited = (self.delivered + u64::from(inflight)).max(1);
                }
                break;
            }
            if inflight >= cwnd {
                self.cwnd_limited = true;
                break;
            }
            let wnd_end = self.una + self.peer_wnd;
            if self.nxt >= wnd_end {
                break;
            }
            if self.packets_out == 0 && self.last_send > 0 && now - self.last_send > self.rto {
                self.cc.on_idle_restart(self.p.initial_cwnd);
            }
            let mss = u64::from(self.p.mss);
            let wnd = wnd_end - self.nxt;
            // Sender-side silly-window avoidance (tcp_snd_wnd_test): a full segment waits
            // for the window to hold it whole; only the last bytes go as a short one.
            if wnd < mss.min(avail) {
                break;
            }
            let room = cwnd.saturating_sub(inflight).max(1);
            let segs = u64::from(self.tso_segs().min(room));
            let mut len = avail.min(wnd).min(segs * mss);
            if len < avail && len > mss {
                len -= len % mss;
            }
            self.send_new(now, len, out);
        }
        if self.packets_out > self.max_packets_out {
            self.max_packets_out = self.packets_out;
        }
    }

    /// Segments per super-packet: about a millisecond at the sending rate, at least two
    /// (tcp_tso_autosize; pacing rate 2× cwnd/SRTT in slow start, 1.2× after), one for
    /// BBR below 1.2 Mbit/s.
    fn tso_segs(&self) -> u32 {
        let mss = f64::from(self.p.mss);
        let rate = match self.cc.pacing_rate() {
            Some(r) => r,
            None if self.rtt.srtt > 0 => {
                let gain = if self.cc.in_slow_start() { 2.0 } else { 1.2 };
                gain * f64::from(self.cc.cwnd()) * mss / (self.rtt.srtt as f64 / 1e9)
            }
            None => 0.0,
        };
        // BBR sends single segments below 1.2 Mbit/s (bbr_min_tso_segs); else at least two.
        let floor = match self.cc.pacing_rate() {
            Some(r) if r < 1_200_000.0 / 8.0 => 1,
            _ => 2,
        };
        let segs = (rate / 1024.0 / mss) as u32;
        segs.clamp(floor, self.p.max_tso.max(floor))
    }

    fn rate_fields(&mut self, now: u64) -> (u64, u64, u64, bool) {
        if self.packets_out == 0 {
            self.first_tx_at = now;
            self.delivered_at = now;
        }
        (
            self.delivered,
            self.delivered_at,
            self.first_tx_at,
            self.app_limited != 0,
        )
    }

    fn send_new(&mut self, now: u64, len: u64, out: &mut Out) {
        let (delivered, delivered_at, first_tx_at, app_limited) = self.rate_fields(now);
        let start = self.nxt;
        let mss = u64::from(self.p.mss);
        let mut at = start;
        while at < start + len {
            let end = (at + mss).min(start + len);
            self.tx_serial += 1;
            self.sent.insert(
                at,
                Sent {
                    end,
                    sent_at: now,
                    tx: self.tx_serial,
                    ever_retransmitted: false,
                    sacked: false,
                    lost: false,
                    rtx: false,
                    delivered,
                    delivered_at,
                    first_tx_at,
                    app_limited,
                },
            );
            self.tsorted.push_back((at, self.tx_serial));
            self.packets_out += 1;
            at = end;
        }
        let was_empty = self.rto_at.is_none();
        self.nxt = start + len;
        self.emit_data(now, start, len, out);
        if was_empty {
            self.rto_at = Some(now + self.current_rto());
        }
        if self.packets_out >= self.cc.cwnd() {
            self.cwnd_limited = true;
        }
        self.schedule_tlp(now);
    }

    fn retransmit(&mut self, now: u64, start: u64, out: &mut Out) {
        let (delivered, delivered_at, first_tx_at, app_limited) = self.rate_fields(now);
        self.tx_serial += 1;
        let tx = self.tx_serial;
        let s = self
            .sent
            .get_mut(&start)
            .expect("retransmitted segment exists");
        if s.lost && !s.rtx {
            s.rtx = true;
            self.retrans_out += 1;
        }
        s.sent_at = now;
        s.tx = tx;
        s.ever_retransmitted = true;
        s.delivered = delivered;
        s.delivered_at = delivered_at;
        s.first_tx_at = first_tx_at;
        s.app_limited = app_limited;
        let len = s.end - start;
        self.tsorted.push_back((start, tx));
        self.retransmits += 1;
        self.emit_data(now, start, len, out);
        if self.rto_at.is_none() {
            self.rto_at = Some(now + self.current_rto());
        }
    }

    fn head(&self, now: u64, flags: u8) -> SegmentHead {
        SegmentHead {
            seq: self.iss.wrapping_add(1).wrapping_add(self.nxt as u32),
            ack: self.irs.wrapping_add(1).wrapping_add(self.rcv_nxt as u32),
            flags,
            window: self.rcv_wnd,
            ts_val: ts(now),
            ts_ecr: self.ts_recent,
            sacks: self.sack_blocks(),
            mss: None,
        }
    }

    fn emit_data(&mut self, now: u64, start: u64, len: u64, out: &mut Out) {
        let end = start + len;
        let flags = if end >= self.written { ACK | PSH } else { ACK };
        let mut h = self.head(now, flags);
        h.seq = self.iss.wrapping_add(1).wrapping_add(start as u32);
        self.emit(&h, start, len as usize, out);
        self.acked_now();
        self.last_send = now;
        if let Some(rate) = self.cc.pacing_rate() {
            let bytes = len as f64 + 52.0;
            let gap = (bytes / rate * 1e9) as u64;
            self.pace_at = self.pace_at.max(now) + gap;
        }
    }

    fn send_ack(&mut self, now: u64, out: &mut Out) {
        let h = self.head(now, ACK);
        self.emit(&h, 0, 0, out);
        self.acked_now();
    }

    /// An ACK went out (alone or with data).
    fn acked_now(&mut self) {
        self.delack_at = None;
        if self.rcv_nxt > self.rcv_wup {
            self.quick = self.quick.saturating_sub(1);
        }
        self.rcv_wup = self.rcv_nxt;
    }

    fn emit(&mut self, h: &SegmentHead, start: u64, len: usize, out: &mut Out) {
        let mut b = Vec::with_capacity(len + 80);
        let content = &self.content;
        build_segment(&mut b, self.local, self.remote, h, len, |d| {
            for (at, bytes) in content {
                let (a, e) = (*at, at + bytes.len() as u64);
                let (lo, hi) = (a.max(start), e.min(start + len as u64));
                if lo < hi {
                    d[(lo - start) as usize..(hi - start) as usize]
                        .copy_from_slice(&bytes[(lo - a) as usize..(hi - a) as usize]);
                }
            }
        });
        self.packets_sent += 1;
        out.push((self.dir, b));
    }
}

/// The timestamp option's clock: milliseconds, as Linux's default.
fn ts(now: u64) -> u32 {
    (now / MS) as u32
}

/// What the segments one ACK delivered say about the delivery rate (tcp_rate_gen).
#[derive(Debug, Default)]
struct RateState {
    prior_delivered: Option<u64>,
    prior_at: u64,
    app_limited: bool,
    send_elapsed: u64,
    tx_at: u64,
}

impl RateState {
    fn sample(&self, delivered: u64, now: u64, min_rtt: u64) -> Option<RateSample> {
        let prior = self.prior_delivered?;
        let ack_elapsed = now - self.prior_at;
        let interval = self.send_elapsed.max(ack_elapsed);
        // A sample shorter than the minimum RTT is a burst of ACKs, not a rate.
        if min_rtt != u64::MAX && interval < min_rtt {
            return None;
        }
        Some(RateSample {
            delivered: delivered - prior,
            interval,
            app_limited: self.app_limited,
            prior_delivered: prior,
        })
    }
}
