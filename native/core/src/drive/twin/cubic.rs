//! CUBIC as Linux's tcp_cubic.c runs it (the kernel's default congestion control), in
//! segments: slow start with HyStart (ACK train and delay increase), the cubic window
//! growth from the last maximum with fast convergence and the TCP-friendly region,
//! multiplicative decrease by β = 717/1024, and a reset on a retransmission timeout.
//!
//! Simplified: the window drops to ssthresh when recovery starts instead of going down
//! by PRR over the recovery round (the same window when recovery ends); no undo of a
//! spurious reduction; f64 arithmetic instead of the kernel's fixed point.

use super::cc::AckSample;

/// β: the window after a loss is this share of the window before it (tcp_cubic.c 717/1024).
pub const BETA: f64 = 717.0 / 1024.0;
/// C: the cubic's scale, segments per second³ (tcp_cubic.c bic_scale 41 → 410/1024).
pub const C: f64 = 410.0 / 1024.0;
/// HyStart applies from this window on (hystart_low_window).
const HYSTART_LOW_WINDOW: u32 = 16;
/// ACKs closer than this belong to one train (hystart_ack_delta_us).
const HYSTART_ACK_DELTA: u64 = 2_000_000;
/// RTT samples at the start of each round that HyStart's delay test takes the minimum of.
const HYSTART_MIN_SAMPLES: u32 = 8;
const HYSTART_DELAY_MIN: u64 = 4_000_000;
const HYSTART_DELAY_MAX: u64 = 16_000_000;

#[derive(Debug, Clone)]
pub struct Cubic {
    pub cwnd: u32,
    pub ssthresh: u32,
    cwnd_cnt: u32,
    last_max_cwnd: u32,
    epoch_start: Option<u64>,
    origin_point: f64,
    k: f64,
    ack_cnt: u32,
    tcp_cwnd: u32,
    delay_min: u64,
    // HyStart's round: when it started, the sequence (in segments sent) that ends it.
    round_start: u64,
    last_ack: u64,
    end_seq: u64,
    curr_rtt: u64,
    sample_cnt: u32,
    found: bool,
}

impl Cubic {
    pub fn new(initial_cwnd: u32) -> Cubic {
        Cubic {
            cwnd: initial_cwnd,
            ssthresh: u32::MAX,
            cwnd_cnt: 0,
            last_max_cwnd: 0,
            epoch_start: None,
            origin_point: 0.0,
            k: 0.0,
            ack_cnt: 0,
            tcp_cwnd: 0,
            delay_min: 0,
            round_start: 0,
            last_ack: 0,
            end_seq: 0,
            curr_rtt: u64::MAX,
            sample_cnt: 0,
            found: false,
        }
    }

    fn hystart_reset(&mut self, now: u64, sent: u64) {
        self.round_start = now;
        self.last_ack = now;
        self.end_seq = sent;
        self.curr_rtt = u64::MAX;
        self.sample_cnt = 0;
    }

    fn hystart_update(&mut self, s: &AckSample, delay: u64) {
        if self.found {
            return;
        }
        if s.una > self.end_seq {
            self.hystart_reset(s.now, s.nxt);
        }
        // An ACK train as long as half the minimum RTT: the pipe is full.
        if s.now.saturating_sub(self.last_ack) <= HYSTART_ACK_DELTA {
            self.last_ack = s.now;
            if s.now.saturating_sub(self.round_start) > self.delay_min / 2 {
                self.found = true;
            }
        }
        if self.sample_cnt < HYSTART_MIN_SAMPLES {
            self.curr_rtt = self.curr_rtt.min(delay);
            self.sample_cnt += 1;
        } else {
            let thresh = (self.delay_min / 8).clamp(HYSTART_DELAY_MIN, HYSTART_DELAY_MAX);
            if self.curr_rtt > self.delay_min + thresh {
                self.found = true;
            }
        }
        if self.found {
            self.ssthresh = self.cwnd;
        }
    }

    /// cubictcp_cong_avoid: grow the window for `s.acked` newly delivered segments.
    pub fn on_ack(&mut self, s: &AckSample) {
        if let Some(rtt) = s.rtt {
            self.delay_min = if self.delay_min == 0 {
                rtt
            } else {
                self.delay_min.min(rtt)
            };
            if self.cwnd < self.ssthresh && self.cwnd >= HYSTART_LOW_WINDOW {
                self.hystart_update(s, rtt);
            }
        }
        if !s.cwnd_limited || s.in_recovery {
            return;
        }
        let mut acked = s.acked;
        if self.cwnd < self.ssthresh {
            // tcp_slow_start: one segment per segment delivered, up to ssthresh.
            let cwnd = (self.cwnd + acked).min(self.ssthresh);
            acked -= cwnd - self.cwnd;
            self.cwnd = cwnd;
            if acked == 0 {
                return;
            }
        }
        let cnt = self.update(s.now, acked);
        // tcp_cong_avoid_ai
        if self.cwnd_cnt >= cnt {
            self.cwnd_cnt = 0;
            self.cwnd += 1;
        }
        self.cwnd_cnt += acked;
        if self.cwnd_cnt >= cnt {
            let delta = self.cwnd_cnt / cnt;
            self.cwnd_cnt -= delta * cnt;
            self.cwnd += delta;
        }
    }

    /// bictcp_update: how many ACKed segments grow the window by one.
    fn update(&mut self, now: u64, acked: u32) -> u32 {
        self.ack_cnt += acked;
        let epoch = match self.epoch_start {
            Some(e) => e,
            None => {
                self.epoch_start = Some(now);
                self.ack_cnt = acked;
                self.tcp_cwnd = self.cwnd;
                if self.last_max_cwnd <= self.cwnd {
                    self.k = 0.0;
                    self.origin_point = f64::from(self.cwnd);
                } else {
                    self.k = (f64::from(self.last_max_cwnd - self.cwnd) / C).cbrt();
                    self.origin_point = f64::from(self.last_max_cwnd);
                }
                now
            }
        };
        // The window one minimum RTT ahead, as the kernel aims.
        let t = (now - epoch + self.delay_min) as f64 / 1e9;
        let target = self.origin_point + C * (t - self.k).powi(3);
        let cwnd = f64::from(self.cwnd);
        let mut cnt = if target > cwnd {
            (cwnd / (target - cwnd)).max(1.0) as u32
        } else {
            100 * self.cwnd
        };
        if self.last_max_cwnd == 0 && cnt > 20 {
            cnt = 20;
        }
        // The TCP-friendly region: at least what Reno with β would reach, one segment per
        // cwnd · beta_scale / 8 ACKed (beta_scale = 8 (1024 + 717) / 3 / (1024 - 717) = 15).
        let per = ((self.cwnd * 15) >> 3).max(1);
        while self.ack_cnt > per {
            self.ack_cnt -= per;
            self.tcp_cwnd += 1;
        }
        if self.tcp_cwnd > self.cwnd {
            let max_cnt = self.cwnd / (self.tcp_cwnd - self.cwnd);
            cnt = cnt.min(max_cnt);
        }
        cnt.max(2)
    }

    /// A loss: the new ssthresh (cubictcp_recalc_ssthresh, fast convergence on).
    fn recalc_ssthresh(&mut self) -> u32 {
        self.epoch_start = None;
        self.last_max_cwnd = if self.cwnd < self.last_max_cwnd {
            ((f64::from(self.cwnd) * (1.0 + BETA)) / 2.0) as u32
        } else {
            self.cwnd
        };
        ((f64::from(self.cwnd) * BETA) as u32).max(2)
    }

    /// Fast recovery begins.
    pub fn on_recovery(&mut self) {
        self.ssthresh = self.recalc_ssthresh();
        self.cwnd = self.ssthresh;
        self.cwnd_cnt = 0;
    }

    /// A retransmission timeout: ssthresh from the window, then the state resets
    /// (cubictcp_state on TCP_CA_Loss) and the window starts again from one segment.
    pub fn on_rto(&mut self, now: u64, sent: u64) {
        self.ssthresh = self.recalc_ssthresh();
        self.cwnd = 1;
        self.cwnd_cnt = 0;
        self.last_max_cwnd = 0;
        self.epoch_start = None;
        self.found = false;
        self.hystart_reset(now, sent);
    }

    /// Idle longer than an RTO: the window restarts (tcp_cwnd_restart, simplified to the
    /// initial window).
    pub fn on_idle_restart(&mut self, initial: u32) {
        self.cwnd = self.cwnd.min(initial);
        self.epoch_start = None;
    }
}
