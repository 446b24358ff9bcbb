import type { CompiledWorkload } from '../../src/scenario/compiled.js';

const MS = 1e6;
const S = 1e9;

/** A compiled websocket workload: a 100 B message every 100 ms for 10 s, 1 s deadline. */
export function workload(p: Partial<CompiledWorkload> = {}): CompiledWorkload {
  return {
    name: 'w',
    host: 'h',
    server_name: 'h.lab',
    address: '198.19.1.1',
    address6: null,
    protocol: 'websocket',
    port: 443,
    tls: true,
    interval_ns: 100 * MS,
    rate_bps: null,
    size_bytes: 100,
    deadline_ns: 1 * S,
    direction: 'up',
    connections: 1,
    start_ns: 0,
    stop_ns: 10 * S,
    codec: null,
    frame_ns: null,
    app: null,
    use: null,
    keepalive: null,
    reconnect: null,
    login: null,
    outbox: null,
    transports: [],
    ...p,
  };
}
