//! The drivers: what moves packets through the core and when.
//!
//! `realtime` owns the forwarding thread between the two TUN devices; `forward` is its
//! step without a scenario and `shaper` its step with one; `sim` runs the same shaping
//! pipeline on a virtual clock over a packet list, and `twin` runs it between the lab's
//! endpoints modelled in virtual time (what `qoslab simulate` runs). `counters` is what
//! the real-time path reports to JS, and `stall` how late the forwarding thread itself was.

pub mod capture;
pub mod coalesce;
pub mod counters;
pub mod forward;
pub mod realtime;
pub mod shaper;
pub mod sim;
pub mod stall;
pub mod twin;
