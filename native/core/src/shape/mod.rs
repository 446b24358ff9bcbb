//! The shaping core: one pipeline per lab, driven in real time (drive/realtime.rs) or in
//! virtual time (drive/sim.rs).
//!
//! Per direction: parse → flow table → classes → the active policies' actions in order →
//! the shared link (uplink or downlink) → emit. Packets that must wait (delay, rate
//! queues, traces) are parked in one time-ordered heap and continue at the next stage
//! when their time comes, so every stage sees its packets in time order and computes
//! exact departure times (mahimahi's "when is your next event?" contract).

pub mod action;
pub mod classify;
pub mod codel;
pub mod compiled;
pub mod fields;
pub mod flow;
pub mod hash;
pub mod hold;
pub mod jitter;
pub mod link;
pub mod meter;
pub mod packet;
pub mod pipeline;
pub mod queue;
pub mod reason;
pub mod spec;
pub mod stats;
pub mod tap;
pub mod trace;

#[cfg(test)]
pub(crate) mod testkit;
#[cfg(test)]
mod tests;

pub use packet::{Dir, Pkt, Pool};
pub use pipeline::Pipeline;
pub use reason::Reason;
