/**
 * webrtc: an Opus audio call (optionally with VP8 video) between two real WebRTC stacks,
 * headless Chromium in each namespace. Signalling is HTTPS on the host's port (shared
 * with its other HTTP workloads, as messengers signal over their own TLS connection);
 * media goes over ICE/DTLS-SRTP on UDP between host candidates. Metrics come from the
 * stacks' getStats(). Agent: src/workloads/webrtc.ts.
 */
import { z } from 'zod';
import { defineProtocol } from './protocol.js';

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
  },
  compiledKeys: ['video'],
  // Media is the stack's own (no messages to pace or judge): the deadline only sets how long
  // a run waits after its end, and a voice packet a second late is of no use anyway.
  defaults: () => ({ interval_ns: 20e6, deadline_ns: 1e9 }),
  compile: (o): { video: boolean } => ({ video: o.video ?? false }),
});
