/**
 * `qoslab merge DIR...`: join the folders that the shards of one sweep wrote into one
 * summary of every run, per cell and repetition, with the runs that are missing named.
 * It reads only files (sweep.json and each run's summary.json), so shards can come from
 * any machines.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { failureText } from '../record/format.js';
import type { RunSummary } from '../record/summary.js';
import type { ShardManifest, SweepManifest } from './manifest.js';
import { isComplete } from './run-folder.js';

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

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
}

function loadManifest(dir: string): SweepManifest {
  const path = join(dir, 'sweep.json');
  if (!existsSync(path)) {
    throw new UsageError(`'${dir}' is not a sweep folder (no sweep.json)`, [
      'give the folders `qoslab sweep --out DIR` wrote, one per shard or one shared',
    ]);
  }
  const m = readJson<SweepManifest>(path);
  if (m.kind !== 'qoslab-sweep' || m.format !== 1) {
    throw new UsageError(`${path} is not a qoslab sweep manifest (format 1)`);
  }
  return m;
}

/**
 * Every shard that wrote into `dir` ran the sweep its sweep.json names. Shards share one
 * folder, and each writes sweep.json: a shard of an edited scenario overwrote it, and the
 * other shards' runs of the old scenario were merged as runs of the new one.
 */
function checkShards(dir: string, m: SweepManifest): void {
  for (const name of readdirSync(dir).filter((n) => /^shard-\d+-of-\d+\.json$/.test(n))) {
    const shard = readJson<Partial<ShardManifest>>(join(dir, name));
    if (shard.fingerprint !== m.fingerprint) {
      throw new UsageError(
        `${join(dir, name)} is from another sweep (matrix ${shard.fingerprint}) than ${join(dir, 'sweep.json')} (matrix ${m.fingerprint})`,
        ['give each sweep its own --out folder; merge only the shards of one `qoslab sweep`'],
      );
    }
  }
}

/** A completed run's summary, with the seed the sweep planned, in any of the folders; else why there is none. */
function findRun(
  dirs: string[],
  rel: string,
  seed: number,
  notFound = 'not run by any shard given',
): { dir: string; summary: RunSummary } | { reason: string } {
  let reason = notFound;
  for (const d of dirs) {
    const path = join(d, rel, 'summary.json');
    if (!existsSync(path)) continue;
    const summary = readJson<Partial<RunSummary>>(path);
    if (summary.status === 'completed' && summary.seed !== seed) {
      reason = `${join(d, rel)}: seed ${summary.seed}, not the sweep's ${seed} (a run of another sweep)`;
    } else if (isComplete(summary, seed)) {
      return { dir: join(d, rel), summary };
    } else {
      const why =
        summary.status === 'failed'
          ? failureText({ error: summary.error ?? null, faults: summary.faults ?? [] })
          : summary.error;
      reason = `${join(d, rel)}: ${summary.status ?? 'unknown'}${why ? ` (${why})` : ''}`;
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
  for (const cell of first.cells) {
    for (let rep = 0; rep < first.repeat; rep++) {
      const found = findRun(sources, join(cell.id, `rep-${rep}`), first.base_seed + rep, notFound);
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
