/**
 * http3: messages as HTTP/3 requests over QUIC (a POST each up, one streamed response
 * down), from headless Chromium to Caddy. `fallback: h2` retries over TCP (HTTP/2) when
 * QUIC fails, as browsers do. Agent: src/workloads/http3.ts.
 */
import { z } from 'zod';
import { defineProtocol } from './protocol.js';

export const http3 = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  ports: [
    { transport: 'udp', service: 'quic', tls: true },
    // Caddy holds the TCP side of the port too (h2, h1), for the fallback a browser makes.
    { transport: 'tcp', service: 'edge', tls: true },
  ],
  options: {
    fallback: z
      .enum(['h2'])
      .optional()
      .meta({ description: 'retry over HTTP/2 on TCP when QUIC fails, as browsers do' }),
  },
  compiledKeys: ['fallback'],
  defaults: () => ({}),
  compile: (o): { fallback: 'h2' | null } => ({ fallback: o.fallback ?? null }),
});
