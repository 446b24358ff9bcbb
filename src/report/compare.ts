/**
 * Two runs side by side: for every workload × phase either run has, each metric of the
 * pooled (both directions) numbers, B − A, and B / A. Runs of different scenarios compare
 * too: what only one side has shows as missing on the other.
 */
import { flowScope, measureFlow } from '../metrics/flows.js';
import { pooled } from '../metrics/summarize.js';
import { fmtDuration, fmtRate, fmtRatio, table } from '../record/format.js';
import type { RunSummary, WorkloadStats } from '../record/summary.js';

export type MetricKind = 'ratio' | 'duration' | 'rate' | 'score' | 'count';

interface Metric {
  name: string;
  kind: MetricKind;
  value: (w: WorkloadStats, phase: string | null) => number | null;
}

const both = (w: WorkloadStats, p: string | null) => pooled(w, p)?.both;
const scope = (w: WorkloadStats, p: string | null) => pooled(w, p)?.scope;

export const METRICS: Metric[] = [
  { name: 'sent', kind: 'count', value: (w, p) => both(w, p)?.sent ?? null },
  { name: 'delivery', kind: 'ratio', value: (w, p) => both(w, p)?.delivery ?? null },
  { name: 'latency.p50', kind: 'duration', value: (w, p) => both(w, p)?.latency.p50 ?? null },
  { name: 'latency.p95', kind: 'duration', value: (w, p) => both(w, p)?.latency.p95 ?? null },
  { name: 'latency.p99', kind: 'duration', value: (w, p) => both(w, p)?.latency.p99 ?? null },
  { name: 'latency.max', kind: 'duration', value: (w, p) => both(w, p)?.latency.max ?? null },
  { name: 'goodput', kind: 'rate', value: (w, p) => both(w, p)?.goodput_bps ?? null },
  { name: 'connect.p50', kind: 'duration', value: (w, p) => scope(w, p)?.connect.p50 ?? null },
  {
    name: 'loss',
    kind: 'ratio',
    value: (w, p) => {
      const b = both(w, p);
      if (b === undefined) return null;
      return b.voice?.loss ?? (b.delivery === null ? null : 1 - b.delivery);
    },
  },
  { name: 'jitter', kind: 'duration', value: (w, p) => both(w, p)?.voice?.jitter_ns ?? null },
  { name: 'mos', kind: 'score', value: (w, p) => both(w, p)?.voice?.mos ?? null },
  {
    name: 'video.fps',
    kind: 'score', // a plain number, shown with two decimals
    value: (w, p) => both(w, p)?.rtc?.video?.video?.frames_per_second ?? null,
  },
  { name: 'reconnects', kind: 'count', value: (w, p) => scope(w, p)?.reconnects ?? null },
  { name: 'failures', kind: 'count', value: (w, p) => scope(w, p)?.failures ?? null },
  // What the user lived with (workloads with a session).
  {
    name: 'setup.success',
    kind: 'ratio',
    value: (w, p) => scope(w, p)?.session?.setup.success ?? null,
  },
  { name: 'setup.p50', kind: 'duration', value: (w, p) => scope(w, p)?.session?.setup.p50 ?? null },
  {
    name: 'recover.p50',
    kind: 'duration',
    value: (w, p) => scope(w, p)?.session?.recover.p50 ?? null,
  },
  { name: 'connecting', kind: 'ratio', value: (w, p) => scope(w, p)?.session?.connecting ?? null },
  { name: 'retries', kind: 'count', value: (w, p) => scope(w, p)?.session?.retries ?? null },
];

/**
 * What the core metered of each workload's flows (`flows` of summary.json), by the same
 * names as the expectations; `flows.tls.p50` is the flows' own TLS time.
 */
export const FLOW_METRICS: { name: string; metric: string; kind: MetricKind }[] = [
  { name: 'flows.opened', metric: 'flows.opened', kind: 'count' },
  { name: 'flows.goodput', metric: 'flows.goodput', kind: 'rate' },
  { name: 'tcp.handshake.p50', metric: 'tcp.handshake.p50', kind: 'duration' },
  { name: 'flows.tls.p50', metric: 'tls.p50', kind: 'duration' },
  { name: 'rtt.mean', metric: 'rtt.mean', kind: 'duration' },
  { name: 'retransmits', metric: 'retransmits', kind: 'count' },
  { name: 'stalls', metric: 'stalls', kind: 'count' },
  { name: 'resets', metric: 'resets', kind: 'count' },
  { name: 'rtp.loss', metric: 'rtp.loss', kind: 'ratio' },
];

export interface CompareRow {
  workload: string;
  /** null: the whole run. */
  phase: string | null;
  metric: string;
  kind: MetricKind;
  a: number | null;
  b: number | null;
  /** b − a; null when either is missing. */
  delta: number | null;
  /** b / a; null when either is missing or a is 0. */
  ratio: number | null;
}

/** A side of the comparison: which run, and whether it ran to its end. */
export interface CompareSide {
  dir: string;
  scenario: string;
  status: RunSummary['status'];
  observed_ns: number;
  duration_ns: number;
}

export interface Comparison {
  a: CompareSide;
  b: CompareSide;
  rows: CompareRow[];
}

function side(dir: string, s: RunSummary): CompareSide {
  return {
    dir,
    scenario: s.scenario,
    status: s.status,
    observed_ns: s.observed_ns,
    duration_ns: s.duration_ns,
  };
}

/**
 * The header line of a side. A run that did not complete measured only part of its
 * length; said nowhere, its rows read as a whole run's against the other.
 */
function sideLine(label: string, x: CompareSide): string {
  const cut =
    x.status === 'completed'
      ? ''
      : `; ${x.status}, observed ${fmtDuration(x.observed_ns)} of ${fmtDuration(x.duration_ns)}`;
  return `${label}: ${x.dir} (${x.scenario}${cut})`;
}

function union<T>(a: T[], b: T[]): T[] {
  return [...new Set([...a, ...b])];
}

export function compareSummaries(
  a: RunSummary,
  b: RunSummary,
  dirs: { a: string; b: string } = { a: 'A', b: 'B' },
): Comparison {
  const rows: CompareRow[] = [];
  const flowGroups = (s: RunSummary) => s.flows?.workloads.map((g) => g.name) ?? [];
  const names = union(
    union(
      a.workloads.map((w) => w.name),
      b.workloads.map((w) => w.name),
    ),
    union(flowGroups(a), flowGroups(b)),
  );
  for (const name of names) {
    const wa = a.workloads.find((w) => w.name === name);
    const wb = b.workloads.find((w) => w.name === name);
    const scopes = (s: RunSummary) =>
      s.flows?.workloads.find((g) => g.name === name)?.scopes.map((x) => x.phase) ?? [];
    const phases = union(
      union(wa?.scopes.map((s) => s.phase) ?? [], wb?.scopes.map((s) => s.phase) ?? []),
      union(scopes(a), scopes(b)),
    );
    // The whole run last, as in the run's own table.
    phases.sort((x, y) => Number(x === null) - Number(y === null));
    const push = (
      phase: string | null,
      metric: string,
      kind: MetricKind,
      va: number | null,
      vb: number | null,
    ) => {
      // A metric neither run measured (MOS of a chat) is noise in the table.
      if (va === null && vb === null) return;
      rows.push({
        workload: name,
        phase,
        metric,
        kind,
        a: va,
        b: vb,
        delta: va === null || vb === null ? null : vb - va,
        ratio: va === null || vb === null || va === 0 ? null : vb / va,
      });
    };
    for (const phase of phases) {
      for (const m of METRICS) {
        push(phase, m.name, m.kind, wa ? m.value(wa, phase) : null, wb ? m.value(wb, phase) : null);
      }
      for (const m of FLOW_METRICS) {
        const va = measureFlow(m.metric, flowScope(a.flows, name, phase));
        const vb = measureFlow(m.metric, flowScope(b.flows, name, phase));
        push(phase, m.name, m.kind, va, vb);
      }
    }
  }
  return { a: side(dirs.a, a), b: side(dirs.b, b), rows };
}

function fmtValue(kind: MetricKind, v: number | null): string {
  if (v === null) return '-';
  switch (kind) {
    case 'ratio':
      return fmtRatio(v);
    case 'duration':
      return fmtDuration(v);
    case 'rate':
      return fmtRate(v);
    case 'score':
      return v.toFixed(2);
    case 'count':
      return String(v);
  }
}

/** A signed delta in the metric's unit: ratios in percentage points. */
export function fmtDelta(kind: MetricKind, d: number | null): string {
  if (d === null) return '-';
  const sign = d > 0 ? '+' : d < 0 ? '-' : '±';
  const m = Math.abs(d);
  switch (kind) {
    case 'ratio':
      return `${sign}${(m * 100).toFixed(1)} pp`;
    case 'duration':
      return `${sign}${fmtDuration(m)}`;
    case 'rate':
      return `${sign}${fmtRate(m)}`;
    case 'score':
      return `${sign}${m.toFixed(2)}`;
    case 'count':
      return `${sign}${m}`;
  }
}

export function compareTable(c: Comparison): string {
  const head = ['WORKLOAD', 'PHASE', 'METRIC', 'A', 'B', 'DELTA', 'B/A'];
  const rows = c.rows.map((r) => [
    r.workload,
    r.phase ?? '(all)',
    r.metric,
    fmtValue(r.kind, r.a),
    fmtValue(r.kind, r.b),
    fmtDelta(r.kind, r.delta),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
  ]);
  // table() left-aligns two columns; the metric name is text too, so pad it by hand.
  const width = Math.max(...[head, ...rows].map((r) => r[2]!.length));
  const text = table(
    [head, ...rows].map((r) => [r[0]!, r[1]!, r[2]!.padEnd(width), ...r.slice(3)]),
  );
  return `${sideLine('A', c.a)}\n${sideLine('B', c.b)}\n\n${text}`;
}
