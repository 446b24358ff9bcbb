import { now } from './clock.js';

/**
 * The most ticks one timer turn sends. A pacer further behind goes on at the next turn
 * (a millisecond later), so a workload that asks more than its agent can send still lets
 * the agent's loop read what arrives.
 */
const MAX_BATCH = 256;

/**
 * Calls `tick(seq)` every interval from `fromAbs` until `untilAbs` (monotonic ns),
 * scheduling each tick from the start instant so timer delays do not accumulate. Node's
 * timers fire at most about once a millisecond, so each turn sends every tick that is
 * due by then: `every: 500us` sent one message per timer turn before, 9,706 of 12,000 in
 * 6 s, and http2 at `every: 250us` 7,623 of 24,000. A pacer that still falls behind (the
 * agent cannot keep up) shows as sends later than planned; metrics/pacing.ts counts them
 * against the plan.
 */
export class Pacer {
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  private stopped = false;

  constructor(
    private readonly fromAbs: bigint,
    private readonly untilAbs: bigint,
    private readonly interval: number,
    private readonly tick: (seq: number) => void,
  ) {}

  start(): this {
    this.schedule();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private due(seq: number): bigint {
    return this.fromAbs + BigInt(Math.round(seq * this.interval));
  }

  private schedule(): void {
    if (this.stopped) return;
    const due = this.due(this.seq);
    if (due >= this.untilAbs) return;
    const waitMs = Number(due - now()) / 1e6;
    this.timer = setTimeout(() => this.fire(), Math.max(0, waitMs));
  }

  private fire(): void {
    const at = now();
    for (let n = 0; n < MAX_BATCH && !this.stopped; n++) {
      const due = this.due(this.seq);
      if (due > at || due >= this.untilAbs) break;
      this.tick(this.seq++);
    }
    this.schedule();
  }
}
