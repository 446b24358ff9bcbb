//! One QUIC endpoint of the twin (RFC 9000/9002 as Chromium and quic-go run them, in
//! outline): the client's first flight is a real, encrypted QUIC v1 Initial carrying its
//! ClientHello (over two Initials when it is Chromium's post-quantum one), so classifiers
//! read it as in the lab; the server answers with its handshake flight (about 2.5 KB in
//! 1252-byte datagrams), the client finishes, then one stream each way carries the
//! application's bytes. Packet numbers, ACKs (every second packet, or after 25 ms; at
//! once for a gap), loss by packet threshold (3) and time threshold (9/8 of the RTT), probe
//! timeouts (SRTT + 4 RTTVAR + 25 ms, doubling), CUBIC paced at 1.25× cwnd/SRTT (2× in
//! slow start), and a 30 s idle timeout.
//!
//! Simplified: one packet-number space and one stream per direction (HTTP/3 has a
//! stream per request: a loss here holds the messages behind it), no flow control, no
//! connection migration or key updates. What the endpoints say to each other besides the
//! Initial's bytes (packet number, ACK, stream offsets) travels in the last 48 bytes of
//! each datagram, standing in for the encrypted frames and the AEAD tag.

use super::cc::{AckSample, CaState, Cc, CcKind};
use super::rtt::Rtt;
use super::tcp::{Note, Out, MS};
use super::wire::{build_datagram, Addr};
use crate::shape::packet::Dir;
use crate::wire::packet::Parsed;
use crate::wire::{quic_initial, tls};
use std::collections::BTreeMap;

/// Datagram size (Chromium's and quic-go's initial maximum).
pub const DATAGRAM: usize = 1252;
/// The server's handshake flight: Initial (ServerHello) and Handshake (certificate chain,
/// CertificateVerify, Finished) packets.
const SERVER_FLIGHT: u64 = 2500;
const CLIENT_FINISHED: u64 = 60;
/// Short header (flags, 8-byte connection ID, packet number) and AEAD tag.
const OVERHEAD: usize = 1 + 8 + 4 + 16;
const TAG: usize = 48;
const MIN_PACKET: usize = OVERHEAD + TAG;
const MAX_ACK_DELAY: u64 = 25 * MS;
const INITIAL_RTT: u64 = 100 * MS;
const IDLE_TIMEOUT: u64 = 30_000 * MS;
const PACKET_THRESHOLD: u64 = 3;
const MAGIC: u16 = 0x7151;

#[derive(Debug, Clone, Copy)]
struct SentPacket {
    sent_at: u64,
    /// Stream bytes it carried.
    data: Option<(u64, u64)>,
    ack_eliciting: bool,
    size: usize,
}

/// What a datagram says (its tag).
#[derive(Debug, Clone, Copy, Default)]
struct Tag {
    pn: u64,
    ack: Option<(u64, u64)>,
    data: Option<(u64, u64)>,
}

fn write_tag(b: &mut [u8], t: &Tag) {
    let n = b.len();
    let tag = &mut b[n - TAG..];
    tag[0..2].copy_from_slice(&MAGIC.to_be_bytes());
    tag[2..10].copy_from_slice(&t.pn.to_be_bytes());
    let (largest, bits, has_ack) = t.ack.map_or((0, 0, 0), |(l, b)| (l, b, 1));
    tag[10] = has_ack;
    tag[11..19].copy_from_slice(&largest.to_be_bytes());
    tag[19..27].copy_from_slice(&bits.to_be_bytes());
    let (off, len, has_data) = t.data.map_or((0, 0, 0), |(o, l)| (o, l, 1));
    tag[27] = has_data;
    tag[28..36].copy_from_slice(&off.to_be_bytes());
    tag[36..44].copy_from_slice(&len.to_be_bytes());
}

fn read_tag(b: &[u8]) -> Option<Tag> {
    if b.len() < TAG {
        return None;
    }
    let t = &b[b.len() - TAG..];
    if u16::from_be_bytes([t[0], t[1]]) != MAGIC {
        return None;
    }
    let u = |k: usize| u64::from_be_bytes(t[k..k + 8].try_into().expect("8 bytes"));
    Some(Tag {
        pn: u(2),
        ack: (t[10] == 1).then(|| (u(11), u(19))),
        data: (t[27] == 1).then(|| (u(28), u(36))),
    })
}

#[derive(Debug)]
pub struct Quic {
    pub local: Addr,
    pub remote: Addr,
    pub dir: Dir,
    client: bool,
    open: bool,
    established: bool,
    /// The client's ClientHello (its first flight), and whether it spans two Initials.
    hello: Vec<u8>,
    /// Bytes of the peer's stream before its application's: its handshake flight.
    peer_flight: u64,
    // sending
    written: u64,
    nxt: u64,
    una: u64,
    acked: Vec<(u64, u64)>,
    lost: Vec<(u64, u64)>,
    next_pn: u64,
    sent: BTreeMap<u64, SentPacket>,
    largest_acked: Option<u64>,
    bytes_in_flight: usize,
    cc: Cc,
    rtt: Rtt,
    pto_count: u32,
    pto_at: Option<u64>,
    loss_at: Option<u64>,
    pace_at: u64,
    pace_wait: bool,
    in_recovery_until: u64,
    delivered: u64,
    total_lost: u64,
    // receiving
    rcv: Vec<(u64, u64)>,
    rcv_nxt: u64,
    largest_rcvd: Option<u64>,
    rcvd_bits: u64,
    ack_owed: u32,
    ack_at: Option<u64>,
    last_heard: u64,
    pub packets_sent: u64,
}

/// Add [a, b) to a sorted set of disjoint ranges.
fn add_range(set: &mut Vec<(u64, u64)>, a: u64, b: u64) {
    let (mut a, mut b) = (a, b);
    set.retain(|&(x, y)| {
        if y < a || x > b {
            true
        } else {
            a = a.min(x);
            b = b.max(y);
            false
        }
    });
    let at = set.partition_point(|&(x, _)| x < a);
    set.insert(at, (a, b));
}

impl Quic {
    /// `sni`, `split`: the client's ClientHello (a server gets "").
    pub fn new(
        local: Addr,
        remote: Addr,
        dir: Dir,
        client: bool,
        sni: &str,
        split: bool,
        now: u64,
    ) -> Quic {
        // Chromium's ClientHello carries an X25519Kyber768 key share: about 1.8 KB.
        let pad = if split { 1800 } else { 300 };
        Quic {
            local,
            remote,
            dir,
            client,
            open: true,
            established: false,
            hello: if client {
                tls::build_client_hello(sni, &["h3"], false, pad)
            } else {
                Vec::new()
            },
            peer_flight: if client { SERVER_FLIGHT } else { 0 },
            written: 0,
            nxt: 0,
            una: 0,
            acked: Vec::new(),
            lost: Vec::new(),
            next_pn: 0,
            sent: BTreeMap::new(),
            largest_acked: None,
            bytes_in_flight: 0,
            cc: Cc::new(CcKind::Cubic, 10, (DATAGRAM - OVERHEAD) as u32, 0),
            rtt: Rtt::NONE,
            pto_count: 0,
            pto_at: None,
            loss_at: None,
            pace_at: 0,
            pace_wait: false,
            in_recovery_until: 0,
            delivered: 0,
            total_lost: 0,
            rcv: Vec::new(),
            rcv_nxt: 0,
            largest_rcvd: None,
            rcvd_bits: 0,
            ack_owed: 0,
            ack_at: None,
            last_heard: now,
            packets_sent: 0,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    pub fn close(&mut self) {
        self.open = false;
    }

    pub fn written(&self) -> u64 {
        self.written
    }

    /// Bytes of this side's stream before the application's: its handshake flight.
    pub fn handshake_out(&self) -> u64 {
        if self.client {
            self.hello.len() as u64 + CLIENT_FINISHED
        } else {
            SERVER_FLIGHT
        }
    }

    /// The client starts: its ClientHello (the first flight) goes out.
    pub fn connect(&mut self, now: u64, out: &mut Out) {
        self.written = self.hello.len() as u64;
        self.push(now, out);
    }

    /// Queue `n` application bytes; returns the application's offset after them.
    pub fn write(&mut self, n: u64) -> u64 {
        self.written += n;
        self.written - self.handshake_out()
    }

    pub fn next_deadline(&self) -> Option<u64> {
        if !self.open {
            return None;
        }
        let pace = self.pace_wait.then_some(self.pace_at);
        let idle = Some(self.last_heard + IDLE_TIMEOUT);
        [self.pto_at, self.loss_at, self.ack_at, pace, idle]
            .into_iter()
            .flatten()
            .min()
    }

    fn pto(&self) -> u64 {
        let (srtt, var) = if self.rtt.srtt == 0 {
            (INITIAL_RTT, INITIAL_RTT / 2)
        } else {
            (self.rtt.srtt, self.rtt.var)
        };
        (srtt + (4 * var).max(MS) + MAX_ACK_DELAY) << self.pto_count.min(10)
    }

    pub fn on_packet(
        &mut self,
        now: u64,
        ip: &[u8],
        p: &Parsed,
        notes: &mut Vec<Note>,
        out: &mut Out,
    ) {
        if !self.open || !super::wire::intact(ip, p) {
            return;
        }
        let Some(t) = read_tag(&ip[p.payload..p.end]) else {
            return;
        };
        self.last_heard = now;
        if !self.client && self.rcv.is_empty() && self.rcv_nxt == 0 {
            // The server's first Initial: it answers with its flight.
            self.written = self.written.max(SERVER_FLIGHT);
        }
        if let Some((largest, bits)) = t.ack {
            self.on_ack(now, largest, bits, notes);
        }
        // Record the packet number for our ACKs.
        let gap = match self.largest_rcvd {
            None => {
                self.largest_rcvd = Some(t.pn);
                self.rcvd_bits = 0;
                false
            }
            Some(l) if t.pn > l => {
                let shift = t.pn - l;
                self.rcvd_bits = if shift >= 64 {
                    0
                } else {
                    (self.rcvd_bits << shift) | (1 << (shift - 1))
                };
                self.largest_rcvd = Some(t.pn);
                shift > 1
            }
            Some(l) => {
                let back = l - t.pn;
                if (1..=64).contains(&back) {
                    self.rcvd_bits |= 1 << (back - 1);
                }
                true
            }
        };
        if let Some((off, len)) = t.data {
            add_range(&mut self.rcv, off, off + len);
            if let Some(&(a, b)) = self.rcv.first() {
                if a == 0 && b > self.rcv_nxt {
                    self.rcv_nxt = b;
                    if !self.established && self.rcv_nxt >= self.handshake_in() {
                        self.established = true;
                        if self.client {
                            // The client's Finished follows its ClientHello in its stream.
                            self.written += CLIENT_FINISHED;
                        }
                        notes.push(Note::Established);
                    }
                    if self.established {
                        notes.push(Note::Readable(self.rcv_nxt - self.handshake_in()));
                    }
                }
            }
            self.ack_owed += 1;
            if gap || self.ack_owed >= 2 || !self.established {
                self.send_ack(now, out);
            } else if self.ack_at.is_none() {
                self.ack_at = Some(now + MAX_ACK_DELAY);
            }
        }
        self.push(now, out);
    }

    /// What this side must receive before the peer's application bytes.
    fn handshake_in(&self) -> u64 {
        self.peer_flight
    }

    /// The server is told how long the client's ClientHello is (a real server reads it
    /// from the Initials; the twin's world knows both ends).
    pub fn expect_hello(&mut self, len: u64) {
        self.peer_flight = len + CLIENT_FINISHED;
    }

    fn on_ack(&mut self, now: u64, largest: u64, bits: u64, notes: &mut Vec<Note>) {
        let acked_pn = |pn: u64| {
            pn == largest
                || (pn < largest && largest - pn <= 64 && bits & (1 << (largest - pn - 1)) != 0)
        };
        let newly: Vec<u64> = self
            .sent
            .range(..=largest)
            .filter(|(pn, _)| acked_pn(**pn))
            .map(|(pn, _)| *pn)
            .collect();
        if newly.is_empty() {
            return;
        }
        let mut rtt = None;
        let mut acked = 0u32;
        for pn in &newly {
            let s = self.sent.remove(pn).expect("listed");
            if s.ack_eliciting {
                self.bytes_in_flight -= s.size;
            }
            if *pn == largest {
                rtt = Some(now - s.sent_at);
            }
            if let Some((off, len)) = s.data {
                add_range(&mut self.acked, off, off + len);
                acked += 1;
                self.delivered += 1;
            }
        }
        self.largest_acked = Some(self.largest_acked.map_or(largest, |l| l.max(largest)));
        if let Some(r) = rtt {
            self.rtt.sample(r);
        }
        self.pto_count = 0;
        let una = self.acked.first().filter(|r| r.0 == 0).map_or(0, |r| r.1);
        if una > self.una {
            self.una = una;
            let base = self.handshake_out();
            if una > base {
                notes.push(Note::Acked(una - base));
            }
        }
        let lost = self.detect_losses(now);
        let in_recovery = now < self.in_recovery_until;
        let s = AckSample {
            now,
            acked,
            lost,
            rtt,
            una: self.una,
            nxt: self.nxt,
            inflight: (self.bytes_in_flight / DATAGRAM) as u32,
            cwnd_limited: true,
            state: if in_recovery {
                CaState::Recovery
            } else {
                CaState::Open
            },
            in_recovery,
            rate: None,
            delivered: self.delivered,
            total_lost: self.total_lost,
            min_rtt: self.rtt.min,
        };
        self.cc.on_ack(&s);
        self.arm_pto(now);
    }

    /// RFC 9002 §6.1: lost by packet threshold or by time threshold.
    fn detect_losses(&mut self, now: u64) -> u32 {
        let Some(largest) = self.largest_acked else {
            return 0;
        };
        let rtt = self.rtt.srtt.max(self.rtt.min.min(self.rtt.srtt.max(1)));
        let delay = (9 * rtt / 8).max(MS);
        self.loss_at = None;
        let mut lost = Vec::new();
        for (&pn, s) in self.sent.range(..largest) {
            if largest - pn >= PACKET_THRESHOLD || s.sent_at + delay <= now {
                lost.push(pn);
            } else {
                let at = s.sent_at + delay;
                self.loss_at = Some(self.loss_at.map_or(at, |t| t.min(at)));
            }
        }
        for pn in &lost {
            let s = self.sent.remove(pn).expect("listed");
            if s.ack_eliciting {
                self.bytes_in_flight -= s.size;
            }
            if let Some((off, len)) = s.data {
                add_range(&mut self.lost, off, off + len);
            }
            self.total_lost += 1;
        }
        // One reduction per round trip (a recovery period, RFC 9002 §7.3.2).
        if !lost.is_empty() && now >= self.in_recovery_until {
            self.cc.on_recovery();
            self.in_recovery_until = now + self.rtt.srtt.max(MS);
        }
        lost.len() as u32
    }

    fn arm_pto(&mut self, now: u64) {
        self.pto_at = (self.bytes_in_flight > 0 || !self.established).then(|| now + self.pto());
    }

    pub fn on_timer(&mut self, now: u64, notes: &mut Vec<Note>, out: &mut Out) {
        if !self.open {
            return;
        }
        if now >= self.last_heard + IDLE_TIMEOUT {
            self.open = false;
            notes.push(Note::TimedOut);
            return;
        }
        if self.ack_at.is_some_and(|t| t <= now) {
            self.send_ack(now, out);
        }
        if self.loss_at.is_some_and(|t| t <= now) {
            self.detect_losses(now);
        }
        if self.pto_at.is_some_and(|t| t <= now) {
            // A probe: the oldest data in flight goes again (or the first flight).
            self.pto_count += 1;
            let oldest = self.sent.values().find_map(|s| s.data);
            match oldest {
                Some((off, len)) => add_range(&mut self.lost, off, off + len),
                None if self.nxt == 0 || !self.established => {
                    add_range(&mut self.lost, 0, self.nxt.max(1).min(self.written));
                }
                None => {}
            }
            self.pto_at = Some(now + self.pto());
            self.pace_at = now;
            self.send_some(now, out, true);
        }
        self.push(now, out);
    }

    fn pacing_gap(&self, size: usize) -> u64 {
        if self.rtt.srtt == 0 {
            return 0;
        }
        let gain = if self.cc.in_slow_start() { 2.0 } else { 1.25 };
        let rate =
            gain * f64::from(self.cc.cwnd()) * DATAGRAM as f64 / (self.rtt.srtt as f64 / 1e9);
        (size as f64 / rate * 1e9) as u64
    }

    pub fn push(&mut self, now: u64, out: &mut Out) {
        self.send_some(now, out, false);
    }

    fn send_some(&mut self, now: u64, out: &mut Out, probe: bool) {
        if !self.open {
            return;
        }
        self.pace_wait = false;
        let mut probes = if probe { 2 } else { 0 };
        loop {
            let has_lost = !self.lost.is_empty();
            let has_new = self.nxt < self.written;
            if !has_lost && !has_new {
                break;
            }
            let cwnd_bytes = self.cc.cwnd() as usize * DATAGRAM;
            if probes == 0 && self.bytes_in_flight + DATAGRAM > cwnd_bytes {
                break;
            }
            if probes == 0 && now < self.pace_at {
                self.pace_wait = true;
                break;
            }
            // The client's first flight: its ClientHello in one or two Initials.
            let room = (DATAGRAM - MIN_PACKET) as u64;
            let chunk = if has_lost {
                let (a, b) = self.lost[0];
                let len = (b - a).min(room);
                if a + len >= b {
                    self.lost.remove(0);
                } else {
                    self.lost[0].0 = a + len;
                }
                (a, len)
            } else {
                let len = (self.written - self.nxt).min(room);
                let c = (self.nxt, len);
                self.nxt += len;
                c
            };
            // Already acknowledged (a probe of delivered bytes): skip.
            if self
                .acked
                .iter()
                .any(|&(a, b)| a <= chunk.0 && chunk.0 + chunk.1 <= b)
            {
                continue;
            }
            self.send_packet(now, Some(chunk), out);
            if probes > 0 {
                probes -= 1;
                if probes == 0 {
                    break;
                }
            }
        }
    }

    fn send_ack(&mut self, now: u64, out: &mut Out) {
        self.send_packet(now, None, out);
    }

    fn send_packet(&mut self, now: u64, data: Option<(u64, u64)>, out: &mut Out) {
        let pn = self.next_pn;
        self.next_pn += 1;
        let ack = self.largest_rcvd.map(|l| (l, self.rcvd_bits));
        let tag = Tag { pn, ack, data };
        // Initials before the handshake is done are padded to 1200 bytes (and are real
        // Initials for the first flight); 1-RTT packets carry their bytes plus overhead.
        let long = !self.established;
        let body = data.map_or(0, |d| d.1 as usize);
        let mut size = (body + MIN_PACKET).max(MIN_PACKET);
        if long {
            size = size.max(1200);
        }
        let sealed =
            if self.client && long && data.is_some_and(|(off, _)| off < self.hello.len() as u64) {
                let (off, len) = data.expect("checked");
                // The ClientHello's handshake message (its record header is TLS-over-TCP's
                // only) in CRYPTO frames at the same offsets less those 5 bytes.
                let hs = &self.hello[5..];
                let from = (off as usize).saturating_sub(5).min(hs.len());
                let to = ((off + len) as usize)
                    .saturating_sub(5)
                    .min(hs.len())
                    .max(from);
                let frames = quic_initial::crypto_frame(from as u64, &hs[from..to]);
                Some(quic_initial::seal_client_initial(
                    1, &[0x51; 8], pn as u32, &frames, 1200,
                ))
            } else {
                None
            };
        if let Some(s) = &sealed {
            size = size.max(s.len() + TAG);
        }
        let mut b = Vec::with_capacity(size + 48);
        build_datagram(&mut b, self.local, self.remote, size, |d| {
            match &sealed {
                Some(s) => d[..s.len()].copy_from_slice(s),
                None if long => {
                    // A long header: Initial/Handshake type, version 1.
                    d[0] = 0xe0;
                    d[1..5].copy_from_slice(&1u32.to_be_bytes());
                }
                None => d[0] = 0x40,
            }
            write_tag(d, &tag);
        });
        self.packets_sent += 1;
        out.push((self.dir, b));
        self.ack_owed = 0;
        self.ack_at = None;
        if data.is_some() {
            self.sent.insert(
                pn,
                SentPacket {
                    sent_at: now,
                    data,
                    ack_eliciting: true,
                    size,
                },
            );
            self.bytes_in_flight += size;
            self.pace_at = self.pace_at.max(now) + self.pacing_gap(size);
            if self.pto_at.is_none() {
                self.arm_pto(now);
            }
        }
    }

    pub fn hello_len(&self) -> u64 {
        self.hello.len() as u64
    }
}
