//! A bulk workload's connection, as the lab's agent runs it (src/workloads/bulk.ts): HTTP
//! transfers of `size` bytes back to back over one persistent connection — downloads, uploads
//! or both in turn — each recorded when requested and when its last byte arrived. A
//! transfer with no progress for its deadline (undici's headers and body timeouts) fails,
//! its connection is dropped, and after a backoff the next transfer opens a new one.

use super::events::Who;
use super::net::{Net, CLIENT, SERVER};
use super::plan::Workload;
use super::stream::{backoff_ns, Channel, Happened, Mark};
use super::tcp::Note;
use super::Session;

/// undici's connect timeout.
const CONNECT_TIMEOUT: u64 = 10_000_000_000;

const NEXT: u8 = 0;
const IDLE: u8 = 1;

#[derive(Debug, Clone, Copy)]
struct Transfer {
    seq: u64,
    up: bool,
    sent: u64,
    /// Body bytes received so far (downloads), once the response's headers arrived.
    received: Option<u64>,
    /// The request has been written.
    requested: bool,
}

pub struct Transfers {
    id: u32,
    who: Who,
    ch: Channel,
    ready: bool,
    /// Where the current download's body starts in the server's stream.
    body_start: u64,
    seq: u64,
    current: Option<Transfer>,
    gen: u32,
    attempt: u32,
}

impl Transfers {
    pub fn new(id: u32, w: u32, c: u32) -> Transfers {
        Transfers {
            id,
            who: Who { w, c },
            ch: Channel::default(),
            ready: false,
            body_start: 0,
            seq: 0,
            current: None,
            gen: 0,
            attempt: 0,
        }
    }

    /// Something moved: the idle timeout starts again.
    fn progress(&mut self, net: &mut Net, timeout: u64) {
        self.gen += 1;
        net.at(net.now + timeout, self.id, IDLE, self.gen);
    }

    /// The next transfer: recorded as sent now, requested once connected.
    fn next(&mut self, net: &mut Net, w: &Workload) {
        if net.now >= w.stop {
            return;
        }
        let seq = self.seq;
        self.seq += 1;
        let up = if w.up && w.down { seq % 2 == 1 } else { w.up };
        net.emit(self.who.send(up, seq, net.now, w.size));
        self.current = Some(Transfer {
            seq,
            up,
            sent: net.now,
            received: None,
            requested: false,
        });
        if self.ch.conn.is_none() {
            self.ready = false;
            self.ch.open(net, self.id, w);
            self.progress(net, CONNECT_TIMEOUT);
        } else if self.ready {
            self.request(net, w);
        }
    }

    fn request(&mut self, net: &mut Net, w: &Workload) {
        let Some(t) = self.current.as_mut().filter(|t| !t.requested) else {
            return;
        };
        t.requested = true;
        let (seq, sent, up) = (t.seq, t.sent, t.up);
        let (n, mark) = if up {
            (w.framing.0 + w.size, Mark::Upload { seq, sent })
        } else {
            (w.framing.0, Mark::Req { seq })
        };
        self.ch.write(net, CLIENT, n, mark);
        self.progress(net, w.deadline);
    }

    fn failed(&mut self, net: &mut Net, w: &Workload, error: &'static str) {
        let bytes = self.current.take().and_then(|t| t.received);
        net.emit(self.who.fail(net.now, false, error, bytes));
        self.ch.close(net);
        self.ready = false;
        self.gen += 1;
        let wait = backoff_ns(&mut self.attempt, net);
        if net.now + wait < w.stop {
            net.at(net.now + wait, self.id, NEXT, self.gen);
        }
    }

    fn done(&mut self, net: &mut Net, w: &Workload) {
        self.current = None;
        self.attempt = 0;
        self.gen += 1;
        self.next(net, w);
    }

    fn recv(&self, net: &mut Net, w: &Workload, up: bool, seq: u64, sent: u64) {
        net.emit(self.who.recv(net.now, w, up, seq, sent, w.size));
    }

    fn arrived(&mut self, net: &mut Net, w: &Workload, reader: usize, mark: Mark) {
        match (reader, mark) {
            (SERVER, Mark::Req { seq }) => {
                self.ch
                    .write(net, SERVER, w.framing.1, Mark::Headers { seq });
                let end = self.ch.write(net, SERVER, w.size, Mark::Body { seq });
                self.body_start = end.unwrap_or(0).saturating_sub(w.size);
            }
            (CLIENT, Mark::Headers { .. }) => {
                if let Some(t) = self.current.as_mut() {
                    t.received = Some(0);
                }
            }
            (CLIENT, Mark::Body { seq, .. }) => {
                if let Some(t) = self.current.filter(|t| t.seq == seq) {
                    self.recv(net, w, false, seq, t.sent);
                    self.done(net, w);
                }
            }
            (SERVER, Mark::Upload { seq, sent }) => {
                self.recv(net, w, true, seq, sent);
                self.ch.write(net, SERVER, w.reply.0, Mark::Done { seq });
            }
            (CLIENT, Mark::Done { .. }) => self.done(net, w),
            _ => {}
        }
    }

    fn connected(&mut self, net: &mut Net, w: &Workload) {
        self.ready = true;
        let e = self.ch.connect_event(net, self.who);
        net.emit(e);
        self.request(net, w);
    }
}

impl Session for Transfers {
    fn start(&mut self, net: &mut Net, w: &Workload) {
        if w.start < w.stop {
            net.at(w.start, self.id, NEXT, self.gen);
        }
    }

    fn on_timer(&mut self, net: &mut Net, w: &Workload, kind: u8, gen: u32) {
        if gen != self.gen {
            return;
        }
        match kind {
            NEXT if self.current.is_none() => self.next(net, w),
            IDLE if self.current.is_some() => {
                let error = match self.current.map(|t| t.received) {
                    _ if !self.ready => "Connect Timeout Error",
                    Some(Some(_)) => "Body Timeout Error",
                    _ => "Headers Timeout Error",
                };
                self.failed(net, w, error);
            }
            _ => {}
        }
    }

    fn on_note(&mut self, net: &mut Net, w: &Workload, conn: u32, side: usize, note: Note) {
        for h in self.ch.on_note(net, w, conn, side, note) {
            let requested = self.current.is_some_and(|t| t.requested);
            match h {
                Happened::Ready => self.connected(net, w),
                Happened::Readable(reader, upto) => {
                    // Body bytes of the current download so far.
                    if let Some(t) = self
                        .current
                        .as_mut()
                        .filter(|t| t.received.is_some() && reader == CLIENT)
                    {
                        t.received = Some(upto.saturating_sub(self.body_start).min(w.size));
                    }
                    if requested {
                        self.progress(net, w.deadline);
                    }
                }
                Happened::Acked(CLIENT) if requested && self.current.is_some_and(|t| t.up) => {
                    self.progress(net, w.deadline);
                }
                Happened::Arrived(reader, mark) => self.arrived(net, w, reader, mark),
                Happened::Lost(_) => self.failed(net, w, "other side closed"),
                Happened::Acked(_) => {}
            }
        }
    }

    fn on_datagram(&mut self, _: &mut Net, _: &Workload, _: u32, _: usize, _: &[u8]) {}
}
