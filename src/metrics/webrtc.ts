/**
 * webrtc calls: direction statistics from the stacks' own getStats() samples (`rtc`
 * events, deltas per interval). Messages are RTP packets here: `sent` is what the sender
 * sent, `counted` what the receiver expected (received + lost), `late` what its jitter
 * buffer discarded. There is no per-packet one-way latency (the stacks do not expose it),
 * so latency percentiles stay empty; delay enters through RTT and the jitter buffer.
 *
 * MOS: the same ITU-T G.107 E-model as udp-voice (./emodel.ts), R = 93.2 − Id − Ie,eff,
 * with Opus's assumed Ie/Bpl, Ppl = the audio lost as the listener hears it (below), and a
 * mouth-to-ear delay of RTT/2 + mean jitter-buffer delay + one 20 ms Opus frame.
 *
 * Packets lost are what the peer sent and this side did not receive, not the receiver's
 * RTP count, which is wrong at both ends of an outage: a call whose UDP was blackholed
 * for 3 s counted no audio packet lost at all (it read 0 % lost and MOS 4.09 for that
 * phase), and its video's gap was counted when packets came back, in the next phase
 * (delivery 86 % after the path was restored). Both sides sample at each phase start, so
 * a phase's sums cover the same time on both. `rtc.*.loss` stays the stack's own figure.
 *
 * Audio lost as the listener hears it (the E-model's Ppl): that packet loss plus late loss,
 * the larger of the late discards and the concealed share of played samples beyond the
 * packet loss. `loss` stays packets: a TCP relay loses none however late it plays them.
 */
import type { Dir, RtcEvent } from '../record/events.js';
import type { DirectionStats, RtcStats, VideoFrameStats, VoiceStats } from '../record/summary.js';
import { CODECS, mosFromR, rFactor } from './emodel.js';

/** Chromium's Opus packetization (ptime). */
const OPUS_FRAME_NS = 20e6;

const sum = (events: RtcEvent[], key: keyof RtcEvent) =>
  events.reduce((n, e) => n + ((e[key] as number | null | undefined) ?? 0), 0);

function mean(values: (number | null | undefined)[]): number | null {
  const known = values.filter((v): v is number => typeof v === 'number');
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
}

/** What the receivers of video showed, from their samples; null for audio. */
function videoFrames(recv: RtcEvent[]): VideoFrameStats | null {
  if (!recv.some((e) => e.frames_decoded !== undefined)) return null;
  const decoded = sum(recv, 'frames_decoded');
  const sampledNs = recv.reduce((n, e) => n + Math.max(0, e.t - e.from), 0);
  return {
    frames_decoded: decoded,
    frames_dropped: sum(recv, 'frames_dropped'),
    frames_per_second: sampledNs === 0 ? null : (decoded * 1e9) / sampledNs,
    freeze_count: sum(recv, 'freeze_count'),
    freeze_ns: sum(recv, 'freeze_s') * 1e9,
  };
}

/** One media kind of one direction, from its send-side and receive-side samples. */
export function rtcStats(events: RtcEvent[]): RtcStats | null {
  if (events.length === 0) return null;
  const send = events.filter((e) => e.side === 'send');
  const recv = events.filter((e) => e.side === 'recv');
  const received = sum(recv, 'packets_received');
  const lost = Math.max(0, sum(recv, 'packets_lost'));
  const total = sum(recv, 'total_samples');
  const concealed = sum(recv, 'concealed_samples');
  const emitted = sum(recv, 'jitter_buffer_emitted');
  const jitter = mean(recv.map((e) => e.jitter_s));
  const rtt = mean(send.map((e) => e.rtt_s));
  return {
    packets_sent: sum(send, 'packets_sent'),
    packets_received: received,
    packets_lost: lost,
    packets_discarded: sum(recv, 'packets_discarded'),
    loss: received + lost === 0 ? null : lost / (received + lost),
    jitter_ns: jitter === null ? null : jitter * 1e9,
    rtt_ns: rtt === null ? null : rtt * 1e9,
    total_samples: total,
    concealed_samples: concealed,
    concealment_events: sum(recv, 'concealment_events'),
    concealed_ratio: total === 0 ? null : concealed / total,
    jitter_buffer_delay_ns:
      emitted === 0 ? null : (sum(recv, 'jitter_buffer_delay_s') / emitted) * 1e9,
    target_bitrate_bps: mean(send.map((e) => e.target_bitrate_bps)),
    video: videoFrames(recv),
  };
}

/**
 * The two pages sample a few milliseconds apart, so a phase's sent and received counts
 * may differ by the packets in flight between the two samples: a shortfall this small
 * counts only as far as the receiver's own RTP count agrees.
 */
const SAMPLING_SKEW_PACKETS = 3;

/** Packets the peer sent that never arrived (see the module comment). */
export function packetsMissing(k: RtcStats): number {
  if (k.packets_sent === 0) return k.packets_lost;
  const shortfall = Math.max(0, k.packets_sent - k.packets_received);
  return shortfall > SAMPLING_SKEW_PACKETS ? shortfall : Math.min(shortfall, k.packets_lost);
}

/** The E-model verdict on a call's audio (see the module comment for the inputs). */
export function rtcVoice(audio: RtcStats): VoiceStats | null {
  const missing = packetsMissing(audio);
  const expected = audio.packets_received + missing;
  const concealed = audio.concealed_ratio;
  if (expected === 0 && concealed === null) return null;
  // Nothing sent and nothing received (the call was down): what played was concealment.
  const loss = expected === 0 ? (concealed ?? 0) : missing / expected;
  const discarded =
    expected === 0 ? 0 : Math.min(audio.packets_discarded, audio.packets_received) / expected;
  // Concealment beyond the lost packets is audio that came too late to play (a jitter
  // buffer run dry, e.g. behind a TCP relay's head-of-line blocking): late loss.
  const lateLoss = Math.min(1 - loss, Math.max(discarded, (concealed ?? 0) - loss));
  const heard = loss + lateLoss;
  const mouthToEar = (audio.rtt_ns ?? 0) / 2 + (audio.jitter_buffer_delay_ns ?? 0) + OPUS_FRAME_NS;
  const r = audio.packets_received === 0 ? 0 : rFactor(mouthToEar / 1e6, CODECS.opus, heard);
  return {
    loss,
    late_loss: lateLoss,
    jitter_ns: audio.jitter_ns, // null when no receiver sample said: unknown, not 0
    mouth_to_ear_ns: mouthToEar,
    r,
    mos: mosFromR(r),
    codec_source: `${CODECS.opus.source}; loss, RTT and jitter-buffer delay from getStats`,
  };
}

/** A direction of a call (`both`: the two pooled) in the shape every workload reports. */
export function rtcDirectionStats(
  dir: Dir | 'both',
  events: RtcEvent[],
  activeNs: number,
): DirectionStats {
  const mine = dir === 'both' ? events : events.filter((e) => e.dir === dir);
  const audio = rtcStats(mine.filter((e) => e.kind === 'audio'));
  const video = rtcStats(mine.filter((e) => e.kind === 'video'));
  const kinds = [audio, video].flatMap((k) => (k === null ? [] : [k]));
  const received = kinds.reduce((n, k) => n + k.packets_received, 0);
  const lost = kinds.reduce((n, k) => n + packetsMissing(k), 0);
  const late = kinds.reduce((n, k) => n + Math.min(k.packets_discarded, k.packets_received), 0);
  const bytes = sum(
    mine.filter((e) => e.side === 'recv'),
    'bytes_received',
  );
  return {
    dir,
    sent: kinds.reduce((n, k) => n + k.packets_sent, 0),
    counted: received + lost,
    delivered: received - late,
    late,
    lost,
    delivery: received + lost === 0 ? null : (received - late) / (received + lost),
    latency: { p50: null, p90: null, p95: null, p99: null, max: null },
    bytes,
    goodput_bps: activeNs > 0 ? (bytes * 8 * 1e9) / activeNs : null,
    voice: dir === 'both' || audio === null ? null : rtcVoice(audio),
    rtc: { audio, video },
  };
}
