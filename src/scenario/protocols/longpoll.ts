/** longpoll: HTTP/1.1 long polling. Agent: src/workloads/longpoll.ts. */
import { messageProtocol } from './protocol.js';

export const longpoll = messageProtocol({
  port: 443,
  tls: true,
  ports: [{ transport: 'tcp', service: 'http' }],
  // A POST per up message answered by a 204; each down message ends a poll (response
  // headers, a chunk) and the client sends the next GET.
  wire: {
    alpn: [],
    plain: 'http',
    opening: [],
    framing: [95, 175],
    reply: [100, 75],
    // The lab measured 1.2 ms one way on an unshaped path.
    stackNs: 1_150_000,
    unmodelled: 'the pool of 6 POST connections (as one)',
  },
});
