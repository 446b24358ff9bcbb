//! CoDel (RFC 8289) drop decision. The queues here are FIFOs served at a known rate, so
//! each packet's dequeue time and sojourn are known when it arrives; the decision runs at
//! that computed dequeue time, in FIFO order, which is when the real algorithm runs.

/// RFC 8289 defaults.
pub const TARGET_NS: u64 = 5_000_000;
pub const INTERVAL_NS: u64 = 100_000_000;

#[derive(Debug, Clone, Default)]
pub struct Codel {
    first_above: u64,
    drop_next: u64,
    count: u32,
    last_count: u32,
    dropping: bool,
    mtu: u64,
}

fn control_law(t: u64, count: u32) -> u64 {
    t + (INTERVAL_NS as f64 / f64::from(count.max(1)).sqrt()) as u64
}

impl Codel {
    pub fn new(mtu: u64) -> Codel {
        Codel {
            mtu,
            ..Codel::default()
        }
    }

    /// Should the packet dequeued at `now` after waiting `sojourn`, with `backlog` bytes
    /// still queued behind it, be dropped?
    pub fn should_drop(&mut self, now: u64, sojourn: u64, backlog: u64) -> bool {
        let mut ok_to_drop = false;
        if sojourn < TARGET_NS || backlog <= self.mtu {
            self.first_above = 0;
        } else if self.first_above == 0 {
            self.first_above = now + INTERVAL_NS;
        } else if now >= self.first_above {
            ok_to_drop = true;
        }
        if self.dropping {
            if !ok_to_drop {
                self.dropping = false;
                return false;
            }
            if now >= self.drop_next {
                self.count += 1;
                self.drop_next = control_law(self.drop_next, self.count);
                return true;
            }
            return false;
        }
        if ok_to_drop {
            self.dropping = true;
            let delta = self.count.saturating_sub(self.last_count);
            self.count = if delta > 1 && now.saturating_sub(self.drop_next) < 16 * INTERVAL_NS {
                delta
            } else {
                1
            };
            self.drop_next = control_law(now, self.count);
            self.last_count = self.count;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn drops_only_after_an_interval_above_target() {
        let mut c = Codel::new(1500);
        // Below target: never.
        assert!(!c.should_drop(0, 1_000_000, 100_000));
        // Above target: first the clock starts, an interval later the first drop.
        assert!(!c.should_drop(10, 10_000_000, 100_000));
        assert!(!c.should_drop(50_000_000, 10_000_000, 100_000));
        assert!(c.should_drop(100_000_010, 10_000_000, 100_000));
        // Then drops speed up per the control law (interval / sqrt(count)).
        assert!(!c.should_drop(100_000_020, 10_000_000, 100_000));
        assert!(c.should_drop(200_000_010, 10_000_000, 100_000));
        // A short queue ends the dropping state.
        assert!(!c.should_drop(200_000_020, 10_000_000, 1000));
    }
}
