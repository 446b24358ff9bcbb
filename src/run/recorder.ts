import type { MeasureEvent } from '../record/events.js';
import type { NdjsonFile } from './results.js';
import type { LiveTally } from './progress.js';

/**
 * Where a run's events go: events.ndjson as they happen (so a killed run keeps them), the
 * in-memory list the summary is computed from, and the live tally.
 */
export class EventRecorder {
  readonly events: MeasureEvent[] = [];

  constructor(
    private readonly file: NdjsonFile,
    private readonly tally: LiveTally,
  ) {}

  record(e: MeasureEvent): void {
    this.file.write(e);
    this.events.push(e);
    this.tally.add(e);
  }
}
