//! The twin: the lab's endpoints in virtual time. Each workload's application (./messages.rs,
//! ./transfers.rs, ./frames.rs, ./rtp.rs, ./quic.rs) runs over the transports the lab's
//! kernels and stacks would use — Linux's TCP (./tcp.rs with CUBIC or BBR, ./cc.rs), UDP,
//! QUIC — and every packet they send goes through the same shaping pipeline as in a lab
//! run, then through a model of the lab's own path (the TUNs and the proxy's thread: a
//! fixed delay and a forwarding rate), and on to the other endpoint. ACKs travel back
//! through the reverse direction's pipeline, so policers, shapers and drops act on them
//! as they do in the lab. The applications record the lab's own events (send, recv,
//! connect, fail, rtc), which src/simulate/ summarises with the lab's metrics.
//!
//! Like the real-time driver (drive/shaper.rs), a packet of a flow that nothing shapes
//! bypasses the stages whole — a TSO super-packet stays one packet — and one that the
//! stages must see is cut into segments first. Deterministic for a seed: nothing reads a
//! clock or an unseeded generator. `simulate_json` is what N-API's `simulate()` runs.

mod bbr;
pub mod cc;
mod cubic;
mod events;
mod frames;
mod messages;
pub mod net;
pub mod plan;
mod quic;
mod rtp;
mod rtt;
mod stream;
pub mod tcp;
mod transfers;
pub mod wire;

#[cfg(test)]
mod tests;

use crate::error::Error;
use crate::io::gso::{self, Offload};
use crate::shape::compiled::Scenario;
use crate::shape::packet::{Dir, Pkt, HEADROOM};
use crate::shape::pipeline::{Options, Pipeline, Prepared};
use crate::shape::Reason;
use crate::wire::packet::{self, PROTO_TCP, PROTO_UDP};
use crate::wire::vnet::{GSO_TCPV4, GSO_TCPV6};
use net::{Net, Wake, CLIENT, SERVER};
use plan::{Kind, Plan, Workload};
use std::collections::VecDeque;
use std::fmt::Write;
use tcp::{Note, Params};

/// A workload connection's application in the twin.
pub trait Session {
    fn start(&mut self, net: &mut Net, w: &Workload);
    fn on_timer(&mut self, net: &mut Net, w: &Workload, kind: u8, gen: u32);
    fn on_note(&mut self, net: &mut Net, w: &Workload, conn: u32, side: usize, note: Note);
    fn on_datagram(&mut self, net: &mut Net, w: &Workload, flow: u32, side: usize, payload: &[u8]);
}

struct Slot {
    workload: usize,
    app: Box<dyn Session>,
}

/// The lab's own path in one direction: packets leave in order, each after the path's
/// delay and its serialisation at the path's rate.
#[derive(Default)]
struct LabPath {
    queue: VecDeque<(u64, Vec<u8>)>,
    free_at: u64,
}

pub struct World<'a> {
    plan: &'a Plan,
    pub net: Net,
    pipeline: Pipeline,
    timeline: Vec<(u64, Vec<String>)>,
    next_phase: usize,
    paths: [LabPath; 2],
    slots: Vec<Slot>,
    emitted: Vec<Pkt>,
    notes: Vec<(usize, Note)>,
    /// Packets the endpoints sent (each once, however it was cut).
    pub packets: u64,
}

impl<'a> World<'a> {
    pub fn new(scenario: &Scenario, plan: &'a Plan) -> Result<World<'a>, Error> {
        let pipeline = Pipeline::new(scenario, Options::default(), &plan.traces)?;
        let ipv6 = plan.workloads.first().is_some_and(|w| w.client.is_ipv6());
        let params = Params::linux(scenario.mtu, ipv6, plan.tcp);
        let mut net = Net::new(params, scenario.seed);
        net.phase_starts = scenario
            .timeline
            .iter()
            .map(|e| e.at_ns)
            .filter(|&t| t > 0)
            .collect();
        let mut slots = Vec::new();
        for (wi, w) in plan.workloads.iter().enumerate() {
            for c in 0..w.connections {
                let id = slots.len() as u32;
                let (wi32, c32) = (wi as u32, c as u32);
                let app: Box<dyn Session> = match w.kind {
                    Kind::Messages => Box::new(messages::Messages::new(id, wi32, c32)),
                    Kind::Transfers => Box::new(transfers::Transfers::new(id, wi32, c32)),
                    Kind::Frames => Box::new(frames::Frames::new(id, wi32, c32)),
                    Kind::Rtp => Box::new(rtp::Rtp::new(id, wi32, c32)),
                };
                slots.push(Slot { workload: wi, app });
            }
        }
        for s in &mut slots {
            s.app.start(&mut net, &plan.workloads[s.workload]);
        }
        Ok(World {
            plan,
            net,
            pipeline,
            timeline: scenario
                .timeline
                .iter()
                .map(|e| (e.at_ns, e.active.clone()))
                .collect(),
            next_phase: 0,
            paths: [LabPath::default(), LabPath::default()],
            slots,
            emitted: Vec::new(),
            notes: Vec::new(),
            packets: 0,
        })
    }

    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Run until the plan's end.
    pub fn run(&mut self) -> Result<(), Error> {
        let until = self.plan.until;
        loop {
            let t_phase = self.timeline.get(self.next_phase).map(|e| e.0);
            let t_pipe = self.pipeline.next_wakeup();
            let t_path = self
                .paths
                .iter()
                .filter_map(|p| p.queue.front().map(|q| q.0))
                .min();
            let t_wake = self.net.next_wake();
            let Some(t) = [t_phase, t_pipe, t_path, t_wake]
                .into_iter()
                .flatten()
                .min()
            else {
                break;
            };
            if t > until {
                break;
            }
            self.net.now = t;
            if t_phase == Some(t) {
                let active = self.timeline[self.next_phase].1.clone();
                self.pipeline.set_active(&active)?;
                self.next_phase += 1;
            } else if t_pipe == Some(t) {
                self.pipeline.advance(t, &mut self.emitted);
                self.onto_paths();
            } else if t_path == Some(t) {
                self.arrive(t);
            } else if let Some((_, wake)) = self.net.pop_wake() {
                self.wake(wake);
            }
            self.flush()?;
        }
        Ok(())
    }

    fn wake(&mut self, wake: Wake) {
        match wake {
            Wake::Conn(conn) => {
                if self.net.conns[conn as usize].scheduled != Some(self.net.now) {
                    return;
                }
                let mut notes = std::mem::take(&mut self.notes);
                self.net.conn_timers(conn, &mut notes);
                self.deliver_notes(conn, &mut notes);
                self.notes = notes;
            }
            Wake::App { session, kind, gen } => {
                let s = &mut self.slots[session as usize];
                s.app
                    .on_timer(&mut self.net, &self.plan.workloads[s.workload], kind, gen);
            }
        }
    }

    fn deliver_notes(&mut self, conn: u32, notes: &mut Vec<(usize, Note)>) {
        let owner = self.net.conns[conn as usize].owner as usize;
        for (side, note) in notes.drain(..) {
            let s = &mut self.slots[owner];
            s.app.on_note(
                &mut self.net,
                &self.plan.workloads[s.workload],
                conn,
                side,
                note,
            );
        }
    }

    /// Send what the endpoints wrote through the pipeline, and schedule their timers.
    fn flush(&mut self) -> Result<(), Error> {
        while !self.net.out.is_empty() || !self.net.dirty.is_empty() {
            let out = std::mem::take(&mut self.net.out);
            for (dir, ip) in out {
                self.packets += 1;
                if self.packets > self.plan.max_packets {
                    return Err(Error::bad_config(format!(
                        "the simulation stopped at its budget of {} packets (plan.max_packets): \
                         a shorter duration or fewer messages fit",
                        self.plan.max_packets
                    )));
                }
                self.ingress(dir, ip);
            }
            let dirty = std::mem::take(&mut self.net.dirty);
            for conn in dirty {
                self.net.reschedule(conn);
            }
        }
        Ok(())
    }

    /// One packet from an endpoint into the pipeline (see `enter`).
    fn ingress(&mut self, dir: Dir, ip: Vec<u8>) {
        let (now, mss) = (self.net.now, self.net.params.mss);
        if enter(&mut self.pipeline, dir, &ip, now, mss, &mut self.emitted) {
            self.onto_path(dir, ip);
        }
        self.onto_paths();
    }

    fn onto_paths(&mut self) {
        let emitted = std::mem::take(&mut self.emitted);
        for pkt in &emitted {
            self.onto_path(pkt.dir, pkt.ip().to_vec());
        }
        for pkt in emitted {
            self.pipeline.recycle(pkt);
        }
    }

    fn onto_path(&mut self, dir: Dir, ip: Vec<u8>) {
        let now = self.net.now;
        let path = &mut self.paths[dir.index()];
        let serialise = self.plan.lab_rate.map_or(0, |r| {
            (ip.len() as u64 * 8 * 1_000_000_000).div_ceil(r.max(1))
        });
        let at = (now + self.plan.lab_delay).max(path.free_at + serialise);
        path.free_at = at;
        path.queue.push_back((at, ip));
    }

    /// Packets due at `t` reach their endpoint.
    fn arrive(&mut self, t: u64) {
        for d in 0..2 {
            while self.paths[d].queue.front().is_some_and(|q| q.0 <= t) {
                let (_, ip) = self.paths[d].queue.pop_front().expect("front checked");
                self.deliver(if d == 0 { Dir::Up } else { Dir::Down }, &ip);
            }
        }
    }

    fn deliver(&mut self, dir: Dir, ip: &[u8]) {
        let Ok(p) = packet::parse(ip) else { return };
        let (side, client_port) = match dir {
            Dir::Up => (SERVER, p.src_port),
            Dir::Down => (CLIENT, p.dst_port),
        };
        match p.proto {
            PROTO_TCP => {
                if let Some(conn) = self.net.conn_of(client_port) {
                    self.reach_conn(conn, side, ip, &p);
                }
            }
            PROTO_UDP => {
                if let Some(conn) = self.net.quic_of(client_port) {
                    return self.reach_conn(conn, side, ip, &p);
                }
                let Some(flow) = self.net.flow_of(client_port) else {
                    return;
                };
                if !wire::intact(ip, &p) {
                    return;
                }
                let owner = self.net.flows[flow as usize].owner as usize;
                let s = &mut self.slots[owner];
                let payload = &ip[p.payload..p.end];
                let w = &self.plan.workloads[s.workload];
                s.app.on_datagram(&mut self.net, w, flow, side, payload);
            }
            _ => {}
        }
    }

    /// A packet for one end of a connection; the notes it raises go to its session.
    fn reach_conn(&mut self, conn: u32, side: usize, ip: &[u8], p: &packet::Parsed) {
        let now = self.net.now;
        let mut notes = Vec::new();
        self.net.conns[conn as usize].ends[side].on_packet(
            now,
            ip,
            p,
            &mut notes,
            &mut self.net.out,
        );
        self.net.dirty.push(conn);
        let mut tagged: Vec<(usize, Note)> = notes.into_iter().map(|n| (side, n)).collect();
        self.deliver_notes(conn, &mut tagged);
    }

    /// The events recorded, as JSON objects the lab's `events.ndjson` would hold.
    pub fn events_json(&self, out: &mut String) {
        let names: Vec<String> = self.plan.workloads.iter().map(|w| w.name.clone()).collect();
        let mut events: Vec<&events::Event> = self.net.events.iter().collect();
        // In time order, as a run records them (stable: same-time events keep their order).
        events.sort_by_key(|e| event_time(e));
        out.push('[');
        for (i, e) in events.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            e.write_json(out, &names);
        }
        out.push(']');
    }
}

fn event_time(e: &events::Event) -> u64 {
    match e {
        events::Event::Send { t, .. }
        | events::Event::Recv { t, .. }
        | events::Event::Connect { t, .. }
        | events::Event::Fail { t, .. }
        | events::Event::Rtc { t, .. } => *t,
    }
}

/// One packet from an endpoint into the pipeline, as the real-time driver takes a frame
/// from a TUN: a flow nothing shapes passes whole (true: the caller forwards it), else
/// a TSO super-packet is cut into `mss` segments and each enters the stages at `now`;
/// whatever they release now is appended to `emitted`.
pub fn enter(
    p: &mut Pipeline,
    dir: Dir,
    ip: &[u8],
    now: u64,
    mss: u32,
    emitted: &mut Vec<Pkt>,
) -> bool {
    let Ok(parsed) = packet::parse(ip) else {
        return false;
    };
    let mss = mss as usize;
    let segments = if parsed.proto == PROTO_TCP {
        parsed.payload_len().div_ceil(mss).max(1) as u64
    } else {
        1
    };
    let Some(prep) = p.prepare(ip, dir, now, segments) else {
        return false;
    };
    if !p.needs_processing(&prep, dir) {
        p.bypassed(&prep, ip, dir, now, segments);
        return true;
    }
    let mut segs = Vec::new();
    if segments > 1 {
        let o = Offload {
            gso_type: if parsed.src.is_ipv6() {
                GSO_TCPV6
            } else {
                GSO_TCPV4
            },
            gso_size: mss as u16,
            ..Offload::default()
        };
        if gso::segment(o, ip, p.pool(), &mut segs).is_err() {
            p.drop_prepared(&prep, ip, dir, now, Reason::Malformed, segments);
            return false;
        }
    } else {
        let mut b = p.pool().take_with(ip);
        wire::fill_checksum(&mut b[HEADROOM..]);
        segs.push(b);
    }
    for buf in segs {
        // Each segment is its own packet to the stages, with its own headers.
        let Ok(parsed) = packet::parse(&buf[HEADROOM..]) else {
            continue;
        };
        let seg = Prepared {
            parsed,
            slot: prep.slot,
            flow_id: prep.flow_id,
        };
        p.enter(buf, &seg, dir, now, 0, emitted);
    }
    false
}

/// Run a compiled scenario's workloads through the twin; the result JSON:
/// `{ "events": [...], "counters": {...}, "packets": n }`.
pub fn simulate_json(compiled: &str, plan: &str) -> Result<String, Error> {
    let scenario = Scenario::parse_json(compiled)?;
    let plan = Plan::parse(plan, scenario.duration_ns)?;
    let mut world = World::new(&scenario, &plan)?;
    world.run()?;
    let mut out = String::from("{\"events\":");
    world.events_json(&mut out);
    out.push_str(",\"counters\":");
    out.push_str(&world.pipeline().counters_json());
    let _ = write!(out, ",\"packets\":{}}}", world.packets);
    Ok(out)
}
