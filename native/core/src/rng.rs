//! The one pseudo-random generator of the core: xoshiro256** seeded through splitmix64.
//!
//! Every random stage owns its own `Rng`, seeded from the scenario seed and a stable
//! stage id (`Rng::for_stage`), so adding a stage never changes another stage's draws and
//! a run is reproducible from its seed alone. Not cryptographic, and need not be.

#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

/// splitmix64: turns any 64-bit seed (even 0) into well-mixed state words.
pub fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng {
            s: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// The generator of stage `stage` under scenario seed `seed`. Stage ids are stable
    /// numbers (e.g. the action's position in the compiled config), mixed so that
    /// neighbouring ids give unrelated streams.
    pub fn for_stage(seed: u64, stage: u64) -> Rng {
        let mut x = seed ^ stage.wrapping_mul(0xd6e8_feb8_6659_fd93);
        let mixed = splitmix64(&mut x);
        Rng::new(mixed ^ stage)
    }

    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 bits of precision.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p` (p <= 0 never draws true, p >= 1 always does). A draw is
    /// consumed either way, so the stream does not depend on the value of `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// Uniform integer in 0..n (n > 0); the tiny modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// Standard normal (mean 0, sd 1), Box–Muller; one value per call keeps the stream
    /// simple (no cached second value to carry around).
    pub fn normal(&mut self) -> f64 {
        // 1 - u is in (0, 1], so ln never sees 0.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn reproducible_and_stage_separated() {
        let a: Vec<u64> = (0..4).map(|_| Rng::for_stage(7, 1).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rng::for_stage(7, 1);
        let mut y = Rng::for_stage(7, 2);
        assert_ne!(x.next_u64(), y.next_u64());
        // Seed 0 is a fine seed (splitmix never yields an all-zero state).
        let mut z = Rng::new(0);
        assert_ne!(z.next_u64(), 0);
    }

    #[test]
    fn moments() {
        let mut r = Rng::new(42);
        let n = 200_000;
        let (mut s, mut s2, mut u) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let x = r.normal();
            s += x;
            s2 += x * x;
            u += r.next_f64();
        }
        let mean = s / n as f64;
        let var = s2 / n as f64 - mean * mean;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.01, "{var}");
        assert!((u / n as f64 - 0.5).abs() < 0.005);
    }
}
