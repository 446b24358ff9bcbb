/** The measured part of the report: metrics per workload and phase, expectations, counters, environment. */
import {
  fmtDelivery,
  fmtDuration,
  fmtMeasured,
  fmtRate,
  fmtRatio,
  unjudgedText,
} from '../record/format.js';
import type { ExpectationResult, WorkloadStats } from '../record/summary.js';
import { USER_HEADER, userRows } from '../record/user-view.js';
import type { DatapathView, StageKind, StageRow } from './datapath.js';
import { htmlTable, type Cell } from './markup.js';

/** The run in its users' terms (../record/user-view.ts); '' without app profiles. */
export function usersTable(stats: WorkloadStats[]): string {
  const rows = userRows(stats);
  if (rows.length === 0) return '';
  return htmlTable(
    USER_HEADER.map((h) => h.toLowerCase()),
    rows,
    2,
  );
}

export function metricsTable(stats: WorkloadStats[]): string {
  const rows: Cell[][] = [];
  for (const w of stats) {
    for (const s of w.scopes) {
      for (const d of s.directions) {
        rows.push([
          w.name,
          s.phase ?? '(all)',
          d.dir,
          d.sent,
          d.counted,
          fmtDelivery(d),
          d.late,
          d.lost,
          fmtDuration(d.latency.p50),
          fmtDuration(d.latency.p95),
          fmtDuration(d.latency.p99),
          fmtDuration(d.latency.max),
          fmtRate(d.goodput_bps),
          d.dir === 'both' ? fmtDuration(s.connect.p50) : '',
          d.dir === 'both' ? s.reconnects : '',
          d.dir === 'both' ? s.failures : '',
          d.voice ? fmtRatio(d.voice.loss) : '-',
          d.voice ? fmtDuration(d.voice.jitter_ns) : '-',
          d.voice ? d.voice.mos.toFixed(2) : '-',
        ]);
      }
    }
  }
  return htmlTable(
    [
      'workload',
      'phase',
      'dir',
      'sent',
      'judged',
      'delivered',
      'late',
      'lost',
      'p50',
      'p95',
      'p99',
      'max',
      'goodput',
      'connect p50',
      'reconn',
      'fail',
      'voice loss',
      'jitter',
      'MOS',
    ],
    rows,
    3,
  );
}

export function expectationsSection(results: ExpectationResult[]): string {
  if (results.length === 0) {
    return '<p class="note">the scenario has no expectations</p>';
  }
  return htmlTable(
    ['', 'expectation', 'measured'],
    results.map((r) => [
      {
        html:
          r.outcome === 'not measured' || r.outcome === 'not reached'
            ? `<span class="note">${r.outcome}</span>`
            : r.ok
              ? '<span class="pass">pass</span>'
              : '<span class="fail">FAIL</span>',
      },
      r.text,
      unjudgedText(r) ?? fmtMeasured(r),
    ]),
    2,
  );
}

const KIND_TITLE: Record<StageKind, string> = {
  forwarder: 'Forwarder (per direction)',
  policy: 'Policies',
  action: 'Actions',
  link: 'Shared links',
};

function stageTable(rows: StageRow[]): string {
  // Only reasons that dropped something somewhere: ten zero columns help no one.
  const reasons = [...new Set(rows.flatMap((r) => Object.keys(r.drops)))].filter((k) =>
    rows.some((r) => (r.drops[k] ?? 0) > 0),
  );
  return htmlTable(
    ['name', 'phase', 'packets', 'bytes', 'dropped', ...reasons.map((r) => `drop: ${r}`)],
    rows.map((r) => [
      r.name,
      r.phase ?? '(all)',
      r.packets,
      r.bytes,
      Object.values(r.drops).reduce((a, b) => a + b, 0),
      ...reasons.map((k) => r.drops[k] ?? 0),
    ]),
    2,
  );
}

export function datapathSection(view: DatapathView, hasChart: boolean): string {
  if (view.samples === 0) return '<p class="note">datapath.ndjson has no counters</p>';
  const parts: string[] = [
    `<p class="note">${view.samples} snapshots, about one a second; a phase's numbers are the difference between the snapshots nearest its ends.</p>`,
  ];
  if (hasChart) parts.push('<div class="chart" id="datapath-rate"></div>');
  for (const kind of ['forwarder', 'policy', 'action', 'link'] as const) {
    const rows = view.stages.filter((r) => r.kind === kind);
    if (rows.length > 0) parts.push(`<h3>${KIND_TITLE[kind]}</h3>${stageTable(rows)}`);
  }
  if (view.classes.length > 0) {
    parts.push(
      `<h3>Classes</h3>${htmlTable(
        ['class', 'flows', 'packets', 'bytes'],
        view.classes.map((c) => [c.name, c.flows, c.packets, c.bytes]),
      )}`,
    );
  }
  if (!view.shaping) {
    parts.push(
      '<p class="note">These counters have no shaping section (this build of the core only forwards): no per-class, per-policy or per-link drops to show.</p>',
    );
  }
  return parts.join('\n');
}

export function envSection(env: Record<string, unknown> | null): string {
  if (env === null) return '<p class="note">no env.json</p>';
  return htmlTable(
    ['', ''],
    Object.entries(env).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    2,
  ).replace('<thead><tr><th></th><th></th></tr></thead>', '');
}
