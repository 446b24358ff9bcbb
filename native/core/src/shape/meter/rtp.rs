//! RTP over UDP, per direction and SSRC, from the clear RTP header (SRTP encrypts only
//! the payload): what the sender sent (packets entering the lab) and what the receiver
//! got (packets leaving it), with the receiver's RFC 3550 statistics — packets expected
//! from the extended highest sequence number (appendix A.1, without probation), lost =
//! expected − received, and the interarrival jitter of §6.4.1 / A.8.
//!
//! RFC 3550 jitter is in timestamp units; the clock rate of a dynamic payload type is
//! signalled out of band (SDP), so it is estimated from the stream: timestamp advance
//! over arrival time once 200 ms have passed, snapped to the common rates (8, 16, 24,
//! 32, 48 kHz audio, 90 kHz video) when within 20 %. Jitter is computed from then on and
//! reported in ns.
//!
//! A packet counts as RTP (RFC 7983's demultiplexing: first byte 128-191, version 2)
//! unless its payload type is RTCP's (RFC 5761: 64-95 after the marker bit). A direction
//! follows at most `STREAMS` SSRCs; later ones are counted as `other`.

const STREAMS: usize = 4;
const MAX_DROPOUT: u16 = 3000;
const MAX_MISORDER: u16 = 100;
const RATE_AFTER_NS: u64 = 200_000_000;
const RATES: [u32; 6] = [8000, 16_000, 24_000, 32_000, 48_000, 90_000];

/// The fields of an RTP header the meter reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
}

/// The RTP header at the start of a UDP payload, if it is one (RTCP is not).
pub fn header(b: &[u8]) -> Option<Header> {
    if b.len() < 12 || b[0] & 0xc0 != 0x80 || (64..=95).contains(&(b[1] & 0x7f)) {
        return None;
    }
    let be32 = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    Some(Header {
        seq: u16::from_be_bytes([b[2], b[3]]),
        ts: be32(4),
        ssrc: be32(8),
    })
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stream {
    pub ssrc: u32,
    /// Packets of this SSRC that entered the lab.
    pub sent: u64,
    /// Packets that left it toward the receiver.
    pub received: u64,
    started: bool,
    base: u32,
    max_seq: u16,
    cycles: u32,
    bad_seq: u32,
    /// Estimated clock rate (0: not yet).
    pub rate: u32,
    first_ns: u64,
    first_ts: u32,
    transit: Option<i64>,
    /// Jitter in timestamp units (RFC 3550 J).
    jitter: f64,
}

impl Stream {
    /// Packets expected by the receiver: extended highest sequence − first + 1.
    pub fn expected(&self) -> u64 {
        if !self.started {
            return 0;
        }
        let ext = u64::from(self.cycles) + u64::from(self.max_seq);
        (ext + 1).saturating_sub(u64::from(self.base))
    }

    pub fn lost(&self) -> u64 {
        self.expected().saturating_sub(self.received)
    }

    /// Interarrival jitter in ns; None until the clock rate is known.
    pub fn jitter_ns(&self) -> Option<f64> {
        (self.rate > 0 && self.transit.is_some()).then(|| self.jitter * 1e9 / f64::from(self.rate))
    }

    fn restart(&mut self, seq: u16) {
        self.started = true;
        self.base = u32::from(seq);
        self.max_seq = seq;
        self.cycles = 0;
        self.bad_seq = u32::MAX;
        self.received = 0;
    }

    /// RFC 3550 A.1 `update_seq` without probation; false: the packet is not counted.
    fn update_seq(&mut self, seq: u16) -> bool {
        if !self.started {
            self.restart(seq);
            return true;
        }
        let udelta = seq.wrapping_sub(self.max_seq);
        if udelta < MAX_DROPOUT {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
        } else if udelta <= u16::MAX - MAX_MISORDER {
            // A very large jump: the sender restarted, unless this is a stray packet.
            if u32::from(seq) == self.bad_seq {
                self.restart(seq);
            } else {
                self.bad_seq = u32::from(seq.wrapping_add(1));
                return false;
            }
        }
        true
    }

    fn arrived(&mut self, h: &Header, now: u64) {
        if !self.update_seq(h.seq) {
            return;
        }
        self.received += 1;
        if self.rate == 0 {
            if self.received == 1 {
                self.first_ns = now;
                self.first_ts = h.ts;
            } else if now - self.first_ns >= RATE_AFTER_NS {
                let ticks = f64::from(h.ts.wrapping_sub(self.first_ts));
                let est = ticks * 1e9 / (now - self.first_ns) as f64;
                self.rate = RATES
                    .iter()
                    .copied()
                    .find(|&r| (est - f64::from(r)).abs() <= 0.2 * f64::from(r))
                    .unwrap_or(est.round().max(1.0) as u32);
            }
            if self.rate == 0 {
                return;
            }
        }
        // Arrival in timestamp units, modulo 2^32 like the timestamps themselves.
        let arrival = (u128::from(now) * u128::from(self.rate) / 1_000_000_000) as u32;
        let transit = i64::from(arrival.wrapping_sub(h.ts) as i32);
        if let Some(prev) = self.transit {
            let d = (transit - prev).abs() as f64;
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.transit = Some(transit);
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RtpDir {
    pub streams: Vec<Stream>,
    /// Packets of SSRCs beyond the first `STREAMS`.
    pub other: u64,
}

impl RtpDir {
    fn stream(&mut self, ssrc: u32) -> Option<&mut Stream> {
        let i = match self.streams.iter().position(|s| s.ssrc == ssrc) {
            Some(i) => i,
            None if self.streams.len() < STREAMS => {
                self.streams.push(Stream {
                    ssrc,
                    ..Stream::default()
                });
                self.streams.len() - 1
            }
            None => {
                self.other += 1;
                return None;
            }
        };
        self.streams.get_mut(i)
    }

    pub fn sent(&mut self, h: &Header) {
        if let Some(s) = self.stream(h.ssrc) {
            s.sent += 1;
        }
    }

    pub fn received(&mut self, h: &Header, now: u64) {
        if let Some(s) = self.stream(h.ssrc) {
            s.arrived(h, now);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    const MS: u64 = 1_000_000;

    fn pkt(seq: u16, ts: u32, ssrc: u32) -> Vec<u8> {
        let mut b = vec![0x80, 111];
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&ts.to_be_bytes());
        b.extend_from_slice(&ssrc.to_be_bytes());
        b.extend_from_slice(&[0; 20]);
        b
    }

    #[test]
    fn header_reads_rtp_and_leaves_rtcp_stun_and_quic_alone() {
        assert_eq!(
            header(&pkt(7, 960, 0xdead_beef)),
            Some(Header {
                seq: 7,
                ts: 960,
                ssrc: 0xdead_beef
            })
        );
        let mut rtcp = pkt(0, 0, 1);
        rtcp[1] = 200; // SR
        assert_eq!(header(&rtcp), None);
        assert_eq!(
            header(&[0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0]),
            None
        );
        assert_eq!(header(&[0xc3, 0, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0]), None);
    }

    #[test]
    fn loss_from_sequence_numbers_across_a_wrap() {
        let mut d = RtpDir::default();
        // 20 ms Opus frames from seq 65530, every fifth one lost before the receiver.
        for i in 0..100u32 {
            let h = header(&pkt(65530u16.wrapping_add(i as u16), i * 960, 9)).unwrap();
            d.sent(&h);
            if i % 5 != 2 {
                d.received(&h, u64::from(i) * 20 * MS);
            }
        }
        let s = &d.streams[0];
        assert_eq!(
            (s.sent, s.received, s.expected(), s.lost()),
            (100, 80, 100, 20)
        );
    }

    #[test]
    fn jitter_is_zero_on_a_steady_stream_and_follows_rfc3550_on_a_late_one() {
        let mut d = RtpDir::default();
        for i in 0..50u32 {
            let h = header(&pkt(i as u16, i * 960, 1)).unwrap();
            d.received(&h, 5 * MS + u64::from(i) * 20 * MS);
        }
        let s = d.streams[0];
        assert_eq!(s.rate, 48_000);
        assert_eq!(s.jitter_ns(), Some(0.0));
        // One packet 8 ms late: |D| = 8 ms for it and the next, J += (|D| - J) / 16.
        let mut late = s;
        late.arrived(&header(&pkt(50, 50 * 960, 1)).unwrap(), 5 * MS + 1008 * MS);
        late.arrived(&header(&pkt(51, 51 * 960, 1)).unwrap(), 5 * MS + 1020 * MS);
        let j1 = 384.0 / 16.0; // 8 ms = 384 ticks at 48 kHz
        let j2 = j1 + (384.0 - j1) / 16.0;
        let got = late.jitter_ns().unwrap();
        assert!((got - j2 * 1e9 / 48_000.0).abs() < 1.0, "{got}");
    }

    #[test]
    fn a_restarted_sender_is_followed_after_two_packets_and_ssrcs_are_bounded() {
        let mut d = RtpDir::default();
        for i in 0..10u16 {
            d.received(&header(&pkt(i, 0, 1)).unwrap(), 0);
        }
        d.received(&header(&pkt(30_000, 0, 1)).unwrap(), 0); // stray
        assert_eq!(d.streams[0].received, 10);
        d.received(&header(&pkt(30_001, 0, 1)).unwrap(), 0); // the sender restarted
        assert_eq!((d.streams[0].received, d.streams[0].expected()), (1, 1));
        for ssrc in 2..=6 {
            d.received(&header(&pkt(0, 0, ssrc)).unwrap(), 0);
        }
        assert_eq!((d.streams.len(), d.other), (STREAMS, 2));
    }
}
