//! A copy of what crosses the pipeline, for a packet capture (drive/capture.rs writes
//! pcapng from it): every packet where it enters (before shaping), where it leaves (after
//! shaping) and where the lab drops it (with the reason). The pipeline calls the tap only
//! when one is set, so a lab without capture pays one branch per hook; what the tap does
//! with the bytes (copy them into a batch for a writer thread) is its own business and
//! must never block.

use super::flow::Flow;
use super::packet::Dir;
use super::Reason;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// As its sender sent it, entering the lab.
    In,
    /// As it left the lab toward the other end.
    Out,
    /// Made by the lab itself (a `reset` action's RST), leaving toward the other end.
    Forged,
    /// Dropped by the lab, for this reason.
    Dropped(Reason),
}

pub trait Tap: Send {
    /// A packet at `point`, travelling in `dir`; `flow` when it has one (a later IP
    /// fragment or an unparseable packet has none).
    fn packet(&mut self, point: Point, dir: Dir, now: u64, ip: &[u8], flow: Option<&Flow>);

    /// The driver finished a step: hand over what was collected so far.
    fn flush(&mut self) {}
}
