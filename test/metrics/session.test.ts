import { describe, expect, it } from 'vitest';
import { checkExpectations } from '../../src/metrics/expect.js';
import { phasesOf } from '../../src/metrics/phases.js';
import { connectingIntervals } from '../../src/metrics/session.js';
import { pooled, summarize } from '../../src/metrics/summarize.js';
import type { ConnectEvent, MeasureEvent } from '../../src/record/events.js';
import { userRows } from '../../src/record/user-view.js';
import { parseExpect } from '../../src/scenario/expect.js';
import { workload } from './workload.js';

const S = 1e9;
const chain = (labels: string[]) =>
  labels.map((label, i) => ({
    label,
    protocol: 'websocket' as const,
    port: 443,
    tls: true,
    after_ns: i === 0 ? null : 5 * S,
    turn: null,
    turn_transport: null,
    turn_port: null,
    turn_address: null,
    turn_server_name: null,
  }));
const connect = (t: number, p: Partial<ConnectEvent> = {}): ConnectEvent => ({
  ev: 'connect',
  w: 'w',
  c: 0,
  t,
  connect_ns: 1e6,
  tls_ns: null,
  reconnect: t > 1 * S,
  transport: 'websocket:443',
  setup_ns: 0.2 * S,
  login_ns: null,
  recover_ns: null,
  ...p,
});

// A 20 s run, phases open [0, 10) and cut [10, 20): connected at 0.2 s, frozen from 12 s,
// noticed at 15 s, back (on the fallback) at 17 s.
const w = workload({
  direction: 'both',
  stop_ns: 20 * S,
  outbox: { timeout_ns: 20 * S, retries: null, give_up_ns: 30 * S },
  transports: chain(['websocket:443', 'websocket:8443']),
});
const events: MeasureEvent[] = [
  connect(0.2 * S),
  {
    ev: 'detect',
    w: 'w',
    c: 0,
    t: 15 * S,
    cause: 'keepalive',
    silent_ns: 3 * S,
    transport: 'websocket:443',
  },
  { ev: 'fail', w: 'w', c: 0, t: 15.5 * S, stage: 'connect', error: 'refused' },
  connect(17 * S, { transport: 'websocket:8443', setup_ns: 2 * S, recover_ns: 5 * S }),
  { ev: 'retry', w: 'w', dir: 'up', c: 0, seq: 120, t: 17 * S, attempt: 1 },
  { ev: 'send', w: 'w', dir: 'up', c: 0, seq: 120, t: 12 * S, bytes: 100 },
  { ev: 'recv', w: 'w', dir: 'up', c: 0, seq: 120, t: 17.01 * S, sent: 12 * S, bytes: 100 },
  { ev: 'send', w: 'w', dir: 'up', c: 0, seq: 121, t: 12.1 * S, bytes: 100 },
  { ev: 'giveup', w: 'w', dir: 'up', c: 0, seq: 121, t: 16 * S, attempts: 1 },
];
const phases = phasesOf(
  [
    { at_ns: 0, phase: 'open', enable: [], disable: [], active: [] },
    { at_ns: 10 * S, phase: 'cut', enable: [], disable: [], active: [] },
  ],
  20 * S,
);

describe('what the user of a connection lived with', () => {
  const stats = summarize({ events, workloads: [w], phases, observedEnd: 20 * S })[0]!;
  const scope = (phase: string | null) => pooled(stats, phase)!.scope;

  it('is "connecting…" from the start to the first connect and from the loss to the reconnect', () => {
    const byEv = (ev: string) => events.filter((e) => e.ev === ev) as never;
    const grouped = {
      connects: byEv('connect'),
      fails: byEv('fail'),
      detects: byEv('detect'),
      retries: byEv('retry'),
      giveups: byEv('giveup'),
    };
    expect(connectingIntervals(grouped, 0, 0, 20 * S)).toEqual([
      [0, 0.2 * S],
      [15 * S, 17 * S],
    ]);
    expect(scope('open').session!.connecting).toBeCloseTo(0.02, 6);
    expect(scope('cut').session!.connecting).toBeCloseTo(0.2, 6);
  });

  it('books the outage where it began, with the time from the last sign of life, and where it ended', () => {
    const cut = scope('cut').session!;
    expect(cut.recover).toEqual({ outages: 1, count: 1, p50: 5 * S, max: 5 * S });
    expect(cut.setup).toMatchObject({ dials: 1, connected: 1, success: 1, p50: 2 * S });
    expect(cut.detects).toBe(1);
    expect(cut.retries).toBe(1);
    expect(cut.gave_up).toBe(1);
    expect(cut).toMatchObject({ ended_on: 'websocket:8443', ended_at: 17 * S });
    expect(scope(null).session!.transports).toEqual({ 'websocket:443': 1, 'websocket:8443': 1 });
  });

  it('judges the expectations in user terms', () => {
    const lines = [
      'w.connecting <= 25% during cut',
      'w.recover.max < 6s during cut',
      'w.setup.p50 < 1s during open',
      'w.detects == 1',
      'w.failed >= 50% during cut',
    ].map((l) => {
      const p = parseExpect(l);
      if (!p.ok) throw new Error(p.message);
      return p.value;
    });
    const results = checkExpectations(lines, [stats]);
    expect(results.map((r) => [r.text, r.outcome, r.measured])).toEqual([
      ['w.connecting <= 25% during cut', 'ok', expect.closeTo(0.2, 6)],
      ['w.recover.max < 6s during cut', 'ok', 5 * S],
      ['w.setup.p50 < 1s during open', 'ok', expect.closeTo(0.2 * S, -6)],
      ['w.detects == 1', 'ok', 1],
      // Two judged messages in the cut, one of which the app gave up.
      ['w.failed >= 50% during cut', 'ok', 0.5],
    ]);
  });

  it('counts a call the app could not place over any transport as a failed set-up', () => {
    const call = workload({
      name: 'call',
      protocol: 'webrtc',
      transports: chain(['direct', 'turn-tcp:443']),
    });
    const s = summarize({
      events: [
        { ev: 'fail', w: 'call', c: 0, t: 10 * S, stage: 'setup', error: 'none', setup_ns: 10 * S },
        { ...connect(14 * S, { transport: 'turn-tcp:443', setup_ns: 2 * S }), w: 'call' },
      ],
      workloads: [call],
      phases: phasesOf([], 20 * S),
      observedEnd: 20 * S,
    })[0]!;
    const session = pooled(s, null)!.scope.session!;
    expect(session.setup).toMatchObject({ dials: 2, connected: 1, success: 0.5 });
    expect(session.ended_on).toBe('turn-tcp:443');
  });

  it("reads per app and phase in the users' terms", () => {
    const text = { ...w, app: 'whatsapp', use: 'text' as const };
    const [row] = summarize({ events, workloads: [text], phases, observedEnd: 20 * S }).map((x) =>
      userRows([x]),
    );
    // Phase cut: one message of two arrived (the other given up), 20 % connecting, the
    // outage 5 s, back on the fallback transport.
    expect(row![1]).toEqual([
      'whatsapp',
      'cut',
      '5.01 s',
      '5.01 s',
      '0%',
      '50.0%',
      '20.0%',
      '5.00 s',
      '-',
      '-',
      '-',
      '-',
      'websocket:8443',
    ]);
  });
});
