/**
 * http3: messages as HTTP/3 requests over QUIC to Caddy. The client is headless Chromium
 * (a POST each up, one streamed response down; `fallback: h2` retries over TCP with
 * HTTP/2 when QUIC fails, as browsers do), or with `client: ngtcp2` ngtcp2's example client,
 * one QUIC connection per up message, whose ClientHello fits one Initial (Chromium's
 * post-quantum one spans two). Agent: src/workloads/http3.ts.
 */
import { z } from 'zod';
import { Duration } from '../fields.js';
import { defineProtocol, type ProtocolProblem } from './protocol.js';

export const http3 = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  // ngtcp2's client opens a connection per message: there is no connection to keep.
  session: (o) => (o.client === 'ngtcp2' ? undefined : 'messages'),
  transport: 'quic',
  traffic: 'messages',
  measures: 'messages',
  down: 'hub',
  connects: true,
  loopback: { every: '200ms' },
  ports: [
    { transport: 'udp', service: 'quic', tls: true },
    // Caddy holds the TCP side of the port too (h2, h1), for the fallback a browser makes.
    { transport: 'tcp', service: 'edge', tls: true },
  ],
  options: {
    client: z.enum(['chromium', 'ngtcp2']).optional().meta({
      description:
        "chromium (default): headless Chromium, its post-quantum ClientHello over two Initials; ngtcp2: ngtcp2's client, a QUIC connection per up message, its ClientHello in one Initial",
    }),
    hold: Duration.optional().meta({
      description:
        "client ngtcp2: wait this long after the handshake before sending the request (ngtcp2's --delay-stream), as probes that hold a connection open past a censor's blocking latency do",
    }),
  },
  compiledKeys: ['client', 'hold_ns'],
  defaults: (o) => (o.client === 'ngtcp2' ? { direction: 'up' } : {}),
  compile: (o): { client: 'chromium' | 'ngtcp2'; hold_ns: number } => ({
    client: o.client ?? 'chromium',
    hold_ns: o.hold ?? 0,
  }),
  // The page Chromium loads first, then its down stream (HEADERS frames); a POST per up
  // message (HEADERS, DATA) answered by a 204; DATA frames down with their length.
  wire: (c) => ({
    alpn: ['h3'],
    plain: null,
    opening:
      c.client === 'chromium'
        ? [
            [60, 250],
            [60, 60],
          ]
        : [],
    framing: [45, 13],
    reply: [25, 0],
    splitHello: c.client === 'chromium',
    // The lab measured 4.2 ms one way through Chromium (its DevTools hop each way);
    // ngtcp2's client is not measured yet: about http2's.
    stackNs: c.client === 'chromium' ? 4_200_000 : 1_700_000,
    unmodelled:
      c.client === 'chromium'
        ? "Chromium's QUIC (as CUBIC, RFC 9002 recovery), its DevTools hop"
        : "ngtcp2's connection per request (as one connection)",
  }),
  // Chromium speaks QUIC to the origin; ngtcp2's client is a process of its own.
  chromium: (c) => (c.client === 'chromium' ? 'quic' : null),
  // Caddy serves both clients; ngtcp2's client or Chromium connects.
  programs: (c) => (c.client === 'ngtcp2' ? ['caddy', 'gtlsclient'] : ['caddy', 'chromium']),
  check: (w) => {
    if (w.client !== 'ngtcp2') {
      return w.hold === undefined
        ? []
        : [{ key: 'hold', message: 'hold applies to client ngtcp2 only' }];
    }
    const problems: ProtocolProblem[] = [];
    if (w.direction !== undefined && w.direction !== 'up') {
      problems.push({
        key: 'direction',
        message: `client ngtcp2 sends up messages only (a process per request), not '${w.direction}'`,
      });
    }
    return problems;
  },
});
