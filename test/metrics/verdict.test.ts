import { describe, expect, it } from 'vitest';
import { phasesOf } from '../../src/metrics/phases.js';
import { verdictStallsCannotMove } from '../../src/metrics/instrument.js';
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

  it('an expectation of a phase the run ended before: not reached, exit 5, the cause named', () => {
    // ru-2021-twitter-sni-policer --duration 15s: its throttled phase starts at 20 s. Every
    // expectation was not reached, and the run exited 0: a CI job that tested nothing.
    const cut = phasesOf(timeline.slice(0, 1), 4 * S);
    const input = {
      compiled: { ...compiled, timeline, duration_ns: 4 * S, expect: [expectation('b', '>')] },
      phases: cut,
      events: traffic(4 * S),
      observedNs: 5.5 * S,
      interrupted: false,
    };
    const v = judgeRun(input);
    expect(v.expectations[0]).toMatchObject({
      outcome: 'not reached',
      cause: "the run ended at 4 s, before phase 'b' (from 5 s)",
    });
    expect(v).toMatchObject({ status: 'completed', unjudged: true, exitCode: 5, ok: false });
    // Opted out: exit 0, still unjudged.
    expect(judgeRun({ ...input, allowUnjudged: true })).toMatchObject({
      unjudged: true,
      exitCode: 0,
    });
    // No expectations at all is nothing to judge, not a failure to judge.
    expect(judgeRun({ ...input, compiled: { ...input.compiled, expect: [] } })).toMatchObject({
      unjudged: false,
      exitCode: 0,
    });
  });
});

describe("the instrument's own stalls", () => {
  const latency = (phase: string, bound: number, op: '<' | '>' = '<'): CompiledExpectation => ({
    text: `w.latency.p99 ${op} ${bound / MS}ms during ${phase}`,
    workload: 'w',
    metric: 'latency.p99',
    op,
    value: bound,
    kind: 'duration',
    phase,
  });
  const delivery = (op: '>=' | '<=', value: number): CompiledExpectation => ({
    ...expectation(null),
    text: `w.delivery ${op} ${value * 100}%`,
    op,
    value,
  });
  /** What a stall does to the traffic: a message in flight during it arrives at its end. */
  const held = (events: MeasureEvent[], stalls: MeasureEvent[]): MeasureEvent[] => {
    const windows = stalls.flatMap((x) =>
      x.ev === 'lab_stall' || x.ev === 'agent_lag' ? [[x.t, x.t + x.dur_ns] as const] : [],
    );
    return events.map((e) => {
      if (e.ev !== 'recv') return e;
      let t = e.t;
      for (const [a, b] of windows) if (e.sent < b && t > a) t = Math.max(t, b);
      return { ...e, t };
    });
  };
  const judge = (events: MeasureEvent[], expect: CompiledExpectation[]) =>
    judgeRun({
      compiled: { workloads: [w], duration_ns: 10 * S, expect },
      phases,
      events: [...held(traffic(10 * S), events), ...events],
      observedNs: 11.5 * S,
      interrupted: false,
    });

  it('a 2.25 s stop of the lab at 4.1 s: what it overlaps is not measured, the rest judged', () => {
    // The core's watchdog and the orchestrator's loop both saw the one stop.
    const v = judge(
      [
        { ev: 'lab_stall', source: 'core', t: 4.1 * S, dur_ns: 2.25 * S },
        { ev: 'lab_stall', source: 'orchestrator', t: 4.105 * S, dur_ns: 2.24 * S },
      ],
      [latency('a', 50 * MS), latency('b', 50 * MS), delivery('>=', 0.99)],
    );
    expect(v.expectations.map((e) => [e.outcome, e.cause])).toEqual([
      ['not measured', 'the lab stalled 2.25 s at 4.1 s (this expectation tolerates 5 ms)'],
      ['not measured', 'the lab stalled 2.25 s at 4.1 s (this expectation tolerates 5 ms)'],
      ['not measured', 'the lab stalled 2.25 s at 4.1 s (this expectation tolerates 100 ms)'],
    ]);
    expect(v).toMatchObject({ status: 'completed', unjudged: true, exitCode: 5 });
    expect(v.notes).toEqual([
      'the lab stalled 2.25 s at 4.1 s: 3 expectations over that time are not measured',
    ]);
    expect(v.instrument.lab_stall.count).toBe(2);
    expect(v.instrument.lab_stall.max_ns).toBeCloseTo(2.25 * S, 0);
    expect(v.instrument.lab_stall.longest).toMatchObject({ who: 'core', start: 4.1 * S });
    expect(v.instrument.lab_stall.per_second.map((p) => p.s)).toEqual([4, 5, 6]);
  });

  it('a stall shorter than an expectation tolerates, or outside its window, leaves it judged', () => {
    const v = judge(
      [
        { ev: 'lab_stall', source: 'core', t: 2 * S, dur_ns: 3 * MS },
        // In phase b (5 s, and 1 s of deadline after it), more than the 5 ms a 50 ms
        // bound tolerates, and more than 1 % of that window.
        { ev: 'agent_lag', role: 'server', t: 7 * S, dur_ns: 100 * MS },
      ],
      [latency('a', 50 * MS), latency('b', 50 * MS), latency('b', 1000 * MS)],
    );
    expect(v.expectations.map((e) => [e.outcome, e.cause])).toEqual([
      ['ok', null],
      [
        'not measured',
        "the server agent's event loop stalled 100 ms at 7.0 s (this expectation tolerates 5 ms)",
      ],
      ['ok', null],
    ]);
    expect(v.exitCode).toBe(0);
    expect(v.instrument.agent_lag).toMatchObject({ count: 1, total_ns: 100 * MS });
  });

  it("one short hiccup of an agent's loop touches a message or two: judged", () => {
    // 14 ms in a 6 s window is 0.2 %: a loaded machine's scheduler, not a stall.
    const v = judge(
      [{ ev: 'agent_lag', role: 'client', t: 7 * S, dur_ns: 14 * MS }],
      [latency('b', 50 * MS)],
    );
    expect(v.expectations[0]!.outcome).toBe('ok');
  });

  it('a starved forwarding thread, many short stalls: together they cost the expectation', () => {
    // 60 ms every 250 ms through phase a: each alone 1 % of the window, 20 % together.
    const stalls: MeasureEvent[] = [];
    for (let t = 0; t < 5 * S; t += 250 * MS)
      stalls.push({ ev: 'lab_stall', source: 'core', t, dur_ns: 60 * MS });
    const v = judge(stalls, [latency('a', 50 * MS), latency('a', 1000 * MS)]);
    expect(v.expectations.map((e) => [e.outcome, e.cause])).toEqual([
      [
        'not measured',
        'the lab stalled 20 times, 1.20 s in all (the longest 60 ms at 0.0 s) (this expectation tolerates 5 ms)',
      ],
      ['ok', null],
    ]);
  });

  it('a stall after a phase ends still counts while its messages are in flight', () => {
    // The deadline is 1 s: a message of phase a sent at 4.99 s may arrive until 5.99 s. A
    // lower bound on latency is what a stall could make hold.
    const v = judge(
      [{ ev: 'lab_stall', source: 'core', t: 5.5 * S, dur_ns: 200 * MS }],
      [latency('a', 5 * MS, '>')],
    );
    expect(v.expectations[0]!.outcome).toBe('not measured');
  });

  it('a verdict the stalls could not have made is judged, whatever they covered', () => {
    // The 2.25 s stop again. Latency held under 5 s with the stop in it; delivery failed
    // <= 50 % with the stop's losses in it: without the stop each would be the same.
    // Delivery >= 80 % held, but the stop could have made a `<= 90 %` hold.
    const v = judge(
      [{ ev: 'lab_stall', source: 'core', t: 4.1 * S, dur_ns: 2.25 * S }],
      [latency('a', 5000 * MS), delivery('<=', 0.5), delivery('>=', 0.8), delivery('<=', 0.9)],
    );
    expect(v.expectations.map((e) => [e.outcome, e.measured])).toEqual([
      ['ok', expect.any(Number)],
      ['fail', 0.87],
      ['ok', 0.87],
      ['not measured', 0.87],
    ]);
    expect(v.exitCode).toBe(1);
  });
});

describe('a goodput bound under stalls', () => {
  const goodput = (op: '<=' | '>=', kbit: number): CompiledExpectation => ({
    text: `w.goodput ${op} ${kbit}kbit`,
    workload: 'w',
    metric: 'goodput',
    op,
    value: kbit * 1e3,
    kind: 'rate',
    phase: null,
  });
  it('is judged while measured / (1 - the stalled share) keeps its verdict', () => {
    // A policed phase read 141.8 kbit/s: 5 % stalled, it was at most 149.3 without them.
    expect(verdictStallsCannotMove(goodput('<=', 160), 141.8e3, 0.05)).toBe(true);
    expect(verdictStallsCannotMove(goodput('>=', 100), 141.8e3, 0.05)).toBe(true);
    // 12 % stalled: up to 161.1 kbit/s, over the bound: the stalls may have made it hold.
    expect(verdictStallsCannotMove(goodput('<=', 160), 141.8e3, 0.12)).toBe(false);
    // A failed lower bound: the stalls' doing if 149.3 would have met it, not if it fails too.
    expect(verdictStallsCannotMove(goodput('>=', 145), 141.8e3, 0.05)).toBe(false);
    expect(verdictStallsCannotMove(goodput('>=', 150), 141.8e3, 0.05)).toBe(true);
    expect(verdictStallsCannotMove(goodput('>=', 100), null, 0.05)).toBe(false);
  });
});

describe('a workload its agent could not keep up with', () => {
  it('is agent-limited: its goodput and latency not measured, its delivery judged', () => {
    // Planned every 100 ms for 10 s; the agent managed one message in three.
    const events = traffic(10 * S).filter(
      (e) => (e.ev === 'send' || e.ev === 'recv') && e.seq % 3 === 0,
    );
    const goodput: CompiledExpectation = {
      text: 'w.goodput >= 1kbit',
      workload: 'w',
      metric: 'goodput',
      op: '>=',
      value: 1000,
      kind: 'rate',
      phase: null,
    };
    const v = judgeRun({
      compiled: { workloads: [w], duration_ns: 10 * S, expect: [goodput, expectation(null, '>')] },
      phases,
      events,
      observedNs: 11.5 * S,
      interrupted: false,
    });
    const pacing = v.workloads[0]!.scopes.find((s) => s.phase === null)!.pacing!;
    expect(pacing).toMatchObject({ planned: 100, sent: 34, agent_limited: true });
    expect(v.expectations.map((e) => [e.outcome, e.cause])).toEqual([
      ['not measured', 'w was agent-limited: its agents sent 34 of 100 planned messages (34.0 %)'],
      ['ok', null],
    ]);
  });

  it('a message due just before a phase edge and sent just after is no shortfall', () => {
    // Every message leaves 2 ms late: phase b gets one of a's, a is one short.
    const events = traffic(10 * S).map((e) => (e.ev === 'send' ? { ...e, t: e.t + 2 * MS } : e));
    const v = judgeRun({
      compiled: { workloads: [w], duration_ns: 10 * S, expect: [] },
      phases: phasesOf(
        [
          { at_ns: 0, phase: 'a', enable: [], disable: [], active: [] },
          { at_ns: 5 * S + 1 * MS, phase: 'b', enable: [], disable: [], active: [] },
        ],
        10 * S,
      ),
      events,
      observedNs: 11.5 * S,
      interrupted: false,
    });
    for (const s of v.workloads[0]!.scopes) expect(s.pacing!.agent_limited).toBe(false);
    expect(v.workloads[0]!.scopes.find((s) => s.phase === 'a')!.pacing).toMatchObject({
      planned: 51,
      sent: 50,
      late_max_ns: 2 * MS,
    });
  });
});

describe("a call's quality and the stalls before its media", () => {
  const voice = workload({ name: 'v', protocol: 'udp-voice', interval_ns: 20 * MS });
  /** Frames every 20 ms from 2 s (the call set up by then) to 10 s, one in ten lost. */
  const frames: MeasureEvent[] = [];
  for (let seq = 0, t = 2 * S; t < 10 * S; seq++, t += 20 * MS) {
    frames.push({ ev: 'send', w: 'v', dir: 'up', c: 0, seq, t, bytes: 160 });
    if (seq % 10 === 9) continue;
    frames.push({ ev: 'recv', w: 'v', dir: 'up', c: 0, seq, t: t + 5 * MS, sent: t, bytes: 160 });
  }
  const loss: CompiledExpectation = {
    // Held with the stall's losses in it: a stall over the frames could have made it.
    text: 'v.loss > 5% during a',
    workload: 'v',
    metric: 'loss',
    op: '>',
    value: 0.05,
    kind: 'ratio',
    phase: 'a',
  };
  const judge = (stallAt: number) =>
    judgeRun({
      compiled: { workloads: [voice], duration_ns: 10 * S, expect: [loss] },
      phases,
      events: [...frames, { ev: 'lab_stall', source: 'core', t: stallAt, dur_ns: 200 * MS }],
      observedNs: 10 * S,
      interrupted: false,
    }).expectations[0]!;

  it('a stall while the call is being set up leaves its loss judged', () => {
    expect(judge(0.5 * S)).toMatchObject({ outcome: 'ok' });
  });

  it('the same stall once frames flow costs it', () => {
    expect(judge(3 * S)).toMatchObject({ outcome: 'not measured' });
  });
});
