/**
 * Plays a compiled timeline against a running lab: at each entry's instant the active
 * policy set is replaced (the core swaps it atomically between packets) and the phase
 * changes. Times are measured on the monotonic clock from the origin given to `start()`
 * (the run's t0, which the agents' timestamps share), so a slow step does not shift the
 * later ones and a phase's recorded instant is on the same clock as every message.
 */

export interface TimelineEntry {
  at_ns: number;
  phase: string;
  enable: string[];
  disable: string[];
  /** Every policy in force from this instant on. */
  active: string[];
  /** Every resolver rule in force from this instant on (none when absent). */
  dns_active?: string[];
}

export interface PhaseChange {
  phase: string;
  /** Scheduled instant, ns from the start. */
  atNs: number;
  /**
   * When the new policy set was handed to the core, ns from the origin: late by the event
   * loop's delay. Measured after `apply` returned, so traffic timed later met the new set.
   */
  appliedNs: number;
  entry: TimelineEntry;
}

export interface TimelineHooks {
  /** Replace the active policy set and the resolver rules in force. */
  apply(active: string[], dnsActive: string[]): void;
  onPhase?(change: PhaseChange): void;
  /** Monotonic clock in ns; injected for tests. */
  now?(): bigint;
  setTimer?(fn: () => void, ms: number): unknown;
  clearTimer?(handle: unknown): void;
}

export class TimelinePlayer {
  private readonly entries: TimelineEntry[];
  private readonly hooks: Required<TimelineHooks>;
  private startNs = 0n;
  private next = 0;
  private timer: unknown;
  private current: string | undefined;

  constructor(entries: TimelineEntry[], hooks: TimelineHooks) {
    this.entries = [...entries].sort((a, b) => a.at_ns - b.at_ns);
    this.hooks = {
      onPhase: () => {},
      now: () => process.hrtime.bigint(),
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
      ...hooks,
    };
  }

  /** The phase in force (undefined before the first entry). */
  get phase(): string | undefined {
    return this.current;
  }

  /** Play from `originNs` (default: now); entries already due are applied at once. */
  start(originNs?: bigint): void {
    this.startNs = originNs ?? this.hooks.now();
    this.advance();
  }

  stop(): void {
    if (this.timer !== undefined) this.hooks.clearTimer(this.timer);
    this.timer = undefined;
    this.next = this.entries.length;
  }

  /** Apply every entry that is due, then sleep until the next one. */
  private advance(): void {
    this.timer = undefined;
    const elapsed = () => Number(this.hooks.now() - this.startNs);
    while (this.next < this.entries.length && this.entries[this.next]!.at_ns <= elapsed()) {
      const entry = this.entries[this.next++]!;
      this.hooks.apply(entry.active, entry.dns_active ?? []);
      this.current = entry.phase;
      this.hooks.onPhase({ phase: entry.phase, atNs: entry.at_ns, appliedNs: elapsed(), entry });
    }
    const now = elapsed();
    const upcoming = this.entries[this.next];
    if (upcoming !== undefined) {
      const waitMs = Math.max(0, (upcoming.at_ns - now) / 1e6);
      this.timer = this.hooks.setTimer(() => this.advance(), waitMs);
    }
  }
}
