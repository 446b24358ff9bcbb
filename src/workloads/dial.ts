import net from 'node:net';
import tls from 'node:tls';
import { now } from './clock.js';

/** Instants of one connection attempt, for the connect and TLS handshake times. */
export interface Timing {
  start: bigint;
  /** The name lookup's end (none for an address, or a stack that does not say). */
  dns?: bigint;
  tcp?: bigint;
  tls?: bigint;
  /** The application protocol, where a workload can use more than one (http3: h3 or h2). */
  proto?: string;
  /** The QUIC version, when `proto` is h3. */
  quicVersion?: string;
}

export interface DialOptions {
  /** DNS name: resolved through the namespace's hosts file, and the TLS SNI. */
  host: string;
  port: number;
  tls: boolean;
  caPem: string;
  alpn?: string[];
}

/** Record TCP and TLS completion on a socket being connected; messaging apps disable Nagle. */
export function hookTiming(socket: net.Socket, timing: Timing, secure: boolean): void {
  socket.setNoDelay(true);
  // Node looks the name up (getaddrinfo: resolv.conf, the lab's resolver) before connecting.
  socket.once('lookup', () => (timing.dns = now()));
  socket.once('connect', () => (timing.tcp = now()));
  if (secure) socket.once('secureConnect', () => (timing.tls = now()));
}

/** Open a socket (TLS with SNI = the host name, trusting only the lab CA when `tls`). */
export function openSocket(o: DialOptions, timing: Timing): net.Socket {
  const socket = o.tls
    ? tls.connect({
        host: o.host,
        port: o.port,
        servername: o.host,
        ca: o.caPem,
        ALPNProtocols: o.alpn,
      })
    : net.connect({ host: o.host, port: o.port });
  hookTiming(socket, timing, o.tls);
  return socket;
}

/** openSocket, resolved once usable (TLS done); rejects on error or abort. */
export function dial(o: DialOptions, timing: Timing, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = openSocket(o, timing);
    const ready = o.tls ? 'secureConnect' : 'connect';
    const onAbort = () => {
      socket.destroy();
      reject(new Error('connect timed out'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (e) => {
      signal.removeEventListener('abort', onAbort);
      reject(e);
    });
    socket.once(ready, () => {
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
  });
}

/** The error text of anything thrown, short enough for an event. */
export function errorText(e: unknown): string {
  const err = e as { code?: string; message?: string };
  return err?.code ? `${err.code}: ${err.message ?? ''}` : String(err?.message ?? e);
}
