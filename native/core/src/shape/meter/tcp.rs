//! One direction of a TCP flow as its sender lives it, read passively from both ends of
//! the lab: what the sender sent is seen where it enters the lab (before shaping), what
//! reached the receiver and which acknowledgements reached the sender are seen where they
//! leave it (after shaping). So an RTT sample here is the round trip the sender's own
//! stack measures, the lab's delays and losses included, less the TUN hop (microseconds).
//!
//! - **RTT**: one segment timed at a time, as classic TCP does (RFC 6298): the first new
//!   data while nothing is timed starts a sample; the first acknowledgement covering its
//!   end that reaches the sender ends it. A retransmission while timing cancels the
//!   sample (Karn's rule), so no sample ever mixes an original with its retransmission.
//! - **Retransmissions**: data segments that start before the highest sequence number the
//!   sender had sent; their bytes are the part already sent once.
//! - **Goodput**: payload bytes the receiver has in order, read from its own cumulative
//!   acknowledgement as it enters the lab: each byte once, however often it was sent and
//!   however many holes a policer's drops left at once (SYN and FIN take no payload).
//! - **Stalls**: data outstanding (sent, not acknowledged to the sender) and no
//!   acknowledgement advancing for at least the stall threshold; the stall lasts from the
//!   last progress until the next one.

/// An unset time.
pub const NONE: u64 = u64::MAX;

/// `a` is after `b` in sequence space (RFC 1982 arithmetic).
pub fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpDir {
    /// Highest sequence number the sender sent (one past its last byte, SYN and FIN
    /// counting one), as it entered the lab; valid once `sent_seen`.
    sent_end: u32,
    sent_seen: bool,
    /// The sender sent payload at least once (only data can stall).
    data_seen: bool,
    /// The highest cumulative acknowledgement the receiver sent (as it entered the lab):
    /// everything before it the receiver has; valid once `received_seen`.
    received: u32,
    received_seen: bool,
    /// The sequence number of the sender's FIN (valid once `fin_ns` is set).
    fin_seq: u32,
    /// The highest acknowledgement that reached the sender; valid once `acked_seen`.
    acked: u32,
    acked_seen: bool,
    /// The timed segment's end and when it entered the lab (`NONE`: nothing timed).
    timed_end: u32,
    timed_at: u64,
    /// Last progress (an acknowledgement advancing, or data starting to be outstanding).
    progress_at: u64,
    /// When the stall in progress began (`NONE`: none).
    stall_from: u64,
    pub retransmits: u32,
    pub retransmit_bytes: u64,
    /// Round-trip samples: count, sum and extremes in ns (flat, not a struct of their
    /// own, so the count shares a word with the other 32-bit fields: see the meter's
    /// budget).
    pub rtt_n: u32,
    pub rtt_sum_ns: u64,
    pub rtt_min_ns: u64,
    pub rtt_max_ns: u64,
    pub stalls: u32,
    /// Time spent in stalls that have ended.
    stalled_ns: u64,
    /// First FIN and first RST the sender sent (`NONE`: none).
    pub fin_ns: u64,
    pub rst_ns: u64,
}

impl Default for TcpDir {
    fn default() -> TcpDir {
        TcpDir {
            sent_end: 0,
            sent_seen: false,
            data_seen: false,
            received: 0,
            received_seen: false,
            fin_seq: 0,
            acked: 0,
            acked_seen: false,
            timed_end: 0,
            timed_at: NONE,
            progress_at: 0,
            stall_from: NONE,
            retransmits: 0,
            retransmit_bytes: 0,
            rtt_n: 0,
            rtt_sum_ns: 0,
            rtt_min_ns: 0,
            rtt_max_ns: 0,
            stalls: 0,
            stalled_ns: 0,
            fin_ns: NONE,
            rst_ns: NONE,
        }
    }
}

/// What a segment says, as the meter needs it.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub payload: u32,
}

use crate::wire::tcp::{ACK, FIN, RST, SYN};

impl Segment {
    /// One past its last sequence number (SYN and FIN take one each).
    fn end(&self) -> u32 {
        let ctl = u32::from(self.flags & SYN != 0) + u32::from(self.flags & FIN != 0);
        self.seq.wrapping_add(self.payload).wrapping_add(ctl)
    }
}

impl TcpDir {
    /// Data is outstanding: sent, not yet acknowledged to the sender.
    fn outstanding(&self) -> bool {
        self.data_seen && self.sent_seen && self.acked_seen && after(self.sent_end, self.acked)
    }

    /// A segment of this direction entered the lab (the sender sent it).
    pub fn sent(&mut self, s: &Segment, now: u64) {
        if s.flags & RST != 0 && self.rst_ns == NONE {
            self.rst_ns = now;
        }
        let end = s.end();
        if s.flags & FIN != 0 && self.fin_ns == NONE {
            self.fin_ns = now;
            self.fin_seq = end.wrapping_sub(1);
        }
        if !self.sent_seen {
            self.sent_seen = true;
            self.sent_end = end;
            if s.payload > 0 {
                self.data_seen = true;
                self.progress_at = now;
                self.timed_end = end;
                self.timed_at = now;
            }
            return;
        }
        let was_outstanding = self.outstanding();
        let resent = s.payload > 0 && after(self.sent_end, s.seq);
        if resent {
            self.retransmits += 1;
            let resent_end = if after(end, self.sent_end) {
                self.sent_end
            } else {
                end
            };
            self.retransmit_bytes += u64::from(resent_end.wrapping_sub(s.seq));
            // Karn: an acknowledgement could now be for either copy.
            self.timed_at = NONE;
        }
        if after(end, self.sent_end) {
            self.sent_end = end;
            if s.payload > 0 {
                self.data_seen = true;
                // Karn: a segment carrying old bytes is never timed.
                if self.timed_at == NONE && !resent {
                    self.timed_end = end;
                    self.timed_at = now;
                }
            }
        }
        if !was_outstanding && self.outstanding() {
            self.progress_at = now;
        }
    }

    /// The receiver sent cumulative acknowledgement `ack` (it entered the lab); returns how
    /// many payload bytes it newly has in order (goodput). The first one seen is the base
    /// (the SYN's acknowledgement, or mid-flow where metering began); the FIN's sequence
    /// number is not payload.
    pub fn received(&mut self, ack: u32) -> u64 {
        if !self.received_seen {
            self.received_seen = true;
            self.received = ack;
            return 0;
        }
        if !after(ack, self.received) {
            return 0;
        }
        let mut n = u64::from(ack.wrapping_sub(self.received));
        if self.fin_ns != NONE && !after(self.received, self.fin_seq) && after(ack, self.fin_seq) {
            n -= 1;
        }
        self.received = ack;
        n
    }

    /// An acknowledgement for this direction's data reached the sender.
    pub fn acked(&mut self, ack: u32, now: u64) {
        if !self.acked_seen || after(ack, self.acked) {
            self.acked_seen = true;
            self.acked = ack;
            if self.stall_from != NONE {
                self.stalled_ns += now.saturating_sub(self.stall_from);
                self.stall_from = NONE;
            }
            self.progress_at = now;
        }
        if self.timed_at != NONE && self.acked_seen && !after(self.timed_end, self.acked) {
            self.add_rtt(now.saturating_sub(self.timed_at));
            self.timed_at = NONE;
        }
    }

    fn add_rtt(&mut self, ns: u64) {
        self.rtt_min_ns = if self.rtt_n == 0 {
            ns
        } else {
            self.rtt_min_ns.min(ns)
        };
        self.rtt_max_ns = self.rtt_max_ns.max(ns);
        self.rtt_n += 1;
        self.rtt_sum_ns += ns;
    }

    /// Open a stall if data has been outstanding without progress for `threshold`. A
    /// reset direction does not stall (nothing more will come).
    pub fn check_stall(&mut self, now: u64, threshold: u64, reset: bool) {
        if self.stall_from == NONE
            && !reset
            && self.outstanding()
            && now.saturating_sub(self.progress_at) >= threshold
        {
            self.stall_from = self.progress_at;
            self.stalls += 1;
        }
    }

    /// Time stalled by `now`, the stall in progress included.
    pub fn stalled_ns(&self, now: u64) -> u64 {
        let open = if self.stall_from == NONE {
            0
        } else {
            now.saturating_sub(self.stall_from)
        };
        self.stalled_ns + open
    }

    /// Whether a stall is in progress.
    pub fn stalled(&self) -> bool {
        self.stall_from != NONE
    }
}

/// A flow's TCP handshake, timed on both sides of the lab: the opener's (its SYN entering
/// → the SYN/ACK leaving toward it: what its `connect()` waits) and the accepter's (its
/// SYN/ACK entering → the opener's ACK leaving toward it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    pub syn_ns: u64,
    pub synack_in_ns: u64,
    pub synack_out_ns: u64,
    pub ack_out_ns: u64,
    /// Direction index of the SYN (0: up, the client opened).
    pub syn_dir: u8,
}

impl Default for Handshake {
    fn default() -> Handshake {
        Handshake {
            syn_ns: NONE,
            synack_in_ns: NONE,
            synack_out_ns: NONE,
            ack_out_ns: NONE,
            syn_dir: 0,
        }
    }
}

impl Handshake {
    pub fn sent(&mut self, flags: u8, dir: usize, now: u64) {
        if flags & SYN != 0 && flags & ACK == 0 && self.syn_ns == NONE {
            self.syn_ns = now;
            self.syn_dir = dir as u8;
        } else if flags & (SYN | ACK) == SYN | ACK
            && self.syn_ns != NONE
            && dir != usize::from(self.syn_dir)
            && self.synack_in_ns == NONE
        {
            self.synack_in_ns = now;
        }
    }

    pub fn delivered(&mut self, flags: u8, dir: usize, now: u64) {
        if self.syn_ns == NONE {
            return;
        }
        let opener = usize::from(self.syn_dir);
        if flags & (SYN | ACK) == SYN | ACK && dir != opener && self.synack_out_ns == NONE {
            self.synack_out_ns = now;
        } else if flags & SYN == 0
            && flags & ACK != 0
            && dir == opener
            && self.synack_out_ns != NONE
            && self.ack_out_ns == NONE
        {
            self.ack_out_ns = now;
        }
    }

    /// The opener's handshake time, once its SYN/ACK arrived.
    pub fn opener_ns(&self) -> Option<u64> {
        (self.synack_out_ns != NONE).then(|| self.synack_out_ns - self.syn_ns)
    }

    /// The accepter's handshake time, once the opener's ACK arrived.
    pub fn accepter_ns(&self) -> Option<u64> {
        (self.ack_out_ns != NONE && self.synack_in_ns != NONE)
            .then(|| self.ack_out_ns.saturating_sub(self.synack_in_ns))
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::tcp::PSH;

    const MS: u64 = 1_000_000;

    fn seg(seq: u32, flags: u8, payload: u32) -> Segment {
        Segment {
            seq,
            ack: 0,
            flags,
            payload,
        }
    }

    #[test]
    fn one_timed_segment_gives_the_senders_round_trip() {
        let mut d = TcpDir::default();
        d.sent(&seg(100, SYN, 0), 0);
        d.acked(101, 10 * MS);
        d.sent(&seg(101, ACK | PSH, 1000), 20 * MS);
        // A second segment while the first is timed is not timed itself.
        d.sent(&seg(1101, ACK | PSH, 1000), 21 * MS);
        d.acked(1101, 45 * MS);
        assert_eq!((d.rtt_n, d.rtt_sum_ns), (1, 25 * MS));
        d.acked(2101, 46 * MS);
        assert_eq!(d.rtt_n, 1, "nothing was timed when 2101 was sent");
        d.sent(&seg(2101, ACK | PSH, 10), 50 * MS);
        d.acked(2111, 80 * MS);
        assert_eq!((d.rtt_n, d.rtt_min_ns, d.rtt_max_ns), (2, 25 * MS, 30 * MS));
        assert_eq!(d.rtt_sum_ns, 55 * MS);
    }

    #[test]
    fn a_retransmission_cancels_the_sample_and_is_counted_with_its_bytes() {
        let mut d = TcpDir::default();
        d.sent(&seg(0, SYN, 0), 0);
        d.acked(1, MS);
        d.sent(&seg(1, ACK, 1000), 2 * MS);
        d.sent(&seg(1001, ACK, 1000), 2 * MS);
        // The first segment again, and a segment straddling old and new data.
        d.sent(&seg(1, ACK, 1000), 300 * MS);
        d.sent(&seg(1501, ACK, 1000), 301 * MS);
        assert_eq!(d.retransmits, 2);
        assert_eq!(d.retransmit_bytes, 1000 + 500);
        d.acked(2501, 310 * MS);
        assert_eq!(d.rtt_n, 0, "Karn: no sample across a retransmission");
    }

    #[test]
    fn goodput_counts_each_byte_the_receiver_acknowledges_once() {
        let mut d = TcpDir::default();
        d.sent(&seg(0, SYN, 0), 0);
        d.sent(&seg(1, ACK, 1000), MS);
        d.sent(&seg(1001, ACK | FIN, 0), 2 * MS);
        // The SYN's acknowledgement is the base; a duplicate counts nothing; the FIN's
        // sequence number is not payload.
        let got: Vec<u64> = [1, 501, 501, 1001, 1002, 1002]
            .iter()
            .map(|&a| d.received(a))
            .collect();
        assert_eq!(got, vec![0, 500, 0, 500, 0, 0]);
    }

    #[test]
    fn goodput_counts_every_hole_once_its_retransmission_arrives() {
        // A policer dropped 1001..3001 and 4001..5001 of 1..7001; the receiver acknowledges
        // 1001 until the first hole is filled, then jumps over what it held.
        let mut d = TcpDir::default();
        d.sent(&seg(0, SYN, 0), 0);
        let got: Vec<u64> = [1, 1001, 1001, 1001, 4001, 4001, 7001]
            .iter()
            .map(|&a| d.received(a))
            .collect();
        assert_eq!(got.iter().sum::<u64>(), 7000);
        assert_eq!(got, vec![0, 1000, 0, 0, 3000, 0, 3000]);
    }

    #[test]
    fn a_stall_spans_from_the_last_progress_to_the_next() {
        let mut d = TcpDir::default();
        d.sent(&seg(0, SYN, 0), 0);
        d.acked(1, MS);
        d.sent(&seg(1, ACK, 1000), 10 * MS);
        d.check_stall(900 * MS, 1000 * MS, false);
        assert!(!d.stalled());
        d.check_stall(1010 * MS, 1000 * MS, false);
        assert!(d.stalled());
        assert_eq!(d.stalled_ns(1500 * MS), 1490 * MS);
        d.acked(1001, 2010 * MS);
        assert_eq!((d.stalls, d.stalled_ns(5000 * MS)), (1, 2000 * MS));
        // Nothing outstanding: no stall however long it is quiet.
        d.check_stall(9000 * MS, 1000 * MS, false);
        assert_eq!(d.stalls, 1);
        // Outstanding again: the clock starts when the data was sent, not at the last ack.
        d.sent(&seg(1001, ACK, 10), 9500 * MS);
        d.check_stall(10_000 * MS, 1000 * MS, false);
        assert!(!d.stalled());
        d.check_stall(10_000 * MS, 1000 * MS, true);
        assert!(!d.stalled(), "a reset flow does not stall");
    }

    #[test]
    fn sequence_numbers_wrap() {
        let mut d = TcpDir::default();
        d.sent(&seg(u32::MAX - 10, SYN, 0), 0);
        d.acked(u32::MAX - 9, MS);
        d.sent(&seg(u32::MAX - 9, ACK, 100), 2 * MS);
        d.acked(90, 7 * MS);
        assert_eq!(d.rtt_sum_ns, 5 * MS);
        assert_eq!(d.retransmits, 0);
    }

    #[test]
    fn handshake_on_both_sides() {
        let mut h = Handshake::default();
        h.sent(SYN, 0, 0);
        h.sent(SYN, 0, 1000 * MS); // a retransmitted SYN: still timed from the first
        h.delivered(SYN, 0, 1001 * MS);
        h.sent(SYN | ACK, 1, 1002 * MS);
        h.delivered(SYN | ACK, 1, 1042 * MS);
        h.sent(ACK, 0, 1043 * MS);
        h.delivered(ACK, 0, 1063 * MS);
        assert_eq!(h.opener_ns(), Some(1042 * MS));
        assert_eq!(h.accepter_ns(), Some(61 * MS));
    }
}
