/** http2: messages as HTTP/2 requests and a server-push stream. Agent: src/workloads/http2.ts. */
import { messageProtocol } from './protocol.js';

export const http2 = messageProtocol({
  port: 443,
  tls: true,
  ports: [{ transport: 'tcp', service: 'http', tls: true }],
  // Preface, SETTINGS, WINDOW_UPDATE and the down stream's GET; the server's SETTINGS, ACK
  // and response headers. An up message is a POST (HEADERS and DATA frames) answered by a
  // 204; a down message is a DATA frame with its 4-byte length.
  wire: {
    alpn: ['h2'],
    plain: null,
    opening: [[105, 80]],
    framing: [45, 13],
    reply: [25, 0],
    // The lab measured 1.74 ms one way on an unshaped path.
    stackNs: 1_700_000,
    unmodelled: 'HTTP/2 flow-control frames',
  },
});
