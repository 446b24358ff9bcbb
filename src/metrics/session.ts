/**
 * What the user of a connection-oriented workload lived with, from its connection events
 * (src/workloads/supervisor.ts, webrtc.ts): how long they waited for a connection or a call
 * (set-up), whether it came (set-up success), how long an outage lasted (recover), the
 * share of time the app showed "connecting…", how often it noticed a dead connection on
 * its own, and the messages it resent or gave up. Pure functions of the events.
 */
import type {
  ConnectEvent,
  DetectEvent,
  FailEvent,
  GiveupEvent,
  RetryEvent,
} from '../record/events.js';
import type { Phase, SessionStats } from '../record/summary.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import { percentiles } from './histogram.js';
import { phaseTime } from './phases.js';

export interface SessionEvents {
  connects: ConnectEvent[];
  fails: FailEvent[];
  detects: DetectEvent[];
  retries: RetryEvent[];
  giveups: GiveupEvent[];
}

/** A moment a connection was lost: the app shows "connecting…" from here. */
function losses(e: SessionEvents, c: number): number[] {
  return [
    ...e.detects.filter((d) => d.c === c).map((d) => d.t),
    ...e.fails.filter((f) => f.c === c && f.stage === 'io').map((f) => f.t),
  ];
}

/**
 * The intervals in which connection `c` was not usable: from the workload's start to its
 * first connect, and from each loss to the connect after it (or the end).
 */
export function connectingIntervals(
  e: SessionEvents,
  c: number,
  from: number,
  to: number,
): [number, number][] {
  const marks = [
    ...e.connects.filter((x) => x.c === c).map((x) => ({ t: x.t, up: true })),
    ...losses(e, c).map((t) => ({ t, up: false })),
  ].sort((a, b) => a.t - b.t);
  const out: [number, number][] = [];
  let downSince: number | undefined = from;
  for (const m of marks) {
    if (m.t > to) break;
    if (m.up && downSince !== undefined) {
      if (m.t > downSince) out.push([downSince, m.t]);
      downSince = undefined;
    } else if (!m.up && downSince === undefined) {
      downSince = Math.max(from, m.t);
    }
  }
  if (downSince !== undefined && to > downSince) out.push([downSince, to]);
  return out;
}

/**
 * The session numbers of one scope. `inScope` says whether an instant belongs to it; a
 * dial belongs to the scope where it began, an outage to the one where it began, a
 * resend or give-up to the one where it happened. `periods` are the scope's phase periods
 * (null: the whole run), `end` the end of observation.
 */
export function sessionStats(
  w: CompiledWorkload,
  e: SessionEvents,
  inScope: (t: number) => boolean,
  periods: Phase[] | null,
  end: number,
): SessionStats {
  const connects = e.connects.filter((x) => x.setup_ns !== undefined);
  const dialStart = (x: { t: number; setup_ns?: number }) => x.t - (x.setup_ns ?? 0);
  const connected = connects.filter((x) => inScope(dialStart(x)));
  const gaveUp = e.fails.filter((f) => f.stage === 'setup' && inScope(dialStart(f)));
  const setup = percentiles(connected.map((x) => x.setup_ns!));
  const judged = connected.length + gaveUp.length;
  const recovered = connects.filter(
    (x) => x.recover_ns !== undefined && x.recover_ns !== null && inScope(x.t - x.recover_ns),
  );
  const recover = percentiles(recovered.map((x) => x.recover_ns!));
  const outages = e.connects.length === 0 ? 0 : countOutages(e, inScope);
  // "Connecting…": the unusable share of the workload's observed time in the scope.
  const from = w.start_ns;
  const to = Math.min(w.stop_ns, end);
  const scope = periods ?? [{ name: '', start: 0, end: Number.MAX_SAFE_INTEGER }];
  const active = phaseTime(scope, null, from, to) * w.connections;
  let down = 0;
  for (let c = 0; c < w.connections; c++) {
    for (const [a, b] of connectingIntervals(e, c, from, to)) down += phaseTime(scope, null, a, b);
  }
  const transports: Record<string, number> = {};
  for (const x of connected) {
    if (x.transport !== undefined) transports[x.transport] = (transports[x.transport] ?? 0) + 1;
  }
  // The transport in use when the scope ended: the last connect before its end, unless a
  // loss came after it (then none: the app was connecting).
  const scopeEnd = periods === null ? end : Math.min(end, Math.max(...periods.map((p) => p.end)));
  const marks = [
    ...e.connects.map((x) => ({ t: x.t, connect: x as ConnectEvent | undefined })),
    ...[...new Set(e.connects.map((x) => x.c))].flatMap((c) =>
      losses(e, c).map((t) => ({ t, connect: undefined })),
    ),
  ]
    .filter((m) => m.t <= scopeEnd)
    .sort((a, b) => a.t - b.t);
  const last = marks.at(-1)?.connect;
  return {
    setup: {
      dials: judged,
      connected: connected.length,
      success: judged === 0 ? null : connected.length / judged,
      p50: setup.p50,
      p95: setup.p95,
      max: setup.max,
    },
    recover: { outages, count: recovered.length, p50: recover.p50, max: recover.max },
    connecting: active > 0 ? down / active : null,
    detects: e.detects.filter((d) => inScope(d.t)).length,
    retries: e.retries.filter((r) => inScope(r.t)).length,
    gave_up: e.giveups.filter((g) => inScope(g.t)).length,
    transports,
    ended_on: last?.transport ?? null,
    ended_at: last?.t ?? null,
  };
}

/** Losses in the scope (each an outage the user saw begin). */
function countOutages(e: SessionEvents, inScope: (t: number) => boolean): number {
  const cs = new Set(e.connects.map((x) => x.c));
  let n = 0;
  for (const c of cs) n += losses(e, c).filter(inScope).length;
  return n;
}
