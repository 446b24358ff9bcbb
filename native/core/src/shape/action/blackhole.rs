//! Drop everything: the "IP block" of a DPI box.

use super::{Action, ActionConfig, Build, Cx, Verdict};
use crate::error::Error;
use crate::shape::fields::Fields;
use crate::shape::{Pkt, Reason};

#[derive(Debug, Clone)]
struct Config;

pub fn parse(_: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    Ok(Box::new(Config))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "blackhole"
    }
    fn build(&self, _: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Blackhole))
    }
    /// A whole super-packet can be dropped at once: no need to cut it.
    fn per_packet(&self) -> bool {
        false
    }
}

struct Blackhole;

impl Action for Blackhole {
    fn on_packet(&mut self, _: &mut Pkt, _: &mut Cx<'_>) -> Verdict {
        Verdict::Drop(Reason::Blackhole)
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;
    use crate::shape::Reason;

    #[test]
    fn drops_every_packet_of_its_direction_and_only_those() {
        let up_only = obj(&action("blackhole", ""), &[("direction", r#""up""#)]);
        let mut p = with_actions(&[up_only]);
        let got = run(
            &mut p,
            vec![
                (0, Dir::Up, udp(100)),
                (MS, Dir::Down, udp_down(100)),
                (2 * MS, Dir::Up, udp(1500)),
                (3 * MS, Dir::Down, udp_down(60)),
            ],
        );
        assert_eq!(tag_times(&got), vec![(1, MS), (3, 3 * MS)]);
        assert_eq!(p.stats.drops[Reason::Blackhole.index()], 2);
        assert_eq!(p.stats.actions[0].drops[Reason::Blackhole.index()], 2);
        // Both directions: nothing at all comes out.
        let mut p = with_actions(&[action("blackhole", "")]);
        let got = run(
            &mut p,
            vec![(0, Dir::Up, udp(100)), (MS, Dir::Down, udp_down(100))],
        );
        assert!(got.is_empty());
        assert_eq!(p.stats.drops[Reason::Blackhole.index()], 2);
    }
}
