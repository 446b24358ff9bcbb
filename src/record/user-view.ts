/**
 * The run in its users' terms, one row per app (or per workload without one) and phase:
 * how long a message took to arrive and how many arrived, how many the app gave up, how
 * long it showed "connecting…" and how long an outage lasted, how long a photo took, how
 * many calls connected, how long they took to connect and how they sounded. The terminal
 * and the HTML report print these rows.
 */
import { fmtDelivery, fmtDuration, fmtRatio, table } from './format.js';
import type { ScopeStats, WorkloadStats } from './summary.js';

export const USER_HEADER = [
  'APP',
  'PHASE',
  'MSG P50',
  'MSG P95',
  'DELIVERED',
  'FAILED',
  'CONNECTING',
  'RECOVER',
  'PHOTO',
  'CALLS',
  'CALL SETUP',
  'CALL MOS',
  'ON',
];

/** Which workload plays which part for a user: text, a photo download, a call. */
function part(w: WorkloadStats): 'text' | 'media' | 'call' | undefined {
  if (w.use === 'text' || w.use === 'media' || w.use === 'call') return w.use;
  return undefined;
}

const both = (s: ScopeStats | undefined) => s?.directions.find((d) => d.dir === 'both');

/** Rows for the workloads that have an app profile; none when no workload has one. */
export function userRows(stats: WorkloadStats[]): string[][] {
  const apps = new Map<string, WorkloadStats[]>();
  for (const w of stats) {
    if (w.app === undefined || part(w) === undefined) continue;
    apps.set(w.app, [...(apps.get(w.app) ?? []), w]);
  }
  const rows: string[][] = [];
  for (const [app, ws] of apps) {
    const of = (use: string) => ws.find((w) => w.use === use);
    const phases = [...new Set(ws.flatMap((w) => w.scopes.map((s) => s.phase)))];
    for (const phase of phases) {
      const scope = (w: WorkloadStats | undefined) => w?.scopes.find((s) => s.phase === phase);
      const text = scope(of('text'));
      const media = scope(of('media'));
      const call = scope(of('call'));
      const t = both(text);
      const setup = call?.session?.setup;
      const failed =
        t?.gave_up === undefined || t.counted === 0 ? '-' : fmtRatio(t.gave_up / t.counted);
      rows.push([
        app,
        phase ?? '(all)',
        fmtDuration(t?.latency.p50),
        fmtDuration(t?.latency.p95),
        t === undefined ? '-' : fmtDelivery(t),
        failed,
        fmtRatio(text?.session?.connecting),
        fmtDuration(text?.session?.recover.p50),
        fmtDuration(both(media)?.latency.p50),
        setup === undefined || setup.dials === 0 ? '-' : `${setup.connected}/${setup.dials}`,
        fmtDuration(setup?.p50),
        both(call)?.voice?.mos.toFixed(2) ?? '-',
        // The transports in use at the scope's end; an app without one was connecting.
        [text, call]
          .flatMap((x) => (x?.session === undefined ? [] : [x.session.ended_on ?? 'connecting']))
          .join(' ') || '-',
      ]);
    }
  }
  return rows;
}

/** The terminal table, or '' when no workload has an app profile. */
export function userTable(stats: WorkloadStats[]): string {
  const rows = userRows(stats);
  return rows.length === 0 ? '' : table([USER_HEADER, ...rows]);
}
