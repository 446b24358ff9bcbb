import { describe, expect, it } from 'vitest';
import { phasesOf } from '../../src/metrics/phases.js';
import { judgeRun } from '../../src/metrics/verdict.js';
import type { AgentFaultEvent, MeasureEvent } from '../../src/record/events.js';
import type { CompiledExpectation } from '../../src/scenario/compiled.js';
import { workload } from './workload.js';

const S = 1e9;
const MS = 1e6;

const w = workload({ size_bytes: 125 });

const expectation = (phase: string | null, op: '<' | '>' = '<'): CompiledExpectation => ({
  text: `w.delivery ${op} 50%${phase ? ` during ${phase}` : ''}`,
  workload: 'w',
  metric: 'delivery',
  op,
  value: 0.5,
  kind: 'ratio',
  phase,
});

/** A message every 100 ms from 0 to `until`, each delivered 10 ms later. */
function traffic(until: number): MeasureEvent[] {
  const events: MeasureEvent[] = [];
  for (let seq = 0, t = 0; t < until; seq++, t += 100 * MS) {
    events.push({ ev: 'send', w: 'w', dir: 'up', c: 0, seq, t, bytes: 125 });
    events.push({ ev: 'recv', w: 'w', dir: 'up', c: 0, seq, t: t + 10 * MS, sent: t, bytes: 125 });
  }
  return events;
}

const timeline = [
  { at_ns: 0, phase: 'a', enable: [], disable: [], active: [] },
  { at_ns: 5 * S, phase: 'b', enable: [], disable: [], active: [] },
];
const phases = phasesOf(timeline, 10 * S);
const compiled = {
  workloads: [w],
  duration_ns: 10 * S,
  expect: [expectation('a'), expectation('b', '>'), expectation(null)],
};

const fault = (t: number): AgentFaultEvent => ({
  ev: 'agent',
  role: 'client',
  state: 'exited',
  t,
  code: null,
  signal: 'SIGKILL',
  detail: 'the client agent was killed by SIGKILL',
});

describe('judgeRun', () => {
  it('a completed run: every expectation judged, rates over the whole length', () => {
    const v = judgeRun({
      compiled,
      phases,
      events: traffic(10 * S),
      observedNs: 11.5 * S,
      interrupted: false,
    });
    expect(v.status).toBe('completed');
    expect(v.expectations.map((e) => e.outcome)).toEqual(['fail', 'ok', 'fail']);
    expect(v.exitCode).toBe(1);
    const all = v.workloads[0]!.scopes.find((s) => s.phase === null)!.directions.at(-1)!;
    expect(all.goodput_bps).toBeCloseTo((100 * 125 * 8) / 10, 6);
  });

  it('an agent that died at 3 s: failed, exit 4, no later message judged, nothing passes after it', () => {
    // After the death the other side goes on sending into the void.
    const events = [
      ...traffic(3 * S),
      fault(3 * S),
      ...traffic(10 * S).filter((e) => e.ev === 'send' && e.t > 3 * S),
    ];
    const v = judgeRun({ compiled, phases, events, observedNs: 3.2 * S, interrupted: false });
    expect(v.status).toBe('failed');
    expect(v.exitCode).toBe(4);
    expect(v.observedNs).toBe(3 * S);
    expect(v.ok).toBe(false);
    // 'b > 50%' would pass if silence counted as loss… it is not measured at all.
    expect(v.expectations.map((e) => e.outcome)).toEqual([
      'not measured',
      'not measured',
      'not measured',
    ]);
    const a = v.workloads[0]!.scopes.find((s) => s.phase === 'a')!.directions.at(-1)!;
    expect(a.delivery).toBe(1);
    // Sent at 0 s .. 2 s: their 1 s deadline passed before the death; later ones unjudged.
    expect(a.counted).toBe(21);
    expect(a.goodput_bps).toBeCloseTo((30 * 125 * 8) / 3, 6);
  });

  it('a fault in a later phase leaves the earlier phase judged', () => {
    const events = [...traffic(7 * S), fault(7 * S)];
    const v = judgeRun({ compiled, phases, events, observedNs: 7.1 * S, interrupted: false });
    expect(v.expectations.map((e) => e.outcome)).toEqual(['fail', 'not measured', 'not measured']);
    expect(v.status).toBe('failed');
  });

  it('an interruption at 4 s: later phases not reached, the cut one not measured, goodput over 4 s', () => {
    const v = judgeRun({
      compiled,
      phases,
      events: traffic(4 * S),
      observedNs: 4 * S,
      interrupted: true,
    });
    expect(v.status).toBe('interrupted');
    expect(v.exitCode).toBe(130);
    expect(v.expectations.map((e) => e.outcome)).toEqual([
      'not measured',
      'not reached',
      'not measured',
    ]);
    const a = v.workloads[0]!.scopes.find((s) => s.phase === 'a')!.directions.at(-1)!;
    expect(a.goodput_bps).toBeCloseTo((40 * 125 * 8) / 4, 6);
  });

  it('a phase the run never watched has no numbers, not 0 sent and 0 failures', () => {
    // Interrupted at 4 s, or an agent dead at 3 s: phase b (5-10 s) was never observed.
    // Its scope read sent 0, failures 0, reconnects 0, which `compare` set against a full
    // run as "sent -50, 0.00x" and "failures ±0": a silence nobody watched.
    const judge = (events: MeasureEvent[], observedNs: number, interrupted: boolean) =>
      judgeRun({ compiled, phases, events, observedNs, interrupted });
    const cut = judge(traffic(4 * S), 4 * S, true);
    const dead = judge([...traffic(3 * S), fault(3 * S)], 3.2 * S, false);
    for (const v of [cut, dead]) {
      expect(v.workloads[0]!.scopes.map((s) => s.phase)).toEqual(['a', null]);
    }
    // A phase cut short keeps what was seen of it.
    const a = cut.workloads[0]!.scopes[0]!;
    expect(a.directions.at(-1)!.sent).toBe(40);
    expect(a.failures).toBe(0);
  });

  it('a phase the run does not have (a shorter --duration) is not reached, and not a failure', () => {
    const cut = phasesOf(timeline.slice(0, 1), 5 * S);
    const v = judgeRun({
      compiled: {
        ...compiled,
        duration_ns: 5 * S,
        expect: [expectation('a', '>'), expectation('b', '>')],
      },
      phases: cut,
      events: traffic(5 * S),
      observedNs: 6.5 * S,
      interrupted: false,
    });
    expect(v.expectations.map((e) => e.outcome)).toEqual(['ok', 'not reached']);
    expect(v.exitCode).toBe(0);
  });
});
