//! An on-path DNS injector (the GFW's, Iran's 10.10.34.x): for each DNS query over UDP
//! whose name matches, forge a response from the queried server to the client — same id
//! and question, the configured addresses — and send it at once towards the client. The
//! query itself goes on (`drop_query` false: the real answer arrives later and the stub
//! resolver, which takes the first, never sees it) or is dropped (`drop_query`: an
//! in-path box that answers instead of the resolver). An A or AAAA query for which the
//! answer has no address of that type gets an empty forged answer (NOERROR, no record): a
//! stub that asks for both in parallel must not get the real AAAA and connect over IPv6
//! past the injector. Other types are left alone.
//!
//! Injected responses enter the down link like the forged RSTs of `reset`, so a slow
//! link delays them as it delays the real one; the real answer still pays the round trip
//! to the resolver, which is why the injected one wins.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::shape::classify::sni::glob_match;
use crate::shape::fields::Fields;
use crate::shape::packet::{Dir, Pkt, HEADROOM, TAG_INJECTED};
use crate::shape::Reason;
use crate::wire::dns::{build_response, parse_query, CLASS_IN, TYPE_A, TYPE_AAAA};
use crate::wire::packet::{build_udp, parse as parse_packet};
use std::net::IpAddr;

#[derive(Debug, Clone)]
struct Config {
    /// Lowercased globs over the queried name; None: every name.
    names: Option<Vec<String>>,
    answer: Vec<IpAddr>,
    ttl_s: u32,
    drop_query: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    let names = f.opt_strings("names")?;
    let at = f.at("answer");
    let answer = f
        .strings("answer")?
        .iter()
        .map(|a| {
            a.parse::<IpAddr>()
                .map_err(|_| Error::bad_config(format!("{at}: {a:?} is not an IP address")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if answer.is_empty() {
        return Err(Error::bad_config(format!("{at}: at least one address")));
    }
    let ttl_at = f.at("ttl_s");
    let ttl_s = u32::try_from(f.u64("ttl_s")?)
        .map_err(|_| Error::bad_config(format!("{ttl_at}: at most 2^32 - 1")))?;
    let drop_query = f.bool("drop_query")?;
    Ok(Box::new(Config {
        names: names.map(|n| n.iter().map(|g| g.to_ascii_lowercase()).collect()),
        answer,
        ttl_s,
        drop_query,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "dns-inject"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(DnsInject { c: self.clone() }))
    }
}

struct DnsInject {
    c: Config,
}

impl DnsInject {
    /// The forged response to this packet, if it is a query this injector answers.
    fn forge(&self, pkt: &Pkt, cx: &mut Cx<'_>) -> Option<Pkt> {
        let p = &pkt.parsed;
        if pkt.dir != Dir::Up || !p.is_udp() || p.later_fragment {
            return None;
        }
        let q = parse_query(&pkt.ip()[p.payload..p.end]).ok()?;
        if q.qclass != CLASS_IN {
            return None;
        }
        if let Some(globs) = &self.c.names {
            if !globs
                .iter()
                .any(|g| glob_match(g.as_bytes(), q.name.as_bytes()))
            {
                return None;
            }
        }
        if q.qtype != TYPE_A && q.qtype != TYPE_AAAA {
            return None;
        }
        let reply = build_response(&q, &self.c.answer, self.c.ttl_s);
        let mut buf = cx.pool.take();
        build_udp(&mut buf, (p.dst, p.dst_port), (p.src, p.src_port), &reply);
        let parsed = parse_packet(&buf[HEADROOM..]).ok()?;
        Some(Pkt {
            buf,
            dir: Dir::Down,
            parsed,
            flow_slot: pkt.flow_slot,
            flow_id: pkt.flow_id,
            tag: TAG_INJECTED,
            born: cx.now,
            stage_at: cx.now,
            stage: 0,
        })
    }
}

impl Action for DnsInject {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        match self.forge(pkt, cx) {
            Some(forged) => {
                cx.inject.push(forged);
                if self.c.drop_query {
                    Verdict::Drop(Reason::DnsInject)
                } else {
                    Verdict::Pass
                }
            }
            None => Verdict::Pass,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::{Dir, TAG_INJECTED};
    use crate::shape::testkit::*;
    use crate::shape::Reason;
    use crate::wire::dns::parse_query;
    use crate::wire::packet::{l4_checksum_ok, parse};

    /// A query for `name` (type A, or AAAA) as a stub resolver sends it.
    fn query(name: &str, aaaa: bool) -> Vec<u8> {
        let mut q = vec![0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, if aaaa { 28 } else { 1 }, 0, 1]);
        q
    }

    fn inject(names: &str, drop_query: bool) -> crate::shape::Pipeline {
        let fields = format!(
            r#""names":{names},"answer":["10.10.34.35"],"ttl_s":60,"drop_query":{drop_query}"#
        );
        with_actions(&[action("dns-inject", &fields)])
    }

    #[test]
    fn answers_a_matching_query_first_and_lets_the_query_go_on() {
        let mut p = inject(r#"["*.whatsapp.net"]"#, false);
        let got = run(
            &mut p,
            vec![
                (0, Dir::Up, udp_from(5353, &query("g.WhatsApp.net", false))),
                (MS, Dir::Up, udp_from(5354, &query("max.ru", false))),
                (
                    2 * MS,
                    Dir::Up,
                    udp_from(5355, &query("g.whatsapp.net", true)),
                ),
            ],
        );
        // Each forged answer leaves with its query; max.ru passes alone. The AAAA query
        // gets an empty answer (the injector has IPv4 addresses only).
        assert_eq!(
            tag_times(&got),
            vec![
                (0, 0),
                (TAG_INJECTED, 0),
                (1, MS),
                (2, 2 * MS),
                (TAG_INJECTED, 2 * MS)
            ]
        );
        let (_, _, _, empty) = &got[4];
        let pe = parse(empty).unwrap();
        assert_eq!(
            &empty[pe.payload + 6..pe.payload + 8],
            &[0, 0],
            "no answer record"
        );
        let (_, _, dir, b) = &got[1];
        assert_eq!(*dir, Dir::Down);
        let pp = parse(b).unwrap();
        assert!(l4_checksum_ok(b, &pp));
        // From the queried server's address and port 443 (s4) to the querying port.
        assert_eq!((pp.src, pp.src_port), (s4().0, s4().1));
        assert_eq!((pp.dst, pp.dst_port), (c4().0, 5353));
        let dns = &b[pp.payload..pp.end];
        assert_eq!(&dns[..2], &[0xab, 0xcd]);
        assert_eq!(&dns[dns.len() - 4..], &[10, 10, 34, 35]);
        assert!(parse_query(dns).is_err(), "a response, not a query");
        assert_eq!(p.stats.totals.injected, 2);
    }

    #[test]
    fn an_in_path_injector_swallows_the_query() {
        let mut p = inject("null", true);
        let got = run(
            &mut p,
            vec![
                (0, Dir::Up, udp_from(5353, &query("example.org", false))),
                (MS, Dir::Up, udp_from(5354, b"not dns at all")),
            ],
        );
        assert_eq!(tag_times(&got), vec![(TAG_INJECTED, 0), (1, MS)]);
        assert_eq!(p.stats.drops[Reason::DnsInject.index()], 1);
    }
}
