/**
 * From a run's recorded events to its summary: metrics, expectations, status and exit
 * code (one verdict shared with `qoslab report`), written as summary.json and report.html.
 */
import { judgeRun } from '../metrics/verdict.js';
import type { CaptureCounters } from '../native/index.js';
import type { MeasureEvent } from '../record/events.js';
import type { FlowLine } from '../record/flows.js';
import type { Phase, RunSummary } from '../record/summary.js';
import { writeReport } from '../report/report.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { qoslabVersion } from './env.js';
import type { ResultFiles } from './results.js';

export interface RunRecord {
  compiled: CompiledConfig;
  phases: Phase[];
  events: MeasureEvent[];
  /** flows.ndjson's lines. */
  flows: FlowLine[];
  startedAt: Date;
  observedNs: number;
  interrupted: boolean;
  labId: string;
  warnings: string[];
  /** The packet capture's final counters (null: none). */
  capture?: CaptureCounters | null;
}

export function summarizeRun(r: RunRecord): RunSummary {
  const v = judgeRun({
    compiled: r.compiled,
    phases: r.phases,
    events: r.events,
    flows: r.flows,
    observedNs: r.observedNs,
    interrupted: r.interrupted,
  });
  return {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: r.compiled.name,
    status: v.status,
    exit_code: v.exitCode,
    started_at: r.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    seed: r.compiled.seed,
    duration_ns: r.compiled.duration_ns,
    observed_ns: v.observedNs,
    faults: v.faults,
    lab_id: r.labId,
    phases: v.phases,
    workloads: v.workloads,
    ...(v.flows && { flows: v.flows }),
    ...(r.capture && { capture: r.capture }),
    expectations: v.expectations,
    ok: v.ok,
    warnings: r.warnings,
    error: null,
  };
}

/**
 * A run that failed before it measured anything (bad scenario, no lab, an agent that did
 * not start): the summary that summary.json, JUnit and the Markdown summary carry, dated
 * and versioned like any other, with the error and the exit code it ended with.
 */
export function failedSummary(r: {
  scenario: string;
  startedAt: Date;
  error: string;
  exitCode: number;
  compiled?: CompiledConfig;
  labId?: string;
  warnings?: string[];
}): RunSummary {
  return {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: r.compiled?.name ?? r.scenario,
    status: 'failed',
    exit_code: r.exitCode,
    started_at: r.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    seed: r.compiled?.seed ?? 0,
    duration_ns: r.compiled?.duration_ns ?? 0,
    observed_ns: 0,
    faults: [],
    lab_id: r.labId ?? '',
    phases: [],
    workloads: [],
    expectations: [],
    ok: false,
    warnings: r.warnings ?? [],
    error: r.error,
  };
}

/**
 * Written at the start, so a run killed before its end leaves a summary that says so
 * (`report` turns `running` into `failed`).
 */
export function runningSummary(
  r: Omit<RunRecord, 'events' | 'flows' | 'observedNs' | 'interrupted' | 'capture'>,
) {
  return {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: r.compiled.name,
    status: 'running',
    started_at: r.startedAt.toISOString(),
    seed: r.compiled.seed,
    duration_ns: r.compiled.duration_ns,
    lab_id: r.labId,
    warnings: r.warnings,
    error: null,
  };
}

/** summary.json, then report.html (a report bug must not cost the measurements). */
export function writeSummary(
  files: ResultFiles,
  summary: RunSummary,
  err: NodeJS.WritableStream,
): void {
  files.writeJson('summary.json', summary);
  try {
    writeReport(files.dir);
  } catch (error) {
    err.write(`qoslab: report.html not written: ${(error as Error).message}\n`);
  }
}
