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
import { checkReadBack, ShardReadBack, SweepReadBack } from '../record/read-back.js';
import { readSummary } from '../report/load.js';
import type { ShardManifest, SweepManifest } from './manifest.js';

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
  sources: string[];
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
  // The matrix decides which runs are missing and which seed each must have.
  return checkReadBack(
    SweepReadBack,
    readJson<unknown>(path),
    path,
    'a qoslab sweep manifest (format 1)',
  ) as SweepManifest;
}

/**
 * Every shard that wrote into `dir` ran the sweep its sweep.json names. Shards share one
 * folder, and each writes sweep.json: a shard of an edited scenario overwrote it, and the
 * other shards' runs of the old scenario were merged as runs of the new one.
 */
function checkShards(dir: string, m: SweepManifest): void {
  for (const name of readdirSync(dir).filter((n) => /^shard-\d+-of-\d+\.json$/.test(n))) {
    const path = join(dir, name);
    const shard = checkReadBack(
      ShardReadBack,
      readJson<unknown>(path),
      path,
      'a qoslab shard manifest',
    ) as unknown as ShardManifest;
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
): { dir: string; summary: RunSummary } | { reason: string } {
  let reason = 'not run by any shard given';
  for (const d of dirs) {
    const path = join(d, rel, 'summary.json');
    if (!existsSync(path)) continue;
    // A damaged summary is refused, located: merged, it became a matrix cell's number.
    const summary = readSummary(path, path) ?? {};
    if (summary.status === 'completed' && summary.seed !== seed) {
      reason = `${join(d, rel)}: seed ${summary.seed}, not the sweep's ${seed} (a run of another sweep)`;
    } else if (summary.status === 'completed' && Array.isArray(summary.workloads)) {
      return { dir: join(d, rel), summary: summary as RunSummary };
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

export function mergeSweeps(dirs: string[]): Merged {
  if (dirs.length === 0) throw new UsageError('merge needs at least one sweep folder');
  const sources = dirs.map((d) => resolve(d));
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
  for (const cell of first.cells) {
    for (let rep = 0; rep < first.repeat; rep++) {
      const found = findRun(sources, join(cell.id, `rep-${rep}`), first.base_seed + rep);
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
  return { manifest: first, sources, runs, missing };
}
