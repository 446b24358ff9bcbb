//! The virtual-time driver: the same pipeline over a time-ordered packet source on a
//! simulated clock. Deterministic for a seed: nothing here reads a clock or an
//! unseeded random source.
//!
//! `simulate_json` is what `simulate()` in N-API runs; its input and output formats
//! are documented in src/native/index.ts (`SimulationTraffic`, `SimulationResult`).

use crate::config::json::Value;
use crate::error::Error;
use crate::shape::compiled::Scenario;
use crate::shape::fields::Fields;
use crate::shape::packet::{Dir, Pkt};
use crate::shape::pipeline::{Options, Pipeline};
use crate::shape::trace::TraceSet;
use crate::wire::packet::{build_tcp, build_udp};
use crate::wire::tcp::{ACK, PSH, SYN};
use crate::wire::{quic, quic_initial, stun, tls};
use std::fmt::Write;
use std::net::SocketAddr;

/// A time-ordered packet source: writes the next packet's IP bytes into `buf` and
/// returns (time, direction, tag), or `None` when done.
pub trait Source {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)>;
}

/// Run until the source is exhausted and every parked packet has left. Timeline entries
/// `(at, active policies)` are applied before packets of the same instant.
pub fn run(
    p: &mut Pipeline,
    src: &mut dyn Source,
    timeline: &[(u64, Vec<String>)],
    on_emit: &mut dyn FnMut(&Pkt),
) -> Result<(), Error> {
    let mut buf = Vec::with_capacity(2048);
    let mut out = Vec::new();
    let mut next = src.next(&mut buf);
    let mut tl = 0;
    loop {
        let t_pkt = next.map(|n| n.0);
        let t_wake = p.next_wakeup();
        let t_tl = timeline.get(tl).map(|e| e.0);
        let earliest = [t_pkt, t_wake, t_tl].into_iter().flatten().min();
        let Some(t) = earliest else { break };
        if t_tl == Some(t) {
            p.set_active(&timeline[tl].1)?;
            tl += 1;
        } else if t_wake == Some(t) && t_pkt.is_none_or(|tp| tp > t) {
            p.advance(t, &mut out);
        } else if let Some((at, dir, tag)) = next {
            p.ingress(&buf, dir, at, tag, &mut out);
            next = src.next(&mut buf);
        }
        for pkt in out.drain(..) {
            on_emit(&pkt);
            p.recycle(pkt);
        }
    }
    Ok(())
}

// ---- the JSON traffic description ------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowProto {
    Tcp,
    Udp,
}

#[derive(Debug, Clone)]
struct FlowGen {
    proto: FlowProto,
    client: SocketAddr,
    server: SocketAddr,
    start: u64,
    stop: u64,
    count: u64,
    interval: u64,
    size: usize,
    up: bool,
    down: bool,
    handshake: bool,
    first: Option<Vec<u8>>,
}

fn parse_addr(f: &mut Fields<'_>, key: &str) -> Result<SocketAddr, Error> {
    let s = f.str(key)?;
    s.parse()
        .map_err(|_| Error::bad_config(format!("{}: expected address:port, got {s:?}", f.at(key))))
}

fn opt<'a>(f: &mut Fields<'a>, key: &str, present: &[&str]) -> Result<Option<&'a Value>, Error> {
    if present.contains(&key) {
        f.nullable(key)
    } else {
        Ok(None)
    }
}

fn parse_flow(v: &Value, path: &str) -> Result<FlowGen, Error> {
    let keys: Vec<&str> = v
        .as_object()
        .map(|o| o.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let mut f = Fields::new(v, path)?;
    // A name for people reading the traffic; the result is in flow order.
    f.str("name")?;
    let proto = [FlowProto::Tcp, FlowProto::Udp][f.one_of("proto", &["tcp", "udp"])?];
    let client = parse_addr(&mut f, "client")?;
    let server = parse_addr(&mut f, "server")?;
    let num = |f: &mut Fields<'_>, k: &str, d: u64| -> Result<u64, Error> {
        match opt(f, k, &keys)? {
            None => Ok(d),
            Some(v) => crate::shape::fields::as_u64(v, &f.at(k)),
        }
    };
    let start = num(&mut f, "start_ns", 0)?;
    let stop = num(&mut f, "stop_ns", u64::MAX)?;
    let count = num(&mut f, "count", u64::MAX)?;
    let size = num(&mut f, "size_bytes", 1000)?.clamp(1, 65_000) as usize;
    let rate = num(&mut f, "rate_bps", 0)?;
    let mut interval = num(&mut f, "interval_ns", 0)?;
    if rate > 0 {
        interval = (size as u64 * 8 * 1_000_000_000).div_ceil(rate);
    }
    if interval == 0 {
        return Err(Error::bad_config(format!(
            "{path}: one of interval_ns or rate_bps (> 0) is required"
        )));
    }
    let dir = match opt(&mut f, "direction", &keys)? {
        None => 2,
        Some(_) => f.one_of("direction", &["up", "down", "both"])?,
    };
    let handshake = match opt(&mut f, "handshake", &keys)? {
        None => proto == FlowProto::Tcp,
        Some(_) => f.bool("handshake")?,
    };
    let first = match opt(&mut f, "first_payload", &keys)? {
        None => None,
        Some(v) => {
            let mut ff = Fields::new(v, f.at("first_payload"))?;
            let fk: Vec<&str> = v
                .as_object()
                .map(|o| o.iter().map(|(k, _)| k.as_str()).collect())
                .unwrap_or_default();
            let mut b = None;
            if fk.contains(&"tls_sni") && !fk.contains(&"quic_version") {
                let pad = if fk.contains(&"pad_to") {
                    ff.u64("pad_to")? as usize
                } else {
                    0
                };
                let ech = fk.contains(&"ech") && ff.bool("ech")?;
                b = Some(tls::build_client_hello(
                    ff.str("tls_sni")?,
                    &["h2"],
                    ech,
                    pad,
                ));
            } else if fk.contains(&"quic_version") {
                let v = ff.u64("quic_version")? as u32;
                // With a name (versions 1 and 2): a real, encrypted Initial carrying a
                // ClientHello, as a browser sends; otherwise a header-only look-alike.
                let sni = if fk.contains(&"tls_sni") {
                    Some(ff.str("tls_sni")?)
                } else {
                    None
                };
                let ech = fk.contains(&"ech") && ff.bool("ech")?;
                b = Some(match sni {
                    Some(name) if v == quic::VERSION_1 || v == quic::VERSION_2 => {
                        let hello = tls::build_client_hello(name, &["h3"], ech, 0);
                        let frames = quic_initial::crypto_frame(0, &hello[5..]);
                        // Browsers pad Initials to 1200-1252 bytes whatever follows.
                        quic_initial::seal_client_initial(v, &[0x51; 8], 0, &frames, 1200)
                    }
                    _ => quic::build_initial(v, size.max(1200)),
                });
            } else if fk.contains(&"stun") {
                ff.bool("stun")?;
                b = Some(stun::build_binding_request());
            } else if fk.contains(&"hex") {
                let h = ff.str("hex")?;
                b = Some(
                    (0..h.len() / 2)
                        .map(|i| {
                            u8::from_str_radix(h.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                                .unwrap_or(0)
                        })
                        .collect(),
                );
            }
            ff.finish()?;
            b
        }
    };
    f.finish()?;
    if client.is_ipv4() != server.is_ipv4() {
        return Err(Error::bad_config(format!(
            "{path}: client and server must be the same family"
        )));
    }
    Ok(FlowGen {
        proto,
        client,
        server,
        start,
        stop,
        count,
        interval,
        size,
        up: dir != 1,
        down: dir != 0,
        handshake,
        first,
    })
}

/// Per-packet record of the JSON simulation.
#[derive(Debug, Clone, Copy)]
struct Record {
    flow: u32,
    dir: Dir,
    sent: u64,
    size: u32,
    delivered: Option<u64>,
}

struct Gen<'a> {
    flows: &'a [FlowGen],
    /// Per flow: next event index.
    state: Vec<(u64, u64, [u32; 2])>,
    records: Vec<Record>,
    until: u64,
    /// Packets generated at most: every one is recorded, so this bounds memory.
    max_packets: u64,
    /// Generation stopped at `max_packets` with packets left.
    over_budget: bool,
}

impl Gen<'_> {
    /// Packet k of flow i: the handshake first (3 packets), then data alternating over
    /// the flow's directions at `interval`.
    fn packet(&mut self, i: usize, buf: &mut Vec<u8>) -> Option<(u64, Dir)> {
        let g = &self.flows[i];
        let (k, sent_data, seqs) = &mut self.state[i];
        let hs = if g.handshake && g.proto == FlowProto::Tcp {
            3
        } else {
            0
        };
        let (dir, t, payload_kind) = if *k < hs {
            let dir = if *k == 1 { Dir::Down } else { Dir::Up };
            (dir, g.start + *k * 1000, 0u8)
        } else {
            let j = *k - hs;
            if *sent_data >= g.count.saturating_mul(u64::from(g.up) + u64::from(g.down)) {
                return None;
            }
            let dir = match (g.up, g.down) {
                (true, true) => {
                    if j % 2 == 0 {
                        Dir::Up
                    } else {
                        Dir::Down
                    }
                }
                (false, true) => Dir::Down,
                _ => Dir::Up,
            };
            let per = if g.up && g.down { j / 2 } else { j };
            let t = g.start + hs * 1000 + per * g.interval;
            *sent_data += 1;
            (dir, t, if j == 0 && g.first.is_some() { 2 } else { 1 })
        };
        if t >= g.stop || t > self.until {
            return None;
        }
        *k += 1;
        let (c, s) = (
            (g.client.ip(), g.client.port()),
            (g.server.ip(), g.server.port()),
        );
        let (src, dst) = if dir == Dir::Up { (c, s) } else { (s, c) };
        let data: &[u8] = match payload_kind {
            2 => g.first.as_deref().unwrap_or(&[]),
            1 => &ZEROS[..g.size.min(ZEROS.len())],
            _ => &[],
        };
        buf.clear();
        match g.proto {
            FlowProto::Udp => build_udp(buf, src, dst, data),
            FlowProto::Tcp => {
                let d = dir.index();
                let flags = match (payload_kind, *k - 1, dir) {
                    (0, 0, _) => SYN,
                    (0, 1, _) => SYN | ACK,
                    (0, _, _) => ACK,
                    _ => ACK | PSH,
                };
                let seq = seqs[d];
                let ack = seqs[1 - d];
                build_tcp(buf, src, dst, seq, ack, flags, 65535, data);
                let adv = data.len() as u32 + u32::from(flags & SYN != 0);
                seqs[d] = seqs[d].wrapping_add(adv);
            }
        }
        Some((t, dir))
    }
}

static ZEROS: [u8; 65_000] = [0; 65_000];

/// Merges the flows' packet streams by time (flows are few: a linear scan is fine).
struct Merged<'a> {
    gen: Gen<'a>,
    pending: Vec<Option<(u64, Dir, Vec<u8>)>>,
}

impl Source for Merged<'_> {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)> {
        if self.gen.records.len() as u64 >= self.gen.max_packets {
            self.gen.over_budget = self.pending.iter().any(Option::is_some);
            return None;
        }
        let (i, _) = self
            .pending
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.as_ref().map(|p| (i, p.0)))
            .min_by_key(|&(i, t)| (t, i))?;
        let (t, dir, bytes) = self.pending[i].take()?;
        buf.clear();
        buf.extend_from_slice(&bytes);
        let mut nb = bytes;
        self.pending[i] = self.gen.packet(i, &mut nb).map(|(t, d)| (t, d, nb));
        let tag = self.gen.records.len() as u32;
        self.gen.records.push(Record {
            flow: i as u32,
            dir,
            sent: t,
            size: buf.len() as u32,
            delivered: None,
        });
        Some((t, dir, tag))
    }
}

/// Packets a simulation generates at most unless the traffic says otherwise: each is
/// recorded and returned, about 200 bytes in all.
pub const DEFAULT_MAX_PACKETS: u64 = 2_000_000;

/// Run a compiled scenario over a traffic description; the result JSON. The traffic may
/// carry the traces the scenario names (`traces`, as in the lab config) and a packet
/// budget (`max_packets`).
pub fn simulate_json(compiled: &str, traffic: &str) -> Result<String, Error> {
    let scenario = Scenario::parse_json(compiled)?;
    let tv = Value::parse(traffic)
        .map_err(|e| Error::bad_config(format!("traffic is not valid JSON: {e}")))?;
    let keys: Vec<&str> = tv
        .as_object()
        .map(|o| o.iter().map(|(k, _)| k.as_str()).collect())
        .unwrap_or_default();
    let mut f = Fields::new(&tv, "traffic")?;
    let flows_v = f.array("flows")?;
    let until = match opt(&mut f, "until_ns", &keys)? {
        None => scenario.duration_ns,
        Some(v) => crate::shape::fields::as_u64(v, "traffic.until_ns")?,
    };
    let max_packets = match opt(&mut f, "max_packets", &keys)? {
        None => DEFAULT_MAX_PACKETS,
        Some(v) => crate::shape::fields::as_u64(v, "traffic.max_packets")?,
    };
    let traces = TraceSet::parse(opt(&mut f, "traces", &keys)?, "traffic.traces")?;
    f.finish()?;
    let flows = flows_v
        .iter()
        .enumerate()
        .map(|(i, v)| parse_flow(v, &format!("traffic.flows[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;

    let mut pipeline = Pipeline::new(&scenario, Options::default(), &traces)?;
    let timeline: Vec<(u64, Vec<String>)> = scenario
        .timeline
        .iter()
        .map(|e| (e.at_ns, e.active.clone()))
        .collect();
    let mut gen = Gen {
        flows: &flows,
        state: vec![(0, 0, [1000, 5000]); flows.len()],
        records: Vec::new(),
        until,
        max_packets,
        over_budget: false,
    };
    let mut pending = Vec::new();
    for i in 0..flows.len() {
        let mut b = Vec::new();
        pending.push(gen.packet(i, &mut b).map(|(t, d)| (t, d, b)));
    }
    let mut src = Merged { gen, pending };
    let mut delivered: Vec<(u32, u64)> = Vec::new();
    run(&mut pipeline, &mut src, &timeline, &mut |pkt| {
        if pkt.tag != crate::shape::packet::TAG_INJECTED {
            delivered.push((pkt.tag, pkt.stage_at));
        }
    })?;
    if src.gen.over_budget {
        return Err(Error::bad_config(format!(
            "the simulation stopped at its budget of {max_packets} packets (traffic.max_packets): \
             a shorter duration or fewer messages fit"
        )));
    }
    let mut records = src.gen.records;
    for (tag, t) in delivered {
        if let Some(r) = records.get_mut(tag as usize) {
            if r.delivered.is_none() {
                r.delivered = Some(t);
            }
        }
    }
    Ok(result_json(&records, &pipeline))
}

/// Each packet's fate and the core's counters. Per-flow figures are not made here: the
/// product summarises the packets itself (src/simulate/report.ts), with the percentile
/// definition every other report uses.
fn result_json(records: &[Record], p: &Pipeline) -> String {
    let mut out = String::from("{\"packets\":[");
    for (i, r) in records.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(
            out,
            "[{},\"{}\",{},{},",
            r.flow,
            r.dir.as_str(),
            r.sent,
            r.size
        );
        match r.delivered {
            Some(t) => {
                let _ = write!(out, "{t}]");
            }
            None => out.push_str("null]"),
        }
    }
    out.push_str("],\"counters\":");
    out.push_str(&p.counters_json());
    out.push('}');
    out
}
