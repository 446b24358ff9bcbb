import { percentiles } from '../metrics/histogram.js';
import type { SimulationPacket } from '../native/index.js';
import type { CompiledConfig } from '../scenario/compiled.js';
import type { SimFlow } from './traffic.js';

/** One packet's fate from the simulator: [flow index, direction, sent at, size, delivered at]. */
export type SimPacket = SimulationPacket;

export interface SimRow {
  workload: string;
  phase: string;
  direction: 'up' | 'down';
  sent: number;
  delivered: number;
  /**
   * delivered / sent packets, 0..1 — for UDP workloads only. Null when nothing was sent,
   * and for TCP workloads: the simulator has no retransmission, so a lost packet there is
   * not a lost message (`qoslab run` measures their delivery).
   */
  deliveredRatio: number | null;
  /** The workload's transport; `tcp` rows carry no delivery figure. */
  transport: 'tcp' | 'udp';
  /** Time through the lab of delivered packets, ms (null when none was delivered). */
  delayP50Ms: number | null;
  delayP99Ms: number | null;
  /** Delivered bits per second over the part of the phase the workload was running. */
  throughputBps: number;
}

interface PhaseSpan {
  phase: string;
  from: number;
  to: number;
}

function phaseSpans(config: CompiledConfig): PhaseSpan[] {
  const entries = [...config.timeline].sort((a, b) => a.at_ns - b.at_ns);
  if (entries.length === 0) return [{ phase: 'main', from: 0, to: config.duration_ns }];
  const spans: PhaseSpan[] = [];
  if (entries[0]!.at_ns > 0) spans.push({ phase: 'start', from: 0, to: entries[0]!.at_ns });
  entries.forEach((e, i) =>
    spans.push({ phase: e.phase, from: e.at_ns, to: entries[i + 1]?.at_ns ?? config.duration_ns }),
  );
  return spans.filter((s) => s.to > s.from);
}

/**
 * Per workload, phase and direction: what the simulated packets met. A packet belongs to
 * the phase in force when it was sent, as a user's message would. `flows`: the traffic
 * the packets came from, one flow per workload (its transport is the row's).
 */
export function summarise(
  config: CompiledConfig,
  flows: readonly Pick<SimFlow, 'proto'>[],
  packets: SimPacket[],
): SimRow[] {
  const spans = phaseSpans(config);
  const phaseAt = (t: number) =>
    spans.find((s) => t >= s.from && t < s.to)?.phase ?? spans.at(-1)!.phase;
  const groups = new Map<
    string,
    { sent: number; delivered: number; bytes: number; delays: number[] }
  >();
  const key = (w: number, phase: string, dir: string) => `${w}\u0000${phase}\u0000${dir}`;
  for (const [flow, dir, sentAt, size, deliveredAt] of packets) {
    const k = key(flow, phaseAt(sentAt), dir);
    let g = groups.get(k);
    if (g === undefined) groups.set(k, (g = { sent: 0, delivered: 0, bytes: 0, delays: [] }));
    g.sent++;
    if (deliveredAt !== null) {
      g.delivered++;
      g.bytes += size;
      g.delays.push(deliveredAt - sentAt);
    }
  }
  const rows: SimRow[] = [];
  // A phase named twice is two periods of one phase: one row, over the time of both.
  const phases = [...new Set(spans.map((s) => s.phase))];
  config.workloads.forEach((w, index) => {
    const tcp = flows[index]?.proto !== 'udp';
    for (const phase of phases) {
      for (const direction of ['up', 'down'] as const) {
        const g = groups.get(key(index, phase, direction));
        if (g === undefined) continue;
        const delay = percentiles(g.delays);
        const activeNs = spans
          .filter((span) => span.phase === phase)
          .reduce(
            (sum, span) =>
              sum +
              Math.max(
                0,
                Math.min(span.to, w.stop_ns, config.duration_ns) - Math.max(span.from, w.start_ns),
              ),
            0,
          );
        const ms = (ns: number | null) => (ns === null ? null : ns / 1e6);
        rows.push({
          workload: w.name,
          phase,
          direction,
          sent: g.sent,
          delivered: g.delivered,
          deliveredRatio: tcp || g.sent === 0 ? null : g.delivered / g.sent,
          transport: tcp ? 'tcp' : 'udp',
          delayP50Ms: ms(delay.p50),
          delayP99Ms: ms(delay.p99),
          throughputBps: activeNs > 0 ? (g.bytes * 8 * 1e9) / activeNs : 0,
        });
      }
    }
  });
  return rows;
}
