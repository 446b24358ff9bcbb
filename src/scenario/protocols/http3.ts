/**
 * http3: accepted by the schema because QUIC-blocking scenarios need a QUIC client, but
 * no agent runs it yet (`qoslab run` says so; `simulate` models it).
 */
import { plainProtocol } from './protocol.js';

export const http3 = plainProtocol({ port: 443, transport: 'udp', tls: true, agent: false });
