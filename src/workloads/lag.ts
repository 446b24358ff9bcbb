/**
 * How late a Node event loop runs its timers: the agents' and the orchestrator's own
 * stalls (a stopped process, a starved CPU, a long synchronous task), reported so that
 * they are never read as the network's delay. A timer armed every `TICK_MS` notes when
 * it fires; a tick later than `EPISODE_MS` is an episode `[due, fired)` on
 * CLOCK_MONOTONIC. Overlapping lateness (the next tick is late by what is left of the
 * same stall) is one episode.
 */
import { now } from './clock.js';

/** How often the loop is sampled: a stall shorter than this may fall between ticks. */
export const TICK_MS = 10;

/**
 * Lateness from which a tick is an episode. Node's timers fire up to a millisecond late
 * by design, and a busy 2-core machine adds a few more; below this it is noise.
 */
export const EPISODE_MS = 5;

export interface LagEpisode {
  /** CLOCK_MONOTONIC ns when the loop should have run. */
  start: bigint;
  /** When it did. */
  end: bigint;
}

export class LoopLag {
  private timer: NodeJS.Timeout | undefined;
  private due = 0n;
  private coveredUntil = 0n;

  constructor(private readonly onEpisode: (e: LagEpisode) => void) {}

  start(): this {
    this.due = now() + BigInt(TICK_MS * 1e6);
    this.timer = setInterval(() => this.tick(), TICK_MS);
    // A loop with nothing else to do must still be able to exit.
    this.timer.unref();
    return this;
  }

  /** Stop sampling; a stall in progress is reported if the loop is already late. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.observe(now());
  }

  private tick(): void {
    const at = now();
    this.observe(at);
    // The next tick is due one interval after this one ran (setInterval re-arms from
    // when the callback runs, not from the plan).
    this.due = at + BigInt(TICK_MS * 1e6);
  }

  private observe(at: bigint): void {
    const start = this.due > this.coveredUntil ? this.due : this.coveredUntil;
    if (at - start < BigInt(EPISODE_MS * 1e6)) return;
    this.coveredUntil = at;
    this.onEpisode({ start, end: at });
  }
}
