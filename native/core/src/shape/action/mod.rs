//! Actions: one file each, one interface, one registry table.
//!
//! An action sees each packet of the flows its policy applies to, in time order, and
//! answers with a `Verdict`. Actions that hold packets answer `Hold(t)` (the pipeline
//! parks the packet until `t`) or, when the release depends on a later packet rather
//! than on time, `Keep` and give the packet back through `poll` at `next_wakeup`.
//! Adding an action: write its file (config, `parse`, the `Action` impl) and add one row
//! to `REGISTRY`.

mod blackhole;
mod chance;
mod corrupt;
pub mod delay;
mod drop_after;
mod duplicate;
mod gilbert;
mod loss;
pub mod penalty;
mod police;
mod rate;
mod reorder;
mod reset;
mod trace;
mod trigger;

use super::compiled::{ActionSpec, Direction};
use super::fields::Fields;
use super::flow::Flow;
use super::hash::{self, FxMap};
use super::packet::{Dir, Pkt, Pool};
use super::Reason;
use crate::config::json::Value;
use crate::error::Error;
use std::fmt::Debug;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go on to the next stage now.
    Pass,
    Drop(Reason),
    /// Go on to the next stage at this time (>= now).
    Hold(u64),
    /// The action took the packet out of `pkt` and will hand it back from `poll`.
    Keep,
    /// Go on, and send an identical copy on too.
    Duplicate,
    /// Skip the remaining actions of this policy (trigger not armed for this flow).
    SkipPolicy,
}

/// What an action may look at and touch besides the packet.
pub struct Cx<'a> {
    pub now: u64,
    pub dir: Dir,
    pub flow: &'a mut Flow,
    /// Packets forged by the action (RSTs); they enter the link of their direction.
    pub inject: &'a mut Vec<Pkt>,
    pub pool: &'a mut Pool,
    pub penalties: &'a mut penalty::PenaltyBox,
    /// This action's index (penalty entries remember who set them).
    pub index: usize,
}

pub trait Action: Send {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict;

    /// When `poll` has something to release; `None`: nothing kept.
    fn next_wakeup(&self) -> Option<u64> {
        None
    }

    /// Release kept packets whose time has come (they continue after this action).
    fn poll(&mut self, _now: u64, _out: &mut Vec<Pkt>) {}

    /// The flow is gone: drop its per-flow state.
    fn forget(&mut self, _flow_id: u64) {}
}

/// What `build` gets: the seed and a stable stage id for the action's own RNG, and a way
/// to read trace files (tests substitute one).
pub struct Build<'a> {
    pub seed: u64,
    pub stage: u64,
    pub read_trace: &'a dyn Fn(&str) -> Result<Vec<u64>, Error>,
}

/// A parsed action configuration; builds the running action.
pub trait ActionConfig: Debug + Send + Sync {
    fn type_name(&self) -> &'static str;
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error>;
    /// Whether the action needs per-segment semantics (GSO super-packets are cut first).
    fn per_packet(&self) -> bool {
        true
    }
}

pub type ParseFn = fn(&mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error>;

/// The one table of actions, by their compiled `type`.
pub const REGISTRY: &[(&str, ParseFn)] = &[
    ("delay", delay::parse),
    ("loss", loss::parse),
    ("gilbert-elliott", gilbert::parse),
    ("rate", rate::parse),
    ("police", police::parse),
    ("duplicate", duplicate::parse),
    ("corrupt", corrupt::parse),
    ("reorder", reorder::parse),
    ("blackhole", blackhole::parse),
    ("drop-after", drop_after::parse),
    ("reset", reset::parse),
    ("penalty", penalty::parse),
    ("trigger", trigger::parse),
    ("trace", trace::parse),
];

/// Parse one entry of a policy's `actions` list.
pub fn parse(v: &Value, path: &str) -> Result<ActionSpec, Error> {
    let mut f = Fields::new(v, path)?;
    let ty = f.str("type")?;
    let direction = Direction::parse(&mut f, "direction")?;
    let parse = REGISTRY
        .iter()
        .find(|(name, _)| *name == ty)
        .map(|(_, p)| *p)
        .ok_or_else(|| {
            let names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).collect();
            Error::bad_config(format!(
                "{}: unknown action {ty:?} (expected one of {})",
                f.at("type"),
                names.join(", ")
            ))
        })?;
    let config = parse(&mut f)?;
    f.finish()?;
    Ok(ActionSpec { direction, config })
}

/// Per-flow state of an action, created on the flow's first packet through it.
#[derive(Debug)]
pub struct PerFlow<S> {
    map: FxMap<u64, S>,
}

impl<S> Default for PerFlow<S> {
    fn default() -> Self {
        PerFlow { map: hash::map() }
    }
}

impl<S> PerFlow<S> {
    pub fn get(&mut self, flow_id: u64, init: impl FnOnce() -> S) -> &mut S {
        self.map.entry(flow_id).or_insert_with(init)
    }
    pub fn forget(&mut self, flow_id: u64) {
        self.map.remove(&flow_id);
    }
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// `rate_bps` and friends must be positive where zero would mean "never".
pub fn positive(f: &mut Fields<'_>, key: &str) -> Result<u64, Error> {
    let v = f.u64(key)?;
    if v == 0 {
        return Err(Error::bad_config(format!("{}: must be > 0", f.at(key))));
    }
    Ok(v)
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;

    #[test]
    fn registry_names_are_unique_and_errors_name_the_path() {
        let mut names: Vec<&str> = REGISTRY.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), REGISTRY.len());
        let v = Value::parse(r#"{"type":"teleport","direction":"both"}"#).unwrap();
        let e = parse(&v, "p.actions[0]").unwrap_err();
        assert!(e
            .message()
            .contains("p.actions[0].type: unknown action \"teleport\""));
        let v = Value::parse(r#"{"type":"loss","direction":"both","rate":0.1,"x":1}"#).unwrap();
        let e = parse(&v, "p.actions[0]").unwrap_err();
        assert_eq!(e.message(), "p.actions[0].x: is not a known field");
        let v = Value::parse(r#"{"type":"loss","direction":"both","rate":2}"#).unwrap();
        assert!(parse(&v, "q").unwrap_err().message().contains("q.rate"));
    }
}
