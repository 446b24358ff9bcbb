//! Residual blocking: once a flow reaches this action, later flows sharing its scope
//! (any of client address, server address, server port) are dropped for `duration_ns`
//! — the GFW's 90–180 s "penalty box". Each later flow is blocked with `probability`
//! (decided once, on its first packet). The triggering flow itself is not affected.
//!
//! The block is applied by the admission hook, which sees every new flow before any
//! policy, so a penalty reaches flows of any class (and outlives its policy being
//! disabled). Each penalty action keeps its own box, draw and blocked flows.
//!
//! `block` limits the drop to one direction of the penalised flows (the GFW's QUIC
//! residual drops client→server only); `include_trigger` blocks the flow that set the
//! penalty too, from its next packet on (the QUIC residual applies to the triple, the
//! detected connection included).

use super::{Action, ActionConfig, Admit, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::flow::FlowKey;
use crate::shape::hash::FxMap;
use crate::shape::spec::Direction;
use crate::shape::{Pkt, Reason};
use std::net::{IpAddr, Ipv4Addr};

const SCOPE_CLIENT_IP: u8 = 1;
const SCOPE_SERVER_IP: u8 = 2;
const SCOPE_SERVER_PORT: u8 = 4;

#[derive(Debug, Clone)]
struct Config {
    scope: u8,
    duration_ns: u64,
    probability: f64,
    block: Direction,
    include_trigger: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    let path = f.at("scope");
    let mut scope = 0;
    for (i, s) in f.strings("scope")?.iter().enumerate() {
        scope |= match s.as_str() {
            "client_ip" => SCOPE_CLIENT_IP,
            "server_ip" => SCOPE_SERVER_IP,
            "server_port" => SCOPE_SERVER_PORT,
            other => {
                return Err(Error::bad_config(format!(
                    "{path}[{i}]: expected client_ip, server_ip or server_port, got {other:?}"
                )))
            }
        };
    }
    Ok(Box::new(Config {
        scope,
        duration_ns: f.u64("duration_ns")?,
        probability: f.prob("probability")?,
        block: Direction::parse(f, "block")?,
        include_trigger: f.bool("include_trigger")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "penalty"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Penalty {
            c: self.clone(),
            set_by: PerFlow::default(),
            scopes: PenaltyBox::default(),
            rng: Rng::for_stage(b.seed, b.stage),
            blocked: PerFlow::default(),
        }))
    }
    fn per_packet(&self) -> bool {
        false
    }
}

struct Penalty {
    c: Config,
    /// Flows that reached this action (each sets its penalty once).
    set_by: PerFlow<()>,
    scopes: PenaltyBox,
    /// The probability draw for each new flow in a penalised scope.
    rng: Rng,
    /// Flows found in a penalised scope: dropped until this time.
    blocked: PerFlow<u64>,
}

impl Action for Penalty {
    fn on_packet(&mut self, _: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let mut first = false;
        self.set_by.get(cx.flow.id, || first = true);
        if first {
            let e = Entry {
                until: cx.now + self.c.duration_ns,
                probability: self.c.probability,
            };
            self.scopes.set(self.c.scope, &cx.flow.key, e);
            if self.c.include_trigger {
                self.blocked.set(cx.flow.id, e.until);
            }
        }
        Verdict::Pass
    }

    fn gates_flows(&self) -> bool {
        true
    }

    fn admit(&mut self, a: &Admit<'_>) -> Option<Reason> {
        if a.new {
            // Only new flows are checked, so the flow that set a penalty (already
            // admitted) is never blocked by it.
            if let Some(e) = self.scopes.check(&a.flow.key, a.now) {
                if self.rng.chance(e.probability) {
                    self.blocked.set(a.flow.id, e.until);
                }
            }
        }
        match self.blocked.peek(a.flow.id) {
            Some(&until) if until > a.now && self.c.block.admits(a.dir) => Some(Reason::Penalty),
            _ => None,
        }
    }

    fn forget(&mut self, flow_id: u64) {
        self.set_by.forget(flow_id);
        self.blocked.forget(flow_id);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ScopeKey {
    mask: u8,
    client: IpAddr,
    server: IpAddr,
    port: u16,
}

const NONE: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl ScopeKey {
    fn of(mask: u8, k: &FlowKey) -> ScopeKey {
        ScopeKey {
            mask,
            client: if mask & SCOPE_CLIENT_IP != 0 {
                k.client
            } else {
                NONE
            },
            server: if mask & SCOPE_SERVER_IP != 0 {
                k.server
            } else {
                NONE
            },
            port: if mask & SCOPE_SERVER_PORT != 0 {
                k.server_port
            } else {
                0
            },
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    until: u64,
    probability: f64,
}

/// The penalties in force, by scope.
#[derive(Default)]
struct PenaltyBox {
    entries: FxMap<ScopeKey, Entry>,
    masks: Vec<u8>,
}

impl PenaltyBox {
    fn set(&mut self, mask: u8, key: &FlowKey, e: Entry) {
        if !self.masks.contains(&mask) {
            self.masks.push(mask);
        }
        let cur = self.entries.entry(ScopeKey::of(mask, key)).or_insert(e);
        if e.until >= cur.until {
            *cur = e;
        }
    }

    /// The latest-ending penalty in force over this flow's scopes (expired ones are
    /// removed on the way).
    fn check(&mut self, key: &FlowKey, now: u64) -> Option<Entry> {
        if self.entries.is_empty() {
            return None;
        }
        let mut hit: Option<Entry> = None;
        for &m in &self.masks {
            let sk = ScopeKey::of(m, key);
            match self.entries.get(&sk) {
                Some(e) if e.until > now => {
                    hit = Some(hit.filter(|h| h.until >= e.until).unwrap_or(*e));
                }
                Some(_) => {
                    self.entries.remove(&sk);
                }
                None => {}
            }
        }
        hit
    }
}
