//! A mahimahi delivery-opportunity trace as this class's bottleneck: one unlimited FIFO
//! per direction, shared by the policy's flows (like `rate`).

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::queue::{Bottleneck, Server};
use crate::shape::spec::Aqm;
use crate::shape::trace::Trace;
use crate::shape::Pkt;

#[derive(Debug, Clone)]
struct Config {
    file: String,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config {
        file: f.str("file")?.to_owned(),
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "trace"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        let trace = Trace::new(&(b.read_trace)(&self.file)?)
            .map_err(|e| Error::bad_config(format!("trace {:?}: {}", self.file, e.message())))?;
        let q = || {
            Bottleneck::new(
                Server::trace(trace.clone()),
                None,
                None,
                Aqm::Droptail,
                1500,
            )
        };
        Ok(Box::new(TraceAction { queues: [q(), q()] }))
    }
}

struct TraceAction {
    queues: [Bottleneck; 2],
}

impl Action for TraceAction {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        match self.queues[pkt.dir.index()].enqueue(cx.now, pkt.len() as u64) {
            Ok(t) => Verdict::Hold(t),
            Err(r) => Verdict::Drop(r),
        }
    }
}
