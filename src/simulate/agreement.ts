/**
 * How the twin is held to the lab (test/simulate/agreement.test.ts): the numbers of each
 * workload and phase both sides compare, and the bounds within which they must agree.
 * bench/agreement-lab.js records the lab's side with the same rows.
 */
import type { WorkloadStats } from '../record/summary.js';

export interface AgreementRow {
  workload: string;
  /** null: the whole run. */
  phase: string | null;
  sent: number;
  counted: number;
  delivery: number | null;
  p50_ns: number | null;
  p99_ns: number | null;
  goodput_bps: number | null;
  loss: number | null;
  mos: number | null;
  connect_p50_ns: number | null;
  failures: number;
}

/** The pooled numbers of each workload in each scope (as `run` prints them). */
export function agreementRows(workloads: WorkloadStats[]): AgreementRow[] {
  const rows: AgreementRow[] = [];
  for (const w of workloads) {
    for (const scope of w.scopes) {
      const both = scope.directions.find((d) => d.dir === 'both');
      if (both === undefined) continue;
      rows.push({
        workload: w.name,
        phase: scope.phase,
        sent: both.sent,
        counted: both.counted,
        delivery: both.delivery,
        p50_ns: both.latency.p50,
        p99_ns: both.latency.p99,
        goodput_bps: both.goodput_bps,
        loss: both.voice?.loss ?? null,
        mos: both.voice?.mos ?? null,
        connect_p50_ns: scope.connect.p50,
        failures: scope.failures,
      });
    }
  }
  return rows;
}

/** The metrics compared, and how: a difference in points, or a ratio. */
export const BOUNDS = {
  /** Delivery within 2 percentage points. */
  delivery: { points: 0.02 },
  /** Median one-way latency within ±15 %. */
  p50_ns: { ratio: 0.15 },
  /** Goodput within ±15 %. */
  goodput_bps: { ratio: 0.15 },
  /** Voice and call loss within 3 percentage points. */
  loss: { points: 0.03 },
} as const;

export type AgreementMetric = keyof typeof BOUNDS;
export const AGREEMENT_METRICS = Object.keys(BOUNDS) as AgreementMetric[];

/**
 * Whether the twin's value agrees with the lab's: within the metric's bound of the lab's
 * median, or inside the range the lab itself measured over its repetitions (the lab is
 * not more exact than its own spread). Nothing measured agrees only with nothing measured.
 */
export function agrees(
  metric: AgreementMetric,
  sim: number | null,
  lab: { median: number | null; min: number | null; max: number | null },
): boolean {
  if (sim === null || lab.median === null) return sim === lab.median;
  if (lab.min !== null && lab.max !== null && sim >= lab.min && sim <= lab.max) return true;
  const bound = BOUNDS[metric];
  if ('points' in bound) return Math.abs(sim - lab.median) <= bound.points;
  if (lab.median === 0) return sim === 0;
  return Math.abs(sim / lab.median - 1) <= bound.ratio;
}
