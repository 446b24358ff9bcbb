//! BBR (v1) as Linux's tcp_bbr.c runs it, in segments: the windowed-max bandwidth filter
//! (10 rounds) and windowed-min RTT (10 s), STARTUP at 2/ln 2 until the bandwidth stops
//! growing 25 % a round three times, DRAIN, PROBE_BW's eight-phase gain cycle starting at
//! a random phase, PROBE_RTT (4 segments for 200 ms and a round when the minimum RTT is
//! 10 s old), packet conservation on entering recovery and the window restored after it,
//! and long-term bandwidth sampling: a token-bucket policer (loss ≥ 20 % at a steady rate
//! over two intervals of 4-16 rounds) makes BBR send at the policed rate for 48 rounds.
//!
//! The window also allows for ACKs that arrive aggregated (extra_acked: the most delivered
//! beyond the estimated rate in an epoch, over the last 5-10 rounds, at most 100 ms of it).
//!
//! Simplified: the TSO budget is the kernel's floor of 2 segments; f64 rates instead of
//! the kernel's fixed point.

use super::cc::{AckSample, CaState};
use crate::rng::Rng;

/// 2/ln(2): STARTUP's pacing and window gain (bbr_high_gain 2885/1000).
const HIGH_GAIN: f64 = 2885.0 / 1000.0;
const DRAIN_GAIN: f64 = 1000.0 / 2885.0;
const CWND_GAIN: f64 = 2.0;
const PACING_GAIN: [f64; 8] = [1.25, 0.75, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
const BW_RTTS: u64 = 10;
const MIN_RTT_WIN: u64 = 10_000_000_000;
const PROBE_RTT_NS: u64 = 200_000_000;
const CWND_MIN_TARGET: u32 = 4;
const FULL_BW_THRESH: f64 = 1.25;
const FULL_BW_CNT: u32 = 3;
/// Pacing a hair under the estimate, so a bottleneck queue drains (bbr_pacing_margin_percent).
const PACING_MARGIN: f64 = 0.99;
/// Segments of TSO budget per send quantum (the floor of bbr_tso_segs_goal).
const TSO_SEGS: u32 = 2;
const LT_INTVL_MIN_RTTS: u32 = 4;
/// Loss rate that marks a sampling interval as policed: 50/256.
const LT_LOSS_THRESH: u64 = 50;
const LT_BW_MAX_RTTS: u32 = 48;
/** Rounds per half of the extra_acked window (bbr_extra_acked_win_rtts). */
const EXTRA_ACKED_WIN_RTTS: u32 = 5;
const EXTRA_ACKED_MAX_NS: u64 = 100_000_000;
const ACK_EPOCH_RESET: u64 = 1 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Startup,
    Drain,
    ProbeBw,
    ProbeRtt,
}

#[derive(Debug, Clone)]
pub struct Bbr {
    pub cwnd: u32,
    /// Bytes per second.
    pub pacing_rate: f64,
    mss: f64,
    rng: Rng,
    mode: Mode,
    /// Windowed max of the bandwidth, segments per second: (round, value), best first.
    bw: [(u64, f64); 3],
    min_rtt: u64,
    min_rtt_stamp: u64,
    rtt_cnt: u64,
    next_rtt_delivered: u64,
    round_start: bool,
    cycle_idx: usize,
    cycle_stamp: u64,
    pacing_gain: f64,
    cwnd_gain: f64,
    full_bw: f64,
    full_bw_cnt: u32,
    full_bw_reached: bool,
    prior_cwnd: u32,
    prev_state: CaState,
    packet_conservation: bool,
    probe_rtt_done: Option<u64>,
    probe_rtt_round_done: bool,
    initial_cwnd: u32,
    has_rate: bool,
    // Long-term (policer) sampling.
    lt_sampling: bool,
    lt_rtt_cnt: u32,
    lt_use_bw: bool,
    lt_bw: f64,
    lt_last_delivered: u64,
    lt_last_lost: u64,
    lt_last_stamp: u64,
    // Totals seen at the last ACK (for a timeout's sampling).
    delivered: u64,
    // ACK aggregation (bbr_update_ack_aggregation).
    extra_acked: [u32; 2],
    extra_acked_idx: usize,
    extra_acked_win_rtts: u32,
    ack_epoch_at: u64,
    ack_epoch_acked: u64,
}

impl Bbr {
    pub fn new(initial_cwnd: u32, mss: u32, seed: u64) -> Bbr {
        let mut b = Bbr {
            cwnd: initial_cwnd,
            pacing_rate: 0.0,
            mss: f64::from(mss),
            rng: Rng::new(seed),
            mode: Mode::Startup,
            bw: [(0, 0.0); 3],
            min_rtt: u64::MAX,
            min_rtt_stamp: 0,
            rtt_cnt: 0,
            next_rtt_delivered: 0,
            round_start: false,
            cycle_idx: 0,
            cycle_stamp: 0,
            pacing_gain: HIGH_GAIN,
            cwnd_gain: HIGH_GAIN,
            full_bw: 0.0,
            full_bw_cnt: 0,
            full_bw_reached: false,
            prior_cwnd: 0,
            prev_state: CaState::Open,
            packet_conservation: false,
            probe_rtt_done: None,
            probe_rtt_round_done: false,
            initial_cwnd,
            has_rate: false,
            lt_sampling: false,
            lt_rtt_cnt: 0,
            lt_use_bw: false,
            lt_bw: 0.0,
            lt_last_delivered: 0,
            lt_last_lost: 0,
            lt_last_stamp: 0,
            delivered: 0,
            extra_acked: [0; 2],
            extra_acked_idx: 0,
            extra_acked_win_rtts: 0,
            ack_epoch_at: 0,
            ack_epoch_acked: 0,
        };
        // bbr_init_pacing_rate_from_rtt with no RTT yet: 1 ms.
        b.init_pacing_rate(1_000_000);
        b
    }

    pub fn full_bw_reached(&self) -> bool {
        self.full_bw_reached
    }

    /// The initial window over the first RTT, times the high gain.
    pub fn init_pacing_rate(&mut self, srtt: u64) {
        if self.has_rate {
            return;
        }
        let rtt = srtt.max(1_000) as f64 / 1e9;
        self.pacing_rate = HIGH_GAIN * f64::from(self.initial_cwnd) * self.mss / rtt;
    }

    fn max_bw(&self) -> f64 {
        if self.lt_use_bw {
            self.lt_bw
        } else {
            self.bw[0].1
        }
    }

    /// Kathleen Nichols' windowed max (lib/win_minmax.c), over BW_RTTS rounds.
    fn bw_filter(&mut self, t: u64, v: f64) {
        let s = &mut self.bw;
        if v >= s[0].1 || t - s[2].0 > BW_RTTS {
            *s = [(t, v); 3];
            return;
        }
        if v >= s[1].1 {
            s[1] = (t, v);
            s[2] = (t, v);
        } else if v >= s[2].1 {
            s[2] = (t, v);
        }
        let dt = t - s[0].0;
        if dt > BW_RTTS {
            s[0] = s[1];
            s[1] = s[2];
            s[2] = (t, v);
            if t - s[0].0 > BW_RTTS {
                s[0] = s[1];
                s[1] = s[2];
                s[2] = (t, v);
            }
        } else if s[1].0 == s[0].0 && dt > BW_RTTS / 4 {
            s[1] = (t, v);
            s[2] = (t, v);
        } else if s[2].0 == s[1].0 && dt > BW_RTTS / 2 {
            s[2] = (t, v);
        }
    }

    /// Segments in flight that the bandwidth-delay product times `gain` allows.
    fn bdp(&self, bw: f64, gain: f64) -> u32 {
        if self.min_rtt == u64::MAX {
            return self.initial_cwnd;
        }
        let w = bw * self.min_rtt as f64 / 1e9;
        (w * gain).ceil() as u32
    }

    /// bbr_quantization_budget: room for the sender's bursts.
    fn target_cwnd(&self, bw: f64, gain: f64, aggregation: u32) -> u32 {
        let mut c = self.bdp(bw, gain) + aggregation + 3 * TSO_SEGS;
        c = (c + 1) & !1;
        if self.mode == Mode::ProbeBw && self.cycle_idx == 0 {
            c += 2;
        }
        c
    }

    pub fn save_cwnd(&mut self) {
        if self.prev_state < CaState::Recovery && self.mode != Mode::ProbeRtt {
            self.prior_cwnd = self.cwnd;
        } else {
            self.prior_cwnd = self.prior_cwnd.max(self.cwnd);
        }
    }

    fn reset_lt_interval(&mut self, now: u64, delivered: u64, lost: u64) {
        self.lt_last_stamp = now;
        self.lt_last_delivered = delivered;
        self.lt_last_lost = lost;
        self.lt_rtt_cnt = 0;
    }

    fn reset_lt(&mut self, now: u64, delivered: u64, lost: u64) {
        self.lt_bw = 0.0;
        self.lt_use_bw = false;
        self.lt_sampling = false;
        self.reset_lt_interval(now, delivered, lost);
    }

    fn lt_interval_done(&mut self, bw: f64, now: u64, delivered: u64, lost: u64) {
        if self.lt_bw > 0.0 {
            let diff = (bw - self.lt_bw).abs();
            // Within 1/8 of the last interval's, or 4 kbit/s (bbr_lt_bw_ratio, _diff).
            if diff * 8.0 <= self.lt_bw || diff * self.mss <= 4000.0 / 8.0 {
                self.lt_bw = (bw + self.lt_bw) / 2.0;
                self.lt_use_bw = true;
                self.pacing_gain = 1.0;
                self.lt_rtt_cnt = 0;
                return;
            }
        }
        self.lt_bw = bw;
        self.reset_lt_interval(now, delivered, lost);
    }

    /// bbr_lt_bw_sampling: `losses` this ACK, `app_limited` of its rate sample.
    fn lt_sampling(&mut self, s: &AckSample, losses: u32, app_limited: bool) {
        let (now, delivered, lost) = (s.now, s.delivered, s.total_lost);
        if self.lt_use_bw {
            if self.mode == Mode::ProbeBw && self.round_start {
                self.lt_rtt_cnt += 1;
                if self.lt_rtt_cnt >= LT_BW_MAX_RTTS {
                    self.reset_lt(now, delivered, lost);
                    self.reset_probe_bw(now);
                }
            }
            return;
        }
        if !self.lt_sampling {
            if losses == 0 {
                return;
            }
            self.reset_lt_interval(now, delivered, lost);
            self.lt_sampling = true;
        }
        if app_limited {
            self.reset_lt(now, delivered, lost);
            return;
        }
        if self.round_start {
            self.lt_rtt_cnt += 1;
        }
        if self.lt_rtt_cnt < LT_INTVL_MIN_RTTS {
            return;
        }
        if self.lt_rtt_cnt > 4 * LT_INTVL_MIN_RTTS {
            self.reset_lt(now, delivered, lost);
            return;
        }
        if losses == 0 {
            return;
        }
        let lost_n = lost - self.lt_last_lost;
        let delivered_n = delivered - self.lt_last_delivered;
        if delivered_n == 0 || (lost_n << 8) < LT_LOSS_THRESH * delivered_n {
            return;
        }
        let t = now.saturating_sub(self.lt_last_stamp);
        if t < 1_000_000 {
            return;
        }
        let bw = delivered_n as f64 / (t as f64 / 1e9);
        self.lt_interval_done(bw, now, delivered, lost);
    }

    fn reset_probe_bw(&mut self, now: u64) {
        self.mode = Mode::ProbeBw;
        // A random phase, never the draining one (bbr_reset_probe_bw_mode).
        self.cycle_idx = (PACING_GAIN.len() - 1 - self.rng.below(7) as usize) % PACING_GAIN.len();
        self.advance_cycle(now);
    }

    fn advance_cycle(&mut self, now: u64) {
        self.cycle_idx = (self.cycle_idx + 1) % PACING_GAIN.len();
        self.cycle_stamp = now;
    }

    fn reset_mode(&mut self, now: u64) {
        if self.full_bw_reached {
            self.reset_probe_bw(now);
        } else {
            self.mode = Mode::Startup;
        }
    }

    fn is_next_cycle_phase(&self, s: &AckSample) -> bool {
        let full_length = s.now - self.cycle_stamp > self.min_rtt;
        let gain = self.pacing_gain;
        if gain == 1.0 {
            return full_length;
        }
        let inflight = s.inflight;
        if gain > 1.0 {
            return full_length && (s.lost > 0 || inflight >= self.bdp(self.max_bw(), gain));
        }
        full_length || inflight <= self.bdp(self.max_bw(), 1.0)
    }

    pub fn on_ack(&mut self, s: &AckSample) {
        self.delivered = s.delivered;
        // bbr_update_bw
        self.round_start = false;
        let mut app_limited = false;
        if let Some(rs) = s.rate {
            app_limited = rs.app_limited;
            if rs.prior_delivered >= self.next_rtt_delivered {
                self.next_rtt_delivered = s.delivered;
                self.rtt_cnt += 1;
                self.round_start = true;
                self.packet_conservation = false;
            }
        }
        self.lt_sampling(s, s.lost, app_limited);
        if let Some(rs) = s.rate {
            if rs.interval > 0 {
                let bw = rs.delivered as f64 / (rs.interval as f64 / 1e9);
                if !rs.app_limited || bw >= self.bw[0].1 {
                    self.bw_filter(self.rtt_cnt, bw);
                }
            }
        }
        self.update_ack_aggregation(s);
        // bbr_update_cycle_phase
        if self.mode == Mode::ProbeBw && self.is_next_cycle_phase(s) {
            self.advance_cycle(s.now);
        }
        // bbr_check_full_bw_reached
        if !self.full_bw_reached && self.round_start && !app_limited {
            let bw = self.max_bw();
            if bw >= self.full_bw * FULL_BW_THRESH {
                self.full_bw = bw;
                self.full_bw_cnt = 0;
            } else {
                self.full_bw_cnt += 1;
                self.full_bw_reached = self.full_bw_cnt >= FULL_BW_CNT;
            }
        }
        // bbr_check_drain
        if self.mode == Mode::Startup && self.full_bw_reached {
            self.mode = Mode::Drain;
        }
        if self.mode == Mode::Drain && s.inflight <= self.bdp(self.max_bw(), 1.0) {
            self.reset_probe_bw(s.now);
        }
        // bbr_update_min_rtt
        let expired = s.now > self.min_rtt_stamp + MIN_RTT_WIN;
        if let Some(rtt) = s.rtt {
            if rtt < self.min_rtt || expired {
                self.min_rtt = rtt;
                self.min_rtt_stamp = s.now;
            }
        }
        if expired && self.mode != Mode::ProbeRtt && self.min_rtt != u64::MAX {
            self.mode = Mode::ProbeRtt;
            self.save_cwnd();
            self.probe_rtt_done = None;
        }
        if self.mode == Mode::ProbeRtt {
            match self.probe_rtt_done {
                None if s.inflight <= CWND_MIN_TARGET => {
                    self.probe_rtt_done = Some(s.now + PROBE_RTT_NS);
                    self.probe_rtt_round_done = false;
                    self.next_rtt_delivered = s.delivered;
                }
                Some(done) => {
                    if self.round_start {
                        self.probe_rtt_round_done = true;
                    }
                    if self.probe_rtt_round_done && s.now > done {
                        self.min_rtt_stamp = s.now;
                        self.cwnd = self.cwnd.max(self.prior_cwnd);
                        self.reset_mode(s.now);
                    }
                }
                None => {}
            }
        }
        // bbr_update_gains
        (self.pacing_gain, self.cwnd_gain) = match self.mode {
            Mode::Startup => (HIGH_GAIN, HIGH_GAIN),
            Mode::Drain => (DRAIN_GAIN, HIGH_GAIN),
            Mode::ProbeBw => (
                if self.lt_use_bw {
                    1.0
                } else {
                    PACING_GAIN[self.cycle_idx]
                },
                CWND_GAIN,
            ),
            Mode::ProbeRtt => (1.0, 1.0),
        };
        // bbr_set_pacing_rate
        let bw = self.max_bw();
        if bw > 0.0 {
            let rate = bw * self.mss * self.pacing_gain * PACING_MARGIN;
            self.has_rate = true;
            if self.full_bw_reached || rate > self.pacing_rate {
                self.pacing_rate = rate;
            }
        }
        self.set_cwnd(s, bw);
    }

    /// bbr_update_ack_aggregation: how much more was delivered than the estimated rate
    /// explains, since the epoch began.
    fn update_ack_aggregation(&mut self, s: &AckSample) {
        if s.acked == 0 || s.rate.is_none() {
            return;
        }
        if self.round_start {
            self.extra_acked_win_rtts = (self.extra_acked_win_rtts + 1).min(0x1f);
            if self.extra_acked_win_rtts >= EXTRA_ACKED_WIN_RTTS {
                self.extra_acked_win_rtts = 0;
                self.extra_acked_idx ^= 1;
                self.extra_acked[self.extra_acked_idx] = 0;
            }
        }
        let epoch = s.now.saturating_sub(self.ack_epoch_at);
        let mut expected = (self.max_bw() * epoch as f64 / 1e9) as u64;
        if self.ack_epoch_acked <= expected
            || self.ack_epoch_acked + u64::from(s.acked) >= ACK_EPOCH_RESET
        {
            self.ack_epoch_acked = 0;
            self.ack_epoch_at = s.now;
            expected = 0;
        }
        self.ack_epoch_acked += u64::from(s.acked);
        let extra = (self.ack_epoch_acked - expected).min(u64::from(self.cwnd)) as u32;
        let slot = &mut self.extra_acked[self.extra_acked_idx];
        *slot = (*slot).max(extra);
    }

    /// bbr_ack_aggregation_cwnd: room for aggregated ACKs, once the pipe is full.
    fn aggregation_cwnd(&self, bw: f64) -> u32 {
        if !self.full_bw_reached {
            return 0;
        }
        let max = (bw * EXTRA_ACKED_MAX_NS as f64 / 1e9) as u32;
        self.extra_acked[0].max(self.extra_acked[1]).min(max)
    }

    fn set_cwnd(&mut self, s: &AckSample, bw: f64) {
        if s.acked == 0 && s.lost == 0 {
            return;
        }
        let acked = s.acked;
        // bbr_set_cwnd_to_recover_or_restore
        let mut cwnd = self.cwnd;
        if s.lost > 0 {
            cwnd = cwnd.saturating_sub(s.lost).max(1);
        }
        let mut done = false;
        if s.state == CaState::Recovery && self.prev_state != CaState::Recovery {
            self.packet_conservation = true;
            self.next_rtt_delivered = s.delivered;
            cwnd = s.inflight + acked;
        } else if self.prev_state >= CaState::Recovery && s.state < CaState::Recovery {
            cwnd = cwnd.max(self.prior_cwnd);
            self.packet_conservation = false;
        }
        self.prev_state = s.state;
        if self.packet_conservation {
            cwnd = cwnd.max(s.inflight + acked);
            done = true;
        }
        if !done {
            let target = self.target_cwnd(bw, self.cwnd_gain, self.aggregation_cwnd(bw));
            if self.full_bw_reached {
                cwnd = (cwnd + acked).min(target);
            } else if cwnd < target || s.delivered < u64::from(self.initial_cwnd) {
                cwnd += acked;
            }
            cwnd = cwnd.max(CWND_MIN_TARGET);
        }
        if self.mode == Mode::ProbeRtt {
            cwnd = cwnd.min(CWND_MIN_TARGET);
        }
        self.cwnd = cwnd;
    }

    /// A retransmission timeout: the core sets the window to one segment; BBR treats it
    /// as the end of a round and a loss for its policer sampling (bbr_set_state(Loss)).
    pub fn on_rto(&mut self, now: u64, delivered: u64, total_lost: u64) {
        self.save_cwnd();
        self.cwnd = 1;
        self.prev_state = CaState::Loss;
        self.full_bw = 0.0;
        self.round_start = true;
        let s = AckSample {
            now,
            acked: 0,
            lost: 1,
            rtt: None,
            una: 0,
            nxt: 0,
            inflight: 0,
            cwnd_limited: true,
            state: CaState::Loss,
            in_recovery: true,
            rate: None,
            delivered,
            total_lost,
            min_rtt: self.min_rtt,
        };
        self.lt_sampling(&s, 1, false);
    }

    /// bbr_cwnd_event(CA_EVENT_TX_START) after idle: pace at the estimate.
    pub fn on_idle_restart(&mut self) {
        if self.mode == Mode::ProbeBw {
            let bw = self.max_bw();
            if bw > 0.0 {
                self.pacing_rate = bw * self.mss * PACING_MARGIN;
            }
        }
    }
}
