/** bulk: an object downloaded (or uploaded) again and again, measuring goodput. Agent: src/workloads/bulk.ts. */
import { defineProtocol } from './protocol.js';

export const bulk = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  transport: 'tcp',
  traffic: 'window',
  measures: 'transfers',
  down: 'agent',
  connects: true,
  loopback: { size: '100KB', direction: 'down' },
  ports: [{ transport: 'tcp', service: 'http' }],
  options: {},
  compiledKeys: [],
  // A download by default: `size` is the object, 1 MB unless given.
  defaults: () => ({ size_bytes: 1e6, direction: 'down' }),
  compile: () => ({}),
  // The request (GET, or POST with its body) and the response's headers; an upload is
  // answered by a 204.
  wire: () => ({
    alpn: [],
    plain: 'http',
    opening: [],
    framing: [95, 170],
    reply: [100, 0],
    // A transfer's time is its bytes': the lab's CPU, not a stack's delay (see unmodelled).
    stackNs: 0,
    unmodelled: '-',
  }),
});
