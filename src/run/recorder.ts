import type { MeasureEvent } from '../record/events.js';
import type { NdjsonFile } from './results.js';
import type { LiveTally } from './progress.js';

/**
 * Events a run keeps at most. Each is held until the summary (about 180 bytes of memory)
 * and written to events.ndjson (about 90): 2 500 000 is twice the plan budget of messages
 * (scenario/budget.ts: a send and a recv each) plus room for connections and failures,
 * about 450 MB. What no plan bounds — bulk transfers of tiny objects, a reconnect storm —
 * stops the run here instead of growing it until the kernel kills it.
 */
export const MAX_RECORDED_EVENTS = 2_500_000;

/**
 * Where a run's events go: events.ndjson as they happen (so a killed run keeps them), the
 * in-memory list the summary is computed from, and the live tally. At its budget it
 * records nothing more and aborts `full`, which ends the run.
 */
export class EventRecorder {
  readonly events: MeasureEvent[] = [];
  readonly #full = new AbortController();
  /** Aborted when the budget is reached; the run then stops. */
  readonly full = this.#full.signal;

  constructor(
    private readonly file: NdjsonFile,
    private readonly tally: LiveTally,
    readonly max = MAX_RECORDED_EVENTS,
  ) {}

  record(e: MeasureEvent): void {
    if (this.full.aborted) return;
    if (this.events.length >= this.max) {
      this.#full.abort();
      return;
    }
    this.file.write(e);
    this.events.push(e);
    this.tally.add(e);
  }

  /** When the last event kept happened (ns since t0). */
  lastEventNs(): number {
    return this.events.reduce((m, e) => Math.max(m, e.t), 0);
  }
}

/** What a run that reached its event budget says, on the terminal and in summary.json. */
export function budgetText(r: EventRecorder): string {
  return (
    `the run recorded ${r.max.toLocaleString('en-US')} events, its memory budget, at ` +
    `${(r.lastEventNs() / 1e9).toFixed(1)} s: nothing after that is measured ` +
    '(fewer or larger messages, or a shorter --duration, fit)'
  );
}
