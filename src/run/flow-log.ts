/**
 * flows.ndjson as a run goes: the core's flow snapshots, polled about once a second and
 * at each phase change (so no sample spans two phases), turned into lines on the run's
 * clock (metrics/flows.ts) and written as they come, so a killed run keeps them; kept in
 * memory too for the summary.
 */
import {
  attribute,
  endLine,
  onRunClock,
  openLine,
  sampleOf,
  type Attribution,
} from '../metrics/flows.js';
import type { FlowRecord, FlowSnapshot } from '../native/index.js';
import type { FlowLine } from '../record/flows.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { NdjsonFile } from './results.js';

export class FlowLog {
  readonly lines: FlowLine[] = [];
  /** The latest record of every flow still live, on the run's clock. */
  private readonly last = new Map<number, FlowRecord>();
  private readonly attribution = new Map<number, Attribution>();
  /** When the previous snapshot was taken (run clock): every change since lies after it. */
  private previous: number | undefined;

  constructor(
    private readonly file: NdjsonFile,
    /** The run's t0 (CLOCK_MONOTONIC ns), which the core's times are moved onto. */
    private readonly t0: bigint,
    private readonly compiled: Pick<CompiledConfig, 'workloads' | 'hosts'>,
  ) {}

  private write(line: FlowLine): void {
    this.file.write(line);
    this.lines.push(line);
  }

  /** Take the snapshots (oldest first) the core returned. */
  take(snapshots: FlowSnapshot[]): void {
    for (const s of snapshots) {
      const shift = s.clock_base_ns - Number(this.t0);
      const t = s.t + shift;
      for (const raw of s.flows) this.record(onRunClock(raw, shift), t);
      this.previous = t;
    }
  }

  private record(r: FlowRecord, t: number): void {
    let a = this.attribution.get(r.id);
    if (a === undefined) {
      a = attribute(r, this.compiled.workloads, this.compiled.hosts);
      this.attribution.set(r.id, a);
      this.write(openLine(r, a));
    }
    const prev = this.last.get(r.id);
    // Whatever changed since the previous snapshot did so after it (and after the flow began).
    const since = this.previous ?? r.first_ns;
    const from = prev === undefined ? Math.max(since, r.first_ns) : since;
    const sample = sampleOf(prev, r, Math.min(from, t), t);
    if (sample !== null) this.write(sample);
    if (r.live) {
      this.last.set(r.id, r);
    } else {
      this.last.delete(r.id);
      this.write(endLine(r, a));
    }
  }

  /**
   * The run is over: take the core's final snapshots (every live flow), then write the
   * final record of every flow still live.
   */
  finish(snapshots: FlowSnapshot[]): void {
    this.take(snapshots);
    for (const r of this.last.values()) this.write(endLine(r, this.attribution.get(r.id)!));
    this.last.clear();
  }
}
