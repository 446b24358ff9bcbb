/** websocket: binary WebSocket messages, over TLS by default. Agent: src/workloads/websocket.ts. */
import { plainProtocol } from './protocol.js';

export const websocket = plainProtocol({
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
