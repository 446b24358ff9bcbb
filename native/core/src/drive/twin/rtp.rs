//! A WebRTC audio call, as two Chromium peers place it in the lab
//! (src/workloads/webrtc.ts): ICE connectivity checks (STUN), a DTLS handshake (the
//! answering server is the DTLS client), then Opus over SRTP at 20 ms each way, RTCP each
//! second and ICE consent checks every 5 s. Statistics are sampled as a stack's
//! getStats would give them, each second and at each phase start. A call that hears
//! nothing for 5 s is disconnected; 10 s later the user hangs up and redials after a
//! backoff; a call not connected within 10 s is given up the same way.
//!
//! Through a TURN relay the client's packets go to the relay instead, after TURN's
//! allocation: over UDP as datagrams, over TCP (or TLS) in the connection's stream, with
//! ChannelData's 4 bytes each.
//!
//! Not modelled: signalling (the call starts with ICE at the workload's start), video,
//! Opus's and the bandwidth estimator's adaptation (a steady 32 kbit/s), NetEq (a packet
//! later than 200 ms beyond the fastest is discarded late).

use super::events::{Event, Who};
use super::net::{Net, CLIENT, SERVER};
use super::plan::Workload;
use super::stream::{backoff_ns, Channel, Happened, Mark};
use super::tcp::Note;
use super::Session;
use crate::wire::stun;
use std::net::SocketAddr;

const START: u8 = 0;
const MEDIA_UP: u8 = 1;
const MEDIA_DOWN: u8 = 2;
const SAMPLE: u8 = 3;
const RETRANSMIT: u8 = 4;
const PHASE_SAMPLE: u8 = 8;
const CONSENT: u8 = 5;
const GIVE_UP: u8 = 6;
const REDIAL: u8 = 7;

const FRAME_NS: u64 = 20_000_000;
/// Opus at 32 kbit/s (80 B a frame) with the RTP header, extensions and SRTP's tag.
const RTP_BYTES: usize = 115;
const RTCP_BYTES: usize = 80;
const SAMPLE_NS: u64 = 1_000_000_000;
const CONSENT_NS: u64 = 5_000_000_000;
/// Nothing heard this long: the ICE state goes disconnected.
const SILENT_NS: u64 = 5_000_000_000;
/// Disconnected this long, the user hangs up (src/workloads/webrtc.ts DISCONNECTED_MS).
const HANG_UP_NS: u64 = 10_000_000_000;
const CONNECT_TIMEOUT: u64 = 10_000_000_000;
/// A packet this much later than the fastest is past NetEq's buffer.
const LATE_NS: u64 = 200_000_000;
/// ChannelData framing of a relayed packet.
const CHANNEL_DATA: usize = 4;

/// Kinds of the twin's call packets (in their tag).
const K_STUN: u8 = 1;
const K_DTLS: u8 = 2;
const K_RTP: u8 = 3;
const K_RTCP: u8 = 4;
const K_CONSENT: u8 = 5;

/// The handshake before media: (sender, bytes, kind). TURN's allocation first when relayed.
const TURN_FLIGHTS: [(usize, usize, u8); 6] = [
    (CLIENT, 120, K_STUN),
    (SERVER, 100, K_STUN),
    (CLIENT, 150, K_STUN),
    (SERVER, 120, K_STUN),
    (CLIENT, 100, K_STUN),
    (SERVER, 60, K_STUN),
];
const CALL_FLIGHTS: [(usize, usize, u8); 6] = [
    (CLIENT, 100, K_STUN),
    (SERVER, 90, K_STUN),
    (SERVER, 180, K_DTLS),
    (CLIENT, 1000, K_DTLS),
    (SERVER, 550, K_DTLS),
    (CLIENT, 60, K_DTLS),
];

#[derive(Debug, Default, Clone, Copy)]
struct Way {
    sent: u64,
    received: u64,
    late: u64,
    bytes: u64,
    highest: Option<u64>,
    highest_at_sample: Option<u64>,
    jitter: f64,
    last_transit: Option<u64>,
    min_transit: Option<u64>,
    transit_sum: u64,
    transit_n: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    Udp(u32),
    /// TURN over TCP: the relay channel's connection.
    Relay,
}

pub struct Rtp {
    id: u32,
    who: Who,
    carrier: Option<Carrier>,
    relay: Channel,
    flights: Vec<(usize, usize, u8)>,
    /// Flights each side has received (the next to expect is this index).
    flight: usize,
    media: [bool; 2],
    seq: [u64; 2],
    ways: [Way; 2],
    sample_from: u64,
    last_heard: u64,
    placed_at: u64,
    gen: u32,
    /// Which sending of the current flight a retransmission timer belongs to, and how many.
    retx: u32,
    tries: u32,
    attempt: u32,
    calls: u32,
    media_port: u16,
}

/// A call packet's first bytes: what a classifier sees (a STUN header, a DTLS record, an
/// RTP header), then the twin's tag: kind, sequence number, send time.
fn packet_head(kind: u8, seq: u64, sent: u64) -> [u8; 40] {
    let mut h = [0u8; 40];
    match kind {
        K_STUN | K_CONSENT => h[..20].copy_from_slice(&stun::build_binding_request()),
        K_DTLS => h[..3].copy_from_slice(&[0x16, 0xfe, 0xfd]),
        K_RTCP => h[..2].copy_from_slice(&[0x80, 0xc8]),
        _ => h[..2].copy_from_slice(&[0x80, 0x6f]),
    }
    h[20] = kind;
    h[21..29].copy_from_slice(&seq.to_be_bytes());
    h[29..37].copy_from_slice(&sent.to_be_bytes());
    h
}

fn read_tag(b: &[u8]) -> Option<(u8, u64, u64)> {
    let t = b.get(20..37)?;
    let kind = t[0];
    let seq = u64::from_be_bytes(t[1..9].try_into().ok()?);
    let sent = u64::from_be_bytes(t[9..17].try_into().ok()?);
    Some((kind, seq, sent))
}

impl Rtp {
    pub fn new(id: u32, w: u32, c: u32) -> Rtp {
        Rtp {
            id,
            who: Who { w, c },
            carrier: None,
            relay: Channel::default(),
            flights: Vec::new(),
            flight: 0,
            media: [false; 2],
            seq: [0; 2],
            ways: [Way::default(); 2],
            sample_from: 0,
            last_heard: 0,
            placed_at: 0,
            gen: 0,
            retx: 0,
            tries: 0,
            attempt: 0,
            calls: 0,
            media_port: 0,
        }
    }

    /// Where the client's packets go: the relay, or the answering peer's media port.
    fn peer(&self, w: &Workload) -> SocketAddr {
        match &w.relay {
            Some(r) => r.server,
            None => SocketAddr::new(w.server.ip(), self.media_port),
        }
    }

    fn place(&mut self, net: &mut Net, w: &Workload) {
        self.gen += 1;
        self.placed_at = net.now;
        self.flight = 0;
        self.media = [false; 2];
        // The callee's host candidate: an ephemeral port of its own.
        self.media_port = 32768 + (net.random() * 28232.0) as u16;
        let peer = self.peer(w);
        let relayed_tcp = w.relay.as_ref().is_some_and(|r| r.tcp);
        self.flights = match &w.relay {
            Some(_) => TURN_FLIGHTS
                .iter()
                .chain(CALL_FLIGHTS.iter())
                .copied()
                .collect(),
            None => CALL_FLIGHTS.to_vec(),
        };
        if relayed_tcp {
            self.relay.open(net, self.id, &relay_workload(w));
            self.carrier = Some(Carrier::Relay);
        } else {
            let flow = net.udp(self.id, w.client, (peer.ip(), peer.port()));
            self.carrier = Some(Carrier::Udp(flow));
            self.send_flight(net, w);
        }
        net.at(net.now + CONNECT_TIMEOUT, self.id, GIVE_UP, self.gen);
    }

    /// Send packet `kind`/`seq` of `len` bytes from `side`.
    fn send(&mut self, net: &mut Net, w: &Workload, side: usize, kind: u8, seq: u64, len: usize) {
        let relayed = w.relay.is_some();
        let len = len + if relayed { CHANNEL_DATA } else { 0 };
        match self.carrier {
            Some(Carrier::Udp(flow)) => {
                net.datagram(flow, side, len, &packet_head(kind, seq, net.now))
            }
            Some(Carrier::Relay) => {
                let sent = net.now;
                self.relay
                    .write(net, side, len as u64, Mark::Media { kind, seq, sent });
            }
            None => {}
        }
    }

    /// Send the current flight, and those after it from the same side (one burst).
    fn send_flight(&mut self, net: &mut Net, w: &Workload) {
        let Some(&(side, _, _)) = self.flights.get(self.flight) else {
            return;
        };
        let mut f = self.flight;
        while let Some(&(from, len, kind)) = self.flights.get(f).filter(|x| x.0 == side) {
            self.send(net, w, from, kind, f as u64, len);
            f += 1;
        }
        if matches!(self.carrier, Some(Carrier::Udp(_))) {
            // A lost flight goes again: STUN's and DTLS's timer, 1 s doubling (simplified).
            self.retx += 1;
            let wait = 1_000_000_000u64 << self.tries.min(4);
            self.tries += 1;
            net.at(net.now + wait, self.id, RETRANSMIT, self.retx);
        }
    }

    /// A call packet `(kind, seq, sent)` of `len` bytes reached `side`.
    fn got(
        &mut self,
        net: &mut Net,
        w: &Workload,
        side: usize,
        (kind, seq, sent): (u8, u64, u64),
        len: u64,
    ) {
        if side == CLIENT {
            self.last_heard = net.now;
        }
        match kind {
            K_RTP => self.got_media(net, side, seq, sent, len),
            K_CONSENT if side == SERVER => self.send(net, w, SERVER, K_STUN, u64::MAX, 90),
            K_STUN | K_DTLS if seq as usize == self.flight => {
                // The flight arrived: the side that answers it sends the next.
                self.flight += 1;
                self.tries = 0;
                if self.flight == self.flights.len() {
                    self.connected(net, w);
                } else if self.flights[self.flight].0 == side {
                    self.send_flight(net, w);
                }
                // The DTLS server (the caller) has its keys once the client's last flight came.
                if self.flight == self.flights.len() - 1 {
                    self.start_media(net, w, CLIENT);
                }
            }
            // A flight again: our answer was lost. Answer again.
            K_STUN | K_DTLS
                if (seq as usize) < self.flight
                    && self.flights.get(self.flight).is_some_and(|f| f.0 == side) =>
            {
                self.send_flight(net, w);
            }
            _ => {}
        }
    }

    fn connected(&mut self, net: &mut Net, w: &Workload) {
        self.gen += 1;
        self.attempt = 0;
        net.emit(Event::Connect {
            w: self.who.w,
            c: self.who.c,
            t: net.now,
            connect_ns: net.now - self.placed_at,
            tls_ns: None,
            reconnect: self.calls > 0,
        });
        self.calls += 1;
        self.start_media(net, w, SERVER);
        self.last_heard = net.now;
        self.sample_from = net.now;
        net.at(net.now + SAMPLE_NS, self.id, SAMPLE, self.gen);
        for t in net.phase_starts.clone() {
            if t > net.now {
                net.at(t, self.id, PHASE_SAMPLE, self.gen);
            }
        }
        net.at(net.now + CONSENT_NS, self.id, CONSENT, self.gen);
    }

    fn start_media(&mut self, net: &mut Net, w: &Workload, side: usize) {
        let wants = if side == CLIENT { w.up } else { w.down };
        if self.media[side] || !wants {
            return;
        }
        self.media[side] = true;
        net.at(
            net.now,
            self.id,
            if side == CLIENT { MEDIA_UP } else { MEDIA_DOWN },
            self.gen,
        );
    }

    fn media_tick(&mut self, net: &mut Net, w: &Workload, side: usize) {
        if !self.media[side] || net.now >= w.stop {
            return;
        }
        let way = if side == CLIENT { 0 } else { 1 };
        let seq = self.seq[way];
        self.seq[way] += 1;
        self.ways[way].sent += 1;
        self.send(net, w, side, K_RTP, seq, RTP_BYTES);
        if seq.is_multiple_of(50) {
            self.send(net, w, side, K_RTCP, seq, RTCP_BYTES);
        }
        net.at(
            net.now + FRAME_NS,
            self.id,
            if side == CLIENT { MEDIA_UP } else { MEDIA_DOWN },
            self.gen,
        );
    }

    /// An RTP packet reached `side`: RFC 3550 jitter, lateness, the highest sequence.
    fn got_media(&mut self, net: &mut Net, side: usize, seq: u64, sent: u64, len: u64) {
        let way = &mut self.ways[if side == SERVER { 0 } else { 1 }];
        let transit = net.now.saturating_sub(sent);
        way.received += 1;
        way.bytes += len;
        if let Some(last) = way.last_transit {
            let d = transit.abs_diff(last) as f64;
            way.jitter += (d - way.jitter) / 16.0;
        }
        way.last_transit = Some(transit);
        let fastest = way.min_transit.map_or(transit, |m| m.min(transit));
        way.min_transit = Some(fastest);
        if transit > fastest + LATE_NS {
            way.late += 1;
        }
        way.transit_sum += transit;
        way.transit_n += 1;
        way.highest = Some(way.highest.map_or(seq, |h| h.max(seq)));
    }

    /// getStats each second (and at phase starts): what each direction did since the last.
    fn sample(&mut self, net: &mut Net) {
        let t = net.now;
        if t <= self.sample_from {
            return;
        }
        let mean = |w: &Way| (w.transit_n > 0).then(|| w.transit_sum / w.transit_n);
        let rtt = match (mean(&self.ways[0]), mean(&self.ways[1])) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        for (i, up) in [(0, true), (1, false)] {
            let way = &mut self.ways[i];
            if way.sent == 0 && way.received == 0 {
                continue;
            }
            let expected = match (way.highest, way.highest_at_sample) {
                (Some(h), Some(p)) => h - p,
                (Some(h), None) => h + 1,
                _ => 0,
            };
            let lost = expected.saturating_sub(way.received);
            net.emit(Event::Rtc {
                w: self.who.w,
                c: self.who.c,
                up,
                from: self.sample_from,
                t,
                sent: way.sent,
                received: way.received,
                lost,
                late: way.late,
                bytes: way.bytes,
                jitter_ns: way.jitter as u64,
                rtt_ns: rtt,
            });
            way.highest_at_sample = way.highest.or(way.highest_at_sample);
            way.sent = 0;
            way.received = 0;
            way.late = 0;
            way.bytes = 0;
            way.transit_sum = 0;
            way.transit_n = 0;
        }
        self.sample_from = t;
    }

    fn hang_up(&mut self, net: &mut Net, w: &Workload, connecting: bool, error: &'static str) {
        if !connecting {
            self.sample(net);
        }
        net.emit(self.who.fail(net.now, connecting, error, None));
        match self.carrier.take() {
            Some(Carrier::Relay) => self.relay.close(net),
            Some(Carrier::Udp(flow)) => net.flows[flow as usize].open = false,
            None => {}
        }
        self.media = [false; 2];
        self.gen += 1;
        let wait = backoff_ns(&mut self.attempt, net);
        if net.now + wait < w.stop {
            net.at(net.now + wait, self.id, REDIAL, self.gen);
        }
    }
}

/// The connection to a TURN relay over TCP: TLS when it is TURN over TLS, nothing else.
fn relay_workload(w: &Workload) -> Workload {
    let sni = w.relay.as_ref().and_then(|r| r.tls_sni.clone());
    Workload {
        tls: sni.map(|sni| super::plan::Tls {
            sni,
            alpn: Vec::new(),
        }),
        plain: None,
        opening: Vec::new(),
        ..w.clone()
    }
}

impl Session for Rtp {
    fn start(&mut self, net: &mut Net, w: &Workload) {
        if w.start < w.stop {
            net.at(w.start, self.id, START, 0);
        }
    }

    fn on_timer(&mut self, net: &mut Net, w: &Workload, kind: u8, gen: u32) {
        match kind {
            START => self.place(net, w),
            REDIAL if gen == self.gen => self.place(net, w),
            MEDIA_UP if gen == self.gen => self.media_tick(net, w, CLIENT),
            MEDIA_DOWN if gen == self.gen => self.media_tick(net, w, SERVER),
            PHASE_SAMPLE if gen == self.gen => self.sample(net),
            SAMPLE if gen == self.gen => {
                self.sample(net);
                if net.now < w.stop + SAMPLE_NS {
                    net.at(net.now + SAMPLE_NS, self.id, SAMPLE, self.gen);
                }
                // Disconnected (nothing heard) for long enough: the user hangs up.
                if net.now >= self.last_heard + SILENT_NS + HANG_UP_NS {
                    self.hang_up(net, w, false, "call disconnected for 10 s");
                }
            }
            CONSENT if gen == self.gen && net.now < w.stop => {
                self.send(net, w, CLIENT, K_CONSENT, 0, 100);
                net.at(net.now + CONSENT_NS, self.id, CONSENT, self.gen);
            }
            RETRANSMIT
                if gen == self.retx
                    && self.flight < self.flights.len()
                    && self.carrier.is_some() =>
            {
                self.send_flight(net, w)
            }
            GIVE_UP if gen == self.gen && self.flight < self.flights.len() => {
                self.hang_up(net, w, true, "call failed");
            }
            _ => {}
        }
    }

    fn on_note(&mut self, net: &mut Net, w: &Workload, conn: u32, side: usize, note: Note) {
        // TLS to the relay when it is TURN over TLS, then the allocation (the flights).
        for h in self
            .relay
            .on_note(net, &relay_workload(w), conn, side, note)
        {
            match h {
                Happened::Ready => self.send_flight(net, w),
                Happened::Arrived(reader, Mark::Media { kind, seq, sent }) => {
                    let len = (RTP_BYTES + CHANNEL_DATA) as u64;
                    self.got(net, w, reader, (kind, seq, sent), len);
                }
                Happened::Lost(_) => {
                    let connecting = self.flight < self.flights.len();
                    self.hang_up(net, w, connecting, "relay connection closed");
                }
                _ => {}
            }
        }
    }

    fn on_datagram(&mut self, net: &mut Net, w: &Workload, flow: u32, side: usize, payload: &[u8]) {
        if self.carrier != Some(Carrier::Udp(flow)) {
            return;
        }
        if let Some((kind, seq, sent)) = read_tag(payload) {
            self.got(net, w, side, (kind, seq, sent), payload.len() as u64);
        }
    }
}
