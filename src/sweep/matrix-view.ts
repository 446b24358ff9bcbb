/**
 * A merged sweep as numbers: per run, workload and phase the headline metrics; per cell
 * their median and spread over the repetitions; and the matrix view, a metric against
 * the parameters (rows: the first axes, columns: the last axis's values).
 */
import type { RunSummary } from '../record/summary.js';
import { fmtDuration, fmtRate, fmtRatio } from '../record/format.js';
import type { Merged, MergedRun } from './merge.js';

export interface MetricDef {
  key: string;
  label: string;
  format: (v: number | null) => string;
  pick: (
    both: RunSummary['workloads'][number]['scopes'][number]['directions'][number],
  ) => number | null;
}

export const METRICS: MetricDef[] = [
  { key: 'delivery', label: 'delivery', format: fmtRatio, pick: (b) => b.delivery },
  { key: 'latency_p50_ns', label: 'latency p50', format: fmtDuration, pick: (b) => b.latency.p50 },
  { key: 'latency_p95_ns', label: 'latency p95', format: fmtDuration, pick: (b) => b.latency.p95 },
  { key: 'latency_p99_ns', label: 'latency p99', format: fmtDuration, pick: (b) => b.latency.p99 },
  { key: 'goodput_bps', label: 'goodput', format: fmtRate, pick: (b) => b.goodput_bps },
  { key: 'voice_loss', label: 'voice loss', format: fmtRatio, pick: (b) => b.voice?.loss ?? null },
  {
    key: 'mos',
    label: 'MOS',
    format: (v) => (v === null ? '-' : v.toFixed(2)),
    pick: (b) => b.voice?.mos ?? null,
  },
];

/** One run, workload and scope (phase, or null for the whole run): every metric. */
export interface RunRow {
  run: MergedRun;
  workload: string;
  phase: string | null;
  values: Record<string, number | null>;
}

export function runRows(merged: Merged): RunRow[] {
  const rows: RunRow[] = [];
  for (const run of merged.runs) {
    for (const w of run.summary.workloads) {
      for (const scope of w.scopes) {
        const both = scope.directions.find((d) => d.dir === 'both');
        if (both === undefined) continue;
        const values: Record<string, number | null> = {};
        for (const m of METRICS) values[m.key] = m.pick(both);
        rows.push({ run, workload: w.name, phase: scope.phase, values });
      }
    }
  }
  return rows;
}

export interface Spread {
  n: number;
  median: number | null;
  min: number | null;
  max: number | null;
}

export function spread(values: (number | null)[]): Spread {
  const v = values
    .filter((x): x is number => x !== null && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (v.length === 0) return { n: 0, median: null, min: null, max: null };
  const mid = Math.floor(v.length / 2);
  const median = v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return { n: v.length, median, min: v[0]!, max: v.at(-1)! };
}

/** The workloads and scopes present in any run, in first-seen order. */
export function seriesOf(rows: RunRow[]): { workload: string; phase: string | null }[] {
  const seen = new Map<string, { workload: string; phase: string | null }>();
  for (const r of rows)
    seen.set(`${r.workload}\u0000${r.phase}`, { workload: r.workload, phase: r.phase });
  return [...seen.values()];
}

/**
 * A cell of the matrix: the spread of the runs that measured the metric, the runs that
 * were found but had no value for it, and the runs that are missing.
 */
export type MatrixCell = Spread & { unmeasured: number; missing: number };

export interface Pivot {
  /** Axis keys that label the rows (all but the last). */
  rowKeys: string[];
  /** The last axis's key, or null with no axes. */
  columnKey: string | null;
  columns: string[];
  rows: { labels: string[]; cells: MatrixCell[] }[];
}

/** Metric `metric` of `workload`/`phase` against the parameters, spread over repetitions. */
export function pivot(
  merged: Merged,
  rows: RunRow[],
  workload: string,
  phase: string | null,
  metric: string,
): Pivot {
  const axes = merged.manifest.axes;
  const last = axes.at(-1);
  const rowKeys = axes.slice(0, -1).map((a) => a.key);
  const columns = last?.values ?? ['(scenario)'];
  const out: Pivot = { rowKeys, columnKey: last?.key ?? null, columns, rows: [] };
  const byLabel = new Map<string, Pivot['rows'][number]>();
  for (const cell of merged.manifest.cells) {
    const labels = rowKeys.map((k) => cell.params[k]!);
    const label = labels.join('\u0000');
    let row = byLabel.get(label);
    if (row === undefined) {
      row = { labels, cells: columns.map(() => ({ ...spread([]), unmeasured: 0, missing: 0 })) };
      byLabel.set(label, row);
      out.rows.push(row);
    }
    const col = last === undefined ? 0 : columns.indexOf(cell.params[last.key]!);
    const values = rows
      .filter((r) => r.run.cell === cell.id && r.workload === workload && r.phase === phase)
      .map((r) => r.values[metric] ?? null);
    const missing = merged.missing.filter((m) => m.cell === cell.id).length;
    const found = merged.runs.filter((r) => r.cell === cell.id).length;
    const s = spread(values);
    row.cells[col] = { ...s, unmeasured: found - s.n, missing };
  }
  return out;
}

/**
 * Median (min..max) of the runs that measured the metric, and how many did not: a run
 * whose workload measured nothing would otherwise vanish into the others' median.
 */
export function formatSpread(s: MatrixCell, format: MetricDef['format']): string {
  if (s.n === 0) return s.missing > 0 ? 'missing' : '-';
  const range = s.n > 1 ? ` (${format(s.min)}..${format(s.max)})` : '';
  const unmeasured = s.unmeasured > 0 ? ` +${s.unmeasured} unmeasured` : '';
  return `${format(s.median)}${range}${unmeasured}${s.missing > 0 ? ` +${s.missing} missing` : ''}`;
}
