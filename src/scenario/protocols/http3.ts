/**
 * http3: accepted by the schema because QUIC-blocking scenarios need a QUIC client, but
 * no agent runs it yet (`qoslab run` says so; `simulate` models it).
 */
import { plainProtocol } from './protocol.js';

export const http3 = plainProtocol({
  port: 443,
  tls: true,
  agent: false,
  ports: [
    { transport: 'udp', service: 'quic', tls: true },
    // The same paths over TCP, for the `fallback: h2` a browser makes when QUIC fails.
    { transport: 'tcp', service: 'http', tls: true },
  ],
});
