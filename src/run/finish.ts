/**
 * From a run's recorded events to its summary: metrics, expectations, status and exit
 * code, written as summary.json and report.html.
 */
import { ExitCode } from '../errors.js';
import { checkExpectations, summarize } from '../metrics/index.js';
import type { MeasureEvent } from '../record/events.js';
import type { Phase, RunSummary } from '../record/summary.js';
import { writeReport } from '../report/report.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { qoslabVersion } from './env.js';
import type { ResultFiles } from './results.js';

export interface RunRecord {
  compiled: CompiledConfig;
  phases: Phase[];
  events: MeasureEvent[];
  startedAt: Date;
  observedNs: number;
  interrupted: boolean;
  labId: string;
  warnings: string[];
}

export function summarizeRun(r: RunRecord): RunSummary {
  const stats = summarize({
    events: r.events,
    workloads: r.compiled.workloads,
    phases: r.phases,
    observedEnd: r.observedNs,
  });
  const expectations = r.interrupted ? [] : checkExpectations(r.compiled.expect, stats);
  const ok = expectations.every((e) => e.ok);
  const exitCode = r.interrupted ? ExitCode.interrupted : ok ? ExitCode.ok : ExitCode.expectFailed;
  return {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: r.compiled.name,
    status: r.interrupted ? 'interrupted' : 'completed',
    exit_code: exitCode,
    started_at: r.startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    seed: r.compiled.seed,
    duration_ns: r.compiled.duration_ns,
    observed_ns: r.observedNs,
    lab_id: r.labId,
    phases: r.phases,
    workloads: stats,
    expectations,
    ok,
    warnings: r.warnings,
    error: null,
  };
}

/** summary.json, then report.html (a report bug must not cost the measurements). */
export function writeSummary(files: ResultFiles, summary: RunSummary, err: NodeJS.WritableStream) {
  files.writeJson('summary.json', summary);
  try {
    writeReport(files.dir);
  } catch (error) {
    err.write(`qoslab: report.html not written: ${(error as Error).message}\n`);
  }
}
