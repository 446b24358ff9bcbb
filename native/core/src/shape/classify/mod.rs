//! Flow classification: which classes a flow belongs to, decided from its first packets.
//!
//! Static keys (addresses, ports, protocol, initiator) hold or not from the first packet.
//! Payload keys (sni, quic, stun, payload) are tested on each of a flow's first
//! `inspect_packets` payload packets per direction; a ClientHello split over TCP
//! segments is read only by matchers with `reassembly: segments`. Membership is sticky:
//! once a class matched it stays, and after the inspection window nothing changes.

pub mod keys;
pub mod sni;

use super::compiled::{ClassSpec, QuicSpec};
use super::flow::{Flow, Reassembly};
use super::packet::Dir;
use crate::config::prefix::PrefixSet;
use crate::wire::packet::{Parsed, PROTO_TCP, PROTO_UDP};
use crate::wire::tls;
use sni::GlobSet;

/// Reassembly gives up past this many bytes or segments (a ClientHello is ~0.5–2 KB).
const REASM_MAX_BYTES: usize = 16 * 1024 + 5;
const REASM_MAX_SEGMENTS: u32 = 16;

#[derive(Debug)]
struct Matcher {
    class: u32,
    hosts: Option<PrefixSet>,
    cidr: Option<PrefixSet>,
    tcp_ports: Option<Vec<(u16, u16)>>,
    udp_ports: Option<Vec<(u16, u16)>>,
    proto: Option<u8>,
    has_sni: bool,
    quic: Option<QuicSpec>,
    stun: bool,
    payload: Option<(usize, Vec<u8>)>,
    inspect: u32,
    reassemble: bool,
    any_initiator: bool,
}

impl Matcher {
    fn has_payload_keys(&self) -> bool {
        self.has_sni || self.quic.is_some() || self.stun || self.payload.is_some()
    }

    fn static_ok(&self, f: &Flow) -> bool {
        let k = &f.key;
        (self.any_initiator || f.client_opened)
            && self.hosts.as_ref().is_none_or(|s| keys::server_in(s, k))
            && self.cidr.as_ref().is_none_or(|s| keys::server_in(s, k))
            && self
                .tcp_ports
                .as_ref()
                .is_none_or(|r| keys::port_in(r, PROTO_TCP, k))
            && self
                .udp_ports
                .as_ref()
                .is_none_or(|r| keys::port_in(r, PROTO_UDP, k))
            && self.proto.is_none_or(|m| keys::proto_in(m, k.proto))
    }
}

#[derive(Debug)]
pub struct Classifier {
    matchers: Vec<Matcher>,
    sni: GlobSet,
    max_inspect: u32,
    any_payload_keys: bool,
    any_reassembly: bool,
    /// Scratch space reused across packets (no allocation per packet).
    hits: Vec<u32>,
    lower: Vec<u8>,
}

impl Classifier {
    pub fn new(classes: &[ClassSpec]) -> Classifier {
        let mut matchers = Vec::new();
        let mut sni = GlobSet::new();
        for (ci, c) in classes.iter().enumerate() {
            for m in &c.any_of {
                let id = matchers.len() as u32;
                for g in m.sni.iter().flatten() {
                    sni.insert(g, id);
                }
                matchers.push(Matcher {
                    class: ci as u32,
                    hosts: m.hosts.clone().map(PrefixSet::new),
                    cidr: m.cidr.clone().map(PrefixSet::new),
                    tcp_ports: m.tcp_ports.clone(),
                    udp_ports: m.udp_ports.clone(),
                    proto: m.proto.as_deref().map(keys::proto_mask),
                    has_sni: m.sni.is_some(),
                    quic: m.quic,
                    stun: m.stun,
                    payload: m.payload.clone(),
                    inspect: m.inspect_packets,
                    reassemble: m.reassemble,
                    any_initiator: m.any_initiator,
                });
            }
        }
        Classifier {
            max_inspect: matchers.iter().map(|m| m.inspect).max().unwrap_or(0),
            any_payload_keys: matchers.iter().any(Matcher::has_payload_keys),
            any_reassembly: matchers.iter().any(|m| m.reassemble && m.has_sni),
            matchers,
            sni,
            hits: Vec::new(),
            lower: Vec::new(),
        }
    }

    /// Look at one packet of a flow that is still being inspected; returns the class
    /// bits it newly earns. Clears `flow.inspecting` when the window has closed.
    pub fn inspect(&mut self, flow: &mut Flow, ip: &[u8], p: &Parsed, dir: Dir) -> u64 {
        let d = dir.index();
        let payload = &ip[p.payload.min(ip.len())..p.end.min(ip.len())];
        let has_payload = !payload.is_empty() && !p.fragment;
        if has_payload {
            flow.payload_packets[d] = flow.payload_packets[d].saturating_add(1);
        }
        let n = flow.payload_packets[d];
        let mut bits = 0u64;

        // A ClientHello completed from several segments: only `segments` matchers read it.
        if self.any_reassembly && has_payload && p.proto == PROTO_TCP {
            if let Some(hello_buf) = self.reassemble(flow, payload, p, dir, n) {
                if let Ok(h) = tls::parse_client_hello(&hello_buf) {
                    self.sni_hits(h.sni(&hello_buf));
                    for (i, m) in self.matchers.iter().enumerate() {
                        if m.reassemble
                            && m.has_sni
                            && m.quic.is_none()
                            && !m.stun
                            && m.payload.is_none()
                            && m.static_ok(flow)
                            && self.hits.contains(&(i as u32))
                        {
                            bits |= 1 << m.class;
                        }
                    }
                }
            }
        }

        let mut hello_done = false;
        for i in 0..self.matchers.len() {
            let m = &self.matchers[i];
            if flow.classes & (1 << m.class) != 0 || bits & (1 << m.class) != 0 {
                continue;
            }
            if !m.static_ok(flow) {
                continue;
            }
            if !m.has_payload_keys() {
                bits |= 1 << m.class;
                continue;
            }
            if !has_payload || n > m.inspect {
                continue;
            }
            if m.has_sni {
                if !hello_done {
                    hello_done = true;
                    let name = tls::parse_client_hello(payload)
                        .ok()
                        .and_then(|h| h.sni.map(|r| &payload[r]));
                    self.sni_hits(name);
                }
                if !self.hits.contains(&(i as u32)) {
                    continue;
                }
            }
            let m = &self.matchers[i];
            if let Some(q) = &m.quic {
                if !(dir == Dir::Up
                    && n == 1
                    && p.proto == PROTO_UDP
                    && keys::quic_initial(q, payload))
                {
                    continue;
                }
            }
            if m.stun && !(p.proto == PROTO_UDP && keys::is_stun(payload)) {
                continue;
            }
            if let Some((off, want)) = &m.payload {
                if !(n == 1 && keys::bytes_at(*off, want, payload)) {
                    continue;
                }
            }
            bits |= 1 << m.class;
        }

        let over = |x: u32| x > self.max_inspect;
        if !self.any_payload_keys
            || (over(flow.payload_packets[0])
                && over(flow.payload_packets[1])
                && flow.reasm.is_none())
        {
            flow.inspecting = false;
        }
        bits
    }

    /// Lowercase the SNI and collect the matchers whose globs it matches into `hits`.
    fn sni_hits(&mut self, name: Option<&[u8]>) {
        self.hits.clear();
        if let Some(name) = name {
            self.lower.clear();
            self.lower.extend(name.iter().map(u8::to_ascii_lowercase));
            self.sni.matches(&self.lower, &mut self.hits);
        }
    }

    /// Feed a TCP payload to the flow's reassembly; the whole record once complete.
    fn reassemble(
        &mut self,
        flow: &mut Flow,
        payload: &[u8],
        p: &Parsed,
        dir: Dir,
        n: u32,
    ) -> Option<Vec<u8>> {
        let seq = p.tcp?.seq;
        match &mut flow.reasm {
            Some(r) if r.dir == Some(dir) => {
                if seq != r.next_seq || r.segments >= REASM_MAX_SEGMENTS {
                    flow.reasm = None; // out of order or endless: give up, as DPI boxes do
                    return None;
                }
                r.buf.extend_from_slice(payload);
                r.next_seq = seq.wrapping_add(payload.len() as u32);
                r.segments += 1;
                if r.buf.len() >= r.want {
                    let r = flow.reasm.take()?;
                    return Some(r.buf);
                }
                None
            }
            Some(_) => None,
            None => {
                let window = self
                    .matchers
                    .iter()
                    .filter(|m| m.reassemble)
                    .map(|m| m.inspect)
                    .max()?;
                let want = tls::handshake_record_len(payload)?;
                if n == 1 && n <= window && want > payload.len() && want <= REASM_MAX_BYTES {
                    flow.reasm = Some(Box::new(Reassembly {
                        dir: Some(dir),
                        buf: payload.to_vec(),
                        want,
                        next_seq: seq.wrapping_add(payload.len() as u32),
                        segments: 1,
                    }));
                }
                None
            }
        }
    }
}
