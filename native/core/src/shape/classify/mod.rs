//! Flow classification: which classes a flow belongs to, decided from its first packets.
//!
//! Static keys (addresses, ports, protocol, initiator) hold or not from the first packet.
//! Payload keys (sni, alpn, ech, ja4, quic, stun, payload) are tested on each of a
//! flow's first `inspect_packets` payload packets per direction. The ClientHello keys
//! read a ClientHello from a TCP payload (split over segments only for matchers with
//! `reassembly: segments`) or, for matchers with `quic`, from the flow's client Initials,
//! decrypted and put together across packets within the window. Decryption happens only
//! here, so only for a flow's first packets. Membership is sticky: once a class matched
//! it stays, and after the inspection window nothing changes.

pub mod hello;
pub mod keys;
pub mod sni;

use super::compiled::{ClassSpec, PayloadSpec, QuicSpec};
use super::flow::{Flow, Pending, Reassembly};
use super::packet::Dir;
use crate::config::prefix::PrefixSet;
use crate::wire::packet::{Parsed, PROTO_TCP, PROTO_UDP};
use crate::wire::quic_initial::ClientHelloReader;
use crate::wire::{quic, tls};
use hello::HelloKeys;

/// Reassembly gives up past this many bytes or segments (a ClientHello is ~0.5–2 KB).
const REASM_MAX_BYTES: usize = 16 * 1024 + 5;
const REASM_MAX_SEGMENTS: u32 = 16;
/// A QUIC ClientHello is given up on after this many Initials.
const MAX_HELLO_INITIALS: u32 = 8;

#[derive(Debug)]
struct Matcher {
    class: u32,
    hosts: Option<PrefixSet>,
    cidr: Option<PrefixSet>,
    tcp_ports: Option<Vec<(u16, u16)>>,
    udp_ports: Option<Vec<(u16, u16)>>,
    proto: Option<u8>,
    /// Any of sni, alpn, ech, ja4.
    wants_hello: bool,
    quic: Option<QuicSpec>,
    stun: bool,
    payload: Option<PayloadSpec>,
    inspect: u32,
    reassemble: bool,
    any_initiator: bool,
}

impl Matcher {
    fn has_payload_keys(&self) -> bool {
        self.wants_hello || self.quic.is_some() || self.stun || self.payload.is_some()
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
    hello: HelloKeys,
    max_inspect: u32,
    any_payload_keys: bool,
    any_reassembly: bool,
}

impl Classifier {
    pub fn new(classes: &[ClassSpec]) -> Classifier {
        let mut matchers = Vec::new();
        let mut hello = HelloKeys::default();
        for (ci, c) in classes.iter().enumerate() {
            for m in &c.any_of {
                let id = matchers.len() as u32;
                hello.add(id, m);
                matchers.push(Matcher {
                    class: ci as u32,
                    hosts: m.hosts.clone().map(PrefixSet::new),
                    cidr: m.cidr.clone().map(PrefixSet::new),
                    tcp_ports: m.tcp_ports.clone(),
                    udp_ports: m.udp_ports.clone(),
                    proto: m.proto.as_deref().map(keys::proto_mask),
                    wants_hello: hello.wants_hello(id as usize),
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
            any_reassembly: matchers
                .iter()
                .any(|m| m.reassemble && m.wants_hello && m.quic.is_none()),
            matchers,
            hello,
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
                let parsed = tls::parse_client_hello(&hello_buf).ok();
                self.hello
                    .evaluate(parsed.as_ref().map(|h| (h, &hello_buf[..])), false);
                for (i, m) in self.matchers.iter().enumerate() {
                    if m.reassemble
                        && m.wants_hello
                        && m.quic.is_none()
                        && !m.stun
                        && m.payload.is_none()
                        && m.static_ok(flow)
                        && self.hello.ok(i)
                    {
                        bits |= 1 << m.class;
                    }
                }
            }
        }

        // The Initials of one ClientHello count as one packet of the window: subtract
        // those already taken in beyond the first, or all of them while incomplete.
        let n_hello = match (flow.quic(), p.proto) {
            (Some(r), PROTO_UDP) => {
                let complete = u32::from(r.hello().is_some());
                n.saturating_sub(r.packets().saturating_sub(complete))
            }
            _ => n,
        };
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
            if !has_payload || (if m.wants_hello { n_hello } else { n }) > m.inspect {
                continue;
            }
            if let Some(q) = &m.quic {
                // An Initial from the client: the first datagram, or any of the window's
                // when the ClientHello may span several.
                if !(dir == Dir::Up
                    && p.proto == PROTO_UDP
                    && (n == 1 || m.wants_hello)
                    && keys::quic_initial(q, payload))
                {
                    continue;
                }
            }
            if m.stun && !(p.proto == PROTO_UDP && keys::is_stun(payload)) {
                continue;
            }
            if let Some(spec) = &m.payload {
                if !keys::payload_matches(spec, payload) {
                    continue;
                }
            }
            if m.wants_hello {
                if !hello_done {
                    hello_done = true;
                    self.load_hello(flow, payload, p.proto, dir);
                }
                // Without `reassembly: segments` only a ClientHello whole in one Initial
                // counts (the GFW's reading).
                let initials = flow.quic().map_or(1, |r| r.packets());
                if !self.hello.ok(i) || (!self.matchers[i].reassemble && initials > 1) {
                    continue;
                }
            }
            bits |= 1 << self.matchers[i].class;
        }

        let over = |x: u32| x > self.max_inspect;
        let quic_pending = flow
            .quic()
            .is_some_and(|r| r.hello().is_none() && r.packets() < MAX_HELLO_INITIALS);
        let segments_pending = matches!(flow.pending.as_deref(), Some(Pending::Segments(_)));
        if !self.any_payload_keys
            || (over(flow.payload_packets[0])
                && over(flow.payload_packets[1])
                && !segments_pending
                && !quic_pending)
        {
            flow.inspecting = false;
            flow.pending = None;
        }
        bits
    }

    /// Evaluate the ClientHello keys on this packet's ClientHello: a TCP payload as a
    /// record, or the client's QUIC Initials so far (decrypted), once they hold a whole
    /// one. Anything else has no ClientHello.
    fn load_hello(&mut self, flow: &mut Flow, payload: &[u8], proto: u8, dir: Dir) {
        if proto != PROTO_UDP || dir != Dir::Up {
            let parsed = if proto == PROTO_TCP {
                tls::parse_client_hello(payload).ok()
            } else {
                None
            };
            self.hello
                .evaluate(parsed.as_ref().map(|h| (h, payload)), false);
            return;
        }
        if !quic::is_long_header(payload) {
            self.hello.evaluate(None, true);
            return;
        }
        match flow.pending.as_deref_mut() {
            Some(Pending::Initials(r)) => {
                let _ = r.feed(payload); // a damaged Initial changes nothing
            }
            Some(Pending::Segments(_)) => {}
            None => {
                if let Ok((r, _)) = ClientHelloReader::start(payload) {
                    flow.pending = Some(Box::new(Pending::Initials(Box::new(r))));
                }
            }
        }
        let msg = flow.quic().and_then(|r| r.hello());
        let parsed = msg.and_then(|m| tls::parse_client_hello_message(m).ok());
        match (parsed, msg) {
            (Some(h), Some(m)) => self.hello.evaluate(Some((&h, m)), true),
            _ => self.hello.evaluate(None, true),
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
        match flow.pending.as_deref_mut() {
            Some(Pending::Segments(r)) if r.dir == Some(dir) => {
                if seq != r.next_seq || r.segments >= REASM_MAX_SEGMENTS {
                    flow.pending = None; // out of order or endless: give up, as DPI boxes do
                    return None;
                }
                r.buf.extend_from_slice(payload);
                r.next_seq = seq.wrapping_add(payload.len() as u32);
                r.segments += 1;
                if r.buf.len() >= r.want {
                    let buf = std::mem::take(&mut r.buf);
                    flow.pending = None;
                    return Some(buf);
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
                    flow.pending = Some(Box::new(Pending::Segments(Reassembly {
                        dir: Some(dir),
                        buf: payload.to_vec(),
                        want,
                        next_seq: seq.wrapping_add(payload.len() as u32),
                        segments: 1,
                    })));
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests;
