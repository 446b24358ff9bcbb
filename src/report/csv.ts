/**
 * The summary as CSV, one row per workload × phase × direction, for spreadsheets and
 * pandas. Units are in the column names; an unmeasured value is an empty cell.
 */
import type { RunSummary } from '../record/summary.js';

export const CSV_COLUMNS = [
  'scenario',
  'workload',
  'protocol',
  'phase',
  'direction',
  'sent',
  'counted',
  'delivered',
  'late',
  'lost',
  'delivery',
  'latency_p50_ms',
  'latency_p90_ms',
  'latency_p95_ms',
  'latency_p99_ms',
  'latency_max_ms',
  'bytes',
  'goodput_bps',
  'connect_p50_ms',
  'tls_p50_ms',
  'failures',
  'reconnects',
  'voice_loss',
  'voice_late_loss',
  'jitter_ms',
  'mos',
] as const;

export type CsvValue = string | number | null | undefined;

/** RFC 4180: quote a field holding a comma, quote or line break. */
export function csvField(v: CsvValue): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(Number.isInteger(v) ? v : Number(v.toPrecision(6))) : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const ms = (ns: number | null) => (ns === null ? null : ns / 1e6);

/** The phase column reads `all` for the whole run. */
export function summaryCsv(summary: RunSummary): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const w of summary.workloads) {
    for (const s of w.scopes) {
      for (const d of s.directions) {
        const row: CsvValue[] = [
          summary.scenario,
          w.name,
          w.protocol,
          s.phase ?? 'all',
          d.dir,
          d.sent,
          d.counted,
          d.delivered,
          d.late,
          d.lost,
          d.delivery,
          ms(d.latency.p50),
          ms(d.latency.p90),
          ms(d.latency.p95),
          ms(d.latency.p99),
          ms(d.latency.max),
          d.bytes,
          d.goodput_bps === null ? null : Math.round(d.goodput_bps),
          ms(s.connect.p50),
          ms(s.tls.p50),
          s.failures,
          s.reconnects,
          d.voice?.loss,
          d.voice?.late_loss,
          d.voice ? ms(d.voice.jitter_ns) : null,
          d.voice?.mos,
        ];
        lines.push(row.map(csvField).join(','));
      }
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
