/** How numbers, tables and expectation results read on a terminal, in reports and in CSV. */
import type { FlowGroupStats, FlowScopeStats, FlowsSummary } from './flows.js';
import type { ExpectationResult, RunSummary, WorkloadStats } from './summary.js';

export function fmtDuration(ns: number | null | undefined): string {
  if (ns === null || ns === undefined) return '-';
  if (ns >= 10e9) return `${(ns / 1e9).toFixed(1)} s`;
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(1)} ms`;
  return `${(ns / 1e3).toFixed(0)} us`;
}

export function fmtRate(bps: number | null | undefined): string {
  if (bps === null || bps === undefined) return '-';
  if (bps >= 1e6) return `${(bps / 1e6).toFixed(2)} Mbit/s`;
  if (bps >= 1e3) return `${(bps / 1e3).toFixed(1)} kbit/s`;
  return `${bps.toFixed(0)} bit/s`;
}

/**
 * A ratio in percent, one decimal; `100%` and `0%` only for exactly all and none. Rounded
 * to one decimal, one message lost in 2500 read 100% (and `delivery >= 100%` failed
 * "measured 100%"), so a value that would read as all or none gets the decimals it needs.
 */
export function fmtRatio(r: number | null | undefined): string {
  if (r === null || r === undefined) return '-';
  if (r === 0 || r === 1) return `${r * 100}%`;
  const pct = r * 100;
  let digits = 1;
  while (digits < 10 && /^(0|100)\.0+$/.test(pct.toFixed(digits))) digits++;
  return `${pct.toFixed(digits)}%`;
}

/**
 * Delivery of a scope. Messages are judged only once their deadline has passed while the
 * run still watched; when none was (a run shorter than a chat's deadline), delivery is
 * unknown although arrivals and their latencies are: say so instead of a bare dash.
 */
export function fmtDelivery(d: { delivery: number | null; sent: number }): string {
  return d.delivery === null && d.sent > 0 ? 'unjudged' : fmtRatio(d.delivery);
}

/** Right-aligned columns after the first two; plain text, so it also reads well in CI logs. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * One row per workload and scope (both directions pooled; voice quality of the worse
 * one). JUDGED: the messages whose deadline passed while the run watched, which DELIVERED
 * is the share of; the last ones sent are not (a 15 s deadline leaves the last 15 s
 * unjudged), so SENT alone overstated what the share was of. `extra`: a last column, one
 * cell per workload (simulate's NOT MODELLED).
 */
export function summaryTable(
  stats: WorkloadStats[],
  extra?: { header: string; cell: (workload: string) => string },
): string {
  const rows: string[][] = [
    [
      'WORKLOAD',
      'PHASE',
      'SENT',
      'JUDGED',
      'DELIVERED',
      'P50',
      'P95',
      'P99',
      'MAX',
      'GOODPUT',
      'CONNECT',
      'RECONN',
      'FAIL',
      'LOSS',
      'JITTER',
      'MOS',
      ...(extra === undefined ? [] : [extra.header]),
    ],
  ];
  for (const w of stats) {
    for (const s of w.scopes) {
      const both = s.directions.find((d) => d.dir === 'both')!;
      rows.push([
        w.name,
        s.phase ?? '(all)',
        String(both.sent),
        String(both.counted),
        fmtDelivery(both),
        fmtDuration(both.latency.p50),
        fmtDuration(both.latency.p95),
        fmtDuration(both.latency.p99),
        fmtDuration(both.latency.max),
        fmtRate(both.goodput_bps),
        fmtDuration(s.connect.p50),
        String(s.reconnects),
        String(s.failures),
        both.voice ? fmtRatio(both.voice.loss) : '-',
        both.voice ? fmtDuration(both.voice.jitter_ns) : '-',
        both.voice ? both.voice.mos.toFixed(2) : '-',
        ...(extra === undefined ? [] : [extra.cell(w.name)]),
      ]);
    }
  }
  return table(rows);
}

/** The groups of flows worth a row: those that saw a flow over the run. */
function flowGroups(flows: FlowsSummary): FlowGroupStats[] {
  const seen = (g: FlowGroupStats) => {
    const all = g.scopes.find((s) => s.phase === null);
    return (
      all !== undefined && (all.opened > 0 || all.goodput_bytes.up + all.goodput_bytes.down > 0)
    );
  };
  return [
    ...flows.workloads.filter(seen),
    ...(seen(flows.unattributed) ? [{ ...flows.unattributed, name: '(other)' }] : []),
  ];
}

/** A flow scope's numbers as both flow tables show them: opened, goodput … stalls. */
export function flowScopeCells(s: FlowScopeStats): string[] {
  return [
    String(s.opened),
    fmtRate(s.goodput_bps?.up),
    fmtRate(s.goodput_bps?.down),
    fmtDuration(s.tcp_handshake.p50),
    fmtDuration(s.tls_handshake.p50),
    fmtDuration(s.rtt_mean_ns),
    String(s.retransmits),
    String(s.stalls),
  ];
}

/**
 * What the core metered of each workload's flows (whatever program opened them), per
 * phase: flows opened, goodput each way, handshakes, RTT, retransmissions, stalls,
 * resets, RTP loss and the lab's drops. Empty when no flow was seen.
 */
export function flowsTable(flows: FlowsSummary | undefined): string {
  const groups = flows === undefined ? [] : flowGroups(flows);
  if (groups.length === 0) return '';
  const rows: string[][] = [
    [
      'FLOWS OF',
      'PHASE',
      'OPENED',
      'GOODPUT UP',
      'GOODPUT DOWN',
      'TCP HS P50',
      'TLS P50',
      'RTT',
      'RETRANS',
      'STALLS',
      'RESETS',
      'RTP LOSS',
      'DROPS',
    ],
  ];
  for (const g of groups) {
    for (const s of g.scopes) {
      const resets = s.resets.client + s.resets.server + s.resets.lab;
      const drops = Object.values(s.drops).reduce((a, b) => a + b, 0);
      rows.push([
        g.name,
        s.phase ?? '(all)',
        ...flowScopeCells(s),
        String(resets),
        s.rtp === null ? '-' : fmtRatio(s.rtp.loss),
        String(drops),
      ]);
    }
  }
  return table(rows);
}

/** A value of an expectation's metric, in its unit (`kind`). */
export function fmtExpectValue(kind: ExpectationResult['kind'], value: number): string {
  switch (kind) {
    case 'ratio':
      return fmtRatio(value);
    case 'duration':
      return fmtDuration(value);
    case 'rate':
      return fmtRate(value);
    case 'score':
      return value.toFixed(2);
    case 'size':
      return `${value} B`;
    case 'fps':
      return `${value.toFixed(1)} frames/s`;
    default:
      return String(value);
  }
}

/**
 * A value in its unit to six significant digits: where fmtExpectValue rounds a measured
 * 10.04 ms and a bound of 10 ms alike to "10.0 ms", this reads "10.04 ms" and "10 ms".
 */
export function fmtExactValue(kind: ExpectationResult['kind'], value: number): string {
  const sig = (x: number) => String(Number(x.toPrecision(6)));
  switch (kind) {
    case 'ratio':
      return `${sig(value * 100)}%`;
    case 'duration':
      return `${sig(value / 1e6)} ms`;
    case 'rate':
      return `${sig(value / 1e3)} kbit/s`;
    case 'size':
      return `${sig(value)} B`;
    case 'fps':
      return `${sig(value)} frames/s`;
    default:
      return sig(value);
  }
}

export function fmtMeasured(r: ExpectationResult): string {
  return r.measured === null ? 'nothing measured' : fmtExpectValue(r.kind, r.measured);
}

/** Why an expectation has no verdict, in words, when its result does not say (older runs). */
const UNJUDGED: Record<string, string> = {
  'not measured': 'an agent was not alive for all of it, or the run stopped in it',
  'not reached': 'the run ended before its phase',
};

/** `not measured: the lab stalled 2.25 s at 4.1 s`, or undefined for a judged expectation. */
export function unjudgedText(r: ExpectationResult): string | undefined {
  const outcome = r.outcome ?? (r.ok ? 'ok' : 'fail');
  const generic = UNJUDGED[outcome];
  if (generic === undefined) return undefined;
  return `${outcome}: ${r.cause ?? generic}`;
}

/** `unjudged`: other words for why an outcome has no verdict (simulate's own reasons). */
export function expectationLines(
  results: ExpectationResult[],
  ok: string,
  fail: string,
  unjudged?: Record<string, string>,
): string {
  return results
    .map((r) => {
      const outcome = r.outcome ?? (r.ok ? 'ok' : 'fail');
      const why = unjudged === undefined ? unjudgedText(r) : unjudged[outcome];
      if (why !== undefined) return `--   ${r.text}  (${why})`;
      return `${r.ok ? ok : fail} ${r.text}  (measured ${fmtMeasured(r)})`;
    })
    .join('\n');
}

/**
 * The run's verdict in one line, the same on the terminal, in Markdown and in the report:
 * "all expectations held", "2 expectations failed, 1 not reached", "nothing was judged:
 * 3 not reached".
 */
export function verdictText(
  s: Pick<RunSummary, 'expectations' | 'unjudged' | 'allow_unjudged'>,
): string {
  const count = (o: string) => s.expectations.filter((e) => e.outcome === o).length;
  const failed = s.expectations.filter(
    (e) => e.outcome === 'fail' || (e.outcome === undefined && !e.ok),
  ).length;
  const unmeasured = count('not measured');
  const unreached = count('not reached');
  if (s.expectations.length === 0) return 'no expectations';
  if (failed + unmeasured + unreached === 0) return 'all expectations held';
  const parts = [
    failed > 0 ? `${failed} expectation${failed === 1 ? '' : 's'} failed` : '',
    unmeasured > 0 ? `${unmeasured} not measured` : '',
    unreached > 0 ? `${unreached} not reached` : '',
  ].filter(Boolean);
  if (s.unjudged === true) {
    const allowed = s.allow_unjudged === true ? ' (allowed: --allow-unjudged)' : '';
    return `nothing was judged: ${parts.join(', ')}${allowed}`;
  }
  return parts.join(', ');
}

/** ok/FAIL marks; coloured symbols on a terminal that shows colour. */
export function marks(stream: NodeJS.WritableStream & { isTTY?: boolean }) {
  const colour = stream.isTTY === true && process.env.NO_COLOR === undefined;
  return {
    ok: colour ? '\u001b[32m✔\u001b[0m' : 'ok  ',
    fail: colour ? '\u001b[31m✖\u001b[0m' : 'FAIL',
  };
}

/**
 * Why a failed run failed: its error, else the first agent fault and when (an agent that
 * died leaves no error, and CI outputs said "unknown error").
 */
export function failureText(
  s: Pick<RunSummary, 'error' | 'faults'> & Partial<Pick<RunSummary, 'resource_faults'>>,
): string {
  if (s.error) return s.error;
  if ((s.resource_faults ?? []).length > 0) {
    return `the instrument's own resources failed: ${s.resource_faults!.join('; ')}`;
  }
  const fault = s.faults?.[0];
  return fault ? `${fault.detail} at ${(fault.t / 1e9).toFixed(2)} s` : 'unknown error';
}
