//! A message workload's connection over TCP, as the lab's agents run it
//! (src/workloads/session.ts, hub.ts): up messages paced from the workload's start into an
//! outbox, down messages paced at the server into the connection's outbox, one connection
//! kept open and reopened after a failure with backoff, a hello after the set-up so the
//! server attaches the down outbox, every message recorded when sent and when it arrives
//! whole at the other application.

use super::events::Who;
use super::net::{Net, CLIENT, SERVER};
use super::plan::Workload;
use super::stream::{backoff_ns, message_bytes, Channel, Happened, Mark, HEADER_BYTES};
use super::tcp::Note;
use super::Session;
use std::collections::VecDeque;

/// A connection attempt gives up after this long, as app stacks do (session.ts).
pub const CONNECT_TIMEOUT: u64 = 10_000_000_000;
/// Messages an outbox holds at most while disconnected (hub.ts Outbox.LIMIT).
const OUTBOX_LIMIT: usize = 10_000;

const UP_TICK: u8 = 0;
const DOWN_TICK: u8 = 1;
const CONNECT_TIMEOUT_WAKE: u8 = 2;
const RECONNECT: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Sleeping,
    Connecting,
    Open,
}

pub struct Messages {
    id: u32,
    who: Who,
    up_box: VecDeque<(u64, u64)>,
    down_box: VecDeque<(u64, u64)>,
    up_seq: u64,
    down_seq: u64,
    ch: Channel,
    phase: Phase,
    attached: bool,
    gen: u32,
    attempt: u32,
}

impl Messages {
    pub fn new(id: u32, w: u32, c: u32) -> Messages {
        Messages {
            id,
            who: Who { w, c },
            up_box: VecDeque::new(),
            down_box: VecDeque::new(),
            up_seq: 0,
            down_seq: 0,
            ch: Channel::default(),
            phase: Phase::Sleeping,
            attached: false,
            gen: 0,
            attempt: 0,
        }
    }

    fn dial(&mut self, net: &mut Net, w: &Workload) {
        self.gen += 1;
        self.phase = Phase::Connecting;
        self.attached = false;
        self.ch.open(net, self.id, w);
        net.at(
            net.now + CONNECT_TIMEOUT,
            self.id,
            CONNECT_TIMEOUT_WAKE,
            self.gen,
        );
    }

    /// The connection failed or could not be made: record it, wait, dial again.
    fn lost(&mut self, net: &mut Net, error: &'static str) {
        let connecting = self.phase != Phase::Open;
        net.emit(self.who.fail(net.now, connecting, error, None));
        self.ch.close(net);
        self.attached = false;
        self.phase = Phase::Sleeping;
        self.gen += 1;
        let wait = backoff_ns(&mut self.attempt, net);
        net.at(net.now + wait, self.id, RECONNECT, self.gen);
    }

    fn ready(&mut self, net: &mut Net, w: &Workload) {
        self.phase = Phase::Open;
        self.gen += 1;
        self.attempt = 0;
        let e = self.ch.connect_event(net, self.who);
        net.emit(e);
        self.ch
            .write(net, CLIENT, HEADER_BYTES + w.framing.0, Mark::Hello);
        while let Some((seq, sent)) = self.up_box.pop_front() {
            self.ch
                .write(net, CLIENT, message_bytes(w, true), Mark::Msg { seq, sent });
        }
    }

    fn arrived(&mut self, net: &mut Net, w: &Workload, reader: usize, mark: Mark) {
        match (reader, mark) {
            (SERVER, Mark::Hello) => {
                self.attached = true;
                while let Some((seq, sent)) = self.down_box.pop_front() {
                    self.ch.write(
                        net,
                        SERVER,
                        message_bytes(w, false),
                        Mark::Msg { seq, sent },
                    );
                }
            }
            (_, Mark::Msg { seq, sent }) => {
                let up = reader == SERVER;
                let bytes = w.size.max(HEADER_BYTES);
                net.emit(self.who.recv(net.now, w, up, seq, sent, bytes));
                let reply = if up { w.reply.0 } else { w.reply.1 };
                if reply > 0 {
                    self.ch.write(net, reader, reply, Mark::Ignore);
                }
            }
            _ => {}
        }
    }

    fn tick(&mut self, net: &mut Net, w: &Workload, up: bool) {
        let seq = if up { self.up_seq } else { self.down_seq };
        let t = w.start + seq * w.interval;
        net.emit(self.who.send(up, seq, t, w.size.max(HEADER_BYTES)));
        let live = if up {
            self.phase == Phase::Open
        } else {
            self.attached
        };
        if live {
            let side = if up { CLIENT } else { SERVER };
            self.ch
                .write(net, side, message_bytes(w, up), Mark::Msg { seq, sent: t });
        } else {
            let outbox = if up {
                &mut self.up_box
            } else {
                &mut self.down_box
            };
            if outbox.len() < OUTBOX_LIMIT {
                outbox.push_back((seq, t));
            }
        }
        let next = seq + 1;
        if up {
            self.up_seq = next;
        } else {
            self.down_seq = next;
        }
        let at = w.start + next * w.interval;
        if at < w.stop {
            net.at(at, self.id, if up { UP_TICK } else { DOWN_TICK }, 0);
        }
    }
}

impl Session for Messages {
    fn start(&mut self, net: &mut Net, w: &Workload) {
        if w.start >= w.stop {
            return;
        }
        if w.up {
            net.at(w.start, self.id, UP_TICK, 0);
        }
        if w.down {
            net.at(w.start, self.id, DOWN_TICK, 0);
        }
        net.at(w.start, self.id, RECONNECT, self.gen);
    }

    fn on_timer(&mut self, net: &mut Net, w: &Workload, kind: u8, gen: u32) {
        match kind {
            UP_TICK => self.tick(net, w, true),
            DOWN_TICK => self.tick(net, w, false),
            CONNECT_TIMEOUT_WAKE if gen == self.gen && self.phase == Phase::Connecting => {
                self.lost(net, "connect timed out");
            }
            RECONNECT if gen == self.gen && self.phase == Phase::Sleeping => self.dial(net, w),
            _ => {}
        }
    }

    fn on_note(&mut self, net: &mut Net, w: &Workload, conn: u32, side: usize, note: Note) {
        for h in self.ch.on_note(net, w, conn, side, note) {
            match h {
                Happened::Ready => self.ready(net, w),
                Happened::Arrived(reader, mark) => self.arrived(net, w, reader, mark),
                Happened::Lost(error) => self.lost(net, error),
                Happened::Readable(..) | Happened::Acked(_) => {}
            }
        }
    }

    fn on_datagram(&mut self, _: &mut Net, _: &Workload, _: u32, _: usize, _: &[u8]) {}
}
