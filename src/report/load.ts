/**
 * Reads a run directory back. The report only ever looks at the files a run left
 * (docs/architecture.md "Exit codes and results"); it never talks to a lab, so it works
 * on runs from any machine.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { MeasureEvent } from '../record/events.js';
import { ExitCode, UsageError } from '../errors.js';
import { FILE_CAPS } from '../files/limits.js';
import { jsonErrorAt, lstatOrUndefined, readTextFile } from '../files/read.js';
import { phasesOf } from '../metrics/phases.js';
import { judgeRun } from '../metrics/verdict.js';
import { eventProblem } from './event-check.js';
import { flowLineProblem } from './flow-check.js';
import type { FlowLine } from '../record/flows.js';
import type { RunSummary } from '../record/summary.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import {
  CompiledReadBack,
  checkReadBack,
  SummaryReadBack,
  SummaryStartReadBack,
} from '../record/read-back.js';
import { MAX_DURATION_NS } from '../scenario/units.js';

/** One line of datapath.ndjson: `t` plus whatever counters the core published then. */
export type DatapathSample = { t: number } & Record<string, unknown>;

export interface LoadedRun {
  dir: string;
  compiled: CompiledConfig;
  /** scenario.yaml as the run resolved it ('' if missing). */
  scenarioText: string;
  /** The scenario's `description` (compiled.json does not carry it). */
  description: string | null;
  events: MeasureEvent[];
  /** flows.ndjson's lines; undefined for a run that wrote none (older runs). */
  flows: FlowLine[] | undefined;
  datapath: DatapathSample[];
  env: Record<string, unknown> | null;
  /** Recomputed from events.ndjson; run facts (status, times) come from the old summary.json. */
  summary: RunSummary;
}

const REQUIRED = ['compiled.json', 'events.ndjson'] as const;

/** A run file's cap (src/files/limits.ts): a run folder may have come from anyone. */
type RunFile = keyof typeof FILE_CAPS;

/** A run file's text: a regular file within its cap (never a link, FIFO or device), or undefined if absent. */
function readRunFile(dir: string, name: RunFile): string | undefined {
  return readTextFile(join(dir, name), { maxBytes: FILE_CAPS[name], optional: true });
}

/** A JSON object, or null when absent or not one (informative files: summary.json, env.json). */
function readOptionalJson(dir: string, name: RunFile): Record<string, unknown> | null {
  const text = readRunFile(dir, name);
  if (text === undefined) return null;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The line as a JSON object, or undefined. */
function parseObject(line: string): object | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * NDJSON written as things happen: a killed run may end in half a line, which is skipped
 * rather than failing the whole report. A damaged line anywhere else is not a torn write
 * but a damaged file, and is refused with its line number: skipped, a torn receipt made
 * its message lost and moved delivery (100% read 97.6%).
 */
export function readNdjson<T>(
  path: string,
  maxBytes: number,
  problem: (value: object) => string | undefined = () => undefined,
  /** Why the last line may not be torn (the run finished), or undefined when it may. */
  finished?: string,
): T[] {
  const text = readTextFile(path, { maxBytes, optional: true });
  if (text === undefined) return [];
  const out: T[] = [];
  const lines = text.split('\n');
  let last = lines.length - 1;
  while (last > 0 && lines[last]!.trim() === '') last--;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const value = parseObject(line);
    if (value === undefined) {
      if (i === last && finished !== undefined) {
        throw new UsageError(
          `${path}:${i + 1}: half a line at the end, but the run finished (${finished}): the file was cut after the run, and its numbers would miss the rest`,
          ['copy the run folder again from where the run wrote it'],
        );
      }
      if (i === last) return;
      // The line itself is not quoted: the file may be anything (a link to /etc/shadow).
      throw new UsageError(`${path}:${i + 1}: not a JSON object`, [
        'a run writes one JSON object per line; only a killed run may leave half a last line',
      ]);
    }
    const why = problem(value);
    if (why !== undefined) throw new UsageError(`${path}:${i + 1}: ${why}`);
    out.push(value as T);
  });
  return out;
}

/**
 * A run's summary.json, checked: absent is a run that left none (report calls it killed);
 * present, it is what the run wrote, and damaged it is refused, not taken for a kill.
 */
export function readSummary(runDir: string, shown: string): Partial<RunSummary> | null {
  const text = readRunFile(runDir, 'summary.json');
  if (text === undefined) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`'${shown}' is not valid JSON${jsonErrorAt(text, e)}`, [
      'it was changed or damaged after the run wrote it',
    ]);
  }
  return checkSummary(raw, shown);
}

/** A parsed summary.json as a run writes it, or a UsageError naming where it is not. */
export function checkSummary(raw: unknown, shown: string): Partial<RunSummary> {
  // The summary written at the start (`running`) and the one of a run that could not start
  // (`failed`, no exit code) have no numbers; any other is a whole one.
  const r = raw as { status?: unknown; exit_code?: unknown } | null;
  const full = typeof r === 'object' && r !== null && r.status !== 'running' && 'exit_code' in r;
  return (
    full
      ? checkReadBack(SummaryReadBack, raw, shown, 'a qoslab run summary')
      : checkReadBack(SummaryStartReadBack, raw, shown, 'a qoslab run summary')
  ) as Partial<RunSummary>;
}

export function descriptionOf(text: string): string | null {
  try {
    const doc = parseYaml(text) as unknown;
    if (typeof doc === 'object' && doc !== null) {
      const d = (doc as Record<string, unknown>).description;
      return typeof d === 'string' ? d : null;
    }
  } catch {
    // scenario.yaml is informative here; compiled.json is what counts
  }
  return null;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false; // absent, a link loop, a part that is not a folder
  }
}

/**
 * The lengths the report divides time by (its charts have a bin per step of the run), read
 * from files that may have come from anyone: a summary claiming 1e19 ns observed grew
 * `report` past 4 GB. No run is longer than the longest duration plus its drain.
 */
const MAX_RUN_NS = MAX_DURATION_NS + 60e9;

function checkLength(file: string, key: string, value: unknown, optional: boolean): void {
  if (optional && value === undefined) return;
  if (typeof value !== 'number' || !(value >= 0 && value <= MAX_RUN_NS)) {
    throw new UsageError(
      `'${file}': ${key} must be a number of nanoseconds from 0 to ${MAX_RUN_NS} (168 h and a minute), found ${typeof value === 'number' ? value : typeof value}`,
      ['a run folder holds what `qoslab run` wrote; this file was changed or damaged'],
    );
  }
}

/** Checks that `dir` looks like a run directory; UsageError (exit 2) naming what is wrong. */
export function checkRunDir(dir: string): string {
  const abs = resolve(dir);
  // The folder itself was named by the user: a link to it is followed.
  if (!isFolder(abs)) {
    throw new UsageError(`'${dir}' is not a directory`, [
      'give a run directory, e.g. results/20250101T120000Z-messengers',
    ]);
  }
  const missing = REQUIRED.filter((f) => lstatOrUndefined(join(abs, f)) === undefined);
  if (missing.length > 0) {
    throw new UsageError(`'${dir}' is not a qoslab run directory (no ${missing.join(', ')})`, [
      'a run directory is what `qoslab run` writes: scenario.yaml, compiled.json, events.ndjson, ...',
    ]);
  }
  return abs;
}

export function loadRun(dir: string): LoadedRun {
  const abs = checkRunDir(dir);
  const compiledPath = join(dir, 'compiled.json');
  const compiledText = readRunFile(abs, 'compiled.json') ?? '';
  let raw: unknown;
  try {
    raw = JSON.parse(compiledText);
  } catch (e) {
    throw new UsageError(`'${compiledPath}' is not valid JSON${jsonErrorAt(compiledText, e)}`);
  }
  // Every number is recomputed from it: a value of the wrong type must not be computed with.
  const compiled = checkReadBack(
    CompiledReadBack,
    raw,
    compiledPath,
    'a compiled qoslab scenario',
  ) as unknown as CompiledConfig;
  checkLength(compiledPath, 'duration_ns', compiled.duration_ns, false);
  const scenarioText = readRunFile(abs, 'scenario.yaml') ?? '';
  const old = readSummary(abs, join(dir, 'summary.json'));
  checkLength(join(dir, 'summary.json'), 'observed_ns', old?.observed_ns, true);
  const missing = Array.isArray(old?.results_incomplete)
    ? old.results_incomplete.filter((f) => f === 'events.ndjson')
    : [];
  if (missing.length > 0) {
    throw new UsageError(
      `${join(dir, 'events.ndjson')} is incomplete: the run could not write all of it (${(old?.resource_faults ?? []).join('; ')}), and numbers recomputed from it would miss what it lost`,
      [`${join(dir, 'summary.json')} holds what the run measured`],
    );
  }
  // A run writes its final summary (the one with an exit code) after it closed
  // events.ndjson: only a run killed before that may end the file in half a line.
  const finished =
    typeof old?.exit_code === 'number' && old.status !== 'running'
      ? `summary.json: ${old.status}`
      : undefined;
  const events = readNdjson<MeasureEvent>(
    join(abs, 'events.ndjson'),
    FILE_CAPS['events.ndjson'],
    eventProblem,
    finished,
  );
  const flowsPath = join(abs, 'flows.ndjson');
  const flows = existsSync(flowsPath)
    ? readNdjson<FlowLine>(flowsPath, FILE_CAPS['flows.ndjson'], flowLineProblem, finished)
    : undefined;
  const datapath = readNdjson<DatapathSample>(
    join(abs, 'datapath.ndjson'),
    FILE_CAPS['datapath.ndjson'],
  ).filter((s) => typeof s.t === 'number');
  const env = readOptionalJson(abs, 'env.json');
  return {
    dir: abs,
    compiled,
    scenarioText,
    description: descriptionOf(scenarioText),
    events,
    flows,
    datapath,
    env,
    summary: resummarize(compiled, events, old, flows),
  };
}

/**
 * The summary as `qoslab run` computes it, from the events; what events cannot tell
 * (status, start and end times, lab id, warnings) is kept from the old summary.json. A run
 * that left no summary, or only the `running` one written at its start, was killed: it
 * is `failed`, observed until its last event.
 */
export function resummarize(
  compiled: CompiledConfig,
  events: MeasureEvent[],
  old: Partial<RunSummary> | null,
  flows?: FlowLine[],
): RunSummary {
  const phases = phasesOf(compiled.timeline, compiled.duration_ns);
  const lastEvent = events.reduce((m, e) => Math.max(m, e.t), 0);
  const observedNs = typeof old?.observed_ns === 'number' ? old.observed_ns : lastEvent;
  const killed = old?.status === undefined || old.status === 'running';
  const v = judgeRun({
    compiled,
    phases,
    events,
    flows,
    observedNs: killed ? lastEvent : observedNs,
    // A killed run ended early as an interrupted one does: later phases were not reached.
    interrupted: killed || old?.status === 'interrupted',
    allowUnjudged: old?.allow_unjudged === true,
  });
  const status = killed ? 'failed' : old.status!;
  const resourceFaults = Array.isArray(old?.resource_faults) ? old.resource_faults : [];
  const exitCode =
    status === 'failed'
      ? ExitCode.runFailed
      : status === 'interrupted'
        ? ExitCode.interrupted
        : resourceFaults.length > 0
          ? ExitCode.resourceFault
          : v.exitCode;
  const error = killed
    ? 'the run was killed before it finished (no final summary.json); results up to its last event'
    : (old?.error ?? null);
  return {
    format: 1,
    qoslab: old?.qoslab ?? 'unknown',
    scenario: compiled.name,
    status,
    exit_code: exitCode,
    started_at: old?.started_at ?? '',
    finished_at: old?.finished_at ?? '',
    seed: compiled.seed,
    duration_ns: compiled.duration_ns,
    observed_ns: v.observedNs,
    faults: v.faults,
    lab_id: old?.lab_id ?? '',
    phases: v.phases,
    workloads: v.workloads,
    ...(v.flows && { flows: v.flows }),
    ...(old?.capture && { capture: old.capture }),
    expectations: v.expectations,
    ok: v.ok && status === 'completed' && exitCode === ExitCode.ok,
    unjudged: v.unjudged,
    allow_unjudged: old?.allow_unjudged === true,
    instrument: v.instrument,
    notes: v.notes,
    ...(resourceFaults.length > 0 ? { resource_faults: resourceFaults } : {}),
    warnings: Array.isArray(old?.warnings) ? old.warnings : [],
    error,
  };
}
