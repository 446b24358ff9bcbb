import { describe, expect, it } from 'vitest';
import { CODECS, mosFromR, rFactor } from '../../src/metrics/emodel.js';
import { checkExpectations } from '../../src/metrics/expect.js';
import { phasesOf } from '../../src/metrics/phases.js';
import { pooled, summarize } from '../../src/metrics/summarize.js';
import { rtcStats, rtcVoice } from '../../src/metrics/webrtc.js';
import type { RtcEvent } from '../../src/record/events.js';
import type { CompiledWorkload } from '../../src/scenario/compiled.js';
import { parseExpect } from '../../src/scenario/expect.js';
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

describe('video frames', () => {
  /** One second of received video: `frames` decoded, and a freeze that ended in it. */
  const videoSecond = (i: number, frames: number, freezeS = 0): RtcEvent => ({
    ev: 'rtc',
    w: 'call',
    c: 0,
    dir: 'down',
    kind: 'video',
    from: i * 1e9,
    t: (i + 1) * 1e9,
    side: 'recv',
    packets_received: frames * 3,
    packets_lost: 0,
    packets_discarded: 0,
    bytes_received: frames * 3000,
    jitter_s: 0.002,
    total_samples: 0,
    concealed_samples: 0,
    concealment_events: 0,
    jitter_buffer_delay_s: frames * 0.01,
    jitter_buffer_emitted: frames,
    frames_decoded: frames,
    frames_dropped: 0,
    freeze_count: freezeS > 0 ? 1 : 0,
    freeze_s: freezeS,
  });
  // 30 frames a second, then two seconds with none (a blocked path), then the picture
  // comes back and Chromium counts the 2 s freeze in the second it ended.
  const events = [videoSecond(0, 30), videoSecond(1, 30), videoSecond(2, 0), videoSecond(3, 0)];
  events.push(videoSecond(4, 28, 2.1), videoSecond(5, 30));
  const phases = phasesOf(
    [
      { at_ns: 0, phase: 'clear', enable: [], disable: [], active: [] },
      { at_ns: 2e9, phase: 'blocked', enable: [], disable: [], active: [] },
      { at_ns: 4e9, phase: 'lifted', enable: [], disable: [], active: [] },
    ],
    6e9,
  );
  const [stats] = summarize({
    events,
    workloads: [{ ...w, stop_ns: 6e9, video: true } as CompiledWorkload],
    phases,
    observedEnd: 6e9,
  });
  const video = (phase: string) => pooled(stats!, phase)!.both.rtc!.video!.video!;

  it('reads a stopped picture as 0 frames/s while the freeze counter still says nothing', () => {
    expect(video('clear').frames_per_second).toBe(30);
    expect(video('blocked')).toMatchObject({ frames_per_second: 0, freeze_count: 0 });
    expect(video('lifted')).toMatchObject({ frames_per_second: 29, freeze_count: 1 });
    expect(video('lifted').freeze_ns).toBeCloseTo(2.1e9);
  });

  it('answers video.fps expectations; audio has no frame statistics', () => {
    const line = parseExpect('call.video.fps >= 20 during blocked');
    if (!line.ok) throw new Error(line.message);
    expect(checkExpectations([line.value], [stats!])[0]).toMatchObject({ ok: false, measured: 0 });
    const audio = rtcStats(second('up', 0, 0, 0));
    expect(audio!.video).toBeNull();
  });
});

/** One second of audio sent up: the sender's count and what the receiver reported. */
const oneWayAudio = (
  i: number,
  sent: number,
  received: number,
  rtpLost: number,
  concealed: number,
) => {
  const base = { ev: 'rtc' as const, w: 'call', c: 0, dir: 'up' as const, kind: 'audio' };
  const span = { from: i * 1e9, t: (i + 1) * 1e9 };
  return [
    { ...base, ...span, side: 'send' as const, packets_sent: sent, rtt_s: 0.002 },
    {
      ...base,
      ...span,
      side: 'recv' as const,
      packets_received: received,
      packets_lost: rtpLost,
      packets_discarded: 0,
      bytes_received: received * 80,
      jitter_s: 0.001,
      total_samples: 48000,
      concealed_samples: concealed,
      concealment_events: concealed > 0 ? 1 : 0,
      jitter_buffer_delay_s: 48000 * 0.02,
      jitter_buffer_emitted: 48000,
    },
  ] satisfies RtcEvent[];
};

describe('an outage the receiver does not count', () => {
  // Audio one way: a clear second, two seconds blackholed (the sender still sends 50
  // packets a second, the receiver gets none and counts none lost, conceals everything),
  // then the path is back and the receiver's RTP count books a gap from the outage.
  const events = [
    ...oneWayAudio(0, 50, 50, 0, 0),
    ...oneWayAudio(1, 50, 0, 0, 48000),
    ...oneWayAudio(2, 50, 0, 0, 48000),
    ...oneWayAudio(3, 50, 50, 30, 0),
  ];
  const phases = phasesOf(
    [
      { at_ns: 0, phase: 'clear', enable: [], disable: [], active: [] },
      { at_ns: 1e9, phase: 'cut', enable: [], disable: [], active: [] },
      { at_ns: 3e9, phase: 'back', enable: [], disable: [], active: [] },
    ],
    4e9,
  );
  const [stats] = summarize({ events, workloads: [w], phases, observedEnd: 4e9 });
  const up = (phase: string) =>
    pooled(stats!, phase)!.scope.directions.find((d) => d.dir === 'up')!;

  it('the cut phase: every packet the peer sent is lost, the audio scores as gone', () => {
    expect(up('cut')).toMatchObject({ sent: 100, counted: 100, delivered: 0, lost: 100 });
    expect(up('cut').voice!.loss).toBe(1);
    expect(up('cut').voice!.mos).toBeLessThan(1.1);
    // The stack's own figure stays what it said: nothing expected, nothing lost.
    expect(up('cut').rtc!.audio!.loss).toBeNull();
  });

  it('the phase after: the gap the receiver books late is not this phase’s loss', () => {
    expect(up('back')).toMatchObject({ sent: 50, delivered: 50, lost: 0 });
    expect(up('back').voice!.loss).toBe(0);
    expect(up('back').voice!.mos).toBeGreaterThan(4);
  });
});

describe('late audio behind a TCP relay', () => {
  it('is late loss in the MOS, not packet loss', () => {
    // Every packet arrives, but 3 % of the audio played was concealed (buffer run dry).
    const v = rtcVoice(rtcStats(oneWayAudio(0, 50, 50, 0, 1440))!)!;
    expect(v.loss).toBe(0);
    expect(v.late_loss).toBeCloseTo(0.03);
    // Mouth-to-ear: RTT/2 (1 ms) + 20 ms in the jitter buffer + one 20 ms frame.
    expect(v.r).toBeCloseTo(rFactor(1 + 20 + 20, CODECS.opus, 0.03));
  });
});
