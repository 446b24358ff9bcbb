import type { CompiledExpectation } from '../scenario/compiled.js';
import { FLOW_METRICS } from '../scenario/expect.js';
import type { FlowsSummary } from '../record/flows.js';
import type { ExpectationResult, WorkloadStats } from '../record/summary.js';
import { flowScope, measureFlow } from './flows.js';
import { pooled } from './summarize.js';

/**
 * The value an expectation's metric names, from the pooled numbers of its scope (or,
 * for flow metrics, from its flows).
 */
export function measure(
  e: CompiledExpectation,
  stats: WorkloadStats[],
  flows?: FlowsSummary,
): number | null {
  if (FLOW_METRICS.has(e.metric)) {
    return measureFlow(e.metric, flowScope(flows, e.workload, e.phase));
  }
  const w = stats.find((s) => s.name === e.workload);
  const p = w === undefined ? undefined : pooled(w, e.phase);
  if (p === undefined) return null;
  const { scope, both } = p;
  if (e.metric.startsWith('latency.')) {
    const q = e.metric.slice('latency.'.length) as keyof typeof both.latency;
    return both.latency[q] ?? null;
  }
  switch (e.metric) {
    case 'delivery':
      return both.delivery;
    case 'goodput':
      return both.goodput_bps;
    case 'connect.p50':
      return scope.connect.p50;
    case 'tls.p50':
      // The agent's TLS time; a workload whose agent times none (a command): its flows'.
      return scope.tls.count > 0
        ? scope.tls.p50
        : measureFlow('tls.p50', flowScope(flows, e.workload, e.phase));
    case 'dns.p50':
      return scope.dns?.p50 ?? null;
    case 'loss':
      return both.voice?.loss ?? (both.delivery === null ? null : 1 - both.delivery);
    case 'jitter':
      return both.voice?.jitter_ns ?? null;
    case 'mos':
      return both.voice?.mos ?? null;
    case 'reconnects':
      return scope.reconnects;
    case 'stall.bytes':
      return scope.stalled.p50_bytes;
    case 'video.fps':
      return both.rtc?.video?.video?.frames_per_second ?? null;
    case 'setup.success':
      return scope.session?.setup.success ?? null;
    case 'setup.p50':
      return scope.session?.setup.p50 ?? null;
    case 'setup.p95':
      return scope.session?.setup.p95 ?? null;
    case 'recover.p50':
      return scope.session?.recover.p50 ?? null;
    case 'recover.max':
      return scope.session?.recover.max ?? null;
    case 'connecting':
      return scope.session?.connecting ?? null;
    case 'detects':
      return scope.session?.detects ?? null;
    case 'retries':
      return scope.session?.retries ?? null;
    case 'failed':
      return both.gave_up === undefined || both.counted === 0 ? null : both.gave_up / both.counted;
    default:
      return null;
  }
}

export function holds(measured: number, op: CompiledExpectation['op'], value: number): boolean {
  switch (op) {
    case '<':
      return measured < value;
    case '<=':
      return measured <= value;
    case '>':
      return measured > value;
    case '>=':
      return measured >= value;
    case '==':
      return measured === value;
  }
}

/** Nothing measured never satisfies an expectation. */
export function checkExpectations(
  expectations: CompiledExpectation[],
  stats: WorkloadStats[],
  flows?: FlowsSummary,
): ExpectationResult[] {
  return expectations.map((e) => {
    const measured = measure(e, stats, flows);
    return {
      text: e.text,
      ok: measured !== null && holds(measured, e.op, e.value),
      outcome: measured !== null && holds(measured, e.op, e.value) ? 'ok' : 'fail',
      measured,
      expected: e.value,
      op: e.op,
      kind: e.kind,
      phase: e.phase,
    };
  });
}
