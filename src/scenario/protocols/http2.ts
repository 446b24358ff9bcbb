/** http2: messages as HTTP/2 requests and a server-push stream. Agent: src/workloads/http2.ts. */
import { plainProtocol } from './protocol.js';

export const http2 = plainProtocol({
  port: 443,
  tls: true,
  agent: true,
  transport: 'tcp',
  traffic: 'messages',
  measures: 'messages',
  down: 'hub',
  loopback: { every: '100ms' },
  ports: [{ transport: 'tcp', service: 'http', tls: true }],
});
