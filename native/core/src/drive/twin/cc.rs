//! Congestion control of the twin's TCP: the two Linux modules a lab may run with. Linux's
//! default is CUBIC (./cubic.rs); many hosts set BBR (./bbr.rs), and a lab's namespaces
//! inherit the host's default, so `qoslab run` measures whichever the host has and
//! `simulate` takes the same choice (`tcp` in the plan). Windows are in segments.

use super::bbr::Bbr;
use super::cubic::Cubic;

/// Which module. Parsed from the plan's `tcp` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CcKind {
    Cubic,
    Bbr,
}

/// The sender's loss state, as the kernel's `icsk_ca_state` (Disorder and CWR folded into
/// Open: the twin has neither reordering nor ECN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CaState {
    Open,
    Recovery,
    Loss,
}

/// A delivery-rate sample (Linux tcp_rate.c): segments delivered over an interval.
#[derive(Debug, Clone, Copy)]
pub struct RateSample {
    pub delivered: u64,
    pub interval: u64,
    /// The sender had nothing to send when the newest segment of the sample left.
    pub app_limited: bool,
    /// The total delivered count when that segment left (rounds are counted by it).
    pub prior_delivered: u64,
}

/// What one ACK told the sender.
#[derive(Debug, Clone, Copy)]
pub struct AckSample {
    pub now: u64,
    /// Segments this ACK newly delivered (cumulatively or selectively acknowledged).
    pub acked: u32,
    /// Segments this ACK newly marked lost.
    pub lost: u32,
    /// RTT of the newest segment it delivered that was never retransmitted.
    pub rtt: Option<u64>,
    /// First unacknowledged and next new byte of the stream, after the ACK.
    pub una: u64,
    pub nxt: u64,
    /// Segments in flight after the ACK.
    pub inflight: u32,
    /// Whether the window, not the application, limited sending lately.
    pub cwnd_limited: bool,
    pub state: CaState,
    pub in_recovery: bool,
    pub rate: Option<RateSample>,
    /// Totals since the connection began.
    pub delivered: u64,
    pub total_lost: u64,
    pub min_rtt: u64,
}

#[derive(Debug, Clone)]
pub enum Cc {
    Cubic(Cubic),
    Bbr(Box<Bbr>),
}

impl Cc {
    pub fn new(kind: CcKind, initial_cwnd: u32, mss: u32, seed: u64) -> Cc {
        match kind {
            CcKind::Cubic => Cc::Cubic(Cubic::new(initial_cwnd)),
            CcKind::Bbr => Cc::Bbr(Box::new(Bbr::new(initial_cwnd, mss, seed))),
        }
    }

    pub fn cwnd(&self) -> u32 {
        match self {
            Cc::Cubic(c) => c.cwnd,
            Cc::Bbr(b) => b.cwnd,
        }
    }

    /// Pacing rate in bytes per second; None: not paced (CUBIC without the fq qdisc).
    pub fn pacing_rate(&self) -> Option<f64> {
        match self {
            Cc::Cubic(_) => None,
            Cc::Bbr(b) => Some(b.pacing_rate),
        }
    }

    pub fn in_slow_start(&self) -> bool {
        match self {
            Cc::Cubic(c) => c.cwnd < c.ssthresh,
            Cc::Bbr(b) => !b.full_bw_reached(),
        }
    }

    pub fn on_ack(&mut self, s: &AckSample) {
        match self {
            Cc::Cubic(c) => c.on_ack(s),
            Cc::Bbr(b) => b.on_ack(s),
        }
    }

    /// Fast recovery begins with `inflight` segments in flight.
    pub fn on_recovery(&mut self) {
        match self {
            Cc::Cubic(c) => c.on_recovery(),
            Cc::Bbr(b) => b.save_cwnd(),
        }
    }

    /// A retransmission timeout; `nxt`: the next new byte.
    pub fn on_rto(&mut self, now: u64, nxt: u64, delivered: u64, total_lost: u64) {
        match self {
            Cc::Cubic(c) => c.on_rto(now, nxt),
            Cc::Bbr(b) => b.on_rto(now, delivered, total_lost),
        }
    }

    /// The first send after being idle longer than an RTO.
    pub fn on_idle_restart(&mut self, initial: u32) {
        match self {
            Cc::Cubic(c) => c.on_idle_restart(initial),
            Cc::Bbr(b) => b.on_idle_restart(),
        }
    }

    /// The RTT was measured for the first time (BBR seeds its pacing rate from it).
    pub fn on_first_rtt(&mut self, srtt: u64) {
        if let Cc::Bbr(b) = self {
            b.init_pacing_rate(srtt);
        }
    }
}
