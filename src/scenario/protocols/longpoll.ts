/** longpoll: HTTP/1.1 long polling. Agent: src/workloads/longpoll.ts. */
import { plainProtocol } from './protocol.js';

export const longpoll = plainProtocol({
  port: 443,
  tls: true,
  agent: true,
  transport: 'tcp',
  traffic: 'messages',
  measures: 'messages',
  down: 'hub',
  loopback: { every: '100ms' },
  ports: [{ transport: 'tcp', service: 'http' }],
});
