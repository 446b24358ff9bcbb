/** websocket: binary WebSocket messages, over TLS by default. Agent: src/workloads/websocket.ts. */
import { messageProtocol } from './protocol.js';

export const websocket = messageProtocol({
  port: 443,
  tls: true,
  ports: [{ transport: 'tcp', service: 'http' }],
  // Upgrade request and 101 response; frames: 2 bytes of header (4 below 64 KiB) and the
  // client's 4-byte mask.
  wire: {
    alpn: [],
    plain: 'http',
    opening: [[170, 130]],
    framing: [8, 4],
    reply: [0, 0],
    // The lab measured 0.76 ms one way on an unshaped path.
    stackNs: 700_000,
    unmodelled: '-',
  },
});
