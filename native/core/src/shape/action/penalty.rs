//! Residual blocking: once a flow reaches this action, later flows sharing its scope
//! (any of client address, server address, server port) are dropped for `duration_ns`
//! — the GFW's 90–180 s "penalty box". Each later flow is blocked with `probability`
//! (decided once per flow). The triggering flow itself is not affected here.
//!
//! The box is shared by the pipeline (it checks every new flow against it before any
//! policy), so a penalty reaches flows of any class.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::flow::FlowKey;
use crate::shape::hash::{self, FxMap};
use crate::shape::Pkt;
use std::net::{IpAddr, Ipv4Addr};

pub const SCOPE_CLIENT_IP: u8 = 1;
pub const SCOPE_SERVER_IP: u8 = 2;
pub const SCOPE_SERVER_PORT: u8 = 4;

#[derive(Debug, Clone)]
struct Config {
    scope: u8,
    duration_ns: u64,
    probability: f64,
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
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "penalty"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Penalty {
            c: self.clone(),
            done: PerFlow::default(),
        }))
    }
    fn per_packet(&self) -> bool {
        false
    }
}

struct Penalty {
    c: Config,
    done: PerFlow<()>,
}

impl Action for Penalty {
    fn on_packet(&mut self, _: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let id = cx.flow.id;
        let mut first = false;
        self.done.get(id, || first = true);
        if first {
            cx.penalties.set(
                self.c.scope,
                &cx.flow.key,
                cx.now + self.c.duration_ns,
                self.c.probability,
                cx.index as u32,
                id,
            );
        }
        Verdict::Pass
    }

    fn forget(&mut self, flow_id: u64) {
        self.done.forget(flow_id);
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
    action: u32,
    /// The flow that set it is exempt (it is not a "later" flow).
    setter: u64,
}

/// The penalties in force, by scope.
pub struct PenaltyBox {
    entries: FxMap<ScopeKey, Entry>,
    masks: Vec<u8>,
    rng: Rng,
}

impl PenaltyBox {
    pub fn new(seed: u64) -> PenaltyBox {
        PenaltyBox {
            entries: hash::map(),
            masks: Vec::new(),
            rng: Rng::for_stage(seed, u64::MAX - 1),
        }
    }

    pub fn set(
        &mut self,
        mask: u8,
        key: &FlowKey,
        until: u64,
        probability: f64,
        action: u32,
        setter: u64,
    ) {
        if !self.masks.contains(&mask) {
            self.masks.push(mask);
        }
        let e = self
            .entries
            .entry(ScopeKey::of(mask, key))
            .or_insert(Entry {
                until,
                probability,
                action,
                setter,
            });
        if until >= e.until {
            *e = Entry {
                until,
                probability,
                action,
                setter,
            };
        }
    }

    /// For a new flow: blocked until when, by which action (after the probability draw).
    pub fn check(&mut self, key: &FlowKey, flow_id: u64, now: u64) -> Option<(u64, u32)> {
        if self.entries.is_empty() {
            return None;
        }
        let mut hit: Option<Entry> = None;
        for &m in &self.masks {
            let sk = ScopeKey::of(m, key);
            match self.entries.get(&sk) {
                Some(e) if e.until > now && e.setter != flow_id => {
                    hit = Some(hit.filter(|h| h.until >= e.until).unwrap_or(*e));
                }
                Some(_) => {
                    self.entries.remove(&sk);
                }
                None => {}
            }
        }
        let e = hit?;
        self.rng
            .chance(e.probability)
            .then_some((e.until, e.action))
    }
}
