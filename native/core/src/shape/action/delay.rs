//! Fixed delay plus jitter from a distribution, with correlation, keeping each flow's
//! packet order unless `reorder` is set. The jitter itself (distributions, correlation,
//! clamping at zero) is jitter.rs, shared with the links.

use super::{Action, ActionConfig, Build, Cx, PerFlow, Verdict};
use crate::error::Error;
use crate::rng::Rng;
use crate::shape::fields::Fields;
use crate::shape::jitter::{Distribution, Jitter};
use crate::shape::Pkt;

#[derive(Debug, Clone)]
struct Config {
    time_ns: u64,
    jitter_ns: u64,
    distribution: Distribution,
    correlation: f64,
    reorder: bool,
}

pub fn parse(f: &mut Fields<'_>) -> Result<Box<dyn ActionConfig>, Error> {
    use Distribution::*;
    Ok(Box::new(Config {
        time_ns: f.u64("time_ns")?,
        jitter_ns: f.u64("jitter_ns")?,
        distribution: [Uniform, Normal, Pareto, ParetoNormal][f.one_of(
            "distribution",
            &["uniform", "normal", "pareto", "paretonormal"],
        )?],
        correlation: f.prob("correlation")?,
        reorder: f.bool("reorder")?,
    }))
}

impl ActionConfig for Config {
    fn type_name(&self) -> &'static str {
        "delay"
    }
    fn build(&self, b: &Build<'_>) -> Result<Box<dyn Action>, Error> {
        Ok(Box::new(Delay {
            c: self.clone(),
            jitter: Jitter::new(
                self.distribution,
                self.correlation,
                Rng::for_stage(b.seed, b.stage),
            ),
            last: PerFlow::default(),
        }))
    }
}

struct Delay {
    c: Config,
    jitter: Jitter,
    /// Per flow, per direction: the last departure, to keep order.
    last: PerFlow<[u64; 2]>,
}

impl Action for Delay {
    fn on_packet(&mut self, pkt: &mut Pkt, cx: &mut Cx<'_>) -> Verdict {
        let mut t = self.jitter.depart(cx.now, self.c.time_ns, self.c.jitter_ns);
        if !self.c.reorder {
            let last = &mut self.last.get(cx.flow.id, || [0; 2])[pkt.dir.index()];
            t = t.max(*last);
            *last = t;
        }
        Verdict::Hold(t)
    }

    fn forget(&mut self, flow_id: u64) {
        self.last.forget(flow_id);
    }
}

#[cfg(test)]
mod tests {
    use crate::shape::packet::Dir;
    use crate::shape::testkit::*;

    fn delay(fields: &str) -> String {
        action("delay", fields)
    }

    #[test]
    fn fixed_delay_applies_to_its_direction_only() {
        let d = obj(
            &delay(
                r#""time_ns":20000000,"jitter_ns":0,"distribution":"uniform","correlation":0,"reorder":false"#,
            ),
            &[("direction", r#""down""#)],
        );
        let mut p = with_actions(&[d]);
        let got = run(
            &mut p,
            vec![
                (0, Dir::Down, udp_down(100)),
                (MS, Dir::Up, udp(100)),
                (2 * MS, Dir::Down, udp_down(100)),
            ],
        );
        assert_eq!(tag_times(&got), vec![(1, MS), (0, 20 * MS), (2, 22 * MS)]);
    }

    /// Uniform ±jitter: one draw per packet, `now + round(time + (2u - 1) · jitter)`.
    fn uniform_departures(n: u32, gap: u64) -> Vec<u64> {
        let mut rng = action_rng(0);
        (0..n)
            .map(|i| {
                let d = 20e6 + (2.0 * rng.next_f64() - 1.0) * 5e6;
                u64::from(i) * gap + d.round() as u64
            })
            .collect()
    }

    const JITTERED: &str =
        r#""time_ns":20000000,"jitter_ns":5000000,"distribution":"uniform","correlation":0"#;

    #[test]
    fn uniform_jitter_keeps_flow_order_unless_reorder_is_set() {
        let raw = uniform_departures(200, MS);
        // In order: a packet never leaves before the one ahead of it in its flow.
        let mut p = with_actions(&[delay(&format!(r#"{JITTERED},"reorder":false"#))]);
        let got = run(&mut p, stream(200, MS, 100));
        let mut last = 0;
        let expect: Vec<(u32, u64)> = (0..200u32)
            .map(|i| {
                last = raw[i as usize].max(last);
                (i, last)
            })
            .collect();
        assert_eq!(tag_times(&got), expect);
        // With reorder: each packet at its own time, so later ones may overtake.
        let mut p = with_actions(&[delay(&format!(r#"{JITTERED},"reorder":true"#))]);
        let got = run(&mut p, stream(200, MS, 100));
        let mut expect: Vec<(u32, u64)> = (0..200u32).map(|i| (i, raw[i as usize])).collect();
        expect.sort_by_key(|&(i, t)| (t, i));
        assert_eq!(tag_times(&got), expect);
        assert!(expect.windows(2).any(|w| w[0].0 > w[1].0), "some overtook");
    }

    #[test]
    fn normal_has_its_mean_and_sd_and_keeps_order() {
        let d = delay(
            r#""time_ns":20000000,"jitter_ns":5000000,"distribution":"normal","correlation":0,"reorder":false"#,
        );
        let mut p = with_actions(&[d]);
        let n = 100_000u64;
        let got = run(&mut p, stream(n, 100 * MS, 100));
        assert_eq!(got.len() as u64, n);
        assert!(got.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
        let delays: Vec<f64> = got
            .iter()
            .map(|g| (g.1 - u64::from(g.0) * 100 * MS) as f64)
            .collect();
        let mean = delays.iter().sum::<f64>() / n as f64;
        let sd = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((mean / 20e6 - 1.0).abs() < 0.02, "mean {mean}");
        assert!((sd / 5e6 - 1.0).abs() < 0.02, "sd {sd}");
    }
}
