/**
 * udp-voice: an RTP-like call, one frame every `frame` each way, sized by the codec; plain
 * UDP, no TLS. Agent: src/workloads/udp-voice.ts.
 */
import { z } from 'zod';
import { PositiveDuration } from '../fields.js';
import { BARE_WIRE, defineProtocol } from './protocol.js';

type Codec = 'opus' | 'g711';
/** Payload bit rate: G.711 is 64 kbit/s; Opus at a typical 32 kbit/s VoIP setting. */
const CODEC_BPS: Record<Codec, number> = { opus: 32_000, g711: 64_000 };
const DEFAULT_CODEC: Codec = 'opus';
const DEFAULT_FRAME_NS = 20e6;

export const udpVoice = defineProtocol({
  port: 3478,
  tls: 'never',
  agent: true,
  transport: 'udp',
  traffic: 'frames',
  measures: 'voice-frames',
  down: 'agent',
  connects: false,
  loopback: { codec: 'g711' },
  ports: [{ transport: 'udp', service: 'own' }],
  options: {
    codec: z.enum(['opus', 'g711']).optional(),
    frame: PositiveDuration.optional(),
  },
  compiledKeys: ['codec', 'frame_ns'],
  defaults: (o) => {
    const frame = o.frame ?? DEFAULT_FRAME_NS;
    return {
      interval_ns: frame,
      size_bytes: Math.round((CODEC_BPS[o.codec ?? DEFAULT_CODEC] / 8) * (frame / 1e9)),
      // A voice frame later than this is of no use to a call (jitter buffers hold ~60 ms).
      deadline_ns: 1e9,
    };
  },
  compile: (o): { codec: Codec; frame_ns: number } => ({
    codec: o.codec ?? DEFAULT_CODEC,
    frame_ns: o.frame ?? DEFAULT_FRAME_NS,
  }),
  // Frames are datagrams of the message alone (header and codec payload).
  wire: () => ({
    ...BARE_WIRE,
    // The lab measured 0.24 ms one way on an unshaped path.
    stackNs: 200_000,
    unmodelled: '-',
  }),
});
