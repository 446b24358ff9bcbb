import type { RecvEvent } from '../record/events.js';
import type { VoiceStats } from '../record/summary.js';
import { CODECS, mosFromR, rFactor } from './emodel.js';

/**
 * A fixed jitter buffer: each frame is played `JITTER_BUFFER_NS` after the earliest
 * possible instant (its send time plus the smallest one-way delay seen); a frame arriving
 * later is lost as late. 60 ms (three 20 ms frames) is typical of VoIP apps' initial
 * adaptive-buffer target.
 */
export const JITTER_BUFFER_NS = 60e6;

/**
 * RFC 3550 §6.4.1 interarrival jitter over frames in arrival order:
 * D(i−1,i) = (R_i − R_{i−1}) − (S_i − S_{i−1}); J += (|D| − J)/16.
 */
export function rfc3550Jitter(frames: { t: number; sent: number }[]): number {
  const byArrival = [...frames].sort((a, b) => a.t - b.t);
  let j = 0;
  for (let i = 1; i < byArrival.length; i++) {
    const a = byArrival[i - 1]!;
    const b = byArrival[i]!;
    const d = b.t - a.t - (b.sent - a.sent);
    j += (Math.abs(d) - j) / 16;
  }
  return j;
}

/** Voice quality of one direction from its counted frames and those received. */
export function voiceStats(
  counted: number,
  received: RecvEvent[],
  codec: 'opus' | 'g711',
  frameNs: number,
): VoiceStats | null {
  if (counted === 0) return null;
  const latencies = received.map((r) => r.t - r.sent);
  const base = latencies.length > 0 ? Math.min(...latencies) : 0;
  const late = latencies.filter((l) => l > base + JITTER_BUFFER_NS).length;
  const loss = Math.max(0, 1 - received.length / counted);
  const lateLoss = late / counted;
  const mouthToEar = base + JITTER_BUFFER_NS + frameNs;
  const impairment = CODECS[codec];
  const r = received.length === 0 ? 0 : rFactor(mouthToEar / 1e6, impairment, loss + lateLoss);
  return {
    loss,
    late_loss: lateLoss,
    // Jitter needs two arrivals and a delay one: with fewer they are unknown, not 0 (a
    // blackholed call's 0 us passed `jitter < 30ms`).
    jitter_ns: received.length < 2 ? null : rfc3550Jitter(received),
    mouth_to_ear_ns: received.length === 0 ? null : mouthToEar,
    r,
    mos: mosFromR(r),
    codec_source: impairment.source,
  };
}
