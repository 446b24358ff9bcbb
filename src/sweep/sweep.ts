/**
 * `qoslab sweep`: run a scenario over a matrix of settings, each cell repeated, one run
 * after another through the public `run` API. A shard runs only its slice; every run
 * lands in `<out>/<cell>/rep-<r>/`, so shards writing to one shared folder, or to
 * separate ones that `qoslab merge` joins later, never touch each other's files.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ExitCode, exitCodeOf, QoslabError, ResourceError, UsageError } from '../errors.js';
import { FILE_CAPS } from '../files/limits.js';
import { readJsonFile } from '../files/read.js';
import { writeFileReplacing } from '../files/write.js';
import type { RunSummary } from '../record/summary.js';
import { ciTargets, type CiOutputArgs } from '../report/ci-outputs.js';
import { failedSummary } from '../run/finish.js';
import { run } from '../run/run.js';
import { prepareResultsDir, prepareSubfolders, RUN_FILES } from '../run/out-path.js';
import { resourceCode, resourceWords } from '../run/resource-fault.js';
import { resultsDir } from '../run/results.js';
import type { FileAllowance } from '../scenario/files.js';
import { loadScenario } from '../scenario/library.js';
import { applySettings } from './apply.js';
import {
  cellsOf,
  matrixFingerprint,
  matrixTooLarge,
  MAX_REPEAT,
  planRuns,
  runsOfShard,
  type Axis,
  type Cell,
  type PlannedRun,
  type Shard,
} from './matrix.js';
import { writeRunsCi, type CiRun } from './ci.js';
import { sweepExitCode, type FailOn } from './outcome.js';
import { runFolder } from './run-folder.js';
import type { ShardManifest, ShardRun, SweepManifest } from './manifest.js';

export interface SweepOptions {
  scenario: string;
  /** --allow-path folders the scenario may name files in. */
  allow?: FileAllowance;
  axes: Axis[];
  repeat: number;
  /** Seed of repetition 0 (default: the scenario's); repetition r uses seed + r. */
  seed?: number;
  durationNs?: number;
  shard: Shard;
  outDir?: string;
  /** Let `command` workloads run their programs (as `run --allow-commands`). */
  allowCommands?: boolean;
  /** Keep the runs already complete in the folder; re-run the rest. */
  resume?: boolean;
  /** Re-run every run of the shard over whatever the folder holds (another sweep included). */
  force?: boolean;
  /** What makes the exit code non-zero (./outcome.ts); default expectations. */
  failOn?: FailOn;
  /** Print nothing but warnings and errors. */
  quiet?: boolean;
  /** JUnit and Markdown of the shard's runs, checked once --out exists (they may go in it), before the first run. */
  ci?: CiOutputArgs;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
}

export interface SweepResult {
  dir: string;
  exitCode: number;
  runs: ShardRun[];
  /** CI files written. */
  written: string[];
}

function writeJson(path: string, value: unknown): void {
  try {
    writeFileReplacing(path, `${JSON.stringify(value, null, 2)}\n`);
  } catch (error) {
    const code = resourceCode(error);
    if (code === undefined) throw error;
    throw new ResourceError(`cannot write ${path}: ${resourceWords(code)}`);
  }
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

/**
 * The folder may hold this sweep (shards share one, a retried shard finds its own runs), or
 * another sweep, or earlier attempts of this shard's runs: each needs the user's word.
 */
function checkFolder(dir: string, fingerprint: string, runDirs: string[], o: SweepOptions): void {
  if (o.force === true) return;
  const earlier = readSweepManifest(dir);
  if (earlier !== undefined && earlier.fingerprint !== fingerprint) {
    throw new UsageError(
      `--out '${dir}' holds another sweep (matrix ${earlier.fingerprint}; this one is ${fingerprint})`,
      ['choose another folder, or pass --force to run this sweep there'],
    );
  }
  if (o.resume === true) return;
  const held = runDirs.filter((d) => RUN_FILES.some((f) => existsSync(join(d, f))));
  if (held.length > 0) {
    throw new UsageError(
      `--out '${dir}' already holds ${held.length} run(s) of this shard (${held.slice(0, 3).join(', ')}${held.length > 3 ? ', ...' : ''})`,
      [
        'pass --resume to keep the complete ones and re-run the rest (a retried shard), or --force to re-run them all',
      ],
    );
  }
}

/** sweep.json of an earlier sweep in the folder, if it has a readable one. */
function readSweepManifest(dir: string): Partial<SweepManifest> | undefined {
  try {
    const value = readJsonFile(join(dir, 'sweep.json'), {
      maxBytes: FILE_CAPS['sweep.json'],
      optional: true,
    });
    if (value === undefined) return undefined;
    return typeof value === 'object' && value !== null ? (value as Partial<SweepManifest>) : {};
  } catch {
    // Unreadable (a link, too large, not JSON): not this sweep's.
    return {};
  }
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  if (!Number.isSafeInteger(o.repeat) || o.repeat < 1 || o.repeat > MAX_REPEAT) {
    throw new UsageError(`--repeat must be an integer from 1 to ${MAX_REPEAT}, got ${o.repeat}`);
  }
  if (o.resume === true && o.force === true) {
    throw new UsageError('--resume and --force exclude each other', [
      '--resume keeps complete runs; --force re-runs every run',
    ]);
  }
  const say = (text: string) => {
    if (o.quiet !== true) o.err.write(text);
  };
  const base = await loadScenario(o.scenario, { allow: o.allow });
  const baseSeed = o.seed ?? base.compiled.seed;
  const cells = cellsOf(o.axes);
  const tooLarge = matrixTooLarge(cells.length, o.repeat);
  if (tooLarge !== undefined) throw new UsageError(`sweep: ${tooLarge}`);
  // Every cell is checked before the first lab: a bad value fails in a second, not an hour in.
  const scenarios = new Map(cells.map((c) => [c.id, applySettings(base, o.axes, c.params)]));
  const planned = planRuns(cells, o.repeat, baseSeed);
  const mine = runsOfShard(planned, o.shard);
  const dir = o.outDir ? resolve(o.outDir) : resultsDir(`sweep-${base.resolved.name}`, undefined);
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
  const runDir = (p: PlannedRun) => join(dir, p.cell.id, `rep-${p.rep}`);
  checkFolder(dir, manifest.fingerprint, mine.map(runDir), o);
  makeDir(dir);
  const ci = o.ci === undefined ? undefined : ciTargets(o.ci);
  writeJson(join(dir, 'sweep.json'), manifest);
  const shardFile = join(dir, `shard-${o.shard.index}-of-${o.shard.count}.json`);
  const shardManifest: ShardManifest = {
    format: 1,
    fingerprint: manifest.fingerprint,
    shard: o.shard,
    runs: [],
  };
  say(
    `sweep ${base.resolved.name}: ${cells.length} cell(s) x ${o.repeat} repetition(s) = ${planned.length} runs; shard ${o.shard.index}/${o.shard.count} runs ${mine.length}\n`,
  );

  const ciRuns: CiRun[] = [];
  const finish = (entry: ShardRun, p: PlannedRun, summary: RunSummary) => {
    shardManifest.runs.push(entry);
    writeJson(shardFile, shardManifest);
    ciRuns.push({ cell: p.cell.id, rep: p.rep, params: p.cell.params, summary, dir: runDir(p) });
  };
  const writeCi = () =>
    ci === undefined
      ? []
      : writeRunsCi(
          ci,
          base.resolved.name,
          `qoslab sweep: ${base.resolved.name} (shard ${o.shard.index}/${o.shard.count})`,
          outcomeLine(shardManifest.runs, mine.length, o.failOn ?? 'expectations'),
          ciRuns,
        );
  for (const [i, p] of mine.entries()) {
    const cellDir = prepareSubfolders(dir, [p.cell.id]);
    writeJson(join(cellDir, 'cell.json'), {
      index: p.cell.index,
      id: p.cell.id,
      params: p.cell.params,
    });
    // Made one level at a time, never through a link (a shared folder is anyone's).
    prepareSubfolders(cellDir, [`rep-${p.rep}`]);
    const label = `[${i + 1}/${mine.length}] ${p.cell.id} rep ${p.rep} seed ${p.seed}`;
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
    const folder = runFolder(runDir(p), p.seed);
    if (o.resume === true && folder.kind === 'complete') {
      entry.exit_code = folder.summary.exit_code;
      entry.status = folder.summary.status;
      say(`${label}: complete already (exit ${entry.exit_code}), kept\n`);
      finish(entry, p, folder.summary);
      continue;
    }
    say(
      `${label}: ${paramsText(p.cell)}${folder.kind === 'earlier' ? ` (re-run: ${folder.why})` : ''}\n`,
    );
    const startedAt = new Date();
    try {
      const r = await run({
        loaded: scenarios.get(p.cell.id)!,
        durationNs: o.durationNs,
        seed: p.seed,
        outDir: runDir(p),
        force: folder.kind !== 'empty',
        allowCommands: o.allowCommands,
        quiet: true,
        out: o.out,
        err: o.err,
      });
      entry.exit_code = r.exitCode;
      entry.status = r.summary.status;
      say(`${label}: ${r.summary.status}, exit ${r.exitCode}\n`);
      finish(entry, p, r.summary);
      // Interrupted, or a results disk that is full or gone: every later run would be too.
      if (r.exitCode === ExitCode.interrupted || r.exitCode === ExitCode.resourceFault) break;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const failed = failedSummary({
        scenario: p.cell.id,
        compiled: scenarios.get(p.cell.id)!.compiled,
        startedAt,
        error: message,
        exitCode: exitCodeOf(error),
      });
      // A machine that cannot host a lab, or a bad scenario, fails every run alike: stop.
      if (error instanceof QoslabError && error.exitCode !== ExitCode.expectFailed) {
        finish({ ...entry, error: message, exit_code: error.exitCode }, p, failed);
        writeCi();
        throw error;
      }
      entry.error = message;
      o.err.write(`${label}: failed: ${message}\n`);
      finish(entry, p, failed);
    }
  }
  writeJson(shardFile, shardManifest);
  const written = writeCi();
  if (o.quiet !== true) o.out.write(`sweep: ${dir}\n`);
  return {
    dir,
    exitCode: sweepExitCode(shardManifest.runs, o.failOn ?? 'expectations'),
    runs: shardManifest.runs,
    written,
  };
}

/** The shard in one line: how many runs ran, held, failed an expectation, could not run. */
function outcomeLine(runs: ShardRun[], planned: number, failOn: FailOn): string {
  const completed = runs.filter((r) => r.status === 'completed');
  const failedExpect = completed.filter((r) => r.exit_code === ExitCode.expectFailed).length;
  const broken = runs.length - completed.length;
  return [
    `${completed.length} of ${planned} run(s) completed`,
    failedExpect > 0 ? `${failedExpect} failed an expectation` : '',
    broken > 0 ? `${broken} could not run` : '',
    runs.length < planned ? `${planned - runs.length} not started` : '',
    `(fails on: ${failOn})`,
  ]
    .filter(Boolean)
    .join(', ');
}
