//! Actions: one file each, one interface (spec.rs), one registry table.
//!
//! An action sees each packet of the flows its policy applies to, in time order, and
//! answers with a `Verdict`. Actions that hold packets answer `Hold(t)` (the pipeline
//! parks the packet until `t`) or, when the release depends on a later packet rather
//! than on time, `Keep` and give the packet back through `poll` at `next_wakeup`.
//! Verdicts on a whole flow (a penalty, a reset flow) answer through the admission hook
//! `Action::admit`, which sees every packet before the stages; any per-flow state stays in
//! the action (`PerFlow`, keyed by flow id), never in the flow table.
//! Adding an action: write its file (config, `parse`, the `Action` impl) and add one row
//! to `REGISTRY`.

mod blackhole;
mod chance;
// Not an action of its own: the per-direction queue `rate` and `trace` build.
mod class_queue;
mod corrupt;
mod delay;
mod dns_inject;
mod drop_after;
mod duplicate;
mod gilbert;
mod loss;
mod penalty;
mod police;
mod rate;
mod reorder;
mod reset;
mod trace;
mod trigger;

use super::fields::Fields;
use super::hash::{self, FxMap};
use super::spec::{ActionSpec, Direction};
use crate::config::json::Value;
use crate::error::Error;

pub use super::spec::{Action, ActionConfig, Admit, Build, Cx, Verdict};

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
    ("dns-inject", dns_inject::parse),
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

/// Per-flow state of an action, created on the flow's first packet through it (or when
/// its admission hook first has something to remember), dropped by `forget`.
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
    /// The flow's state if it has any (never creates it).
    pub fn peek(&self, flow_id: u64) -> Option<&S> {
        if self.map.is_empty() {
            return None;
        }
        self.map.get(&flow_id)
    }
    pub fn set(&mut self, flow_id: u64, state: S) {
        self.map.insert(flow_id, state);
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
