//! The pipeline: flow table, classifier, the actions of the active policies, the shared
//! links, and the time-ordered heap where waiting packets are parked.
//!
//! Time is always a value passed in (ns since the run's start). Stage order per packet:
//! actions by their index in the compiled config (policy order, then action order),
//! keeping those whose policy applies to the flow, is active, and admits the direction;
//! then the link of the packet's direction; then emit. A packet parked by an action
//! resumes with the next applicable action as of its resume time, so a timeline change
//! takes effect between packets, never inside a stage.

use super::classify::Classifier;
use super::compiled::{Proto, Scenario};
use super::flow::{default_idle, Flow, FlowKey, FlowTable, Lookup, Pending, DEFAULT_MAX_FLOWS};
use super::hold::Held;
use super::link::Link;
use super::meter::{Meter, View, DEFAULT_STALL_NS};
use super::packet::{Dir, Pkt, Pool, HEADROOM, TAG_INJECTED};
use super::spec::{Action, Admit, Build, Cx, Direction, Verdict};
use super::stats::{ClassStats, Names, StageStats, Stats};
use super::tap::{Point, Tap};
use super::trace::{Trace, TraceSet};
use super::Reason;
use crate::error::Error;
use crate::wire::packet::{self, Parsed};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Packets held inside the pipeline at most (parked, kept, queued); beyond, new packets
/// are dropped as `overflow`, bounding memory whatever the scenario says.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 200_000;

struct PolicyRt {
    classes: u64,
    except: u64,
    /// The longest inspection window of the payload matchers of its `except` classes:
    /// until a flow has sent that many payload packets (or its classification ends) the
    /// exemption is undecided and the policy does not apply yet, so the handshake of an
    /// allowlisted name is not dropped before its ClientHello is seen. 0: decided at once.
    except_window: u32,
    /// `undecided: { hold }`: an undecided flow's payload packets wait (hold.rs) up to this
    /// long for the verdict instead of passing. None: they pass.
    hold_ns: Option<u64>,
    proto: Option<Proto>,
    direction: Direction,
    idle_timeout: Option<u64>,
    /// One past its last action's index.
    end: usize,
}

struct ActionRt {
    policy: usize,
    direction: Direction,
    imp: Box<dyn Action>,
}

pub struct Options {
    pub max_flows: usize,
    pub max_in_flight: usize,
    /// Meter every flow (shape/meter/); off only to measure what metering costs.
    pub flow_metrics: bool,
    /// A TCP direction with data outstanding and no acknowledgement for this long stalls.
    pub stall_ns: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_flows: DEFAULT_MAX_FLOWS,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            flow_metrics: true,
            stall_ns: DEFAULT_STALL_NS,
        }
    }
}

/// What a prepared packet needs next (see `prepare`).
pub struct Prepared {
    pub parsed: Parsed,
    pub slot: u32,
    pub flow_id: u64,
}

pub struct Pipeline {
    class_names: Vec<String>,
    policy_names: Vec<String>,
    action_names: Vec<(usize, usize, &'static str)>,
    classifier: Classifier,
    flows: FlowTable,
    policies: Vec<PolicyRt>,
    actions: Vec<ActionRt>,
    /// The actions whose admission hook can refuse packets (`Action::gates_flows`).
    gates: Vec<usize>,
    active: u64,
    links: [Link; 2],
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    parked: Vec<Option<Pkt>>,
    parked_free: Vec<u32>,
    seq: u64,
    pool: Pool,
    inject: Vec<Pkt>,
    work: Vec<Pkt>,
    polled: Vec<Pkt>,
    max_in_flight: usize,
    /// Packets of undecided flows held for a verdict; used only when `any_hold`.
    held: Held,
    any_hold: bool,
    /// Passive per-flow metrics; None when switched off.
    meter: Option<Meter>,
    /// A packet capture's copy of what crosses (shape/tap.rs); None without one.
    tap: Option<Box<dyn Tap>>,
    pub stats: Stats,
}

fn bit(i: usize) -> u64 {
    1u64 << i
}

/// Whether flow `f` may still turn out exempt from policy `p` (see `except_window`):
/// it is being classified, has no exempting class yet, and has sent fewer payload
/// packets than the window — or its ClientHello is still being put together (QUIC
/// Initials, or TCP segments with `reassembly: segments`).
fn undecided(p: &PolicyRt, f: &Flow) -> bool {
    p.except_window > 0
        && f.inspecting
        && (f.payload_packets[Dir::Up.index()] < p.except_window
            || f.quic().is_some_and(|r| r.hello().is_none())
            || matches!(f.pending.as_deref(), Some(Pending::Segments(_))))
}

impl Pipeline {
    /// A pipeline whose scenario's traces (if it names any) are in `traces`.
    pub fn new(s: &Scenario, opts: Options, traces: &TraceSet) -> Result<Pipeline, Error> {
        Pipeline::with_traces(s, opts, &|name| traces.get(name))
    }

    /// As `new`, getting each trace from `read_trace` (tests make them in memory).
    pub fn with_traces(
        s: &Scenario,
        opts: Options,
        read_trace: &dyn Fn(&str) -> Result<Trace, Error>,
    ) -> Result<Pipeline, Error> {
        let mask = |names: &[String]| {
            names
                .iter()
                .filter_map(|n| s.class_index(n))
                .fold(0u64, |m, i| m | bit(i))
        };
        let mut policies = Vec::new();
        let mut actions = Vec::new();
        let mut action_names = Vec::new();
        for (pi, p) in s.policies.iter().enumerate() {
            for (ai, a) in p.actions.iter().enumerate() {
                // Stage ids 1.. for actions (stable: config order); links use 1000000+.
                let b = Build {
                    seed: s.seed,
                    stage: actions.len() as u64 + 1,
                    read_trace,
                };
                let imp = a.config.build(&b).map_err(|e| {
                    Error::bad_config(format!(
                        "scenario.policies[{pi}].actions[{ai}]: {}",
                        e.message()
                    ))
                })?;
                action_names.push((pi, ai, a.config.type_name()));
                actions.push(ActionRt {
                    policy: pi,
                    direction: a.direction,
                    imp,
                });
            }
            policies.push(PolicyRt {
                classes: mask(&p.classes),
                except: mask(&p.except_classes),
                except_window: p
                    .except_classes
                    .iter()
                    .filter_map(|c| s.class_index(c))
                    .flat_map(|c| &s.classes[c].any_of)
                    .filter(|m| m.has_payload_keys())
                    .map(|m| m.inspect_packets)
                    .max()
                    .unwrap_or(0),
                hold_ns: p.undecided_hold_ns,
                proto: p.proto,
                direction: p.direction,
                idle_timeout: p.idle_timeout_ns,
                end: actions.len(),
            });
        }
        let link = |spec, stage| {
            Link::new(
                spec,
                s.mtu,
                &Build {
                    seed: s.seed,
                    stage,
                    read_trace,
                },
            )
        };
        let links = [
            link(&s.uplink, 1_000_000).map_err(|e| {
                Error::bad_config(format!("scenario.network.uplink: {}", e.message()))
            })?,
            link(&s.downlink, 2_000_000).map_err(|e| {
                Error::bad_config(format!("scenario.network.downlink: {}", e.message()))
            })?,
        ];
        let stats = Stats {
            classes: vec![ClassStats::default(); s.classes.len()],
            policies: vec![StageStats::default(); policies.len()],
            actions: vec![StageStats::default(); actions.len()],
            ..Stats::default()
        };
        let mut p = Pipeline {
            class_names: s.classes.iter().map(|c| c.name.clone()).collect(),
            policy_names: s.policies.iter().map(|p| p.name.clone()).collect(),
            action_names,
            classifier: Classifier::new(&s.classes),
            flows: FlowTable::new(opts.max_flows),
            policies,
            gates: (0..actions.len())
                .filter(|&a| actions[a].imp.gates_flows())
                .collect(),
            actions,
            active: 0,
            links,
            heap: BinaryHeap::new(),
            parked: Vec::new(),
            parked_free: Vec::new(),
            seq: 0,
            pool: Pool::default(),
            inject: Vec::new(),
            work: Vec::new(),
            polled: Vec::new(),
            max_in_flight: opts.max_in_flight,
            any_hold: s.policies.iter().any(|p| p.undecided_hold_ns.is_some()),
            held: Held::new(),
            meter: opts.flow_metrics.then(|| Meter::new(opts.stall_ns)),
            tap: None,
            stats,
        };
        p.set_active(&s.active_at(0))?;
        Ok(p)
    }

    /// Replace the set of active policies (atomically: between two packets).
    pub fn set_active(&mut self, names: &[String]) -> Result<(), Error> {
        let mut m = 0;
        for n in names {
            let i = self
                .policy_names
                .iter()
                .position(|p| p == n)
                .ok_or_else(|| Error::bad_config(format!("unknown policy {n:?}")))?;
            m |= bit(i);
        }
        self.active = m;
        Ok(())
    }

    /// Copy every packet to `tap` from now on (a packet capture).
    pub fn set_tap(&mut self, tap: Box<dyn Tap>) {
        self.tap = Some(tap);
    }

    /// Hand what the tap collected over to it (the driver ended a step).
    pub fn flush_tap(&mut self) {
        if let Some(t) = &mut self.tap {
            t.flush();
        }
    }

    /// The tap at a packet of flow (`slot`, `id`), if it is still live.
    fn tap_packet(&mut self, point: Point, dir: Dir, now: u64, ip: &[u8], slot: u32, id: u64) {
        if let Some(t) = &mut self.tap {
            let flow = self.flows.is_live(slot, id).then(|| self.flows.get(slot));
            t.packet(point, dir, now, ip, flow);
        }
    }

    pub fn policy_names(&self) -> &[String] {
        &self.policy_names
    }

    pub fn pool(&mut self) -> &mut Pool {
        &mut self.pool
    }

    /// Whether policy `p` selects flow `f` by its classes, exemptions and protocol
    /// (exemptions as known so far: see `undecided`). A flow whose hold ran out was
    /// decided not exempt then: a class it earns later does not exempt it.
    fn selects(&self, p: &PolicyRt, f: &Flow) -> bool {
        let class_ok = p.classes == 0 || f.classes & p.classes != 0;
        let proto_ok = p.proto.is_none_or(|x| {
            Some(x)
                == match f.key.proto {
                    packet::PROTO_TCP => Some(Proto::Tcp),
                    packet::PROTO_UDP => Some(Proto::Udp),
                    packet::PROTO_ICMP | packet::PROTO_ICMPV6 => Some(Proto::Icmp),
                    _ => None,
                }
        });
        let exempt = f.classes & p.except != 0 && !(p.hold_ns.is_some() && self.held.expired(f.id));
        class_ok && !exempt && proto_ok
    }

    /// `undecided`, unless the flow's hold for this policy has run out (then decided).
    fn is_undecided(&self, p: &PolicyRt, f: &Flow) -> bool {
        undecided(p, f) && !(p.hold_ns.is_some() && self.held.expired(f.id))
    }

    fn policies_of(&self, f: &Flow) -> u64 {
        let mut m = 0;
        for (i, p) in self.policies.iter().enumerate() {
            if self.selects(p, f) && !self.is_undecided(p, f) {
                m |= bit(i);
            }
        }
        m
    }

    /// How long a payload packet of `f` is held for a verdict now: the shortest hold of
    /// the active `hold` policies the flow is undecided for. None: it is not held.
    fn hold_ns(&self, f: &Flow) -> Option<u64> {
        self.policies
            .iter()
            .enumerate()
            .filter(|(i, p)| self.active & bit(*i) != 0 && p.hold_ns.is_some())
            .filter(|(_, p)| self.selects(p, f) && self.is_undecided(p, f))
            .filter_map(|(_, p)| p.hold_ns)
            .min()
    }

    /// Recompute which policies apply to the flow in `slot`, and its idle timeout.
    fn refresh_policies(&mut self, slot: u32) {
        let f = self.flows.get(slot);
        let m = self.policies_of(f);
        let idle = self
            .policies
            .iter()
            .enumerate()
            .filter(|(i, _)| m & bit(*i) != 0)
            .filter_map(|(_, p)| p.idle_timeout)
            .max()
            .unwrap_or(default_idle(f.key.proto));
        let f = self.flows.get_mut(slot);
        f.policies = m;
        f.idle_timeout = idle;
    }

    fn count_drop(&mut self, r: Reason) {
        self.stats.drops[r.index()] += 1;
        self.stats.totals.dropped += 1;
    }

    /// Parse a packet, find or create its flow, count it, classify it, and ask the
    /// actions' admission hooks (flow-level verdicts). `None`: dropped and counted.
    /// `segments` is how many packets a GSO super-packet stands for.
    pub fn prepare(&mut self, ip: &[u8], dir: Dir, now: u64, segments: u64) -> Option<Prepared> {
        self.stats.totals.entered += segments;
        let parsed = match packet::parse(ip) {
            Ok(p) => p,
            Err(_) => {
                self.count_drop(Reason::Malformed);
                self.stats.totals.dropped += segments - 1;
                if let Some(t) = &mut self.tap {
                    t.packet(Point::In, dir, now, ip, None);
                    t.packet(Point::Dropped(Reason::Malformed), dir, now, ip, None);
                }
                return None;
            }
        };
        if parsed.later_fragment {
            if let Some(t) = &mut self.tap {
                t.packet(Point::In, dir, now, ip, None);
            }
            // No ports: it cannot be tied to a flow. Only the link applies to it.
            return Some(Prepared {
                parsed,
                slot: u32::MAX,
                flow_id: 0,
            });
        }
        let key = FlowKey::of(&parsed, dir);
        let (slot, new) = match self.flows.lookup(key, dir, now) {
            Lookup::Existing(s) => (s, false),
            Lookup::New(s) => (s, true),
        };
        self.forget_gone();
        let f = self.flows.get_mut(slot);
        f.account(&parsed, dir, now);
        let mut changed = new;
        // While a flow is classified its exemptions may still be undecided: recompute.
        let was_inspecting = f.inspecting;
        if f.inspecting {
            let bits = self.classifier.inspect(f, ip, &parsed, dir);
            let fresh = bits & !f.classes;
            if fresh != 0 {
                f.classes |= fresh;
                changed = true;
                for (i, c) in self.stats.classes.iter_mut().enumerate() {
                    if fresh & bit(i) != 0 {
                        c.flows += 1;
                    }
                }
            }
        }
        if changed || was_inspecting {
            self.refresh_policies(slot);
        }
        let f = self.flows.get(slot);
        let classes = f.classes;
        if classes != 0 {
            for (i, c) in self.stats.classes.iter_mut().enumerate() {
                if classes & bit(i) != 0 {
                    c.packets += segments;
                    c.bytes += parsed.end as u64;
                }
            }
        }
        let flow_id = f.id;
        if let Some(m) = &mut self.meter {
            m.entered(slot, f, &parsed, ip, dir, now, segments);
        }
        if let Some(t) = &mut self.tap {
            t.packet(Point::In, dir, now, ip, Some(f));
        }
        let admit = Admit {
            now,
            dir,
            flow: f,
            new,
        };
        for &g in &self.gates {
            if let Some(r) = self.actions[g].imp.admit(&admit) {
                let a = &mut self.stats.actions[g];
                a.see(ip.len());
                a.drop(r);
                self.count_drop(r);
                self.stats.totals.dropped += segments - 1;
                if let Some(m) = &mut self.meter {
                    m.dropped(slot, flow_id, dir, r, segments);
                }
                if let Some(t) = &mut self.tap {
                    t.packet(Point::Dropped(r), dir, now, ip, Some(self.flows.get(slot)));
                }
                return None;
            }
        }
        Some(Prepared {
            parsed,
            slot,
            flow_id,
        })
    }

    fn forget_gone(&mut self) {
        while let Some(id) = self.flows.gone.pop() {
            for a in &mut self.actions {
                a.imp.forget(id);
            }
            if self.any_hold {
                self.held.forget(id);
            }
        }
    }

    fn applies(&self, a: usize, mask: u64, dir: Dir) -> bool {
        let ar = &self.actions[a];
        mask & bit(ar.policy) != 0
            && ar.direction.admits(dir)
            && self.policies[ar.policy].direction.admits(dir)
    }

    /// Whether a packet of this flow and direction must go through the stages now (an
    /// action applies, or the link does something). If not, the real-time driver may
    /// forward it untouched, super-packets whole.
    pub fn needs_processing(&self, prep: &Prepared, dir: Dir) -> bool {
        if !self.links[dir.index()].transparent() {
            return true;
        }
        if prep.slot == u32::MAX {
            return false;
        }
        if self.any_hold && self.holds_or_releases(prep) {
            return true;
        }
        if self.steered(prep.flow_id, dir) {
            return true;
        }
        let mask = self.flows.get(prep.slot).policies & self.active;
        mask != 0 && (0..self.actions.len()).any(|a| self.applies(a, mask, dir))
    }

    /// Whether a gate asks to see this flow's packets whatever its policies.
    fn steered(&self, flow_id: u64, dir: Dir) -> bool {
        self.gates
            .iter()
            .any(|&g| self.actions[g].imp.steers(flow_id, dir))
    }

    /// Whether the packet is to be held, or the flow has held packets to release first.
    fn holds_or_releases(&self, prep: &Prepared) -> bool {
        self.held.has(prep.flow_id)
            || (prep.parsed.payload_len() > 0 && self.hold_ns(self.flows.get(prep.slot)).is_some())
    }

    /// Count a prepared packet standing for `segments` that the driver could not hand to
    /// the stages (a super-packet that does not segment), as `prepare` counts its drops.
    #[allow(clippy::too_many_arguments)]
    pub fn drop_prepared(
        &mut self,
        prep: &Prepared,
        ip: &[u8],
        dir: Dir,
        now: u64,
        r: Reason,
        segments: u64,
    ) {
        self.count_drop(r);
        self.stats.totals.dropped += segments.saturating_sub(1);
        if let Some(m) = &mut self.meter {
            m.dropped(prep.slot, prep.flow_id, dir, r, segments);
        }
        self.tap_packet(Point::Dropped(r), dir, now, ip, prep.slot, prep.flow_id);
    }

    /// Count a packet (`ip`) forwarded at `now` without entering the stages.
    pub fn bypassed(&mut self, prep: &Prepared, ip: &[u8], dir: Dir, now: u64, segments: u64) {
        self.stats.totals.bypassed += segments;
        self.stats.totals.emitted += segments;
        if let Some(m) = &mut self.meter {
            m.left(
                prep.slot,
                prep.flow_id,
                &prep.parsed,
                ip,
                dir,
                now,
                segments,
                false,
            );
        }
        self.tap_packet(Point::Out, dir, now, ip, prep.slot, prep.flow_id);
    }

    /// Send a prepared packet (its bytes after HEADROOM in `buf`) through the stages.
    pub fn enter(
        &mut self,
        buf: Vec<u8>,
        prep: &Prepared,
        dir: Dir,
        now: u64,
        tag: u32,
        out: &mut Vec<Pkt>,
    ) {
        if self.stats.totals.in_flight as usize >= self.max_in_flight {
            self.count_drop(Reason::Overflow);
            if let Some(m) = &mut self.meter {
                m.dropped(prep.slot, prep.flow_id, dir, Reason::Overflow, 1);
            }
            let (slot, id) = (prep.slot, prep.flow_id);
            self.tap_packet(
                Point::Dropped(Reason::Overflow),
                dir,
                now,
                &buf[HEADROOM..],
                slot,
                id,
            );
            self.pool.give(buf);
            return;
        }
        let pkt = Pkt {
            buf,
            dir,
            parsed: prep.parsed,
            flow_slot: prep.slot,
            flow_id: prep.flow_id,
            tag,
            born: now,
            stage_at: now,
            stage: if prep.slot == u32::MAX {
                self.actions.len() as u32
            } else {
                0
            },
        };
        self.stats.totals.in_flight += 1;
        if let Some(pkt) = self.hold_or_release(pkt, now, out) {
            self.work.push(pkt);
            self.drain(out);
        }
        self.advance(now, out);
    }

    /// With a hold policy: hold the packet if its flow is undecided (None), else release
    /// what its flow holds (the verdict came) and hand the packet back to go on after it.
    fn hold_or_release(&mut self, pkt: Pkt, now: u64, out: &mut Vec<Pkt>) -> Option<Pkt> {
        if !self.any_hold || pkt.flow_slot == u32::MAX {
            return Some(pkt);
        }
        let f = self.flows.get(pkt.flow_slot);
        match self.hold_ns(f) {
            Some(hold) if pkt.parsed.payload_len() > 0 => {
                self.held.push(pkt.flow_id, pkt, now, hold);
                None
            }
            // Still undecided: a packet without payload (SYN, ACK) passes, or the
            // handshake that brings the ClientHello could not complete.
            Some(_) => Some(pkt),
            None => {
                self.release(pkt.flow_id, now, out);
                Some(pkt)
            }
        }
    }

    /// Run the flow's held packets, in order, from the first stage at `t`.
    fn release(&mut self, flow_id: u64, t: u64, out: &mut Vec<Pkt>) {
        let pkts = self.held.take(flow_id);
        self.run_held(pkts, t, out);
    }

    fn run_held(&mut self, pkts: Vec<Pkt>, t: u64, out: &mut Vec<Pkt>) {
        for mut p in pkts {
            p.stage_at = t;
            self.run(p, t, out);
            self.drain(out);
        }
    }

    /// A hold ran out: a flow still undecided is decided not exempt (its hold policies
    /// apply from now on), then its packets go on as if the verdict had come.
    fn hold_expired(&mut self, flow_id: u64, t: u64, pkts: Vec<Pkt>, out: &mut Vec<Pkt>) {
        let slot = pkts.first().map_or(u32::MAX, |p| p.flow_slot);
        if self.flows.is_live(slot, flow_id) {
            let f = self.flows.get(slot);
            if self.hold_ns(f).is_some() {
                self.held.set_expired(flow_id);
                self.refresh_policies(slot);
            }
        }
        self.run_held(pkts, t, out);
    }

    /// The whole path for one packet: prepare, then enter (the virtual-time driver's way).
    pub fn ingress(&mut self, ip: &[u8], dir: Dir, now: u64, tag: u32, out: &mut Vec<Pkt>) {
        if let Some(prep) = self.prepare(ip, dir, now, 1) {
            let buf = self.pool.take_with(ip);
            self.enter(buf, &prep, dir, now, tag, out);
        } else {
            self.advance(now, out);
        }
    }

    fn drain(&mut self, out: &mut Vec<Pkt>) {
        while let Some(p) = self.work.pop() {
            let t = p.stage_at;
            self.run(p, t, out);
        }
    }

    fn park(&mut self, mut pkt: Pkt, t: u64) {
        pkt.stage_at = t;
        let slot = match self.parked_free.pop() {
            Some(s) => {
                self.parked[s as usize] = Some(pkt);
                s
            }
            None => {
                self.parked.push(Some(pkt));
                (self.parked.len() - 1) as u32
            }
        };
        self.seq += 1;
        self.heap.push(Reverse((t, self.seq, slot)));
    }

    fn drop_pkt(&mut self, pkt: Pkt, r: Reason, now: u64) {
        self.count_drop(r);
        if let Some(m) = &mut self.meter {
            m.dropped(pkt.flow_slot, pkt.flow_id, pkt.dir, r, 1);
        }
        if self.tap.is_some() {
            let (slot, id, dir) = (pkt.flow_slot, pkt.flow_id, pkt.dir);
            self.tap_packet(Point::Dropped(r), dir, now, pkt.ip(), slot, id);
        }
        self.stats.totals.in_flight -= 1;
        self.pool.give(pkt.buf);
    }

    /// Run a packet from its current stage at time `now` until it parks, drops, is kept
    /// or is emitted.
    fn run(&mut self, mut pkt: Pkt, now: u64, out: &mut Vec<Pkt>) {
        let n = self.actions.len();
        let mut last_policy = usize::MAX;
        loop {
            let g = pkt.stage as usize;
            if g < n {
                let live = self.flows.is_live(pkt.flow_slot, pkt.flow_id);
                let mask = if live {
                    self.flows.get(pkt.flow_slot).policies & self.active
                } else {
                    0
                };
                let steers = |a: usize| {
                    live && self.gates.contains(&a)
                        && self.actions[a].imp.steers(pkt.flow_id, pkt.dir)
                };
                let Some(a) = (g..n).find(|&a| self.applies(a, mask, pkt.dir) || steers(a)) else {
                    pkt.stage = n as u32;
                    continue;
                };
                let steered = !self.applies(a, mask, pkt.dir);
                pkt.stage = a as u32 + 1;
                let policy = self.actions[a].policy;
                let len = pkt.len();
                if policy != last_policy {
                    self.stats.policies[policy].see(len);
                    last_policy = policy;
                }
                self.stats.actions[a].see(len);
                if let Some(m) = &mut self.meter {
                    m.met(pkt.flow_slot, pkt.flow_id, policy, a);
                }
                let mut cx = Cx {
                    now,
                    dir: pkt.dir,
                    flow: self.flows.get(pkt.flow_slot),
                    steered,
                    inject: &mut self.inject,
                    pool: &mut self.pool,
                };
                let verdict = self.actions[a].imp.on_packet(&mut pkt, &mut cx);
                while let Some(mut p) = self.inject.pop() {
                    p.stage = n as u32;
                    self.stats.totals.injected += 1;
                    self.stats.totals.in_flight += 1;
                    self.work.push(p);
                }
                match verdict {
                    Verdict::Pass => {}
                    Verdict::Drop(r) => {
                        self.stats.actions[a].drop(r);
                        self.stats.policies[policy].drop(r);
                        return self.drop_pkt(pkt, r, now);
                    }
                    Verdict::Hold(t) => {
                        self.stats.actions[a]
                            .queue_delay
                            .record(t.saturating_sub(now));
                        if t > now {
                            return self.park(pkt, t);
                        }
                    }
                    Verdict::Keep => return,
                    Verdict::Duplicate => {
                        let mut copy = pkt.clone();
                        copy.buf = self.pool.take_with(pkt.ip());
                        copy.stage_at = now;
                        self.stats.totals.duplicated += 1;
                        self.stats.totals.in_flight += 1;
                        self.work.push(copy);
                    }
                    Verdict::SkipPolicy => pkt.stage = self.policies[policy].end as u32,
                }
            } else if g == n {
                pkt.stage = n as u32 + 1;
                let d = pkt.dir.index();
                self.stats.links[d].see(pkt.len());
                match self.links[d].on_packet(now, pkt.len() as u64) {
                    Ok((t, queued)) => {
                        if !self.links[d].transparent() {
                            self.stats.links[d].queue_delay.record(queued);
                        }
                        if t > now {
                            return self.park(pkt, t);
                        }
                    }
                    Err(r) => {
                        self.stats.links[d].drop(r);
                        return self.drop_pkt(pkt, r, now);
                    }
                }
            } else {
                pkt.stage_at = now;
                self.stats.totals.emitted += 1;
                self.stats.totals.in_flight -= 1;
                let injected = pkt.tag == TAG_INJECTED;
                let (slot, id, dir) = (pkt.flow_slot, pkt.flow_id, pkt.dir);
                if let Some(m) = &mut self.meter {
                    m.left(slot, id, &pkt.parsed, pkt.ip(), dir, now, 1, injected);
                }
                if self.tap.is_some() {
                    let point = if injected { Point::Forged } else { Point::Out };
                    self.tap_packet(point, dir, now, pkt.ip(), slot, id);
                }
                out.push(pkt);
                return;
            }
        }
    }

    /// Whether the link of `dir` has a bottleneck (rate or trace).
    pub fn link_serialises(&self, dir: Dir) -> bool {
        self.links[dir.index()].serialises()
    }

    /// The earliest time something waits for.
    pub fn next_wakeup(&self) -> Option<u64> {
        let heap = self.heap.peek().map(|Reverse((t, _, _))| *t);
        let kept = self
            .actions
            .iter()
            .filter_map(|a| a.imp.next_wakeup())
            .min();
        let held = self.held.next_deadline();
        [heap, kept, held].into_iter().flatten().min()
    }

    /// Release everything due at or before `now`, in time order.
    pub fn advance(&mut self, now: u64, out: &mut Vec<Pkt>) {
        loop {
            // A hold that runs out no later than anything else due goes first.
            if self.any_hold {
                if let Some(t) = self.held.next_deadline().filter(|&t| t <= now) {
                    let first = self.heap.peek().is_none_or(|Reverse((th, _, _))| t <= *th)
                        && self
                            .actions
                            .iter()
                            .filter_map(|a| a.imp.next_wakeup())
                            .all(|tk| t <= tk);
                    if first {
                        if let Some((id, t, pkts)) = self.held.due(now) {
                            self.hold_expired(id, t, pkts, out);
                        }
                        continue;
                    }
                }
            }
            let heap = self
                .heap
                .peek()
                .map(|Reverse((t, _, _))| *t)
                .filter(|&t| t <= now);
            let kept = self
                .actions
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.imp.next_wakeup().map(|t| (t, i)))
                .filter(|&(t, _)| t <= now)
                .min();
            match (heap, kept) {
                (Some(th), Some((tk, i))) if tk < th => self.release_kept(i, tk, out),
                (None, Some((tk, i))) => self.release_kept(i, tk, out),
                (Some(_), _) => {
                    let Some(Reverse((t, _, slot))) = self.heap.pop() else {
                        return;
                    };
                    let Some(pkt) = self.parked[slot as usize].take() else {
                        continue;
                    };
                    self.parked_free.push(slot);
                    self.run(pkt, t, out);
                    self.drain(out);
                }
                (None, None) => return,
            }
        }
    }

    fn release_kept(&mut self, i: usize, t: u64, out: &mut Vec<Pkt>) {
        let mut polled = std::mem::take(&mut self.polled);
        self.actions[i].imp.poll(t, &mut polled);
        for p in polled.drain(..) {
            let at = p.stage_at.max(t);
            self.run(p, at, out);
            self.drain(out);
        }
        self.polled = polled;
    }

    /// Hand an emitted packet's buffer back.
    pub fn recycle(&mut self, pkt: Pkt) {
        self.pool.give(pkt.buf);
    }

    pub fn flows_len(&self) -> usize {
        self.flows.len()
    }

    pub fn counters_json(&self) -> String {
        let mut out = String::with_capacity(4096);
        let names = Names {
            classes: &self.class_names,
            policies: &self.policy_names,
            actions: &self.action_names,
        };
        self.stats.write_json(
            &mut out,
            &names,
            (self.flows.len() as u64, &self.flows.stats),
        );
        out
    }

    /// The per-flow metrics snapshot (shape/meter/): flows changed since the last call
    /// (every live one with `all`) and those that ended. `base` is CLOCK_MONOTONIC at
    /// pipeline time 0, for readers on other clocks. None when metering is off.
    pub fn flows_json(&mut self, now: u64, base: u64, all: bool) -> Option<String> {
        let meter = self.meter.as_mut()?;
        let flows = &self.flows;
        let live = |slot: u32, id: u64| flows.is_live(slot, id);
        let view = View {
            classes: &self.class_names,
            policies: &self.policy_names,
            live: &live,
        };
        let mut out = String::with_capacity(1024);
        meter.write_json(&mut out, now, base, all, &view);
        Some(out)
    }

    /// The flow of a packet (tests).
    pub fn flow(&self, slot: u32) -> &Flow {
        self.flows.get(slot)
    }

    pub const HEADROOM: usize = HEADROOM;
}
