/**
 * webrtc: an Opus audio call (optionally with VP8 video) between two real WebRTC stacks,
 * headless Chromium in each namespace. Signalling is HTTPS on the host's port (shared
 * with its other HTTP workloads, as messengers signal over their own TLS connection);
 * media goes over ICE/DTLS-SRTP on UDP between host candidates. Metrics come from the
 * stacks' getStats(). With `turn: <host>` the run starts coturn on that host's address
 * (port `turn_port`, default 3478) and the caller relays its media through it
 * (src/workloads/coturn.ts). Agent: src/workloads/webrtc.ts.
 */
import { z } from 'zod';
import { Name } from '../fields.js';
import { defineProtocol } from './protocol.js';

/** The IANA STUN/TURN port, coturn's default. */
export const TURN_PORT = 3478;

export const webrtc = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  // The signalling endpoint; the media ports are the stacks' own (ephemeral, as in real calls).
  ports: [{ transport: 'tcp', service: 'http', tls: true }],
  options: {
    video: z
      .boolean()
      .optional()
      .meta({ description: 'webrtc: send a camera-like video track (VP8) besides the audio' }),
    turn: Name.optional().meta({
      description:
        'webrtc: a host whose address runs a TURN/STUN server (coturn) for this call; the caller relays its media through it',
    }),
    turn_port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: "webrtc: the TURN server's UDP port (default 3478)" }),
  },
  // turn_address is filled in by the compiler from the hosts (compile.ts).
  compiledKeys: ['video', 'turn', 'turn_port', 'turn_address'],
  // Media is the stack's own (no messages to pace or judge): the deadline only sets how long
  // a run waits after its end, and a voice packet a second late is of no use anyway.
  defaults: () => ({ interval_ns: 20e6, deadline_ns: 1e9 }),
  compile: (
    o,
  ): {
    video: boolean;
    turn: string | null;
    turn_port: number | null;
    turn_address: string | null;
  } => ({
    video: o.video ?? false,
    turn: o.turn ?? null,
    turn_port: o.turn === undefined ? null : (o.turn_port ?? TURN_PORT),
    turn_address: null,
  }),
});
