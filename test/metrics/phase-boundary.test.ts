/**
 * A throttle switched on mid-run: the numbers of the phases on either side must be the
 * phases' own, although the timer fired late and transfers cross the boundary. The event
 * pattern is the one a live ru-2026-telegram-phased run recorded (64 KB photos back to
 * back over one connection: half a millisecond each, then 3.4 s each once policed at
 * 128 kbit/s), which read 270-877 kbit/s "during slowed" when judged by the plan.
 */
import { describe, expect, it } from 'vitest';
import { phasesAsApplied, phasesOf } from '../../src/metrics/phases.js';
import { pooled } from '../../src/metrics/summarize.js';
import { judgeRun } from '../../src/metrics/verdict.js';
import type { MeasureEvent } from '../../src/record/events.js';
import type { CompiledExpectation } from '../../src/scenario/compiled.js';
import { workload } from './workload.js';

const S = 1e9;
const MS = 1e6;
const SIZE = 64_000;

const photo = workload({
  name: 'photo',
  protocol: 'bulk',
  interval_ns: null,
  size_bytes: SIZE,
  deadline_ns: 20 * S,
  direction: 'down',
  stop_ns: 20 * S,
});

const timeline = [
  { at_ns: 0, phase: 'open', enable: [], disable: [], active: [] },
  { at_ns: 4 * S, phase: 'slowed', enable: ['p'], disable: [], active: ['p'] },
];
const planned = phasesOf(timeline, 20 * S);

/**
 * Transfers back to back from 0: 0.5 ms each until `throttledAt`, then at `policedBps`
 * (each one started after that instant, or running across it, is policed).
 */
function transfers(throttledAt: number, policedBps: number, until: number): MeasureEvent[] {
  const events: MeasureEvent[] = [];
  let t = 0;
  for (let seq = 0; t < until; seq++) {
    const fast = t + 0.5 * MS <= throttledAt;
    const took = fast ? 0.5 * MS : (SIZE * 8 * S) / policedBps;
    events.push({ ev: 'send', w: 'photo', dir: 'down', c: 0, seq, t, bytes: SIZE });
    events.push({
      ev: 'recv',
      w: 'photo',
      dir: 'down',
      c: 0,
      seq,
      t: t + took,
      sent: t,
      bytes: SIZE,
    });
    t += took + 0.05 * MS;
  }
  return events;
}

const goodputAbove: CompiledExpectation = {
  text: 'photo.goodput < 500kbit during slowed',
  workload: 'photo',
  metric: 'goodput',
  op: '<',
  value: 500_000,
  kind: 'rate',
  phase: 'slowed',
};

function judge(events: MeasureEvent[]) {
  return judgeRun({
    compiled: { workloads: [photo], expect: [goodputAbove], duration_ns: 20 * S },
    phases: planned,
    events,
    observedNs: 21 * S,
    interrupted: false,
  });
}

const goodput = (v: ReturnType<typeof judge>, phase: string) =>
  pooled(v.workloads[0]!, phase)!.both.goodput_bps!;

describe('phase boundaries as the run applied them', () => {
  it('a throttle applied 2.5 ms late: the slowed phase reads the policed rate', () => {
    const applied = 4 * S + 2.5 * MS;
    const events: MeasureEvent[] = [
      { ev: 'phase', phase: 'open', t: 0.06 * MS },
      { ev: 'phase', phase: 'slowed', t: applied },
      ...transfers(applied, 150_000, 20 * S),
    ];
    const v = judge(events);
    expect(v.phases.map((p) => [p.name, p.start, p.end])).toEqual([
      ['open', 0, applied],
      ['slowed', applied, 20 * S],
    ]);
    // Within 2 % of the policed rate; the plan's boundary had 5 fast transfers in it.
    expect(goodput(v, 'slowed')).toBeGreaterThan(147_000);
    expect(goodput(v, 'slowed')).toBeLessThan(153_000);
    expect(v.expectations[0]!.outcome).toBe('ok');
    // The same events judged by the plan (the bug this guards against): nearly twice the
    // policed rate, from five transfers that ran before the throttle.
    const byPlan = judgeRun({
      compiled: { workloads: [photo], expect: [goodputAbove], duration_ns: 20 * S },
      phases: planned,
      events: events.filter((e) => e.ev !== 'phase'),
      observedNs: 21 * S,
      interrupted: false,
    });
    expect(goodput(byPlan, 'slowed')).toBeGreaterThan(250_000);
  });

  it('a policed transfer that began just before the boundary does not slow the open phase', () => {
    // Applied on time, but the last open-phase request went out 0.3 ms before it.
    const applied = 4 * S;
    const events: MeasureEvent[] = [
      { ev: 'phase', phase: 'slowed', t: applied },
      ...transfers(applied - 0.4 * MS, 150_000, 20 * S),
    ];
    const v = judge(events);
    // 64 KB in 0.5 ms is 1.024 Gbit/s; the crossing transfer adds 0.3 ms at 150 kbit/s.
    expect(goodput(v, 'open')).toBeGreaterThan(1.0e9);
    expect(goodput(v, 'slowed')).toBeCloseTo(150_000, -3);
  });
});

describe('policed-phase goodput counts the transfers inside the phase', () => {
  it('a transfer at line rate for its first 3 ms and policed for the rest is in neither phase', () => {
    // The run of the issue: 60 KB of the crossing transfer arrived before the policer
    // came on, its last 4 KB took 0.21 s policed. Split by time, 98.6 % of its bytes fell
    // into the policed phase and its goodput read 20 % over the policer.
    const applied = 4 * S;
    const start = applied - 3 * MS;
    const tail = (4_000 * 8 * S) / 150_000;
    const events: MeasureEvent[] = [
      { ev: 'phase', phase: 'slowed', t: applied },
      ...transfers(start, 150_000, start).filter((e) => e.t < start),
      { ev: 'send', w: 'photo', dir: 'down', c: 0, seq: 9000, t: start, bytes: SIZE },
      ...[
        {
          ev: 'recv',
          w: 'photo',
          dir: 'down',
          c: 0,
          seq: 9000,
          t: applied + tail,
          sent: start,
          bytes: SIZE,
        } as const,
      ],
      ...transfers(0, 150_000, 16 * S).map((e) =>
        e.ev === 'send' || e.ev === 'recv'
          ? {
              ...e,
              seq: e.seq + 10_000,
              t: e.t + applied + tail,
              ...(e.ev === 'recv' ? { sent: e.sent + applied + tail } : {}),
            }
          : e,
      ),
    ];
    const v = judge(events);
    expect(goodput(v, 'slowed')).toBeCloseTo(150_000, -3);
    expect(v.expectations[0]!.outcome).toBe('ok');
    expect(goodput(v, 'open')).toBeGreaterThan(1.0e9);
  });

  it('a phase with no transfer wholly inside it has no goodput', () => {
    const events: MeasureEvent[] = [
      { ev: 'phase', phase: 'slowed', t: 4 * S },
      { ev: 'send', w: 'photo', dir: 'down', c: 0, seq: 0, t: 3 * S, bytes: SIZE },
      { ev: 'recv', w: 'photo', dir: 'down', c: 0, seq: 0, t: 5 * S, sent: 3 * S, bytes: SIZE },
    ];
    const v = judge(events);
    expect(pooled(v.workloads[0]!, 'open')!.both.goodput_bps).toBeNull();
    expect(pooled(v.workloads[0]!, 'slowed')!.both.goodput_bps).toBeNull();
    // The whole run still has its one transfer.
    expect(pooled(v.workloads[0]!, null)!.both.goodput_bps).toBeCloseTo((SIZE * 8) / 2, 6);
  });
});

describe('a message stamped after its send event, across a boundary', () => {
  it('counts in the phase of its send event, delivered', () => {
    // An http3 page stamps the message 2 ms after the agent recorded sending it.
    const chat = workload({ name: 'chat', stop_ns: 20 * S });
    const events: MeasureEvent[] = [
      { ev: 'phase', phase: 'slowed', t: 4 * S },
      { ev: 'send', w: 'chat', dir: 'up', c: 0, seq: 0, t: 4 * S - 1 * MS, bytes: 100 },
      {
        ev: 'recv',
        w: 'chat',
        dir: 'up',
        c: 0,
        seq: 0,
        t: 4 * S + 30 * MS,
        sent: 4 * S + MS,
        bytes: 100,
      },
    ];
    const v = judgeRun({
      compiled: { workloads: [chat], expect: [], duration_ns: 20 * S },
      phases: planned,
      events,
      observedNs: 21 * S,
      interrupted: false,
    });
    const open = pooled(v.workloads[0]!, 'open')!.both;
    const slowed = pooled(v.workloads[0]!, 'slowed')!.both;
    expect([open.counted, open.delivered, open.latency.p50]).toEqual([1, 1, expect.any(Number)]);
    expect(open.latency.p50! / MS).toBeCloseTo(29, 0);
    expect([slowed.sent, slowed.counted]).toEqual([0, 0]);
  });
});

describe('phasesAsApplied', () => {
  const three = phasesOf(
    [
      { at_ns: 0, phase: 'a', enable: [], disable: [], active: [] },
      { at_ns: 5 * S, phase: 'b', enable: [], disable: [], active: [] },
      { at_ns: 8 * S, phase: 'a', enable: [], disable: [], active: [] },
    ],
    10 * S,
  );

  it('keeps the plan without phase events (virtual time, a run killed first)', () => {
    expect(phasesAsApplied(three, [])).toEqual(three);
  });

  it('moves each boundary to its own event, a phase named twice included', () => {
    const moved = phasesAsApplied(three, [
      { ev: 'phase', phase: 'a', t: 100 },
      { ev: 'phase', phase: 'b', t: 5 * S + 3 * MS },
      { ev: 'phase', phase: 'a', t: 8 * S + 1 * MS },
    ]);
    expect(moved.map((p) => [p.start, p.end])).toEqual([
      [0, 5 * S + 3 * MS],
      [5 * S + 3 * MS, 8 * S + 1 * MS],
      [8 * S + 1 * MS, 10 * S],
    ]);
  });

  it('never moves a boundary earlier than planned nor past the next one', () => {
    const moved = phasesAsApplied(three, [
      { ev: 'phase', phase: 'b', t: 4 * S }, // before its plan: not this boundary's event
      { ev: 'phase', phase: 'b', t: 9 * S }, // past the next boundary: clipped to it
    ]);
    expect(moved.map((p) => [p.start, p.end])).toEqual([
      [0, 8 * S],
      [8 * S, 8 * S],
      [8 * S, 10 * S],
    ]);
  });
});
