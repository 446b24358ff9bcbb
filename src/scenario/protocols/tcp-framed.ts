/**
 * tcp-framed: length-prefixed frames on TCP. MTProto- and Noise-like framing carries its
 * own encryption over plain TCP, hence no TLS by default. Agent: src/workloads/tcp-framed.ts.
 */
import { plainProtocol } from './protocol.js';

export const tcpFramed = plainProtocol({
  port: 443,
  tls: false,
  agent: true,
  transport: 'tcp',
  traffic: 'messages',
  measures: 'messages',
  down: 'hub',
  loopback: { every: '100ms' },
  ports: [{ transport: 'tcp', service: 'own' }],
});
