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
//!
//! With `replace_reply` (the TSPU's "SNI-I" reset, IMC 2022) the packet that triggers
//! the reset passes — the ClientHello reaches the server — and the server's next packet
//! is dropped and replaced by a RST|ACK to the client, forged with that packet's own
//! sequence number (the client's `rcv_nxt`), so the client's kernel accepts it; the
//! server gets no RST.

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
    replace_reply: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    let after_bytes = f.opt_u64("after_bytes")?;
    let to = f.one_of("to", &["client", "server", "both"])?;
    let replace_reply = f.bool("replace_reply")?;
    Ok(Box::new(Config {
        after_bytes,
        to_client: to != 1 || replace_reply,
        to_server: to != 0 && !replace_reply,
        replace_reply,
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
            armed: PerFlow::default(),
        }))
    }
}

struct Reset {
    c: Config,
    bytes: PerFlow<u64>,
    /// Flows this action reset.
    dead: PerFlow<()>,
    /// `replace_reply`: flows whose trigger passed, waiting for the server's reply.
    armed: PerFlow<()>,
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
        if self.c.replace_reply && cx.flow.key.proto == PROTO_TCP {
            if pkt.dir == Dir::Up {
                self.armed.set(cx.flow.id, ());
                return Verdict::Pass;
            }
            if self.armed.peek(cx.flow.id).is_none() {
                return Verdict::Pass; // the server spoke before any trigger
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
        self.armed.forget(flow_id);
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::{Dir, TAG_INJECTED};
    use crate::shape::testkit::*;
    use crate::shape::Pipeline;
    use crate::shape::Reason;
    use crate::wire::packet::{build_tcp, l4_checksum_ok, parse, Parsed};
    use crate::wire::tcp::{ACK, PSH, RST, SYN};

    /// A pipeline whose one policy has a `reset` with these fields (JSON values).
    fn reset(after_bytes: &str, to: &str, replace_reply: bool) -> Pipeline {
        let fields =
            format!(r#""after_bytes":{after_bytes},"to":"{to}","replace_reply":{replace_reply}"#);
        with_actions(&[action("reset", &fields)])
    }

    /// A forged segment, parsed once its IP and TCP checksums are found valid.
    fn checked(b: &[u8]) -> Parsed {
        let pp = parse(b).unwrap();
        assert!(l4_checksum_ok(b, &pp));
        assert!(crate::wire::ip::Ipv4Packet::new_checked(b)
            .unwrap()
            .verify_checksum());
        pp
    }

    #[test]
    fn forges_two_valid_rsts_with_the_right_numbers() {
        let mut p = reset("100", "both", false);
        let (c, s) = (c4(), s4());
        let got = run(
            &mut p,
            vec![
                segment(0, (c, s), 1000, 0, SYN, &[]),
                segment(MS, (s, c), 5000, 1001, SYN | ACK, &[]),
                segment(2 * MS, (c, s), 1001, 5001, ACK, &[]),
                segment(3 * MS, (s, c), 5001, 1001, ACK | PSH, &[1; 10]), // 50 bytes so far
                segment(4 * MS, (c, s), 1001, 5011, ACK | PSH, &[2; 300]), // crosses 100: reset
                segment(5 * MS, (s, c), 5011, 1301, ACK, &[]),            // dead flow
            ],
        );
        // The first four pass when they come; both RSTs leave when the fifth is dropped.
        let when: Vec<(u32, u64)> = tag_times(&got);
        assert_eq!(
            when,
            vec![
                (0, 0),
                (1, MS),
                (2, 2 * MS),
                (3, 3 * MS),
                (TAG_INJECTED, 4 * MS),
                (TAG_INJECTED, 4 * MS)
            ]
        );
        for (_, _, dir, b) in got.iter().filter(|g| g.0 == TAG_INJECTED) {
            let pp = checked(b);
            let t = pp.tcp.unwrap();
            assert_eq!(t.flags, RST | ACK);
            match dir {
                // To the server, as the client: the dropped segment's seq, the server's
                // next as ack.
                Dir::Up => assert_eq!((pp.src, pp.dst, t.seq, t.ack), (c.0, s.0, 1001, 5011)),
                Dir::Down => assert_eq!((pp.src, pp.dst, t.seq, t.ack), (s.0, c.0, 5011, 1301)),
            }
        }
        assert_eq!(p.stats.drops[Reason::Reset.index()], 2);
    }

    #[test]
    fn a_reset_flow_stays_dead_after_its_policy_is_disabled() {
        let mut p = reset("null", "client", false);
        let up = |port, flags, t| (t, Dir::Up, tcp_from(port, 1000, flags, &[]));
        let mut down = Vec::new();
        build_tcp(&mut down, s4(), (c4().0, 1000), 7000, 1001, ACK, 1000, &[]);
        let got = run_timeline(
            &mut p,
            vec![
                up(1000, SYN, 0),                         // reset at once
                (100_000, Dir::Up, udp_from(3000, b"u")), // not TCP: dropped, no RST
                up(1000, ACK, MS),                        // dead, policy disabled or not
                (2 * MS, Dir::Down, down),
                up(1001, SYN, 3 * MS), // a new flow after the policy ended
                (4 * MS, Dir::Up, udp_from(3000, b"v")),
            ],
            &[(MS / 2, vec![])],
        );
        assert_eq!(tag_times(&got), vec![(TAG_INJECTED, 0), (4, 3 * MS)]);
        let (_, _, dir, b) = &got[0];
        assert_eq!(*dir, Dir::Down);
        let pp = parse(b).unwrap();
        let t = pp.tcp.unwrap();
        // From the server, acknowledging the client's SYN.
        assert_eq!(
            (pp.src, pp.dst_port, t.flags, t.ack),
            (s4().0, 1000, RST | ACK, 1001)
        );
        assert_eq!(p.stats.drops[Reason::Reset.index()], 5);
        assert_eq!(p.stats.actions[0].drops[Reason::Reset.index()], 5);
    }

    /// TSPU "SNI-I": the ClientHello reaches the server; the server's reply is dropped
    /// and the client gets a RST|ACK in its place, with the reply's own seq (what the
    /// client's kernel expects) and valid checksums; the server gets nothing.
    #[test]
    fn replace_reply_lets_the_client_hello_through_and_resets_the_client() {
        let mut p = reset("null", "both", true);
        let (c, s) = (c4(), s4());
        let got = run(
            &mut p,
            vec![
                segment(0, (c, s), 1001, 5001, ACK | PSH, &[0x16; 300]), // ClientHello: passes
                segment(MS, (s, c), 5001, 1301, ACK | PSH, &[0x16; 900]), // ServerHello: replaced
                segment(2 * MS, (c, s), 1301, 5001, ACK, &[]),           // dead
            ],
        );
        assert_eq!(tag_times(&got), vec![(0, 0), (TAG_INJECTED, MS)]);
        let (_, _, dir, b) = &got[1];
        assert_eq!(*dir, Dir::Down);
        let pp = checked(b);
        let t = pp.tcp.unwrap();
        assert_eq!(
            (pp.src, pp.dst, t.flags, t.seq, t.ack),
            (s.0, c.0, RST | ACK, 5001, 1301)
        );
        assert_eq!(p.stats.drops[Reason::Reset.index()], 2);
    }
}
