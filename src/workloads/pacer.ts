import { now } from './clock.js';

/**
 * Calls `tick(seq)` every interval from `fromAbs` until `untilAbs` (monotonic ns),
 * scheduling each tick from the start instant so timer delays do not accumulate.
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

  private schedule(): void {
    if (this.stopped) return;
    const due = this.fromAbs + BigInt(Math.round(this.seq * this.interval));
    if (due >= this.untilAbs) return;
    const waitMs = Number(due - now()) / 1e6;
    this.timer = setTimeout(
      () => {
        this.tick(this.seq++);
        this.schedule();
      },
      Math.max(0, waitMs),
    );
  }
}
