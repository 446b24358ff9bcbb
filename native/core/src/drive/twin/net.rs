//! What the twin's applications use: TCP connections (both endpoints, ./tcp.rs), UDP
//! flows, timers, ephemeral ports, and the events they record. The world (./mod.rs)
//! carries the packets they send through the pipeline and back.

use super::events::Event;
use super::quic::Quic;
use super::tcp::{Note, Out, Params, State, Tcp};
use super::wire::{build_datagram, Addr};
use crate::rng::Rng;
use crate::shape::packet::Dir;
use crate::wire::packet::Parsed;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::IpAddr;

/// The client side is 0, the server side 1.
pub const CLIENT: usize = 0;
pub const SERVER: usize = 1;

/// Linux's default ephemeral port range (ip_local_port_range).
const PORTS: std::ops::Range<u16> = 32768..61000;

/// One endpoint of a connection: Linux's TCP, or a QUIC stack.
#[derive(Debug)]
pub enum End {
    Tcp(Box<Tcp>),
    Quic(Box<Quic>),
}

impl End {
    pub fn write(&mut self, n: u64, bytes: Option<&[u8]>) -> u64 {
        match self {
            End::Tcp(t) => t.write(n, bytes),
            End::Quic(q) => q.write(n),
        }
    }

    /// Bytes queued so far, in the application's offsets.
    pub fn written(&self) -> u64 {
        match self {
            End::Tcp(t) => t.written(),
            End::Quic(q) => q.written() - q.handshake_out(),
        }
    }

    pub fn push(&mut self, now: u64, out: &mut Out) {
        match self {
            End::Tcp(t) => t.push(now, out),
            End::Quic(q) => q.push(now, out),
        }
    }

    pub fn on_packet(
        &mut self,
        now: u64,
        ip: &[u8],
        p: &Parsed,
        notes: &mut Vec<Note>,
        out: &mut Out,
    ) {
        match self {
            End::Tcp(t) => {
                if t.state == State::Idle {
                    // A listening server: a SYN opens its side.
                    if let Some(h) = super::wire::read_segment(ip, p).filter(|h| {
                        h.flags & crate::wire::tcp::SYN != 0 && h.flags & crate::wire::tcp::ACK == 0
                    }) {
                        t.accept(now, &h, out);
                    }
                } else {
                    t.on_packet(now, ip, p, notes, out);
                }
            }
            End::Quic(q) => q.on_packet(now, ip, p, notes, out),
        }
    }

    pub fn on_timer(&mut self, now: u64, notes: &mut Vec<Note>, out: &mut Out) {
        match self {
            End::Tcp(t) => t.on_timer(now, notes, out),
            End::Quic(q) => q.on_timer(now, notes, out),
        }
    }

    pub fn next_deadline(&self) -> Option<u64> {
        match self {
            End::Tcp(t) => t.next_deadline(),
            End::Quic(q) => q.next_deadline(),
        }
    }

    pub fn close(&mut self) {
        match self {
            End::Tcp(t) => t.close(),
            End::Quic(q) => q.close(),
        }
    }

    pub fn is_open(&self) -> bool {
        match self {
            End::Tcp(t) => t.is_open(),
            End::Quic(q) => q.is_open(),
        }
    }

    pub fn local_port(&self) -> u16 {
        match self {
            End::Tcp(t) => t.local.1,
            End::Quic(q) => q.local.1,
        }
    }

    pub fn is_quic(&self) -> bool {
        matches!(self, End::Quic(_))
    }
}

#[derive(Debug)]
pub struct Conn {
    pub ends: [End; 2],
    /// The session it belongs to.
    pub owner: u32,
    /// When the world last scheduled its timers.
    pub scheduled: Option<u64>,
}

#[derive(Debug)]
pub struct Flow {
    pub ends: [Addr; 2],
    pub owner: u32,
    pub open: bool,
}

/// Something to do at a time: a connection's timers, or a session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Wake {
    Conn(u32),
    App { session: u32, kind: u8, gen: u32 },
}

pub struct Net {
    pub now: u64,
    pub params: Params,
    pub conns: Vec<Conn>,
    pub flows: Vec<Flow>,
    tcp_ports: HashMap<u16, u32>,
    udp_ports: HashMap<u16, u32>,
    quic_ports: HashMap<u16, u32>,
    pub out: Out,
    pub events: Vec<Event>,
    heap: BinaryHeap<Reverse<(u64, u64, Wake)>>,
    seq: u64,
    /// Connections whose timers may have changed.
    pub dirty: Vec<u32>,
    next_port: u16,
    rng: Rng,
    /// When the scenario's phases begin (calls sample their statistics there too).
    pub phase_starts: Vec<u64>,
}

impl Net {
    pub fn new(params: Params, seed: u64) -> Net {
        let mut rng = Rng::for_stage(seed, 3_000_000);
        let next_port = PORTS.start + rng.below(u64::from(PORTS.end - PORTS.start)) as u16;
        Net {
            now: 0,
            params,
            conns: Vec::new(),
            flows: Vec::new(),
            tcp_ports: HashMap::new(),
            udp_ports: HashMap::new(),
            quic_ports: HashMap::new(),
            out: Vec::new(),
            events: Vec::new(),
            heap: BinaryHeap::new(),
            seq: 0,
            dirty: Vec::new(),
            next_port,
            rng,
            phase_starts: Vec::new(),
        }
    }

    /// The next free ephemeral port (Linux hands them out in order from a random start).
    fn port(&mut self, udp: bool) -> u16 {
        for _ in PORTS {
            let p = self.next_port;
            self.next_port = if p + 1 >= PORTS.end {
                PORTS.start
            } else {
                p + 1
            };
            let taken = if udp {
                self.udp_ports.contains_key(&p) || self.quic_ports.contains_key(&p)
            } else {
                self.tcp_ports.contains_key(&p)
            };
            if !taken {
                return p;
            }
        }
        PORTS.start
    }

    pub fn random(&mut self) -> f64 {
        self.rng.next_f64()
    }

    /// connect(): a new TCP connection from `client` to `server`, its SYN sent.
    pub fn connect(&mut self, owner: u32, client: IpAddr, server: Addr) -> u32 {
        let port = self.port(false);
        let id = self.conns.len() as u32;
        let c = (client, port);
        let (iss_c, iss_s) = (self.rng.next_u64() as u32, self.rng.next_u64() as u32);
        let seed = self.rng.next_u64();
        let mut ends = [
            End::Tcp(Box::new(Tcp::new(
                c,
                server,
                Dir::Up,
                self.params,
                iss_c,
                seed,
            ))),
            End::Tcp(Box::new(Tcp::new(
                server,
                c,
                Dir::Down,
                self.params,
                iss_s,
                seed ^ 1,
            ))),
        ];
        if let End::Tcp(t) = &mut ends[CLIENT] {
            t.connect(self.now, &mut self.out);
        }
        self.conns.push(Conn {
            ends,
            owner,
            scheduled: None,
        });
        self.tcp_ports.insert(port, id);
        self.dirty.push(id);
        id
    }

    /// A new QUIC connection from `client` to `server`, its first flight sent: a
    /// ClientHello for `sni`, over two Initials when `split` (Chromium's).
    pub fn connect_quic(
        &mut self,
        owner: u32,
        client: IpAddr,
        server: Addr,
        sni: &str,
        split: bool,
    ) -> u32 {
        let port = self.port(true);
        let id = self.conns.len() as u32;
        let c = (client, port);
        let now = self.now;
        let mut cl = Quic::new(c, server, Dir::Up, true, sni, split, now);
        let mut sv = Quic::new(server, c, Dir::Down, false, "", false, now);
        sv.expect_hello(cl.hello_len());
        cl.connect(now, &mut self.out);
        self.conns.push(Conn {
            ends: [End::Quic(Box::new(cl)), End::Quic(Box::new(sv))],
            owner,
            scheduled: None,
        });
        self.quic_ports.insert(port, id);
        self.dirty.push(id);
        id
    }

    /// The connection whose client uses this port.
    pub fn conn_of(&self, client_port: u16) -> Option<u32> {
        self.tcp_ports.get(&client_port).copied()
    }

    pub fn flow_of(&self, client_port: u16) -> Option<u32> {
        self.udp_ports.get(&client_port).copied()
    }

    /// The QUIC connection whose client uses this UDP port.
    pub fn quic_of(&self, client_port: u16) -> Option<u32> {
        self.quic_ports.get(&client_port).copied()
    }

    /// Queue `n` bytes (or `bytes`) on one side of a connection and send what may go.
    pub fn write(&mut self, conn: u32, side: usize, n: u64, bytes: Option<&[u8]>) -> u64 {
        let now = self.now;
        let end = &mut self.conns[conn as usize].ends[side];
        let at = end.write(n, bytes);
        end.push(now, &mut self.out);
        self.dirty.push(conn);
        at
    }

    pub fn is_open(&self, conn: u32) -> bool {
        self.conns[conn as usize].ends[CLIENT].is_open()
    }

    /// Both applications let go of the connection.
    pub fn close(&mut self, conn: u32) {
        let c = &mut self.conns[conn as usize];
        for e in &mut c.ends {
            e.close();
        }
        let port = c.ends[CLIENT].local_port();
        let ports = if c.ends[CLIENT].is_quic() {
            &mut self.quic_ports
        } else {
            &mut self.tcp_ports
        };
        if ports.get(&port) == Some(&conn) {
            ports.remove(&port);
        }
    }

    /// A UDP socket of `client` talking to `server`.
    pub fn udp(&mut self, owner: u32, client: IpAddr, server: Addr) -> u32 {
        let port = self.port(true);
        let id = self.flows.len() as u32;
        self.flows.push(Flow {
            ends: [(client, port), server],
            owner,
            open: true,
        });
        self.udp_ports.insert(port, id);
        id
    }

    /// Send one datagram of `len` payload bytes from `side`, starting with `head`.
    pub fn datagram(&mut self, flow: u32, side: usize, len: usize, head: &[u8]) {
        let f = &self.flows[flow as usize];
        if !f.open {
            return;
        }
        let (src, dst) = (f.ends[side], f.ends[1 - side]);
        let dir = if side == CLIENT { Dir::Up } else { Dir::Down };
        let mut b = Vec::with_capacity(len + 48);
        build_datagram(&mut b, src, dst, len, |d| {
            let n = head.len().min(d.len());
            d[..n].copy_from_slice(&head[..n]);
        });
        self.out.push((dir, b));
    }

    /// Wake session `session` at `t` with `kind` (and `gen`, to tell stale wakes apart).
    pub fn at(&mut self, t: u64, session: u32, kind: u8, gen: u32) {
        self.push_wake(t, Wake::App { session, kind, gen });
    }

    pub fn push_wake(&mut self, t: u64, w: Wake) {
        self.seq += 1;
        self.heap.push(Reverse((t.max(self.now), self.seq, w)));
    }

    pub fn next_wake(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((t, _, _))| *t)
    }

    pub fn pop_wake(&mut self) -> Option<(u64, Wake)> {
        self.heap.pop().map(|Reverse((t, _, w))| (t, w))
    }

    pub fn emit(&mut self, e: Event) {
        self.events.push(e);
    }

    /// A connection's timers may have moved: schedule its earliest.
    pub fn reschedule(&mut self, conn: u32) {
        let c = &mut self.conns[conn as usize];
        let t = c.ends.iter().filter_map(End::next_deadline).min();
        if let Some(at) = t.filter(|_| t != c.scheduled) {
            c.scheduled = t;
            self.push_wake(at, Wake::Conn(conn));
        }
    }

    /// Run a connection's due timers; the notes they raise, by side.
    pub fn conn_timers(&mut self, conn: u32, notes: &mut Vec<(usize, Note)>) {
        let now = self.now;
        let c = &mut self.conns[conn as usize];
        c.scheduled = None;
        let mut n = Vec::new();
        for (side, e) in c.ends.iter_mut().enumerate() {
            if e.next_deadline().is_some_and(|t| t <= now) {
                e.on_timer(now, &mut n, &mut self.out);
                notes.extend(n.drain(..).map(|x| (side, x)));
            }
        }
        self.dirty.push(conn);
    }
}
