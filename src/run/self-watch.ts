/**
 * The lab watching itself while a run plays: the core's forwarding-thread stalls
 * (native/core/src/drive/stall.rs, taken about once a second) and the orchestrator's own
 * event-loop lag, both recorded as `lab_stall` events. A stop of the orchestrator process
 * (Ctrl-Z, SIGSTOP) shows in both; what the verdict makes of them is metrics/instrument.ts.
 */
import type { Lab } from '../orchestrate/lab.js';
import type { LabStallEvent } from '../record/events.js';
import { LoopLag } from '../workloads/lag.js';

export class SelfWatch {
  private readonly lag: LoopLag;

  constructor(
    private readonly lab: Lab,
    private readonly t0: bigint,
    private readonly record: (e: LabStallEvent) => void,
  ) {
    this.lag = new LoopLag((e) =>
      record({
        ev: 'lab_stall',
        source: 'orchestrator',
        t: Number(e.start - t0),
        dur_ns: Number(e.end - e.start),
      }),
    );
  }

  start(): void {
    this.lag.start();
  }

  /** Record the core's stalls since the last poll. */
  poll(): void {
    let stalls;
    try {
      stalls = this.lab.stalls();
    } catch {
      return; // the lab is closing: nothing more to take
    }
    const t0 = Number(this.t0);
    for (const [start, end] of stalls?.episodes ?? []) {
      // Opening the lab and starting the agents is no part of the run.
      if (end <= t0) continue;
      this.record({
        ev: 'lab_stall',
        source: 'core',
        t: Math.max(0, start - t0),
        dur_ns: end - Math.max(start, t0),
      });
    }
  }

  stop(): void {
    this.lag.stop();
    this.poll();
  }
}
