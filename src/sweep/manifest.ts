/** The files a sweep writes next to its runs, read back by `qoslab merge`. */
import type { RunStatus } from '../record/summary.js';

/** `<out>/sweep.json`: the whole matrix, the same from every shard. */
export interface SweepManifest {
  format: 1;
  kind: 'qoslab-sweep';
  scenario: string;
  /** Hash of the scenario text, axes, repetitions, seed and duration. */
  fingerprint: string;
  axes: { key: string; values: string[] }[];
  repeat: number;
  base_seed: number;
  duration_ns: number;
  cells: { index: number; id: string; params: Record<string, string> }[];
  runs_total: number;
}

/** One run a shard made (or tried). */
export interface ShardRun {
  index: number;
  cell: string;
  rep: number;
  seed: number;
  /** Relative to the sweep folder: `<cell>/rep-<r>`. */
  dir: string;
  exit_code: number | null;
  status: RunStatus;
  error: string | null;
}

/** `<out>/shard-<i>-of-<n>.json`: what one shard ran, updated after each run. */
export interface ShardManifest {
  format: 1;
  fingerprint: string;
  shard: { index: number; count: number };
  runs: ShardRun[];
}
