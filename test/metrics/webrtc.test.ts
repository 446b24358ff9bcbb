import { describe, expect, it } from 'vitest';
import { CODECS, mosFromR, rFactor } from '../../src/metrics/emodel.js';
import { phasesOf } from '../../src/metrics/phases.js';
import { pooled, summarize } from '../../src/metrics/summarize.js';
import type { RtcEvent } from '../../src/record/events.js';
import type { CompiledWorkload } from '../../src/scenario/compiled.js';
import { rtcDeltas } from '../../src/workloads/webrtc-stats.js';
import { ZERO_KIND, type KindSnapshot, type Snapshot } from '../../src/workloads/webrtc-page.js';

const w = {
  name: 'call',
  protocol: 'webrtc',
  start_ns: 0,
  stop_ns: 4e9,
  deadline_ns: 1e9,
  direction: 'both',
  connections: 1,
} as CompiledWorkload;

/** One second of a call's audio in direction `dir`, as the two stacks would report it. */
function second(dir: 'up' | 'down', i: number, lost: number, concealed: number): RtcEvent[] {
  const base = { ev: 'rtc' as const, w: 'call', c: 0, dir, kind: 'audio', from: i * 1e9 };
  return [
    {
      ...base,
      t: (i + 1) * 1e9,
      side: 'send',
      packets_sent: 50,
      target_bitrate_bps: 32000,
      rtt_s: 0.04,
    },
    {
      ...base,
      t: (i + 1) * 1e9,
      side: 'recv',
      packets_received: 50 - lost,
      packets_lost: lost,
      packets_discarded: 0,
      bytes_received: 4000,
      jitter_s: 0.002,
      total_samples: 48000,
      concealed_samples: concealed,
      concealment_events: lost,
      jitter_buffer_delay_s: 48000 * 0.03,
      jitter_buffer_emitted: 48000,
    },
  ];
}

describe('webrtc metrics from getStats samples', () => {
  // Two seconds clear, two seconds with 5 lost packets a second each way.
  const events = [0, 1, 2, 3].flatMap((i) =>
    (['up', 'down'] as const).flatMap((d) => second(d, i, i < 2 ? 0 : 5, i < 2 ? 0 : 4800)),
  );
  const phases = phasesOf(
    [
      { at_ns: 0, phase: 'clear', enable: [], disable: [], active: [] },
      { at_ns: 2e9, phase: 'lossy', enable: [], disable: [], active: [] },
    ],
    4e9,
  );
  const [stats] = summarize({ events, workloads: [w], phases, observedEnd: 4e9 });

  it('splits the call by phase at each interval', () => {
    const clear = pooled(stats!, 'clear')!;
    const lossy = pooled(stats!, 'lossy')!;
    expect(clear.both.rtc!.audio!.loss).toBe(0);
    expect(lossy.both.rtc!.audio!.loss).toBe(0.1);
    expect(lossy.both).toMatchObject({ sent: 200, counted: 200, delivered: 180, lost: 20 });
    expect(lossy.both.rtc!.audio).toMatchObject({
      concealment_events: 20,
      concealed_ratio: 0.1,
      target_bitrate_bps: 32000,
    });
    expect(lossy.both.rtc!.audio!.rtt_ns).toBeCloseTo(40e6);
    expect(lossy.both.rtc!.audio!.jitter_buffer_delay_ns).toBeCloseTo(30e6);
  });

  it('scores the audio with the E-model: RTT/2 + jitter buffer + one frame, Ppl = loss', () => {
    const up = pooled(stats!, 'lossy')!.scope.directions.find((d) => d.dir === 'up')!;
    const r = rFactor(20 + 30 + 20, CODECS.opus, 0.1);
    expect(up.voice!.mouth_to_ear_ns).toBeCloseTo(70e6);
    expect(up.voice!.r).toBeCloseTo(r);
    expect(up.voice!.mos).toBeCloseTo(mosFromR(r));
    expect(pooled(stats!, 'clear')!.both.voice!.mos).toBeGreaterThan(up.voice!.mos);
  });
});

describe('rtcDeltas', () => {
  const kind = (k: Partial<KindSnapshot>): KindSnapshot => ({ ...ZERO_KIND, ...k });
  const snap = (k: Partial<KindSnapshot>): Snapshot => ({
    state: 'connected',
    kinds: { audio: kind(k) },
  });

  it('records what changed since the last sample, sent in one direction and received in the other', () => {
    const base = { w: 'call', c: 0, from: 1e9, t: 2e9 };
    const prev = snap({ packetsSent: 50, inbound: true, packetsReceived: 49, packetsLost: 1 });
    const cur = snap({
      packetsSent: 100,
      rtt: 0.01,
      inbound: true,
      packetsReceived: 97,
      packetsLost: 3,
    });
    const events = rtcDeltas(base, 'up', prev, cur);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ dir: 'up', side: 'send', packets_sent: 50, rtt_s: 0.01 });
    expect(events[1]).toMatchObject({
      dir: 'down',
      side: 'recv',
      packets_received: 48,
      packets_lost: 2,
    });
  });

  it('counts from zero at the first sample, and a side that only receives sends nothing', () => {
    const events = rtcDeltas(
      { w: 'call', c: 0, from: 0, t: 1e9 },
      'down',
      undefined,
      snap({ inbound: true, packetsReceived: 40 }),
    );
    expect(events).toEqual([
      expect.objectContaining({ dir: 'up', side: 'recv', packets_received: 40 }),
    ]);
  });
});
