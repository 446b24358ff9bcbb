import { now, seededRandom, sleepMs, sleepUntil } from './clock.js';
import { errorText, type Timing } from './dial.js';
import { Outbox, receive, startSending, wantsUp } from './hub.js';
import { Kind, encodeMessage } from './message.js';
import type { AgentContext } from './types.js';

/** An established client connection of a message workload, whatever the protocol. */
export interface Conn {
  send(b: Buffer): void;
  close(): void;
  /** Resolves (with the reason) when the connection ends by itself. */
  closed: Promise<string>;
}

/** Opens one connection; `onMessage` gets each whole message the server sends. */
export type Dialer = (
  onMessage: (b: Buffer, at?: bigint) => void,
  timing: Timing,
  signal: AbortSignal,
) => Promise<Conn>;

/** Connection attempts give up after this long, as app stacks do. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * Exponential backoff with full jitter (250 ms doubling to 8 s), seeded: what messaging
 * apps do between reconnects, and what makes reconnect storms measurable.
 */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly random: () => number,
    private readonly baseMs = 250,
    private readonly capMs = 8_000,
  ) {}
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** this.attempt++);
    return ceiling / 2 + (ceiling / 2) * this.random();
  }
  reset(): void {
    this.attempt = 0;
  }
}

/**
 * The client side every message protocol shares: pace up messages into an outbox from
 * the workload's start, keep one connection open (reconnecting with backoff), say hello
 * so the server can route down messages, and record what arrives.
 */
export async function runMessageClient(
  index: number,
  c: number,
  ctx: AgentContext,
  dialer: Dialer,
): Promise<void> {
  const w = ctx.workloads[index]!;
  const outbox = new Outbox();
  await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
  if (ctx.signal.aborted) return;
  const pacer = wantsUp(w) ? startSending(ctx, index, c, 'up', outbox) : undefined;
  const backoff = new Backoff(seededRandom(ctx.seed * 7919 + index * 131 + c));
  let connects = 0;
  const onMessage = (b: Buffer, at?: bigint) => void receive(ctx, b, at);
  try {
    while (!ctx.signal.aborted) {
      const timing: Timing = { start: now() };
      let conn: Conn;
      try {
        const attempt = AbortSignal.any([ctx.signal, AbortSignal.timeout(CONNECT_TIMEOUT_MS)]);
        conn = await dialer(onMessage, timing, attempt);
      } catch (e) {
        if (ctx.signal.aborted) break;
        emitFail(ctx, w.name, c, 'connect', errorText(e));
        await sleepMs(backoff.next(), ctx.signal);
        continue;
      }
      emitConnect(ctx, w.name, c, timing, connects++ > 0);
      backoff.reset();
      const hello = { kind: Kind.hello, dir: 'up', w: index, c, seq: 0, sentAbs: now(), length: 0 };
      conn.send(encodeMessage(hello as Parameters<typeof encodeMessage>[0]));
      const sink = (b: Buffer) => conn.send(b);
      outbox.attach(sink);
      const aborted = new Promise<undefined>((resolve) =>
        ctx.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
      );
      const reason = await Promise.race([conn.closed, aborted]);
      outbox.detach(sink);
      if (reason === undefined || ctx.signal.aborted) {
        conn.close();
        break;
      }
      emitFail(ctx, w.name, c, 'io', reason);
      await sleepMs(backoff.next(), ctx.signal);
    }
  } finally {
    pacer?.stop();
  }
}

/** Records a failed connection attempt (`connect`) or the end of an established one (`io`). */
export function emitFail(
  ctx: AgentContext,
  workload: string,
  c: number,
  stage: 'connect' | 'io',
  error: string,
): void {
  ctx.emit({ ev: 'fail', w: workload, c, t: Number(now() - ctx.t0), stage, error });
}

/** Records a finished connection set-up: TCP connect and TLS handshake times. */
export function emitConnect(
  ctx: AgentContext,
  workload: string,
  c: number,
  timing: Timing,
  reconnect: boolean,
): void {
  const at = now();
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
  });
}
