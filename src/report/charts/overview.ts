/** Charts across workloads: delivery and MOS per phase, goodput over time, datapath rates. */
import type { RecvEvent } from '../../record/events.js';
import { pooled } from '../../metrics/summarize.js';
import type { Phase, WorkloadStats } from '../../record/summary.js';
import type { CompiledWorkload } from '../../scenario/compiled.js';
import { measuresVoice } from '../../scenario/protocols/index.js';
import { niceStep } from './sample.js';
import type { ChartSpec, SeriesSpec } from './spec.js';

/** Goodput is drawn on a log axis (a bulk download and a chat differ by 10^5); 0 sits here. */
export const GOODPUT_FLOOR_KBPS = 0.1;

/** The phases as far as the run covered them (an interrupted run ends inside one). */
export function coveredPhases(phases: Phase[], coveredNs: number): Phase[] {
  return phases
    .filter((p) => p.start < coveredNs)
    .map((p) => ({ ...p, end: Math.min(p.end, coveredNs) }));
}

/**
 * A per-phase number as a step line over time: one value held across each phase period,
 * so the chart lines up with the time charts and their phase bands. Only the time the run
 * covered is drawn.
 */
function perPhase(
  id: string,
  title: string,
  yLabel: string,
  yRange: [number, number],
  allPhases: Phase[],
  coveredNs: number,
  series: { label: string; value: (phase: string) => number | null }[],
): ChartSpec {
  const covered = coveredPhases(allPhases, coveredNs);
  const phases = covered.length > 0 ? covered : allPhases;
  const x = [...phases.map((p) => p.start / 1e9), phases[phases.length - 1]!.end / 1e9];
  return {
    id,
    title,
    x,
    xLabel: 'time (s)',
    xTime: true,
    xLog: false,
    xRange: [0, x[x.length - 1]!],
    yLabel,
    yLog: false,
    yRange,
    series: series.map((s): SeriesSpec => {
      const values = phases.map((p) => s.value(p.name));
      return {
        label: s.label,
        values: [...values, values[values.length - 1] ?? null],
        style: 'step',
      };
    }),
  };
}

export function deliveryPerPhase(
  stats: WorkloadStats[],
  phases: Phase[],
  coveredNs: number,
): ChartSpec {
  return perPhase(
    'delivery',
    'Delivery within the deadline, per phase',
    'delivered (%)',
    [0, 100],
    phases,
    coveredNs,
    stats.map((w) => ({
      label: w.name,
      value: (p) => {
        const d = pooled(w, p)?.both.delivery;
        return d === null || d === undefined ? null : d * 100;
      },
    })),
  );
}

/** Null when the run has no voice workload. */
export function mosPerPhase(
  stats: WorkloadStats[],
  phases: Phase[],
  coveredNs: number,
): ChartSpec | null {
  const voice = stats.filter((w) => measuresVoice(w.protocol));
  if (voice.length === 0) return null;
  return perPhase(
    'mos',
    'Voice quality (E-model MOS), per phase',
    'MOS',
    [1, 5],
    phases,
    coveredNs,
    voice.map((w) => ({ label: w.name, value: (p) => pooled(w, p)?.both.voice?.mos ?? null })),
  );
}

/**
 * Bytes delivered within the deadline, by arrival time, in bins of a round width over the
 * time the workloads ran (`coveredNs`: the planned length, or less when the run stopped
 * early). Each bin divides by the time it covers, so a last, partial bin is no dip;
 * arrivals after the end (the drain) count in the last bin.
 */
export function goodputOverTime(
  workloads: CompiledWorkload[],
  recvs: RecvEvent[],
  coveredNs: number,
): ChartSpec {
  const end = Math.max(coveredNs, 1e6) / 1e9;
  // Coarse enough that a workload sending every 100 ms to 1 s is not a comb of zeros.
  const step = Math.max(0.5, niceStep(end, 30));
  const bins = Math.max(1, Math.ceil(end / step - 1e-9));
  const width = (i: number) => Math.min(step, end - i * step);
  const x = [...Array(bins).keys()].map((i) => i * step + width(i) / 2);
  const series = workloads.map((w): SeriesSpec => {
    const bytes = new Array<number>(bins).fill(0);
    for (const r of recvs) {
      if (r.w !== w.name || r.t - r.sent > w.deadline_ns) continue;
      bytes[Math.min(bins - 1, Math.floor(r.t / 1e9 / step))]! += r.bytes;
    }
    return {
      label: w.name,
      values: bytes.map((b, i) => Math.max(GOODPUT_FLOOR_KBPS, (b * 8) / width(i) / 1e3)),
      style: 'line',
    };
  });
  return {
    id: 'goodput',
    title: `Goodput over time (${step} s bins; nothing delivered is drawn at ${GOODPUT_FLOOR_KBPS} kbit/s)`,
    x,
    xLabel: 'time (s)',
    xTime: true,
    xLog: false,
    xRange: [0, end],
    yLabel: 'goodput (kbit/s)',
    yLog: true,
    yRange: null,
    series,
  };
}
