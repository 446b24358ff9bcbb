//! Jitter for the delay action and the shared links: `jitter_ns` times a draw, uniform on
//! [-1, 1] (netem's ±jitter), or a standardised (mean 0, sd 1) normal, pareto (shape 3)
//! or paretonormal (netem's ¼ normal + ¾ pareto mix).
//! Correlation is an AR(1) process on the standardised draw, which keeps the configured
//! sd (netem's linear mix shrinks it). Negative totals clamp to zero delay.

use crate::rng::Rng;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    Uniform,
    Normal,
    Pareto,
    ParetoNormal,
}

/// A correlated standardised jitter source.
pub struct Jitter {
    dist: Distribution,
    rho: f64,
    last: f64,
    rng: Rng,
}

/// Pareto with shape 3 and scale 1 has mean 1.5 and sd √3/2.
const PARETO_ALPHA: f64 = 3.0;
const PARETO_MEAN: f64 = 1.5;
const PARETO_SD: f64 = 0.866_025_403_784_438_6;

impl Jitter {
    pub fn new(dist: Distribution, rho: f64, rng: Rng) -> Jitter {
        Jitter {
            dist,
            rho,
            last: 0.0,
            rng,
        }
    }

    fn pareto(&mut self) -> f64 {
        let u = 1.0 - self.rng.next_f64(); // (0, 1]
        (u.powf(-1.0 / PARETO_ALPHA) - PARETO_MEAN) / PARETO_SD
    }

    /// One draw in units of the configured jitter: uniform in [-1, 1] (netem's ±jitter),
    /// the others with sd 1.
    pub fn draw(&mut self) -> f64 {
        let z = match self.dist {
            Distribution::Uniform => 2.0 * self.rng.next_f64() - 1.0,
            Distribution::Normal => self.rng.normal(),
            Distribution::Pareto => self.pareto(),
            Distribution::ParetoNormal => 0.25 * self.rng.normal() + 0.75 * self.pareto(),
        };
        if self.rho > 0.0 {
            self.last = self.rho * self.last + (1.0 - self.rho * self.rho).sqrt() * z;
            self.last
        } else {
            z
        }
    }

    /// `base ± jitter` as an absolute departure time, never before `now`.
    pub fn depart(&mut self, now: u64, base: u64, jitter: u64) -> u64 {
        if jitter == 0 {
            return now + base;
        }
        let d = base as f64 + self.draw() * jitter as f64;
        now + if d > 0.0 { d.round() as u64 } else { 0 }
    }
}
