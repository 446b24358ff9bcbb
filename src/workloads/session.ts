/**
 * What the clients of connection-oriented workloads share: a connection as a protocol
 * opens it (./supervisor.ts keeps it), and the events of connecting and failing.
 */
import { now } from './clock.js';
import type { Timing } from './dial.js';
import type { ConnectEvent } from '../record/events.js';
import type { AgentContext } from './types.js';

export type { Conn, Dialer } from './types.js';

/** Connection attempts give up after this long, as app stacks do. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Records a failed connection attempt (`connect`), the end of an established connection
 * (`io`), or a call the app gave up placing after its whole chain of transports (`setup`).
 */
export function emitFail(
  ctx: AgentContext,
  workload: string,
  c: number,
  stage: 'connect' | 'io' | 'setup',
  error: string,
): void {
  ctx.emit({ ev: 'fail', w: workload, c, t: Number(now() - ctx.t0), stage, error });
}

/** Records that the client gave up a connection that had not closed (or a call without media). */
export function emitDetect(
  ctx: AgentContext,
  workload: string,
  c: number,
  cause: 'keepalive' | 'send-timeout' | 'media',
  silentNs: number,
  transport: string,
): void {
  const t = Number(now() - ctx.t0);
  ctx.emit({ ev: 'detect', w: workload, c, t, cause, silent_ns: silentNs, transport });
}

/** What a workload with a session adds to its connect events (see ConnectEvent). */
export type SessionConnect = Pick<
  ConnectEvent,
  'transport' | 'setup_ns' | 'login_ns' | 'recover_ns'
>;

/**
 * Records a finished connection set-up: TCP connect and TLS handshake times, and what a
 * session adds (`session`). `at`: when the connection became usable.
 */
export function emitConnect(
  ctx: AgentContext,
  workload: string,
  c: number,
  timing: Timing,
  reconnect: boolean,
  session: SessionConnect = {},
  at: bigint = now(),
): void {
  const tcp = timing.tcp ?? at;
  ctx.emit({
    ev: 'connect',
    w: workload,
    c,
    t: Number(at - ctx.t0),
    connect_ns: Number(tcp - timing.start),
    tls_ns: timing.tls === undefined ? null : Number(timing.tls - tcp),
    ...(timing.dns === undefined ? {} : { dns_ns: Number(timing.dns - timing.start) }),
    reconnect,
    ...(timing.proto === undefined ? {} : { proto: timing.proto }),
    ...(timing.quicVersion === undefined ? {} : { quic_version: timing.quicVersion }),
    ...session,
  });
}
