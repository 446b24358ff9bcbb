/**
 * `qoslab sweep`: run a scenario over a matrix of settings, each cell repeated, one run
 * after another through the public `run` API. A shard runs only its slice; every run
 * lands in `<out>/<cell>/rep-<r>/`, so shards writing to one shared folder, or to
 * separate ones that `qoslab merge` joins later, never touch each other's files.
 */
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode, QoslabError, UsageError } from '../errors.js';
import { run } from '../run/run.js';
import { prepareResultsDir } from '../run/out-path.js';
import { resultsDir } from '../run/results.js';
import { loadScenario } from '../scenario/library.js';
import { applySettings } from './apply.js';
import {
  cellsOf,
  matrixFingerprint,
  planRuns,
  runsOfShard,
  type Axis,
  type Cell,
  type Shard,
} from './matrix.js';
import type { ShardManifest, ShardRun, SweepManifest } from './manifest.js';

export interface SweepOptions {
  scenario: string;
  axes: Axis[];
  repeat: number;
  /** Seed of repetition 0 (default: the scenario's); repetition r uses seed + r. */
  seed?: number;
  durationNs?: number;
  shard: Shard;
  outDir?: string;
  /** Let `command` workloads run their programs (as `run --allow-commands`). */
  allowCommands?: boolean;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface SweepResult {
  dir: string;
  exitCode: number;
  runs: ShardRun[];
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** Checked like `run --out` (never a recursive mkdir on procfs); an existing folder is reused. */
function makeDir(dir: string): void {
  prepareResultsDir(dir, true);
}

function paramsText(cell: Cell): string {
  const text = Object.entries(cell.params)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return text === '' ? '(scenario as is)' : text;
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  if (!Number.isSafeInteger(o.repeat) || o.repeat < 1) {
    throw new UsageError(`--repeat must be a positive integer, got ${o.repeat}`);
  }
  const base = await loadScenario(o.scenario);
  const baseSeed = o.seed ?? base.compiled.seed;
  const cells = cellsOf(o.axes);
  // Every cell is checked before the first lab: a bad value fails in a second, not an hour in.
  const scenarios = new Map(cells.map((c) => [c.id, applySettings(base, o.axes, c.params)]));
  const planned = planRuns(cells, o.repeat, baseSeed);
  const mine = runsOfShard(planned, o.shard);
  const dir = o.outDir ? resolve(o.outDir) : resultsDir(`sweep-${base.resolved.name}`, undefined);
  makeDir(dir);
  const manifest: SweepManifest = {
    format: 1,
    kind: 'qoslab-sweep',
    scenario: base.resolved.name,
    fingerprint: matrixFingerprint({
      scenarioText: base.text,
      axes: o.axes,
      repeat: o.repeat,
      baseSeed,
      durationNs: o.durationNs ?? null,
    }),
    axes: o.axes.map((a) => ({ key: a.key, values: a.values })),
    repeat: o.repeat,
    base_seed: baseSeed,
    duration_ns: o.durationNs ?? base.compiled.duration_ns,
    cells: cells.map((c) => ({ index: c.index, id: c.id, params: c.params })),
    runs_total: planned.length,
  };
  writeJson(join(dir, 'sweep.json'), manifest);
  const shardFile = join(dir, `shard-${o.shard.index}-of-${o.shard.count}.json`);
  const shardManifest: ShardManifest = {
    format: 1,
    fingerprint: manifest.fingerprint,
    shard: o.shard,
    runs: [],
  };
  o.err.write(
    `sweep ${base.resolved.name}: ${cells.length} cell(s) x ${o.repeat} repetition(s) = ${planned.length} runs; shard ${o.shard.index}/${o.shard.count} runs ${mine.length}\n`,
  );

  let exitCode: number = ExitCode.ok;
  for (const [i, p] of mine.entries()) {
    const cellDir = join(dir, p.cell.id);
    makeDir(cellDir);
    writeJson(join(cellDir, 'cell.json'), {
      index: p.cell.index,
      id: p.cell.id,
      params: p.cell.params,
    });
    const runDir = join(cellDir, `rep-${p.rep}`);
    const label = `[${i + 1}/${mine.length}] ${p.cell.id} rep ${p.rep} seed ${p.seed}`;
    o.err.write(`${label}: ${paramsText(p.cell)}\n`);
    const entry: ShardRun = {
      index: p.index,
      cell: p.cell.id,
      rep: p.rep,
      seed: p.seed,
      dir: join(p.cell.id, `rep-${p.rep}`),
      exit_code: null,
      status: 'failed',
      error: null,
    };
    try {
      const r = await run({
        loaded: scenarios.get(p.cell.id)!,
        durationNs: o.durationNs,
        seed: p.seed,
        outDir: runDir,
        allowCommands: o.allowCommands,
        quiet: true,
        out: o.out,
        err: o.err,
      });
      entry.exit_code = r.exitCode;
      entry.status = r.summary.status;
      o.err.write(`${label}: ${r.summary.status}, exit ${r.exitCode}\n`);
      if (r.exitCode === ExitCode.interrupted) {
        shardManifest.runs.push(entry);
        exitCode = ExitCode.interrupted;
        break;
      }
      if (r.exitCode !== ExitCode.ok) exitCode = ExitCode.expectFailed;
    } catch (error) {
      // A machine that cannot host a lab, or a bad scenario, fails every run alike: stop.
      if (error instanceof QoslabError && error.exitCode !== ExitCode.expectFailed) {
        shardManifest.runs.push({ ...entry, error: error.message, exit_code: error.exitCode });
        writeJson(shardFile, shardManifest);
        throw error;
      }
      entry.error = error instanceof Error ? error.message : String(error);
      exitCode = ExitCode.expectFailed;
      o.err.write(`${label}: failed: ${entry.error}\n`);
    }
    shardManifest.runs.push(entry);
    writeJson(shardFile, shardManifest);
  }
  writeJson(shardFile, shardManifest);
  o.out.write(`sweep: ${dir}\n`);
  return { dir, exitCode, runs: shardManifest.runs };
}
