//! What the twin's applications write on a TCP connection, and how they open it: the
//! marks that say where each thing they wrote ends in the byte stream (a message, a TLS
//! flight, an HTTP request), and the set-up every TCP workload of the lab goes through —
//! the TCP handshake, a TLS 1.3 handshake from the client (Node's TLS with the run's
//! ECDSA certificates), then the protocol's own opening exchanges (a WebSocket upgrade,
//! MQTT's CONNECT and SUBSCRIBE, HTTP/2's settings and down stream).

use super::events::{Event, Who};
use super::net::{Net, CLIENT, SERVER};
use super::plan::{Plain, Transport, Workload};
use super::tcp::Note;
use crate::wire::tls;
use std::collections::VecDeque;

/// The server's first flight (ServerHello, EncryptedExtensions, a P-256 certificate chain,
/// CertificateVerify, Finished) in TLS records: about 1.4 KB with the run's certificates.
pub const TLS_SERVER_FLIGHT: u64 = 1400;
/// The client's ChangeCipherSpec and Finished.
pub const TLS_CLIENT_FINISHED: u64 = 64;
/// Two NewSessionTickets, which OpenSSL sends after the client's Finished.
pub const TLS_TICKETS: u64 = 460;
/// The obfuscated preamble of an MTProto-like stream (src/workloads/obfuscation.ts).
pub const PREAMBLE: usize = 64;
/// The lab's message header: even an empty message carries it (src/workloads/message.ts).
pub const HEADER_BYTES: u64 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    TlsHello,
    TlsFlight,
    Finished,
    Ignore,
    OpenReq(usize),
    OpenResp(usize),
    Hello,
    Msg {
        seq: u64,
        sent: u64,
    },
    /// A transfer: its request, its response's headers and body, an upload, its answer.
    Req {
        seq: u64,
    },
    Headers {
        seq: u64,
    },
    Body {
        seq: u64,
    },
    Upload {
        seq: u64,
        sent: u64,
    },
    Done {
        seq: u64,
    },
    /// A call's packet relayed over TCP: a handshake flight or an RTP packet.
    Media {
        kind: u8,
        seq: u64,
        sent: u64,
    },
}

/// Where what each side wrote ends, in its stream's offsets.
#[derive(Debug, Default)]
pub struct Marks {
    by_writer: [VecDeque<(u64, Mark)>; 2],
}

impl Marks {
    pub fn clear(&mut self) {
        for m in &mut self.by_writer {
            m.clear();
        }
    }

    /// Write `n` bytes (the first of them `bytes`, if given) on `side`, ending with `mark`.
    pub fn write(
        &mut self,
        net: &mut Net,
        conn: u32,
        side: usize,
        n: u64,
        bytes: Option<&[u8]>,
        mark: Mark,
    ) -> u64 {
        let end = net.write(conn, side, n, bytes);
        self.by_writer[side].push_back((end, mark));
        end
    }

    /// What the other side wrote that `reader` now has whole (its stream up to `upto`).
    pub fn arrived(&mut self, reader: usize, upto: u64) -> Vec<Mark> {
        let q = &mut self.by_writer[1 - reader];
        let mut done = Vec::new();
        while let Some(&(end, m)) = q.front() {
            if end > upto {
                break;
            }
            q.pop_front();
            done.push(m);
        }
        done
    }
}

/// How far a connection's set-up has got.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    pub started: u64,
    pub tcp_at: Option<u64>,
    pub tls_at: Option<u64>,
}

impl Setup {
    pub fn new(now: u64) -> Setup {
        Setup {
            started: now,
            tcp_at: None,
            tls_at: None,
        }
    }
}

/// The first bytes a client sends without TLS, as the lab's stacks do.
fn plain_bytes(plain: Plain, w: &Workload, net: &mut Net) -> Vec<u8> {
    match plain {
        Plain::Http => format!("GET / HTTP/1.1\r\nhost: {}\r\n", w.server.ip()).into_bytes(),
        // CONNECT, remaining length, protocol name MQTT, level 4.
        Plain::Mqtt => vec![0x10, 0x26, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02],
        Plain::Random => (0..PREAMBLE)
            .map(|_| (net.random() * 256.0) as u8)
            .collect(),
    }
}

/// What the set-up does next.
pub enum Progress {
    /// Still going.
    Pending,
    /// The connection carries messages from now.
    Ready,
}

/// The client's TCP handshake is done: start TLS, or the protocol's opening.
pub fn on_established(
    net: &mut Net,
    marks: &mut Marks,
    w: &Workload,
    conn: u32,
    setup: &mut Setup,
) -> Progress {
    setup.tcp_at = Some(net.now);
    if w.transport == Transport::Quic {
        // QUIC's handshake is TLS's: done once the connection is.
        setup.tls_at = Some(net.now);
        return open_next(net, marks, w, conn, 0);
    }
    if let Some(t) = &w.tls {
        let alpn: Vec<&str> = t.alpn.iter().map(String::as_str).collect();
        let hello = tls::build_client_hello(&t.sni, &alpn, false, 0);
        marks.write(
            net,
            conn,
            CLIENT,
            hello.len() as u64,
            Some(&hello),
            Mark::TlsHello,
        );
        return Progress::Pending;
    }
    let first = w.plain.map(|p| plain_bytes(p, w, net));
    if w.plain == Some(Plain::Random) {
        let b = first.expect("random preamble");
        marks.write(net, conn, CLIENT, b.len() as u64, Some(&b), Mark::Ignore);
        return open_next(net, marks, w, conn, 0);
    }
    match w.opening.first() {
        Some(&(up, _)) => {
            let n = up.max(first.as_ref().map_or(0, |b| b.len() as u64));
            marks.write(net, conn, CLIENT, n, first.as_deref(), Mark::OpenReq(0));
            Progress::Pending
        }
        None => {
            // Nothing to open: the first message's bytes start the stream.
            if let Some(b) = first {
                marks.write(net, conn, CLIENT, 0, Some(&b), Mark::Ignore);
            }
            Progress::Ready
        }
    }
}

fn open_next(net: &mut Net, marks: &mut Marks, w: &Workload, conn: u32, k: usize) -> Progress {
    match w.opening.get(k) {
        Some(&(up, _)) => {
            marks.write(net, conn, CLIENT, up, None, Mark::OpenReq(k));
            Progress::Pending
        }
        None => Progress::Ready,
    }
}

/// A set-up mark arrived whole at `reader`: answer it. Ready when the client is.
pub fn on_setup_mark(
    net: &mut Net,
    marks: &mut Marks,
    w: &Workload,
    conn: u32,
    setup: &mut Setup,
    reader: usize,
    mark: Mark,
) -> Progress {
    match (reader, mark) {
        (SERVER, Mark::TlsHello) => {
            // A TLS handshake record starts the flight (what an `initiator: any` matcher sees).
            marks.write(
                net,
                conn,
                SERVER,
                TLS_SERVER_FLIGHT,
                Some(&[0x16, 0x03, 0x03]),
                Mark::TlsFlight,
            );
        }
        (CLIENT, Mark::TlsFlight) => {
            setup.tls_at = Some(net.now);
            marks.write(
                net,
                conn,
                CLIENT,
                TLS_CLIENT_FINISHED,
                Some(&[0x14, 0x03, 0x03]),
                Mark::Finished,
            );
            return open_next(net, marks, w, conn, 0);
        }
        (SERVER, Mark::Finished) => {
            marks.write(net, conn, SERVER, TLS_TICKETS, None, Mark::Ignore);
        }
        (SERVER, Mark::OpenReq(k)) => {
            let down = w.opening.get(k).map_or(0, |o| o.1);
            marks.write(net, conn, SERVER, down, None, Mark::OpenResp(k));
        }
        (CLIENT, Mark::OpenResp(k)) => return open_next(net, marks, w, conn, k + 1),
        _ => {}
    }
    Progress::Pending
}

/// A message's bytes on the wire: at least the header, plus the protocol's framing.
pub fn message_bytes(w: &Workload, up: bool) -> u64 {
    w.size.max(HEADER_BYTES) + if up { w.framing.0 } else { w.framing.1 }
}

/// Open the workload's connection: QUIC with its ClientHello, or TCP.
pub fn dial(net: &mut Net, owner: u32, w: &Workload) -> u32 {
    let server = (w.server.ip(), w.server.port());
    match (&w.transport, &w.tls) {
        (Transport::Quic, Some(t)) => {
            net.connect_quic(owner, w.client, server, &t.sni, w.split_hello)
        }
        (Transport::Quic, None) => net.connect_quic(owner, w.client, server, "", w.split_hello),
        _ => net.connect(owner, w.client, server),
    }
}

/// Exponential backoff with full jitter, 250 ms doubling to 8 s (src/workloads/session.ts).
pub fn backoff_ns(attempt: &mut u32, net: &mut Net) -> u64 {
    let ceiling = (250.0 * 2f64.powi((*attempt).min(16) as i32)).min(8000.0);
    *attempt += 1;
    ((ceiling / 2.0 + ceiling / 2.0 * net.random()) * 1e6) as u64
}

/// What a channel's note means to its session.
#[derive(Debug, Clone, Copy)]
pub enum Happened {
    /// The set-up is done: the connection carries the session's bytes from now.
    Ready,
    /// `side` has the peer's stream up to this offset.
    Readable(usize, u64),
    /// `side` has something the other wrote, whole.
    Arrived(usize, Mark),
    /// `side`'s stream is acknowledged this far.
    Acked(usize),
    Lost(&'static str),
}

/// A session's connection: what each side wrote on it, and how far its set-up got.
#[derive(Debug, Default)]
pub struct Channel {
    pub conn: Option<u32>,
    pub marks: Marks,
    setup: Option<Setup>,
    /// Connections that became ready (the next is a reconnect).
    connects: u32,
}

impl Channel {
    /// Dial the workload's server (TCP, or QUIC) for session `owner`.
    pub fn open(&mut self, net: &mut Net, owner: u32, w: &Workload) -> u32 {
        self.marks.clear();
        self.setup = Some(Setup::new(net.now));
        let conn = dial(net, owner, w);
        self.conn = Some(conn);
        conn
    }

    pub fn close(&mut self, net: &mut Net) {
        if let Some(conn) = self.conn.take() {
            net.close(conn);
        }
    }

    /// Write `n` bytes on `side`, ending with `mark` (nothing when closed).
    pub fn write(&mut self, net: &mut Net, side: usize, n: u64, mark: Mark) -> Option<u64> {
        let conn = self.conn?;
        Some(self.marks.write(net, conn, side, n, None, mark))
    }

    /// The lab's `connect` event for the set-up just done: TCP and TLS times.
    pub fn connect_event(&mut self, net: &Net, who: Who) -> Event {
        let s = self.setup.unwrap_or(Setup::new(net.now));
        let tcp_at = s.tcp_at.unwrap_or(net.now);
        let e = Event::Connect {
            w: who.w,
            c: who.c,
            t: net.now,
            connect_ns: tcp_at - s.started,
            tls_ns: s.tls_at.map(|t| t - tcp_at),
            reconnect: self.connects > 0,
        };
        self.connects += 1;
        e
    }

    /// A note of this channel's connection: set-up steps are taken here, the rest told.
    pub fn on_note(
        &mut self,
        net: &mut Net,
        w: &Workload,
        conn: u32,
        side: usize,
        note: Note,
    ) -> Vec<Happened> {
        let mut out = Vec::new();
        if self.conn != Some(conn) {
            return out;
        }
        let setup = self.setup.get_or_insert(Setup::new(net.now));
        match note {
            Note::Established if side == CLIENT => {
                if let Progress::Ready = on_established(net, &mut self.marks, w, conn, setup) {
                    out.push(Happened::Ready);
                }
            }
            Note::Readable(upto) => {
                out.push(Happened::Readable(side, upto));
                for mark in self.marks.arrived(side, upto) {
                    let set_up = matches!(
                        mark,
                        Mark::TlsHello
                            | Mark::TlsFlight
                            | Mark::Finished
                            | Mark::Ignore
                            | Mark::OpenReq(_)
                            | Mark::OpenResp(_)
                    );
                    if !set_up {
                        out.push(Happened::Arrived(side, mark));
                    } else if let Progress::Ready =
                        on_setup_mark(net, &mut self.marks, w, conn, setup, side, mark)
                    {
                        out.push(Happened::Ready);
                    }
                }
            }
            Note::Acked(_) => out.push(Happened::Acked(side)),
            Note::Reset => out.push(Happened::Lost("read ECONNRESET")),
            Note::TimedOut => out.push(Happened::Lost("connect ETIMEDOUT")),
            Note::Established => {}
        }
        out
    }
}
