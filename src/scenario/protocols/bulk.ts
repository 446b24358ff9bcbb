/** bulk: an object downloaded (or uploaded) again and again, measuring goodput. Agent: src/workloads/bulk.ts. */
import { defineProtocol } from './protocol.js';

export const bulk = defineProtocol({
  port: 443,
  tls: true,
  agent: true,
  // Transfers back to back, each as soon as the last one ended.
  pace: 'none',
  load: 'transfers back to back',
  ports: [{ transport: 'tcp', service: 'http' }],
  options: {},
  compiledKeys: [],
  // A download by default: `size` is the object, 1 MB unless given.
  defaults: () => ({ size_bytes: 1e6, direction: 'down' }),
  compile: () => ({}),
});
