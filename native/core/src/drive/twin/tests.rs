//! The twin's TCP in virtual time, exactly: two endpoints joined by a pipeline (links and
//! actions from shape/testkit.rs), every packet logged with its time.

use super::cc::CcKind;
use super::tcp::{Note, Out, Params, State, Tcp, MS};
use crate::shape::packet::{Dir, Pkt};
use crate::shape::pipeline::Pipeline;
use crate::shape::testkit::{action, obj, pipeline_with, policy, scenario_json, LINK, S};
use crate::wire::packet;
use crate::wire::tcp::{RST, SYN};

/// A sent packet: when, which way, payload bytes, TCP flags, sequence number.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub t: u64,
    pub dir: Dir,
    pub len: usize,
    pub flags: u8,
}

/// Client (0) and server (1) over `p`; the server accepts the first SYN.
pub struct Pair {
    pub p: Pipeline,
    pub ends: [Tcp; 2],
    pub now: u64,
    pub sent: Vec<Sent>,
    pub notes: Vec<(u64, usize, Note)>,
    /// Data segments that reached each side.
    pub data_arrived: [usize; 2],
    emitted: Vec<Pkt>,
    bypassed: Vec<(Dir, Vec<u8>)>,
}

fn log(sent: &mut Vec<Sent>, now: u64, out: &Out) {
    for (dir, ip) in out {
        let p = packet::parse(ip).unwrap();
        let t = p.tcp.unwrap();
        sent.push(Sent {
            t: now,
            dir: *dir,
            len: p.payload_len(),
            flags: t.flags,
        });
    }
}

impl Pair {
    pub fn new(p: Pipeline, cc: CcKind) -> Pair {
        let params = Params::linux(1500, false, cc);
        let c = ([198, 18, 0, 1].into(), 40000);
        let s = ([198, 19, 0, 1].into(), 443);
        Pair {
            p,
            ends: [
                Tcp::new(c, s, Dir::Up, params, 1000, 1),
                Tcp::new(s, c, Dir::Down, params, 5000, 2),
            ],
            now: 0,
            sent: Vec::new(),
            notes: Vec::new(),
            data_arrived: [0, 0],
            emitted: Vec::new(),
            bypassed: Vec::new(),
        }
    }

    fn send(&mut self, out: Out) {
        log(&mut self.sent, self.now, &out);
        self.enter(out);
        self.deliver();
    }

    /// Into the pipeline as the twin sends them (a flow nothing shapes bypasses it whole).
    fn enter(&mut self, out: Out) {
        for (dir, ip) in out {
            if super::enter(&mut self.p, dir, &ip, self.now, 1448, &mut self.emitted) {
                self.bypassed.push((dir, ip));
            }
        }
    }

    fn deliver(&mut self) {
        while !self.emitted.is_empty() || !self.bypassed.is_empty() {
            let mut arrived = std::mem::take(&mut self.bypassed);
            for pkt in std::mem::take(&mut self.emitted) {
                arrived.push((pkt.dir, pkt.ip().to_vec()));
                self.p.recycle(pkt);
            }
            for (dir, ip) in arrived {
                let side = if dir == Dir::Up { 1 } else { 0 };
                let p = packet::parse(&ip).unwrap();
                if p.payload_len() > 0 {
                    self.data_arrived[side] += p.payload_len().div_ceil(1448);
                }
                let mut out = Vec::new();
                let mut notes = Vec::new();
                let end = &mut self.ends[side];
                if end.state == State::Idle {
                    let h = super::wire::read_segment(&ip, &p).unwrap();
                    if h.flags & SYN != 0 {
                        end.accept(self.now, &h, &mut out);
                    }
                } else {
                    end.on_packet(self.now, &ip, &p, &mut notes, &mut out);
                }
                self.notes
                    .extend(notes.into_iter().map(|n| (self.now, side, n)));
                log(&mut self.sent, self.now, &out);
                self.enter(out);
            }
        }
    }

    pub fn connect(&mut self) {
        let mut out = Vec::new();
        self.ends[0].connect(self.now, &mut out);
        self.send(out);
    }

    /// `side` writes `n` bytes now.
    pub fn write(&mut self, side: usize, n: u64) {
        let mut out = Vec::new();
        self.ends[side].write(n, None);
        self.ends[side].push(self.now, &mut out);
        self.send(out);
    }

    /// Run until `until` or until nothing is left to do.
    pub fn run(&mut self, until: u64) {
        loop {
            let ends = self.ends.iter().filter_map(Tcp::next_deadline).min();
            let Some(t) = [ends, self.p.next_wakeup()].into_iter().flatten().min() else {
                break;
            };
            if t > until {
                break;
            }
            self.now = t;
            if self.p.next_wakeup() == Some(t) {
                self.p.advance(t, &mut self.emitted);
                self.deliver();
                continue;
            }
            for side in 0..2 {
                if self.ends[side].next_deadline().is_some_and(|d| d <= t) {
                    let (mut out, mut notes) = (Vec::new(), Vec::new());
                    self.ends[side].on_timer(t, &mut notes, &mut out);
                    self.notes.extend(notes.into_iter().map(|n| (t, side, n)));
                    self.send(out);
                }
            }
        }
        self.now = self.now.max(until);
    }

    /// Data packets `dir` carried, as (time, payload bytes).
    pub fn data(&self, dir: Dir) -> Vec<(u64, usize)> {
        self.sent
            .iter()
            .filter(|s| s.dir == dir && s.len > 0)
            .map(|s| (s.t, s.len))
            .collect()
    }

    /// When `side` had the peer's stream up to `n` bytes.
    pub fn readable_at(&self, side: usize, n: u64) -> Option<u64> {
        self.notes
            .iter()
            .find(|(_, s, note)| *s == side && matches!(note, Note::Readable(r) if *r >= n))
            .map(|(t, _, _)| *t)
    }
}

/// A pipeline whose links are `up` and `down` (JSON objects over testkit's LINK).
fn links(up: &[(&str, &str)], down: &[(&str, &str)], policies: &[String]) -> Pipeline {
    pipeline_with(
        &scenario_json(&[], policies, &obj(LINK, up), &obj(LINK, down)),
        &[],
    )
}

fn delay(ms: u64) -> String {
    (ms * MS).to_string()
}

#[test]
fn handshake_takes_one_round_trip_and_data_half_of_one() {
    let d = delay(50);
    let mut pair = Pair::new(
        links(&[("delay_ns", &d)], &[("delay_ns", &d)], &[]),
        CcKind::Cubic,
    );
    pair.connect();
    pair.run(S);
    let syn = pair.sent[0];
    assert_eq!((syn.t, syn.flags), (0, SYN));
    // SYN-ACK at 50 ms, the client's ACK at 100 ms: established then.
    assert!(pair.notes.contains(&(100 * MS, 0, Note::Established)));
    assert!(pair.notes.contains(&(150 * MS, 1, Note::Established)));
    pair.write(0, 200);
    pair.run(2 * S);
    assert_eq!(pair.readable_at(1, 200), Some(1000 * MS + 50 * MS));
    // A lone segment is acknowledged after the 40 ms delayed-ACK timer... unless quick
    // ACKs are still owed: the first segments of a connection are acknowledged at once.
    let acks: Vec<u64> = pair
        .sent
        .iter()
        .filter(|s| s.dir == Dir::Down && s.t > S)
        .map(|s| s.t)
        .collect();
    assert_eq!(acks, vec![1050 * MS]);
}

#[test]
fn slow_start_doubles_the_window_each_round_trip() {
    let d = delay(50);
    let mut pair = Pair::new(
        links(&[("delay_ns", &d)], &[("delay_ns", &d)], &[]),
        CcKind::Cubic,
    );
    pair.connect();
    pair.run(200 * MS);
    pair.write(1, 4_000_000);
    pair.run(200 * MS + 600 * MS);
    // Segments sent per round trip, from the first burst at 200 ms: the initial window of
    // 10, then twice as many each round (one more per segment ACKed), until the receive
    // window binds: it grows each round to twice what arrived in the last plus 16
    // segments (20 → 81,088 B, scaled by 128: 55 whole segments; 40 → 139,008 B: 96).
    let data = pair.data(Dir::Down);
    let per_round: Vec<usize> = (0..5)
        .map(|r| {
            let from = 200 * MS + r * 100 * MS;
            data.iter()
                .filter(|(t, _)| *t >= from && *t < from + 100 * MS)
                .map(|(_, n)| n.div_ceil(1448))
                .sum()
        })
        .collect();
    assert_eq!(per_round, vec![10, 20, 40, 55, 96]);
}

#[test]
fn a_lost_tail_segment_is_sent_again_after_the_retransmission_timeout() {
    // A blackhole up for the first 1.1 s: the handshake is done before, the message after
    // 1 s is lost, and nothing follows it to reveal the loss but the timer.
    let d = delay(10);
    let hole = policy("hole", "[]", &[action("blackhole", "")]);
    let mut p = links(&[("delay_ns", &d)], &[("delay_ns", &d)], &[hole]);
    p.set_active(&[]).unwrap();
    let mut pair = Pair::new(p, CcKind::Cubic);
    pair.connect();
    pair.run(S);
    pair.p.set_active(&["hole".to_string()]).unwrap();
    pair.write(0, 200);
    pair.run(S + 100 * MS);
    pair.p.set_active(&[]).unwrap();
    pair.run(3 * S);
    let data = pair.data(Dir::Up);
    // SRTT 20 ms from the handshake (RTTVAR 10 ms): RTO = 20 + max(4 × 10, 200) = 220 ms;
    // the loss probe (2 SRTT + 200 ms with one segment out) would be later, so it fires
    // at the RTO's time.
    assert_eq!(data, vec![(S, 200), (S + 220 * MS, 200)]);
    assert_eq!(pair.readable_at(1, 200), Some(S + 230 * MS));
}

#[test]
fn losses_inside_a_window_are_repaired_by_sack_without_a_timeout() {
    // A 1 % loss drops some segments of a 1 MB transfer; RACK finds each within a round
    // trip: every lost segment is sent again once, none that arrived, and the ACK clock
    // never stops for a retransmission timeout (200 ms at least).
    let d = delay(10);
    let loss = policy("loss", "[]", &[action("loss", r#""rate":0.01"#)]);
    let mut pair = Pair::new(
        links(&[("delay_ns", &d)], &[("delay_ns", &d)], &[loss]),
        CcKind::Cubic,
    );
    pair.connect();
    pair.run(100 * MS);
    pair.write(1, 1_000_000);
    pair.run(10 * S);
    assert!(pair.readable_at(0, 1_000_000).is_some());
    let sent: usize = pair
        .data(Dir::Down)
        .iter()
        .map(|d| d.1.div_ceil(1448))
        .sum();
    let lost = sent - pair.data_arrived[0];
    assert!(lost > 0);
    assert_eq!(pair.ends[1].retransmits as usize, lost);
    let times: Vec<u64> = pair.data(Dir::Down).iter().map(|d| d.0).collect();
    assert!(times.windows(2).all(|w| w[1] - w[0] < 25 * MS));
}

fn policed_goodput(cc: CcKind) -> f64 {
    let d = delay(10);
    let police = policy(
        "p",
        "[]",
        &[action(
            "police",
            r#""rate_bps":1000000,"burst_bytes":16000"#,
        )],
    );
    let mut pair = Pair::new(
        links(&[("delay_ns", &d)], &[("delay_ns", &d)], &[police]),
        cc,
    );
    pair.connect();
    pair.run(100 * MS);
    pair.write(1, 100_000_000);
    pair.run(100 * MS + 30 * S);
    let from = pair.readable_at(0, 1).unwrap();
    let got = pair.ends[0].rcv_nxt();
    got as f64 * 8.0 / ((pair.now - from) as f64 / 1e9)
}

#[test]
fn a_policer_holds_either_congestion_control_near_its_rate() {
    // 1 Mbit/s with a 16 KB bucket, 20 ms RTT, 30 s: CUBIC loses a burst each time it
    // outgrows the bucket and recovers; BBR finds the policed rate (long-term sampling).
    let cubic = policed_goodput(CcKind::Cubic);
    let bbr = policed_goodput(CcKind::Bbr);
    assert!((600e3..=1.0e6).contains(&cubic), "cubic {cubic}");
    assert!((850e3..=1.0e6).contains(&bbr), "bbr {bbr}");
    // Deterministic.
    assert_eq!(cubic, policed_goodput(CcKind::Cubic));
}

#[test]
fn a_forged_reset_closes_both_ends() {
    let reset = policy(
        "r",
        "[]",
        &[action(
            "reset",
            r#""after_bytes":100,"to":"both","replace_reply":false"#,
        )],
    );
    let mut pair = Pair::new(links(&[], &[], &[reset]), CcKind::Cubic);
    pair.connect();
    pair.run(10 * MS);
    pair.write(0, 500);
    pair.run(S);
    assert!(pair
        .notes
        .iter()
        .any(|(_, s, n)| *s == 0 && *n == Note::Reset));
    assert!(pair
        .notes
        .iter()
        .any(|(_, s, n)| *s == 1 && *n == Note::Reset));
    assert!(
        pair.sent.iter().all(|s| s.flags & RST == 0),
        "endpoints send no RST themselves"
    );
}
