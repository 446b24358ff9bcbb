/**
 * What a sweep's run folder already holds, for `sweep --resume`/`--force` and `merge`: a
 * complete run (status completed, the seed the sweep planned) is kept; anything else
 * there is an earlier attempt — killed, interrupted, failed — that a retry replaces.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FILE_CAPS } from '../files/limits.js';
import { readJsonFile } from '../files/read.js';
import type { RunSummary } from '../record/summary.js';
import { RUN_FILES } from '../run/out-path.js';

export type RunFolder =
  { kind: 'empty' } | { kind: 'complete'; summary: RunSummary } | { kind: 'earlier'; why: string };

/** summary.json as written, or why it cannot be read (a regular file only, never a link, size-capped). */
export function readSummaryFile(runDir: string): Partial<RunSummary> | string {
  try {
    const value = readJsonFile(join(runDir, 'summary.json'), {
      maxBytes: FILE_CAPS['summary.json'],
      optional: true,
    });
    if (value === undefined) return 'no summary.json';
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return 'summary.json is not a JSON object';
    }
    return value as Partial<RunSummary>;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whether `summary` is a finished run of the planned seed that a resume may keep. */
export function isComplete(summary: Partial<RunSummary>, seed: number): summary is RunSummary {
  return (
    summary.status === 'completed' &&
    summary.seed === seed &&
    Array.isArray(summary.workloads) &&
    Array.isArray(summary.expectations) &&
    typeof summary.exit_code === 'number'
  );
}

export function runFolder(runDir: string, seed: number): RunFolder {
  if (!RUN_FILES.some((f) => existsSync(join(runDir, f)))) return { kind: 'empty' };
  const summary = readSummaryFile(runDir);
  if (typeof summary === 'string') return { kind: 'earlier', why: summary };
  if (isComplete(summary, seed)) return { kind: 'complete', summary };
  if (summary.status === 'completed') {
    return { kind: 'earlier', why: `seed ${summary.seed}, not the sweep's ${seed}` };
  }
  return { kind: 'earlier', why: `status ${String(summary.status ?? 'unknown')}` };
}
