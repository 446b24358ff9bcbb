//! Forged TCP resets: on the flow's first packet here, or once `after_bytes` of IP
//! payload have passed, send a RST|ACK to the client, the server or both, then drop the
//! flow for good (the packet that triggered it included; the later ones through the
//! admission hook, whatever policies are active then).
//!
//! A kernel accepts a RST whose sequence number is exactly its `rcv_nxt` (RFC 5961), so
//! each forged segment carries the next sequence number its supposed sender would have
//! used: the seq of the packet being dropped if it comes from that side, else the
//! furthest seq seen from that side; its ack is the other side's next seq. Non-TCP flows
//! are just dropped.

use super::{Action, ActionConfig, Admit, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::packet::{Dir, Pkt, TAG_INJECTED};
use crate::shape::Reason;
use crate::wire::packet::{build_tcp, parse as parse_packet, PROTO_TCP};
use crate::wire::tcp::{ACK, RST};

#[derive(Debug, Clone)]
struct Config {
    after_bytes: Option<u64>,
    to_client: bool,
    to_server: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    let after_bytes = f.opt_u64("after_bytes")?;
    let to = f.one_of("to", &["client", "server", "both"])?;
    Ok(Box::new(Config {
        after_bytes,
        to_client: to != 1,
        to_server: to != 0,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "reset"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Reset {
            c: self.clone(),
            bytes: PerFlow::default(),
            dead: PerFlow::default(),
        }))
    }
}

struct Reset {
    c: Config,
    bytes: PerFlow<u64>,
    /// Flows this action reset.
    dead: PerFlow<()>,
}

/// The RST its sender `from` would send, given the packet being dropped.
fn forge(cx: &mut Cx<'_>, from: Dir, dropped: &Pkt) -> Option<Pkt> {
    let f = cx.flow;
    let k = f.key;
    let (me, peer) = (f.tcp[from.index()], f.tcp[from.other().index()]);
    let seq = if dropped.dir == from {
        dropped.parsed.tcp?.seq
    } else {
        me.next
    };
    let ack = if peer.seen { peer.next } else { me.ack };
    let (src, dst) = match from {
        Dir::Up => ((k.client, k.client_port), (k.server, k.server_port)),
        Dir::Down => ((k.server, k.server_port), (k.client, k.client_port)),
    };
    let mut buf = cx.pool.take();
    build_tcp(&mut buf, src, dst, seq, ack, RST | ACK, 0, &[]);
    let parsed = parse_packet(&buf[crate::shape::packet::HEADROOM..]).ok()?;
    Some(Pkt {
        buf,
        dir: from,
        parsed,
        flow_slot: dropped.flow_slot,
        flow_id: dropped.flow_id,
        tag: TAG_INJECTED,
        born: cx.now,
        stage_at: cx.now,
        stage: 0,
    })
}

impl Action for Reset {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        if let Some(limit) = self.c.after_bytes {
            let seen = self.bytes.get(cx.flow.id, || 0);
            let next = *seen + pkt.parsed.ip_payload_len() as u64;
            if next <= limit {
                *seen = next;
                return Verdict::Pass;
            }
        }
        self.dead.set(cx.flow.id, ());
        if cx.flow.key.proto == PROTO_TCP {
            // To the server: forged as the client (travels up); to the client: as the server.
            if self.c.to_server {
                if let Some(p) = forge(cx, Dir::Up, pkt) {
                    cx.inject.push(p);
                }
            }
            if self.c.to_client {
                if let Some(p) = forge(cx, Dir::Down, pkt) {
                    cx.inject.push(p);
                }
            }
        }
        Verdict::Drop(Reason::Reset)
    }

    fn gates_flows(&self) -> bool {
        true
    }

    fn admit(&mut self, a: &Admit<'_>) -> Option<Reason> {
        self.dead.peek(a.flow.id).map(|_| Reason::Reset)
    }

    fn forget(&mut self, flow_id: u64) {
        self.bytes.forget(flow_id);
        self.dead.forget(flow_id);
    }
}
