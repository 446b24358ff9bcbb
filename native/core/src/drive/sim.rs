//! The virtual-time driver over a packet list: the same pipeline over a time-ordered
//! packet source on a simulated clock, for the core's tests and benchmark. Deterministic
//! for a seed: nothing here reads a clock or an unseeded random source. What `qoslab
//! simulate` runs — endpoints that answer the packets — is ./twin/.

use crate::error::Error;
use crate::shape::packet::{Dir, Pkt};
use crate::shape::pipeline::Pipeline;

/// A time-ordered packet source: writes the next packet's IP bytes into `buf` and
/// returns (time, direction, tag), or `None` when done.
pub trait Source {
    fn next(&mut self, buf: &mut Vec<u8>) -> Option<(u64, Dir, u32)>;
}

/// Run until the source is exhausted and every parked packet has left. Timeline entries
/// `(at, active policies)` are applied before packets of the same instant.
pub fn run(
    p: &mut Pipeline,
    src: &mut dyn Source,
    timeline: &[(u64, Vec<String>)],
    on_emit: &mut dyn FnMut(&Pkt),
) -> Result<(), Error> {
    let mut buf = Vec::with_capacity(2048);
    let mut out = Vec::new();
    let mut next = src.next(&mut buf);
    let mut tl = 0;
    loop {
        let t_pkt = next.map(|n| n.0);
        let t_wake = p.next_wakeup();
        let t_tl = timeline.get(tl).map(|e| e.0);
        let earliest = [t_pkt, t_wake, t_tl].into_iter().flatten().min();
        let Some(t) = earliest else { break };
        if t_tl == Some(t) {
            p.set_active(&timeline[tl].1)?;
            tl += 1;
        } else if t_wake == Some(t) && t_pkt.is_none_or(|tp| tp > t) {
            p.advance(t, &mut out);
        } else if let Some((at, dir, tag)) = next {
            p.ingress(&buf, dir, at, tag, &mut out);
            next = src.next(&mut buf);
        }
        for pkt in out.drain(..) {
            on_emit(&pkt);
            p.recycle(pkt);
        }
    }
    Ok(())
}
