/**
 * From a run's recorded events to its summary: metrics, expectations, status and exit
 * code (one verdict shared with `qoslab report`), written as summary.json and report.html.
 */
import { ExitCode } from '../errors.js';
import { judgeRun } from '../metrics/verdict.js';
import type { CaptureCounters } from '../native/index.js';
import type { MeasureEvent } from '../record/events.js';
import type { FlowLine } from '../record/flows.js';
import type { Phase, RunSummary } from '../record/summary.js';
import { renderHtml } from '../report/html.js';
import { descriptionOf, type DatapathSample, type LoadedRun } from '../report/load.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import { qoslabVersion } from './env.js';
import { faultText } from './resource-fault.js';
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
  /** --allow-unjudged: a run that judged nothing exits 0. */
  allowUnjudged?: boolean;
  /** What the run could not write (resource-fault.ts): the run exits 6. */
  resourceFaults?: string[];
  /** Results files that miss data on disk even after writing them again from memory. */
  incomplete?: string[];
}

export function summarizeRun(r: RunRecord): RunSummary {
  const v = judgeRun({
    compiled: r.compiled,
    phases: r.phases,
    events: r.events,
    flows: r.flows,
    observedNs: r.observedNs,
    interrupted: r.interrupted,
    allowUnjudged: r.allowUnjudged,
  });
  const faults = r.resourceFaults ?? [];
  // A run that failed or was interrupted says so first; a measured failure of the network
  // comes after the instrument's own fault, which the machine's owner must fix.
  const exitCode =
    faults.length > 0 && v.status === 'completed' ? ExitCode.resourceFault : v.exitCode;
  return {
    format: 1,
    qoslab: qoslabVersion(),
    scenario: r.compiled.name,
    status: v.status,
    exit_code: exitCode,
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
    ok: v.ok && exitCode === ExitCode.ok,
    unjudged: v.unjudged,
    allow_unjudged: r.allowUnjudged === true,
    instrument: v.instrument,
    notes: v.notes,
    ...(faults.length > 0 ? { resource_faults: faults } : {}),
    ...((r.incomplete ?? []).length > 0 ? { results_incomplete: r.incomplete } : {}),
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
  r: Omit<
    RunRecord,
    'events' | 'flows' | 'observedNs' | 'interrupted' | 'capture' | 'allowUnjudged'
  >,
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

/** What the run holds in memory, for report.html (its files may not all be on disk). */
export interface RunInMemory {
  compiled: CompiledConfig;
  scenarioText: string;
  events: MeasureEvent[];
  env: Record<string, unknown>;
  datapath: { kept?: string[] };
  /** flows.ndjson's lines, for the report's flows section. */
  flows?: FlowLine[];
}

/**
 * summary.json, then report.html from what the run holds (never re-read from a disk that
 * may have lost part of it). When summary.json cannot be written, the summary goes to
 * stderr: what was measured is never lost. A report bug must not cost the measurements.
 */
export function writeSummary(
  files: ResultFiles,
  summary: RunSummary,
  run: RunInMemory,
  err: NodeJS.WritableStream,
): RunSummary {
  if (!files.writeJson('summary.json', summary)) {
    const fault = files.faults.at(-1)!;
    const faulted: RunSummary = {
      ...summary,
      exit_code: summary.status === 'completed' ? ExitCode.resourceFault : summary.exit_code,
      ok: false,
      resource_faults: [...(summary.resource_faults ?? []), faultText(fault)],
    };
    err.write(
      `qoslab: ${faultText(fault)}: the summary follows, as summary.json would have held it:\n${JSON.stringify(faulted)}\n`,
    );
    return faulted;
  }
  try {
    const loaded: LoadedRun = {
      dir: files.dir,
      compiled: run.compiled,
      scenarioText: run.scenarioText,
      description: descriptionOf(run.scenarioText),
      events: run.events,
      datapath: (run.datapath.kept ?? []).map((l) => JSON.parse(l) as DatapathSample),
      flows: run.flows,
      env: run.env,
      summary,
    };
    // A report that cannot be written costs no measurement: the fault is said, not exit 6.
    if (!files.writeText('report.html', renderHtml(loaded))) {
      err.write(`qoslab: report.html not written: ${faultText(files.faults.at(-1)!)}\n`);
    }
  } catch (error) {
    err.write(`qoslab: report.html not written: ${(error as Error).message}\n`);
  }
  return summary;
}
