/**
 * `qoslab merge DIR...`: join the folders that the shards of one sweep wrote into one
 * summary of every run, per cell and repetition, with the runs that are missing named.
 * It reads only files (sweep.json and each run's summary.json), so shards can come from
 * any machines.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { capText, FILE_CAPS, MiB } from '../files/limits.js';
import { folderInside, jsonErrorAt, readTextFile } from '../files/read.js';
import { failureText } from '../record/format.js';
import type { RunSummary } from '../record/summary.js';
import { checkReadBack, ShardReadBack, SweepReadBack } from '../record/read-back.js';
import { checkSummary } from '../report/load.js';
import type { ShardManifest, SweepManifest } from './manifest.js';
import { isComplete } from './run-folder.js';
import { CELL_ID, matrixTooLarge, MAX_RUNS } from './matrix.js';

export interface MergedRun {
  cell: string;
  rep: number;
  seed: number;
  /** Absolute run directory. */
  dir: string;
  status: RunSummary['status'];
  exit_code: number;
  ok: boolean;
  summary: RunSummary;
}

export interface MissingRun {
  cell: string;
  rep: number;
  params: Record<string, string>;
  /** Why: never ran in any folder, or ran and did not complete. */
  reason: string;
}

export interface Merged {
  manifest: SweepManifest;
  /** The sweep folders read. */
  sources: string[];
  /** Folders given that could not be read as sweep folders (an artifact that never came), and why. */
  absent: { dir: string; reason: string }[];
  runs: MergedRun[];
  missing: MissingRun[];
}

/**
 * Summaries merge reads in all: each is kept until the matrix is written, and a sweep's
 * folders may have come from anyone (CI artifacts). A real summary is tens of kB, so this
 * holds 10 000 runs many times over.
 */
export const MAX_SUMMARY_BYTES_TOTAL = 1024 * MiB;

/**
 * A sweep file: a regular file within its cap (never a link, FIFO or device), parsed as
 * JSON; undefined when absent. Errors name the file and where, never its contents.
 */
function readJson<T>(path: string, maxBytes: number, budget?: { left: number }): T | undefined {
  const text = readTextFile(path, { maxBytes, optional: true });
  if (text === undefined) return undefined;
  if (budget !== undefined) {
    budget.left -= text.length;
    if (budget.left < 0) {
      throw new UsageError(
        `${path}: the sweep's summaries exceed ${capText(MAX_SUMMARY_BYTES_TOTAL)} in all, more than merge reads`,
      );
    }
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON${jsonErrorAt(text, e)}`);
  }
}

function loadManifest(dir: string): SweepManifest {
  const path = join(dir, 'sweep.json');
  const m = readJson<SweepManifest>(path, FILE_CAPS['sweep.json']);
  if (m === undefined) {
    throw new UsageError(`'${dir}' is not a sweep folder (no sweep.json)`, [
      'give the folders `qoslab sweep --out DIR` wrote, one per shard or one shared',
    ]);
  }
  // The matrix decides which runs are missing and which seed each must have.
  checkReadBack(SweepReadBack, m, path, 'a qoslab sweep manifest (format 1)');
  checkMatrix(path, m);
  return m;
}

/**
 * The counts merge loops over, bounded before the first loop, and the folder names it
 * joins onto a sweep folder, which must not leave it: sweep.json is input like any other.
 */
function checkMatrix(path: string, m: SweepManifest): void {
  const bad = (what: string) =>
    new UsageError(`${path}: ${what}`, [
      'a sweep.json is what `qoslab sweep` wrote; this one was changed or damaged',
    ]);
  if (!Array.isArray(m.cells)) throw bad('cells must be a list');
  const tooLarge = matrixTooLarge(m.cells.length, m.repeat);
  if (tooLarge !== undefined) throw bad(tooLarge);
  if (
    !Number.isSafeInteger(m.base_seed) ||
    m.base_seed < 0 ||
    m.base_seed + m.repeat > Number.MAX_SAFE_INTEGER
  ) {
    throw bad('base_seed must be an integer from 0 to 2^53 - 1 - repeat');
  }
  m.cells.forEach((c, i) => {
    if (typeof c?.id !== 'string' || !CELL_ID.test(c.id)) {
      throw bad(
        `cells[${i}].id must be a folder name like c0-rate=1mbit (c, digits, then letters, digits, . _ = -)`,
      );
    }
  });
}

/**
 * Every shard that wrote into `dir` ran the sweep its sweep.json names. Shards share one
 * folder, and each writes sweep.json: a shard of an edited scenario overwrote it, and the
 * other shards' runs of the old scenario were merged as runs of the new one.
 */
function checkShards(dir: string, m: SweepManifest): void {
  const shards = readdirSync(dir).filter((n) => /^shard-\d+-of-\d+\.json$/.test(n));
  // No sweep has more shards than runs.
  if (shards.length > MAX_RUNS) {
    throw new UsageError(
      `${dir}: ${shards.length} shard files; a sweep has at most ${MAX_RUNS} runs`,
    );
  }
  for (const name of shards) {
    const path = join(dir, name);
    const raw = readJson<unknown>(path, FILE_CAPS.manifest);
    const shard =
      raw === undefined
        ? undefined
        : (checkReadBack(
            ShardReadBack,
            raw,
            path,
            'a qoslab shard manifest',
          ) as unknown as Partial<ShardManifest>);
    if (shard?.fingerprint !== m.fingerprint) {
      throw new UsageError(
        `${join(dir, name)} is from another sweep (matrix ${String(shard?.fingerprint)}) than ${join(dir, 'sweep.json')} (matrix ${m.fingerprint})`,
        ['give each sweep its own --out folder; merge only the shards of one `qoslab sweep`'],
      );
    }
  }
}

/** A completed run's summary, with the seed the sweep planned, in any of the folders; else why there is none. */
function findRun(
  dirs: string[],
  rel: string[],
  seed: number,
  budget: { left: number },
  notFound = 'not run by any shard given',
): { dir: string; summary: RunSummary } | { reason: string } {
  let reason = notFound;
  for (const d of dirs) {
    // A cell or repetition folder that is a link is refused: it could lead anywhere.
    const runDir = folderInside(d, rel);
    if (runDir === undefined) continue;
    const raw = readJson<unknown>(join(runDir, 'summary.json'), FILE_CAPS['summary.json'], budget);
    if (raw === undefined) continue;
    // A damaged summary is refused, located: merged, it became a matrix cell's number.
    const summary = checkSummary(raw, join(runDir, 'summary.json'));
    if (summary.status === 'completed' && summary.seed !== seed) {
      reason = `${runDir}: seed ${summary.seed}, not the sweep's ${seed} (a run of another sweep)`;
    } else if (isComplete(summary, seed)) {
      return { dir: runDir, summary };
    } else {
      const why =
        summary.status === 'failed'
          ? failureText({ error: summary.error ?? null, faults: summary.faults ?? [] })
          : summary.error;
      reason = `${runDir}: ${summary.status ?? 'unknown'}${why ? ` (${why})` : ''}`;
    }
  }
  return { reason };
}

/** Why `dir` is no sweep folder, or undefined when it has a sweep.json. */
function absentReason(dir: string): string | undefined {
  if (!existsSync(dir)) return 'no such folder';
  if (!existsSync(join(dir, 'sweep.json'))) return 'not a sweep folder (no sweep.json)';
  return undefined;
}

/**
 * Joins what the folders hold. A folder that is not there (a shard whose artifact never
 * came) is named and its runs count as missing, so the rest is still merged; folders of
 * different sweeps, or none that can be read, are refused (exit 2).
 */
export function mergeSweeps(dirs: string[]): Merged {
  if (dirs.length === 0) throw new UsageError('merge needs at least one sweep folder');
  const given = dirs.map((d) => resolve(d));
  const absent = given.flatMap((dir) => {
    const reason = absentReason(dir);
    return reason === undefined ? [] : [{ dir, reason }];
  });
  const sources = given.filter((d) => !absent.some((a) => a.dir === d));
  if (sources.length === 0) {
    throw new UsageError(
      `none of the folders is a sweep folder: ${absent.map((a) => `${a.dir} (${a.reason})`).join(', ')}`,
      ['give the folders `qoslab sweep --out DIR` wrote, one per shard or one shared'],
    );
  }
  const manifests = sources.map(loadManifest);
  const first = manifests[0]!;
  manifests.forEach((m, i) => {
    if (m.fingerprint !== first.fingerprint) {
      throw new UsageError(
        `${sources[i]} is from another sweep than ${sources[0]} (matrix ${m.fingerprint} vs ${first.fingerprint})`,
        ['merge only the shards of one `qoslab sweep` command line'],
      );
    }
  });
  sources.forEach((d) => checkShards(d, first));
  const runs: MergedRun[] = [];
  const missing: MissingRun[] = [];
  const notFound =
    absent.length > 0
      ? `not in the folders read (absent: ${absent.map((a) => a.dir).join(', ')})`
      : undefined;
  const budget = { left: MAX_SUMMARY_BYTES_TOTAL };
  for (const cell of first.cells) {
    for (let rep = 0; rep < first.repeat; rep++) {
      const found = findRun(
        sources,
        [cell.id, `rep-${rep}`],
        first.base_seed + rep,
        budget,
        notFound,
      );
      if ('reason' in found) {
        missing.push({ cell: cell.id, rep, params: cell.params, reason: found.reason });
        continue;
      }
      const s = found.summary;
      runs.push({
        cell: cell.id,
        rep,
        seed: s.seed,
        dir: found.dir,
        status: s.status,
        exit_code: s.exit_code,
        ok: s.ok,
        summary: s,
      });
    }
  }
  return { manifest: first, sources, absent, runs, missing };
}
