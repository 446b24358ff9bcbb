//! A voice call over UDP, as the lab's agent runs it (src/workloads/udp-voice.ts): the
//! client says hello at once and every second, sends a frame every frame interval from
//! the workload's start; the server starts its own frames when it first hears the client.
//! Each datagram carries the lab's message header (who, which way, sequence number, send
//! time), padded to the codec's frame size.

use super::events::Who;
use super::net::{Net, CLIENT, SERVER};
use super::plan::Workload;
use super::stream::HEADER_BYTES;
use super::tcp::Note;
use super::Session;

const UP_TICK: u8 = 0;
const DOWN_TICK: u8 = 1;
const HELLO: u8 = 2;
const START: u8 = 3;
/// The client's hello interval (as RTCP's).
const HELLO_NS: u64 = 1_000_000_000;
const MAGIC: u16 = 0x514c;

pub struct Frames {
    id: u32,
    who: Who,
    flow: Option<u32>,
    up_seq: u64,
    down_seq: u64,
    down_from: Option<u64>,
}

/// The lab's 32-byte message header (src/workloads/message.ts), send time in virtual ns.
pub fn header(kind: u8, up: bool, w: u32, c: u32, seq: u64, len: u64, sent: u64) -> [u8; 32] {
    let mut h = [0u8; 32];
    h[0..2].copy_from_slice(&MAGIC.to_be_bytes());
    h[2] = kind;
    h[3] = u8::from(!up);
    h[4..6].copy_from_slice(&(w as u16).to_be_bytes());
    h[6..8].copy_from_slice(&(c as u16).to_be_bytes());
    h[8..12].copy_from_slice(&(seq as u32).to_be_bytes());
    h[12..16].copy_from_slice(&(len as u32).to_be_bytes());
    h[16..24].copy_from_slice(&sent.to_be_bytes());
    h
}

/// (kind, up, seq, sent) of a datagram that carries the header.
pub fn read_header(b: &[u8]) -> Option<(u8, bool, u64, u64)> {
    if b.len() < 32 || u16::from_be_bytes([b[0], b[1]]) != MAGIC {
        return None;
    }
    let seq = u64::from(u32::from_be_bytes([b[8], b[9], b[10], b[11]]));
    let sent = u64::from_be_bytes([b[16], b[17], b[18], b[19], b[20], b[21], b[22], b[23]]);
    Some((b[2], b[3] == 0, seq, sent))
}

impl Frames {
    pub fn new(id: u32, w: u32, c: u32) -> Frames {
        Frames {
            id,
            who: Who { w, c },
            flow: None,
            up_seq: 0,
            down_seq: 0,
            down_from: None,
        }
    }

    fn frame(&mut self, net: &mut Net, w: &Workload, up: bool) {
        let Some(flow) = self.flow else { return };
        let (seq, from) = if up {
            (self.up_seq, w.start)
        } else {
            (self.down_seq, self.down_from.unwrap_or(net.now))
        };
        let t = net.now;
        let len = w.size.max(HEADER_BYTES);
        net.emit(self.who.send(up, seq, t, len));
        let h = header(0, up, self.who.w, self.who.c, seq, len, t);
        net.datagram(flow, if up { CLIENT } else { SERVER }, len as usize, &h);
        let next = from + (seq + 1) * w.interval;
        if up {
            self.up_seq += 1;
        } else {
            self.down_seq += 1;
        }
        if next < w.stop {
            net.at(next, self.id, if up { UP_TICK } else { DOWN_TICK }, 0);
        }
    }

    fn hello(&mut self, net: &mut Net) {
        let Some(flow) = self.flow else { return };
        let h = header(1, true, self.who.w, self.who.c, 0, HEADER_BYTES, net.now);
        net.datagram(flow, CLIENT, HEADER_BYTES as usize, &h);
        net.at(net.now + HELLO_NS, self.id, HELLO, 0);
    }
}

impl Session for Frames {
    fn start(&mut self, net: &mut Net, w: &Workload) {
        net.at(w.start, self.id, START, 0);
    }

    fn on_timer(&mut self, net: &mut Net, w: &Workload, kind: u8, _: u32) {
        match kind {
            START => {
                self.flow = Some(net.udp(self.id, w.client, (w.server.ip(), w.server.port())));
                self.hello(net);
                if w.up && w.start < w.stop {
                    self.frame(net, w, true);
                }
            }
            UP_TICK => self.frame(net, w, true),
            DOWN_TICK => self.frame(net, w, false),
            HELLO => self.hello(net),
            _ => {}
        }
    }

    fn on_note(&mut self, _: &mut Net, _: &Workload, _: u32, _: usize, _: Note) {}

    fn on_datagram(&mut self, net: &mut Net, w: &Workload, _: u32, side: usize, payload: &[u8]) {
        let Some((kind, up, seq, sent)) = read_header(payload) else {
            return;
        };
        if kind == 0 {
            let bytes = payload.len() as u64;
            net.emit(self.who.recv(net.now, w, up, seq, sent, bytes));
        }
        // The server starts its frames when it first hears the client.
        if side == SERVER && self.down_from.is_none() && w.down && net.now < w.stop {
            self.down_from = Some(net.now);
            self.frame(net, w, false);
        }
    }
}
