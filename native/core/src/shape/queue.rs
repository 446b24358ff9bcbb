//! A FIFO bottleneck: a server (a constant rate or a delivery trace) behind a queue
//! limited in bytes or packets, with droptail or CoDel. Used by the shared links and by
//! the `rate` and `trace` actions.
//!
//! Departure times are computed when a packet arrives (FIFO at a known service schedule
//! makes them exact), so the pipeline just parks the packet until then. Rate arithmetic
//! is kept in `ns · bit/s` units so a shaper hits its rate exactly, with no rounding drift.

use super::codel::Codel;
use super::spec::Aqm;
use super::trace::{Trace, TraceServer};
use super::Reason;
use std::collections::VecDeque;

const NS_PER_S: u128 = 1_000_000_000;

#[derive(Debug, Clone)]
pub enum Server {
    Rate {
        bps: u64,
        /// End of the last transmission, in ns · bps.
        busy: u128,
    },
    Trace(TraceServer),
}

impl Server {
    pub fn rate(bps: u64) -> Server {
        Server::Rate { bps, busy: 0 }
    }

    pub fn trace(t: Trace) -> Server {
        Server::Trace(TraceServer::new(t))
    }

    /// When a `size`-byte packet arriving at `now` starts and finishes service (without
    /// committing it).
    fn peek_start(&self, now: u64) -> u64 {
        match self {
            Server::Rate { bps, busy } => {
                let start = (u128::from(now) * u128::from(*bps)).max(*busy);
                start.div_ceil(u128::from(*bps)) as u64
            }
            Server::Trace(_) => now,
        }
    }

    fn commit(&mut self, now: u64, size: u64) -> u64 {
        match self {
            Server::Rate { bps, busy } => {
                let bps = u128::from(*bps);
                let start = (u128::from(now) * bps).max(*busy);
                *busy = start + u128::from(size) * 8 * NS_PER_S;
                busy.div_ceil(bps) as u64
            }
            Server::Trace(t) => t.serve(now, size),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Bottleneck {
    server: Server,
    limit_bytes: Option<u64>,
    limit_packets: Option<u64>,
    codel: Option<Codel>,
    /// Departure time and size of every packet not yet delivered.
    backlog: VecDeque<(u64, u64)>,
    backlog_bytes: u64,
}

impl Bottleneck {
    pub fn new(
        server: Server,
        limit_bytes: Option<u64>,
        limit_packets: Option<u64>,
        aqm: Aqm,
        mtu: u64,
    ) -> Bottleneck {
        Bottleneck {
            server,
            limit_bytes,
            limit_packets,
            codel: (aqm == Aqm::Codel).then(|| Codel::new(mtu)),
            backlog: VecDeque::new(),
            backlog_bytes: 0,
        }
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(t, size)) = self.backlog.front() {
            if t > now {
                break;
            }
            self.backlog.pop_front();
            self.backlog_bytes -= size;
        }
    }

    /// Admit a packet arriving at `now`: its delivery time, or why it is dropped.
    pub fn enqueue(&mut self, now: u64, size: u64) -> Result<u64, Reason> {
        self.expire(now);
        if self
            .limit_packets
            .is_some_and(|l| self.backlog.len() as u64 >= l)
            || self
                .limit_bytes
                .is_some_and(|l| self.backlog_bytes + size > l)
        {
            return Err(Reason::Queue);
        }
        if let Some(codel) = &mut self.codel {
            // Dequeue happens when the server is free for this packet.
            let start = self.server.peek_start(now);
            // The bytes queued at its dequeue are not known yet (later arrivals); the
            // bytes ahead of it now stand in for them.
            if codel.should_drop(start, start - now, self.backlog_bytes + size) {
                return Err(Reason::Codel);
            }
        }
        let depart = self.server.commit(now, size);
        self.backlog.push_back((depart, size));
        self.backlog_bytes += size;
        Ok(depart)
    }

    pub fn backlog_packets(&self) -> usize {
        self.backlog.len()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rate_is_exact_and_fifo() {
        // 1 Mbit/s: a 1250-byte packet takes exactly 10 ms.
        let mut b = Bottleneck::new(Server::rate(1_000_000), None, None, Aqm::Droptail, 1500);
        assert_eq!(b.enqueue(0, 1250), Ok(10_000_000));
        assert_eq!(b.enqueue(0, 1250), Ok(20_000_000));
        assert_eq!(b.enqueue(50_000_000, 1250), Ok(60_000_000));
        // 3 bytes at 7 bit/s: 24/7 s, rounded up once, never accumulated.
        let mut b = Bottleneck::new(Server::rate(7), None, None, Aqm::Droptail, 1500);
        let mut last = 0;
        for i in 1..=7u64 {
            last = b.enqueue(0, 3).unwrap();
            assert_eq!(last, (i * 24 * 1_000_000_000).div_ceil(7));
        }
        assert_eq!(last, 24_000_000_000);
    }

    #[test]
    fn droptail_limits() {
        let mut b = Bottleneck::new(Server::rate(1_000_000), None, Some(2), Aqm::Droptail, 1500);
        assert!(b.enqueue(0, 1250).is_ok());
        assert!(b.enqueue(0, 1250).is_ok());
        assert_eq!(b.enqueue(0, 1250), Err(Reason::Queue));
        // The first left at 10 ms: room again.
        assert!(b.enqueue(10_000_000, 1250).is_ok());
        let mut b = Bottleneck::new(
            Server::rate(1_000_000),
            Some(2000),
            None,
            Aqm::Droptail,
            1500,
        );
        assert!(b.enqueue(0, 1250).is_ok());
        assert_eq!(b.enqueue(0, 1250), Err(Reason::Queue));
        assert!(b.enqueue(0, 750).is_ok());
    }

    #[test]
    fn codel_drops_a_standing_queue() {
        let mut b = Bottleneck::new(Server::rate(1_000_000), None, None, Aqm::Codel, 1500);
        // Offer twice the rate for 2 s: a standing queue forms, CoDel starts dropping.
        let (mut drops, mut t) = (0, 0);
        while t < 2_000_000_000 {
            if b.enqueue(t, 1250) == Err(Reason::Codel) {
                drops += 1;
            }
            t += 5_000_000;
        }
        assert!(drops > 10, "{drops}");
    }
}
