import type { CompiledReconnect } from '../scenario/compiled.js';
import { SESSION_DEFAULTS } from '../scenario/session.js';

/**
 * The waits between connection attempts after a connection is lost, as the scenario's
 * `reconnect` gives them (../scenario/session.ts): `first` before the first attempt, then
 * min(cap, initial × factor^(n-1) + step × (n-1)) after the n-th failed one, of which the
 * `jitter` share is random. The randomness is the scenario's seed, so a run repeats.
 */
export class Backoff {
  private failed = 0;
  constructor(
    private readonly random: () => number,
    private readonly r: CompiledReconnect,
  ) {}

  /** The wait before the next attempt, in ms. */
  next(): number {
    const n = this.failed++;
    const base =
      n === 0
        ? this.r.first_ns
        : Math.min(
            this.r.cap_ns,
            this.r.initial_ns * this.r.factor ** (n - 1) + this.r.step_ns * (n - 1),
          );
    return (base * (1 - this.r.jitter * this.random())) / 1e6;
  }

  /** A connection was made: the next loss starts from `first` again. */
  reset(): void {
    this.failed = 0;
  }
}

/** What workloads without `reconnect` (bulk downloads) wait: the sessions' default. */
export const FIXED_RECONNECT: CompiledReconnect = SESSION_DEFAULTS.reconnect;
