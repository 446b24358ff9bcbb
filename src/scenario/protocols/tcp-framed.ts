/**
 * tcp-framed: length-prefixed frames on TCP. MTProto- and Noise-like framing carries its
 * own encryption over plain TCP, hence no TLS by default. Agent: src/workloads/tcp-framed.ts.
 */
import { messageProtocol } from './protocol.js';

export const tcpFramed = messageProtocol({
  port: 443,
  tls: false,
  ports: [{ transport: 'tcp', service: 'own' }],
  // A 4-byte length per frame; without TLS a 64-byte obfuscated preamble opens the stream.
  wire: {
    alpn: [],
    plain: 'random',
    opening: [],
    framing: [4, 4],
    reply: [0, 0],
    // The lab measured 0.35 ms one way on an unshaped path.
    stackNs: 300_000,
    unmodelled: '-',
  },
});
