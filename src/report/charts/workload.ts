/** Per-workload charts: one-way latency over time, and its distribution per phase. */
import type { RecvEvent } from '../../record/events.js';
import { phaseAt, phaseNames } from '../../metrics/phases.js';
import type { Phase } from '../../record/summary.js';
import { align, cdfPoints, envelope } from './sample.js';
import type { ChartSpec } from './spec.js';

/** Scatter points per direction; beyond this the envelope of each time bucket is kept. */
const MAX_POINTS = 4000;
/** Latencies are drawn on a log axis, which has no zero. */
const FLOOR_MS = 0.001;

const ms = (ns: number) => Math.max(FLOOR_MS, ns / 1e6);

/** `endS`: the run's end, so every time chart spans the same x range. */
export function latencyOverTime(
  id: string,
  name: string,
  recvs: RecvEvent[],
  endS: number,
): ChartSpec {
  const dirs = (['up', 'down'] as const).filter((d) => recvs.some((r) => r.dir === d));
  const per = dirs.map((d) =>
    envelope(
      recvs
        .filter((r) => r.dir === d)
        .map((r): [number, number] => [r.sent / 1e9, ms(r.t - r.sent)]),
      MAX_POINTS,
    ),
  );
  const { x, ys } = align(per);
  return {
    id,
    title: `${name}: one-way latency by send time`,
    x,
    xLabel: 'time (s)',
    xTime: true,
    xLog: false,
    xRange: [0, Math.max(endS, ...x)],
    yLabel: 'latency (ms)',
    yLog: true,
    yRange: null,
    series: dirs.map((d, i) => ({
      label: d === 'up' ? 'up (client→server)' : 'down (server→client)',
      values: ys[i]!,
      style: 'points',
    })),
  };
}

/** Both directions pooled; a message belongs to the phase it was sent in (as in summarize). */
export function latencyCdf(
  id: string,
  name: string,
  recvs: RecvEvent[],
  phases: Phase[],
): ChartSpec {
  const names = phaseNames(phases).filter((p) => recvs.some((r) => phaseAt(phases, r.sent) === p));
  const per = names.map((p) =>
    cdfPoints(recvs.filter((r) => phaseAt(phases, r.sent) === p).map((r) => ms(r.t - r.sent))).map(
      ([v, f]): [number, number] => [v, f * 100],
    ),
  );
  const { x, ys } = align(per);
  return {
    id,
    title: `${name}: latency distribution per phase`,
    x,
    xLabel: 'one-way latency (ms)',
    xTime: false,
    xLog: true,
    xRange: null,
    yLabel: 'messages ≤ latency (%)',
    yLog: false,
    yRange: [0, 100],
    series: names.map((p, i) => ({ label: p, values: ys[i]!, style: 'line' })),
  };
}
