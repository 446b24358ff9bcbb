//! The round-trip estimate both of the twin's transports keep: RFC 6298's smoothed RTT
//! and variation (Linux's `srtt`/`mdev`, RFC 9002's `smoothed_rtt`/`rttvar`: the same
//! gains, 1/8 and 1/4) and the minimum seen. TCP and QUIC differ in what they do with it
//! (an RTO, a probe timeout), not in how a sample moves it.

#[derive(Debug, Clone, Copy)]
pub struct Rtt {
    /// Smoothed RTT in ns; 0 until the first sample.
    pub srtt: u64,
    /// Smoothed mean deviation in ns.
    pub var: u64,
    /// Smallest sample in ns; `u64::MAX` until the first.
    pub min: u64,
}

impl Rtt {
    /// No sample yet.
    pub const NONE: Rtt = Rtt {
        srtt: 0,
        var: 0,
        min: u64::MAX,
    };

    /// Take one sample of `r` ns; true if it was the first (a sample of 0 leaves the
    /// smoothed RTT at 0, so the next counts as the first again).
    pub fn sample(&mut self, r: u64) -> bool {
        let first = self.srtt == 0;
        self.min = self.min.min(r);
        if first {
            self.srtt = r;
            self.var = r / 2;
        } else {
            self.var = (3 * self.var + self.srtt.abs_diff(r)) / 4;
            self.srtt = (7 * self.srtt + r) / 8;
        }
        first
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn first_sample_sets_then_gains_are_an_eighth_and_a_quarter() {
        let mut r = Rtt::NONE;
        assert!(r.sample(100));
        assert_eq!((r.srtt, r.var, r.min), (100, 50, 100));
        assert!(!r.sample(60));
        // var: (3*50 + |100-60|)/4 = 47; srtt: (7*100 + 60)/8 = 95.
        assert_eq!((r.srtt, r.var, r.min), (95, 47, 60));
    }

    #[test]
    fn a_zero_sample_is_no_estimate_yet() {
        let mut r = Rtt::NONE;
        assert!(r.sample(0));
        assert!(r.sample(40));
        assert_eq!((r.srtt, r.var, r.min), (40, 20, 0));
    }
}
