import type { buildConnector } from 'undici';
import { openSocket, type Timing } from './dial.js';

/**
 * An undici `connect` function that opens our timed socket (SNI = the host name, only
 * the lab CA trusted) and reports every new connection's timing through `onSocket`.
 */
export function timedConnector(
  o: { host: string; port: number; tls: boolean; caPem: string; alpn?: string[] },
  onSocket: (timing: Timing) => void,
  onError: (error: Error) => void = () => {},
): buildConnector.connector {
  return (_options, callback) => {
    const timing: Timing = { start: process.hrtime.bigint() };
    const socket = openSocket(o, timing);
    let called = false;
    socket.once(o.tls ? 'secureConnect' : 'connect', () => {
      if (called) return;
      called = true;
      onSocket(timing);
      callback(null, socket as never);
    });
    socket.once('error', (e) => {
      if (called) return;
      called = true;
      onError(e);
      callback(e, null);
    });
  };
}
