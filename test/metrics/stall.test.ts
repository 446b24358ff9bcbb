import { describe, expect, it } from 'vitest';
import { checkExpectations } from '../../src/metrics/expect.js';
import { phasesOf } from '../../src/metrics/phases.js';
import { pooled, summarize } from '../../src/metrics/summarize.js';
import type { MeasureEvent } from '../../src/record/events.js';
import { parseExpect } from '../../src/scenario/expect.js';
import { workload } from './workload.js';

const S = 1e9;
const bulk = workload({
  name: 'fetch',
  protocol: 'bulk',
  interval_ns: null,
  size_bytes: 65536,
  deadline_ns: 15 * S,
  direction: 'down',
  stop_ns: 60 * S,
});

const fail = (t: number, bytes?: number): MeasureEvent => ({
  ev: 'fail',
  w: 'fetch',
  c: 0,
  t,
  stage: 'io',
  error: 'body timeout',
  ...(bytes === undefined ? {} : { bytes }),
});

describe('stalled transfers', () => {
  const timeline = [
    { at_ns: 0, phase: 'before', enable: [], disable: [], active: [] },
    { at_ns: 20 * S, phase: 'frozen', enable: ['f'], disable: [], active: ['f'] },
  ];
  const phases = phasesOf(timeline, 60 * S);
  const events = [
    fail(10 * S), // a connect failure carries no bytes: not a stall
    fail(30 * S, 12_000),
    fail(40 * S, 16_000),
    fail(50 * S, 11_000),
  ];
  const [stats] = summarize({ events, workloads: [bulk], phases, observedEnd: 60 * S });

  it('counts the failures that had received bytes, with the median and the largest', () => {
    expect(pooled(stats!, 'frozen')!.scope.stalled).toEqual({
      count: 3,
      p50_bytes: 12_000,
      max_bytes: 16_000,
    });
    expect(pooled(stats!, 'before')!.scope.stalled).toEqual({
      count: 0,
      p50_bytes: null,
      max_bytes: null,
    });
  });

  it('checks stall.bytes against a size', () => {
    const line = parseExpect('fetch.stall.bytes <= 16KB during frozen');
    if (!line.ok) throw new Error(line.message);
    expect(line.value.value).toBe(16_000);
    const [r] = checkExpectations([line.value], [stats!]);
    expect(r).toMatchObject({ ok: true, measured: 12_000 });
    const none = parseExpect('fetch.stall.bytes <= 16KB during before');
    if (!none.ok) throw new Error(none.message);
    expect(checkExpectations([none.value], [stats!])[0]).toMatchObject({
      ok: false,
      measured: null,
    });
  });
});
