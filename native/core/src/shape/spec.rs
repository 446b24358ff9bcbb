//! The contract between the compiled configuration, the pipeline and the actions: the
//! shared words (`Direction`, `Aqm`), what a parsed action is (`ActionConfig`,
//! `ActionSpec`) and what a running one does (`Action`, `Verdict`, `Cx`).
//!
//! It sits below both compiled.rs and action/, so neither needs the other's types: the
//! compiled config holds `ActionSpec`s without knowing any action, and an action file
//! knows only this contract.

use super::fields::Fields;
use super::flow::Flow;
use super::packet::{Dir, Pkt, Pool};
use super::reason::Reason;
use super::trace::Trace;
use crate::error::Error;
use std::fmt::Debug;

/// Which packets of a flow a policy or an action applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    Up,
    Down,
    #[default]
    Both,
}

impl Direction {
    pub fn parse(f: &mut Fields<'_>, key: &str) -> Result<Direction, Error> {
        Ok([Direction::Up, Direction::Down, Direction::Both]
            [f.one_of(key, &["up", "down", "both"])?])
    }
    pub fn admits(self, d: Dir) -> bool {
        match self {
            Direction::Both => true,
            Direction::Up => d == Dir::Up,
            Direction::Down => d == Dir::Down,
        }
    }
}

/// The queue discipline of a bottleneck (a link's or a `rate` action's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Aqm {
    #[default]
    Droptail,
    Codel,
}

impl Aqm {
    pub fn parse(f: &mut Fields<'_>, key: &str) -> Result<Aqm, Error> {
        Ok([Aqm::Droptail, Aqm::Codel][f.one_of(key, &["droptail", "codel"])?])
    }
}

/// One entry of a policy's `actions`: where it applies and its own configuration.
#[derive(Debug)]
pub struct ActionSpec {
    pub direction: Direction,
    pub config: Box<dyn ActionConfig>,
}

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
    pub flow: &'a Flow,
    /// The action sees this packet only because it asked for it (`Action::steers`), not
    /// because its policy applies to the flow.
    pub steered: bool,
    /// Packets forged by the action (RSTs); they enter the link of their direction.
    pub inject: &'a mut Vec<Pkt>,
    pub pool: &'a mut Pool,
}

/// What the admission hook sees: a packet's flow, before any policy's stages run.
pub struct Admit<'a> {
    pub now: u64,
    pub dir: Dir,
    pub flow: &'a Flow,
    /// This is the flow's first packet.
    pub new: bool,
}

pub trait Action: Send {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict;

    /// Whether `admit` may refuse packets. Only such actions are asked, so the others
    /// cost nothing per packet.
    fn gates_flows(&self) -> bool {
        false
    }

    /// The admission hook: asked for every packet of every flow (whatever its classes
    /// and the active policies; later IP fragments have no flow and are not asked)
    /// before the stages run; `Some(reason)` drops the packet.
    /// This is where flow-level verdicts live — a penalty that reaches later flows of any
    /// class, a reset flow that stays dead — with their state kept by the action.
    fn admit(&mut self, _a: &Admit<'_>) -> Option<Reason> {
        None
    }

    /// Asked of actions that gate flows, for packets of flows their policy may not apply
    /// to: whether this action wants to see the packet anyway (a penalty that throttles
    /// the later flows to an endpoint). Such packets reach `on_packet` with `steered` set.
    fn steers(&self, _flow_id: u64, _dir: Dir) -> bool {
        false
    }

    /// When `poll` has something to release; `None`: nothing kept.
    fn next_wakeup(&self) -> Option<u64> {
        None
    }

    /// Release kept packets whose time has come (they continue after this action).
    fn poll(&mut self, _now: u64, _out: &mut Vec<Pkt>) {}

    /// The flow is gone: drop its per-flow state.
    fn forget(&mut self, _flow_id: u64) {}
}

/// What `build` gets: the seed and a stable stage id for the stage's own RNG, and a way
/// to read trace files (tests substitute one). Links are built from it too.
pub struct Build<'a> {
    pub seed: u64,
    pub stage: u64,
    /// The trace for a path the scenario names (the caller read the file; see trace.rs).
    pub read_trace: &'a dyn Fn(&str) -> Result<Trace, Error>,
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
