//! The class's own bottleneck, built: one FIFO per direction shared by every flow the
//! policy applies to (the class's aggregate is shaped, as a tc class would be). `rate`
//! and `trace` are both this once built; they differ only in the queue's server and
//! limits, which their configs choose.

use super::{Action, Cx, Verdict};
use crate::shape::queue::Bottleneck;
use crate::shape::Pkt;

pub struct ClassQueue {
    queues: [Bottleneck; 2],
}

impl ClassQueue {
    /// `queue` makes one direction's queue; it is called once per direction, so each
    /// direction starts empty and keeps its own backlog.
    pub fn new(queue: impl Fn() -> Bottleneck) -> ClassQueue {
        ClassQueue {
            queues: [queue(), queue()],
        }
    }
}

impl Action for ClassQueue {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        match self.queues[pkt.dir.index()].enqueue(cx.now, pkt.len() as u64) {
            Ok(t) => Verdict::Hold(t),
            Err(r) => Verdict::Drop(r),
        }
    }
}
