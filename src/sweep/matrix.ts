/**
 * A sweep's matrix: `--set key.path=v1,v2` axes, their cartesian product as cells, each
 * cell repeated, and which runs a shard `i/n` owns. Everything here is a pure function of
 * the command line, so every shard of a sweep, on any machine, computes the same plan.
 */
import { createHash } from 'node:crypto';
import { parse as parseYamlValue } from 'yaml';
import { UsageError } from '../errors.js';

export type KeyPath = (string | number)[];

export interface Axis {
  /** As the user wrote it: `policies.x.actions[0].police.rate`. */
  key: string;
  path: KeyPath;
  /** The values as written (`1mbit`); `yaml` turns them into numbers or booleans where they are. */
  values: string[];
}

export interface Cell {
  index: number;
  /** Directory name: c<index> plus the settings, made file-name safe. */
  id: string;
  /** key → value as written. */
  params: Record<string, string>;
}

export interface PlannedRun {
  /** Position in the whole sweep: cell-major, then repetition. */
  index: number;
  cell: Cell;
  rep: number;
  seed: number;
}

/**
 * How large a sweep may be. `sweep` refuses a larger matrix, and `merge` a sweep.json
 * that claims one, before any loop or allocation: a shared sweep.json with
 * `repeat: 1e9` kept merge busy for over a minute.
 */
export const MAX_REPEAT = 1000;
export const MAX_CELLS = 10_000;
export const MAX_RUNS = 10_000;

/** A cell id as cellsOf makes it: a folder name that cannot leave its sweep folder. */
export const CELL_ID = /^c\d+[A-Za-z0-9._=-]*$/;

/** Why a matrix of `cells` cells repeated `repeat` times is too large, or undefined. */
export function matrixTooLarge(cells: number, repeat: number): string | undefined {
  if (!Number.isSafeInteger(repeat) || repeat < 1 || repeat > MAX_REPEAT)
    return `repeat must be an integer from 1 to ${MAX_REPEAT}, found ${repeat}`;
  if (cells > MAX_CELLS) return `at most ${MAX_CELLS} cells, found ${cells}`;
  if (cells * repeat > MAX_RUNS)
    return `at most ${MAX_RUNS} runs, found ${cells} cells × ${repeat} = ${cells * repeat}`;
  return undefined;
}

/** `a.b[0].c` → ['a', 'b', 0, 'c']; UsageError for anything else. */
export function parseKeyPath(key: string): KeyPath {
  const path: KeyPath = [];
  const part = /([A-Za-z_][\w-]*)|\[(\d+)\]/y;
  let at = 0;
  while (at < key.length) {
    if (path.length > 0 && key[at] === '.') at++;
    part.lastIndex = at;
    const m = part.exec(key);
    if (m === null || (path.length > 0 && m[1] !== undefined && key[at - 1] !== '.')) {
      throw new UsageError(
        `--set ${key}: bad key path at '${key.slice(at)}'; expected keys and [index], e.g. policies.x.actions[0].police.rate`,
      );
    }
    path.push(m[1] ?? Number(m[2]));
    at = part.lastIndex;
  }
  if (path.length === 0 || typeof path[0] !== 'string') {
    throw new UsageError(`--set ${key}: the key path must start with a key`);
  }
  return path;
}

/** `key=v1,v2` → an axis. */
export function parseSet(arg: string): Axis {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set ${arg}: expected KEY=VALUE[,VALUE...]`);
  const key = arg.slice(0, eq).trim();
  const values = arg
    .slice(eq + 1)
    .split(',')
    .map((v) => v.trim());
  if (values.some((v) => v === '')) {
    throw new UsageError(
      `--set ${arg}: empty value; separate values with commas, e.g. ${key}=1mbit,10mbit`,
    );
  }
  if (new Set(values).size !== values.length) throw new UsageError(`--set ${arg}: a value repeats`);
  return { key, path: parseKeyPath(key), values };
}

/** A value as YAML reads it: `0.01` a number, `true` a boolean, `1mbit` a string. */
export function yamlValue(text: string): unknown {
  try {
    return parseYamlValue(text) as unknown;
  } catch {
    return text;
  }
}

function safe(text: string): string {
  return text.replace(/[^A-Za-z0-9._=-]+/g, '_').slice(0, 80);
}

/** The cartesian product; the first axis varies slowest. No axes: one cell, the scenario as is. */
export function cellsOf(axes: Axis[]): Cell[] {
  const keys = new Set<string>();
  for (const a of axes) {
    if (keys.has(a.key))
      throw new UsageError(`--set ${a.key} is given twice; list its values once`);
    keys.add(a.key);
  }
  const count = axes.reduce((n, a) => n * a.values.length, 1);
  if (count > MAX_CELLS) {
    throw new UsageError(
      `--set: the axes make ${count} cells; a sweep has at most ${MAX_CELLS} (and ${MAX_RUNS} runs)`,
    );
  }
  let combos: Record<string, string>[] = [{}];
  for (const a of axes) combos = combos.flatMap((c) => a.values.map((v) => ({ ...c, [a.key]: v })));
  const width = String(Math.max(0, combos.length - 1)).length;
  return combos.map((params, index) => {
    const tail = Object.entries(params)
      .map(([k, v]) => `${k.split('.').at(-1)}=${v}`)
      .join(',');
    return {
      index,
      id: safe(`c${String(index).padStart(width, '0')}${tail ? `-${tail}` : ''}`),
      params,
    };
  });
}

/** Every run of the sweep: repetition r of every cell uses seed `baseSeed + r`. */
export function planRuns(cells: Cell[], repeat: number, baseSeed: number): PlannedRun[] {
  return cells.flatMap((cell) =>
    Array.from({ length: repeat }, (_, rep) => ({
      index: cell.index * repeat + rep,
      cell,
      rep,
      seed: baseSeed + rep,
    })),
  );
}

export interface Shard {
  /** 1-based. */
  index: number;
  count: number;
}

/**
 * `--shard i/n`, else Kubernetes Indexed Job variables: JOB_COMPLETION_INDEX (0-based, set
 * by Kubernetes) and JOB_COMPLETIONS (the Job's `completions`, which Kubernetes does not
 * put in the environment: the Job sets it). Neither: the whole sweep, 1/1.
 */
export function shardOf(arg: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (arg !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(arg.trim());
    const index = Number(m?.[1]);
    const count = Number(m?.[2]);
    if (m === null || count < 1 || index < 1 || index > count) {
      throw new UsageError(`--shard ${arg}: expected i/n with 1 <= i <= n, e.g. --shard 2/4`);
    }
    return { index, count };
  }
  const k8sIndex = env.JOB_COMPLETION_INDEX;
  if (k8sIndex === undefined || k8sIndex === '') return { index: 1, count: 1 };
  const completions = env.JOB_COMPLETIONS;
  const index = Number(k8sIndex);
  const count = Number(completions);
  if (!/^\d+$/.test(k8sIndex) || !/^\d+$/.test(completions ?? '') || count < 1 || index >= count) {
    throw new UsageError(
      `JOB_COMPLETION_INDEX=${k8sIndex} needs JOB_COMPLETIONS (the Job's completions) with index < completions, found ${completions === undefined ? 'none' : `'${completions}'`}`,
      ["set JOB_COMPLETIONS in the Job's env to its spec.completions, or pass --shard i/n"],
    );
  }
  return { index: index + 1, count };
}

/** Shard i of n takes runs i-1, i-1+n, ...: every run in exactly one shard, sizes within one. */
export function runsOfShard(runs: PlannedRun[], shard: Shard): PlannedRun[] {
  return runs.filter((r) => r.index % shard.count === shard.index - 1);
}

/** Identifies a matrix: shards agree on it, and merge refuses to join different ones. */
export function matrixFingerprint(parts: {
  scenarioText: string;
  axes: Axis[];
  repeat: number;
  baseSeed: number;
  durationNs: number | null;
}): string {
  const h = createHash('sha256');
  h.update(
    JSON.stringify({
      text: parts.scenarioText,
      axes: parts.axes.map((a) => [a.key, a.values]),
      repeat: parts.repeat,
      seed: parts.baseSeed,
      duration: parts.durationNs,
    }),
  );
  return h.digest('hex').slice(0, 16);
}
