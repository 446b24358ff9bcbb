//! Per flow: pass the first `bytes` of IP payload, the first `packets`, or the packets
//! within `time_ns` of the flow's first packet — whichever limit is reached first — and
//! drop everything after, for good (the 2025 "16 KB freeze"). A packet that would cross
//! the byte limit is the first one dropped, so exactly `bytes` or fewer pass.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config {
    bytes: Option<u64>,
    packets: Option<u64>,
    time_ns: Option<u64>,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        bytes: f.opt_u64("bytes")?,
        packets: f.opt_u64("packets")?,
        time_ns: f.opt_u64("time_ns")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "drop-after"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(DropAfter {
            c: self.clone(),
            flows: PerFlow::default(),
        }))
    }
}

#[derive(Default)]
struct Count {
    bytes: u64,
    packets: u64,
    cut: bool,
}

struct DropAfter {
    c: Config,
    flows: PerFlow<Count>,
}

impl Action for DropAfter {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let since = cx.now.saturating_sub(cx.flow.created);
        let n = self.flows.get(cx.flow.id, Count::default);
        let bytes = n.bytes + pkt.parsed.ip_payload_len() as u64;
        let over = n.cut
            || self.c.bytes.is_some_and(|l| bytes > l)
            || self.c.packets.is_some_and(|l| n.packets + 1 > l)
            || self.c.time_ns.is_some_and(|l| since >= l);
        if over {
            n.cut = true;
            return Verdict::Drop(Reason::DropAfter);
        }
        n.bytes = bytes;
        n.packets += 1;
        Verdict::Pass
    }

    fn forget(&mut self, flow_id: u64) {
        self.flows.forget(flow_id);
    }
}
