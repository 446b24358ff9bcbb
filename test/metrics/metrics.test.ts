import { describe, expect, it } from 'vitest';
import type { MeasureEvent } from '../../src/record/events.js';
import {
  CODECS,
  delayImpairment,
  effectiveIe,
  mosFromR,
  rFactor,
} from '../../src/metrics/emodel.js';
import { checkExpectations } from '../../src/metrics/expect.js';
import { phaseAt, phasesOf } from '../../src/metrics/phases.js';
import { pooled, summarize } from '../../src/metrics/summarize.js';
import { rfc3550Jitter, voiceStats, JITTER_BUFFER_NS } from '../../src/metrics/voice.js';
import type { CompiledExpectation } from '../../src/scenario/compiled.js';
import { workload } from './workload.js';

const MS = 1e6;
const S = 1e9;

/** Messages seq 0..n-1 sent every 100 ms, each with latency `lat(seq)` (undefined: lost). */
function messages(
  n: number,
  lat: (seq: number) => number | undefined,
  dir: 'up' | 'down' = 'up',
  w = 'w',
): MeasureEvent[] {
  const out: MeasureEvent[] = [];
  for (let seq = 0; seq < n; seq++) {
    const t = seq * 100 * MS;
    out.push({ ev: 'send', w, dir, c: 0, seq, t, bytes: 100 });
    const l = lat(seq);
    if (l !== undefined) out.push({ ev: 'recv', w, dir, c: 0, seq, t: t + l, sent: t, bytes: 100 });
  }
  return out;
}

const main = phasesOf([], 10 * S);

describe('summarize', () => {
  it('gives HDR percentiles of one-way latency (1..100 ms)', () => {
    const events = messages(100, (seq) => (seq + 1) * MS);
    const [stats] = summarize({
      events,
      workloads: [workload()],
      phases: main,
      observedEnd: 20 * S,
    });
    const { both, scope } = pooled(stats!, null)!;
    expect(both.latency.p50! / MS).toBeCloseTo(50, 1);
    expect(both.latency.p90! / MS).toBeCloseTo(90, 1);
    expect(both.latency.p99! / MS).toBeCloseTo(99, 1);
    expect(both.latency.max).toBe(100 * MS);
    expect(both.delivery).toBe(1);
    expect(scope.directions.map((d) => d.dir)).toEqual(['up', 'both']);
  });

  it('counts late and lost messages against the deadline, and leaves undecided ones out', () => {
    // 0..9: 10 ms; 10..14: 2 s (late); 15..19: lost; deadline 1 s.
    const events = messages(20, (s) => (s < 10 ? 10 * MS : s < 15 ? 2 * S : undefined));
    // Observation ends at 2.7 s: lost messages sent at 1.8 s and 1.9 s are still undecided.
    const [stats] = summarize({
      events,
      workloads: [workload()],
      phases: main,
      observedEnd: 2.7 * S,
    });
    const { both } = pooled(stats!, null)!;
    expect(both).toMatchObject({ sent: 20, counted: 18, delivered: 10, late: 5, lost: 3 });
    expect(both.delivery).toBeCloseTo(10 / 18, 10);
  });

  it('attributes messages to the phase in force when they were sent', () => {
    const phases = phasesOf(
      [
        { at_ns: 0, phase: 'a', enable: [], disable: [], active: [] },
        { at_ns: 1 * S, phase: 'b', enable: [], disable: [], active: [] },
        { at_ns: 2 * S, phase: 'a', enable: [], disable: [], active: [] },
        { at_ns: 50 * S, phase: 'dropped', enable: [], disable: [], active: [] },
      ],
      3 * S,
    );
    expect(phases.map((p) => p.name)).toEqual(['a', 'b', 'a']);
    expect(phaseAt(phases, 0.95 * S)).toBe('a');
    // Sent at 0.9 s (phase a), received at 1.4 s (phase b): counted in a.
    const events = messages(30, (s) => (s === 9 ? 500 * MS : 5 * MS));
    const [stats] = summarize({ events, workloads: [workload()], phases, observedEnd: 10 * S });
    expect(pooled(stats!, 'a')!.both.sent).toBe(20);
    expect(pooled(stats!, 'b')!.both.sent).toBe(10);
    expect(pooled(stats!, 'a')!.both.latency.max).toBe(500 * MS);
    expect(pooled(stats!, 'b')!.both.latency.max).toBe(5 * MS);
  });

  it('computes goodput over the active time of the workload in the phase', () => {
    // 100 messages of 100 B delivered over a 10 s workload: 8 kbit/s.
    const events = messages(100, () => 5 * MS);
    const [stats] = summarize({
      events,
      workloads: [workload()],
      phases: main,
      observedEnd: 20 * S,
    });
    expect(pooled(stats!, null)!.both.goodput_bps).toBeCloseTo(8000, 6);
    // The same workload active only 5 s of the phase: 16 kbit/s.
    const [half] = summarize({
      events,
      workloads: [workload({ stop_ns: 5 * S })],
      phases: main,
      observedEnd: 20 * S,
    });
    expect(pooled(half!, null)!.both.goodput_bps).toBeCloseTo(16000, 6);
  });

  it('has no goodput for a workload that sent nothing (0 bit/s would read as a dead link)', () => {
    const [stats] = summarize({
      events: [],
      workloads: [workload()],
      phases: main,
      observedEnd: 20 * S,
    });
    expect(pooled(stats!, null)!.both.goodput_bps).toBeNull();
    // Sent and nothing arrived: that is a measured 0.
    const [lost] = summarize({
      events: messages(10, () => undefined),
      workloads: [workload()],
      phases: main,
      observedEnd: 20 * S,
    });
    expect(pooled(lost!, null)!.both.goodput_bps).toBe(0);
  });

  it('reports connect and TLS times, failures and reconnects', () => {
    const events: MeasureEvent[] = [
      { ev: 'connect', w: 'w', c: 0, t: 1, connect_ns: 10 * MS, tls_ns: 20 * MS, reconnect: false },
      { ev: 'fail', w: 'w', c: 0, t: 2, stage: 'io', error: 'reset' },
      { ev: 'connect', w: 'w', c: 0, t: 3, connect_ns: 30 * MS, tls_ns: 40 * MS, reconnect: true },
    ];
    const [stats] = summarize({
      events,
      workloads: [workload()],
      phases: main,
      observedEnd: 20 * S,
    });
    const { scope } = pooled(stats!, null)!;
    expect(scope.connect.count).toBe(2);
    expect(scope.connect.p50! / MS).toBeCloseTo(10, 1);
    expect(scope.tls.p99! / MS).toBeCloseTo(40, 1);
    expect(scope.failures).toBe(1);
    expect(scope.reconnects).toBe(1);
  });
});

describe('voice', () => {
  it('computes RFC 3550 interarrival jitter', () => {
    // Constant delay: no jitter.
    expect(
      rfc3550Jitter([0, 1, 2, 3].map((i) => ({ sent: i * 20 * MS, t: i * 20 * MS + 50 * MS }))),
    ).toBe(0);
    // Delays 50, 60, 50, 60 ms: |D| = 10 ms each time; J = 10·(1 − (15/16)^3).
    const frames = [50, 60, 50, 60].map((d, i) => ({ sent: i * 20 * MS, t: i * 20 * MS + d * MS }));
    expect(rfc3550Jitter(frames) / MS).toBeCloseTo(10 * (1 - (15 / 16) ** 3), 9);
  });

  it('reports loss, late loss beyond the jitter buffer, and a MOS that falls with loss', () => {
    const recv = (i: number, delay: number) => ({
      ev: 'recv' as const,
      w: 'v',
      dir: 'up' as const,
      c: 0,
      seq: i,
      t: i * 20 * MS + delay,
      sent: i * 20 * MS,
      bytes: 160,
    });
    const clean = voiceStats(
      100,
      Array.from({ length: 100 }, (_, i) => recv(i, 20 * MS)),
      'g711',
      20 * MS,
    )!;
    expect(clean.loss).toBe(0);
    expect(clean.late_loss).toBe(0);
    expect(clean.mouth_to_ear_ns).toBe(20 * MS + JITTER_BUFFER_NS + 20 * MS);
    // 5 lost, 5 later than the buffer.
    const frames = Array.from({ length: 95 }, (_, i) =>
      recv(i, i < 5 ? 20 * MS + JITTER_BUFFER_NS + 1 : 20 * MS),
    );
    const lossy = voiceStats(100, frames, 'g711', 20 * MS)!;
    expect(lossy.loss).toBeCloseTo(0.05, 10);
    expect(lossy.late_loss).toBeCloseTo(0.05, 10);
    expect(lossy.mos).toBeLessThan(clean.mos);
    expect(lossy.r).toBeCloseTo(rFactor(100, CODECS.g711, 0.1), 10);
  });
});

describe('voice with nothing arrived', () => {
  it('has no jitter and no mouth-to-ear delay, and `jitter <` fails instead of passing on 0', () => {
    // A blackholed voice stream: 100 frames counted, none arrived. The jitter of no
    // arrivals read 0 us and `v.jitter < 30ms` passed on a call that carried no sound.
    const v = workload({ name: 'v', protocol: 'udp-voice', codec: 'opus', frame_ns: 20 * MS });
    const events = messages(100, () => undefined, 'up', 'v');
    const stats = summarize({ events, workloads: [v], phases: main, observedEnd: 12 * S });
    const voice = pooled(stats[0]!, null)!.both.voice!;
    expect(voice).toMatchObject({ loss: 1, mos: 1, jitter_ns: null, mouth_to_ear_ns: null });
    const jitter: CompiledExpectation = {
      text: 'v.jitter < 30ms',
      workload: 'v',
      metric: 'jitter',
      op: '<',
      value: 30 * MS,
      kind: 'duration',
      phase: null,
    };
    expect(checkExpectations([jitter], stats)[0]).toMatchObject({
      outcome: 'fail',
      measured: null,
    });
    // One frame is still no interarrival; two are.
    const one = messages(100, (seq) => (seq === 0 ? 30 * MS : undefined), 'up', 'v');
    const oneVoice = summarize({ events: one, workloads: [v], phases: main, observedEnd: 12 * S });
    expect(pooled(oneVoice[0]!, null)!.both.voice!.jitter_ns).toBeNull();
    const two = messages(100, (seq) => (seq < 2 ? 30 * MS + seq * MS : undefined), 'up', 'v');
    const twoVoice = summarize({ events: two, workloads: [v], phases: main, observedEnd: 12 * S });
    expect(pooled(twoVoice[0]!, null)!.both.voice!.jitter_ns).toBeCloseTo(MS / 16, 6);
  });
});

describe('E-model (ITU-T G.107, simplified)', () => {
  it('maps R to MOS as G.107 does', () => {
    expect(mosFromR(93.2)).toBeCloseTo(4.41, 2);
    expect(mosFromR(80)).toBeCloseTo(4.02, 2);
    expect(mosFromR(50)).toBeCloseTo(2.58, 2);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(120)).toBe(4.5);
  });

  it('has the default R of 93.2 for G.711 without loss or delay', () => {
    expect(rFactor(0, CODECS.g711, 0)).toBeCloseTo(93.2, 10);
  });

  it('charges delay with the simplified Id', () => {
    expect(delayImpairment(100)).toBeCloseTo(2.4, 10);
    expect(delayImpairment(177.3)).toBeCloseTo(4.2552, 10);
    expect(delayImpairment(300)).toBeCloseTo(7.2 + 0.11 * 122.7, 10);
  });

  it('charges loss with Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl)', () => {
    // G.711 with PLC (Bpl 25.1), 1 % random loss: 95/26.1.
    expect(effectiveIe(CODECS.g711, 0.01)).toBeCloseTo(95 / 26.1, 10);
    // 5 %: 95·5/30.1.
    expect(effectiveIe(CODECS.g711, 0.05)).toBeCloseTo((95 * 5) / 30.1, 10);
    // Bursty loss (BurstR 2) hurts more.
    expect(effectiveIe(CODECS.g711, 0.05, 2)).toBeGreaterThan(effectiveIe(CODECS.g711, 0.05));
  });
});

describe('expectations', () => {
  const exp = (p: Partial<CompiledExpectation>): CompiledExpectation => ({
    text: 't',
    workload: 'w',
    metric: 'delivery',
    op: '>=',
    value: 0.99,
    kind: 'ratio',
    phase: null,
    ...p,
  });

  it('checks measured values and never passes on no data', () => {
    const events = messages(10, (s) => (s < 9 ? 10 * MS : undefined));
    const stats = summarize({ events, workloads: [workload()], phases: main, observedEnd: 20 * S });
    const [delivery, p50, missing, unknownPhase] = checkExpectations(
      [
        exp({}),
        exp({ metric: 'latency.p50', op: '<', value: 20 * MS, kind: 'duration' }),
        exp({ workload: 'nope' }),
        exp({ phase: 'later' }),
      ],
      stats,
    );
    expect(delivery).toMatchObject({ ok: false, measured: 0.9 });
    expect(p50!.ok).toBe(true);
    expect(missing).toMatchObject({ ok: false, measured: null });
    expect(unknownPhase!.ok).toBe(false);
  });
});
