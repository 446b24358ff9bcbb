/**
 * The client of every message workload over a connection, whatever the protocol: it keeps
 * a connection as a messaging app does. Messages are paced into an outbox from the
 * workload's start; a connection is dialled along the workload's chain of transports
 * (each tried until the next one's `after`, the one that worked kept for next time), says
 * hello, logs in, and then carries the outbox. An application keepalive and the outbox's
 * send timeout notice a connection that died without closing (a freeze), which is then
 * dropped and dialled again after the `reconnect` waits; what it had not had acknowledged
 * goes again. Each step is an event: `connect` (with the transport, set-up time and the
 * time to recover), `fail`, `detect`, `retry`, `giveup`. The protocols only dial
 * (./session.ts `Dialer`); the scenario's knobs are in ../scenario/session.ts.
 */
import type { CompiledTransport, CompiledWorkload } from '../scenario/compiled.js';
import { Backoff, FIXED_RECONNECT } from './backoff.js';
import { now, seededRandom, sleepMs, sleepUntil } from './clock.js';
import { errorText, type Timing } from './dial.js';
import { loginFrame, outboxEvents, recordRecv, startSending, wantsUp } from './hub.js';
import { Kind, controlFrame, decodeMessage, helloFrame } from './message.js';
import { Inbox, Outbox } from './outbox.js';
import {
  CONNECT_TIMEOUT_MS,
  emitConnect,
  emitDetect,
  emitFail,
  type Conn,
  type Dialer,
} from './session.js';
import type { AgentContext } from './types.js';

/** How often the keepalive and the send timeout are checked. */
const WATCH_MS = 250;
/**
 * The least time a connection attempt is given, however close its transport is to giving
 * way: a TCP or TLS connect and a login take a round trip or a few (well under a second
 * on a clear lab, more when the machine is loaded); cut shorter, an attempt would fail
 * for the lab's load, not the network's.
 */
export const MESSAGE_ATTEMPT_MS = 2_000;
/** How often messages past their give-up time are given up. */
const SWEEP_MS = 1000;

/** Why a connection was given up. */
type Loss = { cause: 'closed'; reason: string } | { cause: 'keepalive' | 'send-timeout' };

/** What one connection has heard from the server. */
interface Hearing {
  /** When anything last arrived (the connection's last sign of life). */
  alive: bigint;
  pongs: Set<number>;
  logins: Map<number, () => void>;
}

/**
 * Runs connection `c` of message workload `index` until the agent stops; `dialers[i]`
 * opens a connection over `w.transports[i]`.
 */
export async function runSession(
  index: number,
  c: number,
  ctx: AgentContext,
  dialers: Dialer[],
): Promise<void> {
  const w = ctx.workloads[index]!;
  const chain = transportsOf(w);
  const outbox = new Outbox(w.outbox, outboxEvents(ctx, w.name, c, 'up'));
  const inbox = new Inbox();
  await sleepUntil(ctx.t0 + BigInt(w.start_ns), ctx.signal);
  if (ctx.signal.aborted) return;
  const pacer = wantsUp(w) ? startSending(ctx, index, c, 'up', outbox) : undefined;
  const sweeper = setInterval(() => outbox.sweep(), SWEEP_MS);
  const backoff = new Backoff(
    seededRandom(ctx.seed * 7919 + index * 131 + c),
    w.reconnect ?? FIXED_RECONNECT,
  );
  let step = 0;
  let stepSince = now();
  let dialStart = now();
  let lastAlive: bigint | undefined;
  let connects = 0;
  try {
    while (!ctx.signal.aborted) {
      const via = chain[step]!;
      const leaveAt = leaveTime(chain, step, stepSince);
      const hearing: Hearing = { alive: now(), pongs: new Set(), logins: new Map() };
      const timing: Timing = { start: now() };
      let conn: Conn | undefined;
      let loginNs: number | null = null;
      try {
        const budget = attemptBudget(leaveAt, MESSAGE_ATTEMPT_MS);
        const attempt = AbortSignal.any([ctx.signal, AbortSignal.timeout(budget)]);
        conn = await dialers[step]!(
          (b, at) => hear(ctx, w, hearing, inbox, outbox, () => conn, b, at),
          timing,
          attempt,
        );
        conn.send(helloFrame(index, c, now()));
        if (w.login !== null) {
          const started = now();
          await logIn(w, { dir: 'up', w: index, c }, conn, hearing, attempt);
          loginNs = Number(now() - started);
        }
      } catch (e) {
        conn?.close();
        if (ctx.signal.aborted) break;
        emitFail(ctx, w.name, c, 'connect', prefixed(chain, via, errorText(e)));
        const left = timeLeft(leaveAt, MESSAGE_ATTEMPT_MS);
        if (left <= 0) {
          // This transport had its time: the next one is tried at once.
          step = (step + 1) % chain.length;
          stepSince = now();
          continue;
        }
        await sleepMs(Math.min(backoff.next(), left), ctx.signal);
        continue;
      }
      const at = now();
      emitConnect(
        ctx,
        w.name,
        c,
        timing,
        connects++ > 0,
        {
          transport: via.label,
          setup_ns: Number(at - dialStart),
          login_ns: loginNs,
          recover_ns: lastAlive === undefined ? null : Number(at - lastAlive),
        },
        at,
      );
      backoff.reset();
      hearing.alive = now();
      outbox.resend();
      const sink = (b: Buffer) => conn!.send(b);
      outbox.attach(sink);
      const loss = await watch(ctx, w, { dir: 'up', w: index, c }, conn, hearing, outbox);
      outbox.detach(sink);
      conn.close();
      if (loss === undefined || ctx.signal.aborted) break;
      if (loss.cause === 'closed') {
        emitFail(ctx, w.name, c, 'io', loss.reason);
      } else {
        emitDetect(ctx, w.name, c, loss.cause, Number(now() - hearing.alive), via.label);
      }
      lastAlive = hearing.alive;
      dialStart = now();
      stepSince = now();
      await sleepMs(backoff.next(), ctx.signal);
    }
  } finally {
    pacer?.stop();
    clearInterval(sweeper);
  }
}

/** The workload's chain; a workload compiled without one has its own transport only. */
function transportsOf(w: CompiledWorkload): CompiledTransport[] {
  if (w.transports.length > 0) return w.transports;
  return [
    {
      label: `${w.protocol}:${w.port}`,
      protocol: w.protocol,
      port: w.port,
      tls: w.tls,
      after_ns: null,
      turn: null,
      turn_transport: null,
      turn_port: null,
      turn_address: null,
      turn_server_name: null,
    },
  ];
}

/**
 * When transport `step`, tried since `since`, gives way to the next: after the next one's
 * `after`; the last one after its own, and then the chain starts over. Undefined: a chain
 * of one, tried for ever.
 */
export function leaveTime(
  chain: CompiledTransport[],
  step: number,
  since: bigint,
): bigint | undefined {
  if (chain.length < 2) return undefined;
  const next = step + 1 < chain.length ? chain[step + 1]! : chain[step]!;
  return since + BigInt(next.after_ns ?? 0);
}

/**
 * The time (whole ms: AbortSignal.timeout refuses a fraction) an attempt on a transport
 * may take: until the transport gives way, but at least `floorMs` and at most the connect
 * timeout.
 */
export function attemptBudget(leaveAt: bigint | undefined, floorMs: number): number {
  const left = leaveAt === undefined ? Infinity : Number(leaveAt - now()) / 1e6;
  return Math.ceil(Math.min(CONNECT_TIMEOUT_MS, Math.max(floorMs, left)));
}

/**
 * How long one may wait before another attempt on a transport that gives way at
 * `leaveAt`, so that the attempt still gets `floorMs`; 0 or less: move on to the next.
 */
export function timeLeft(leaveAt: bigint | undefined, floorMs: number): number {
  return leaveAt === undefined ? Infinity : Number(leaveAt - now()) / 1e6 - floorMs;
}

/** An error names the transport when the workload has more than one. */
function prefixed(chain: CompiledTransport[], via: CompiledTransport, error: string): string {
  return chain.length > 1 ? `${via.label}: ${error}` : error;
}

/** A frame from the server: data is recorded (once) and acknowledged; control frames are noted. */
function hear(
  ctx: AgentContext,
  w: CompiledWorkload,
  hearing: Hearing,
  inbox: Inbox,
  outbox: Outbox,
  conn: () => Conn | undefined,
  b: Buffer,
  at: bigint = now(),
): void {
  hearing.alive = now();
  const h = decodeMessage(b);
  if (h === undefined || ctx.workloads[h.w] !== w) return;
  switch (h.kind) {
    case Kind.data:
      if (w.outbox === null) {
        recordRecv(ctx, h, b.length, at);
        return;
      }
      conn()?.send(controlFrame(Kind.ack, { dir: 'down', w: h.w, c: h.c }, h.seq, now()));
      if (inbox.first(h.seq)) recordRecv(ctx, h, b.length, at);
      return;
    case Kind.ack:
      outbox.ack(h.seq);
      return;
    case Kind.pong:
      hearing.pongs.add(h.seq);
      return;
    case Kind.loginOk:
      hearing.logins.get(h.seq)?.();
      return;
  }
}

/** The login's round trips, one after the other; rejects when the attempt's time runs out. */
async function logIn(
  w: CompiledWorkload,
  to: { dir: 'up'; w: number; c: number },
  conn: Conn,
  hearing: Hearing,
  signal: AbortSignal,
): Promise<void> {
  for (let i = 0; i < w.login!.round_trips; i++) {
    await new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        signal.removeEventListener('abort', onAbort);
        reject(new Error(why));
      };
      const onAbort = () => fail(`login round trip ${i + 1} unanswered`);
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      void conn.closed.then((reason) => fail(`closed during login: ${reason}`));
      hearing.logins.set(i, () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
      conn.send(loginFrame(w, Kind.login, to, i));
    });
  }
}

/**
 * Watches an established connection until it closes, the keepalive or the send timeout
 * gives it up, or the agent stops (undefined).
 */
function watch(
  ctx: AgentContext,
  w: CompiledWorkload,
  to: { dir: 'up'; w: number; c: number },
  conn: Conn,
  hearing: Hearing,
  outbox: Outbox,
): Promise<Loss | undefined> {
  return new Promise((resolve) => {
    const pings = new Map<number, bigint>();
    let seq = 0;
    let nextPing = now() + BigInt(w.keepalive?.interval_ns ?? 0);
    const timer = setInterval(() => {
      const t = now();
      const k = w.keepalive;
      if (k !== null) {
        if (t >= nextPing) {
          pings.set(seq, t);
          conn.send(controlFrame(Kind.ping, to, seq++, t));
          nextPing = t + BigInt(k.interval_ns);
        }
        for (const [s, sent] of pings) {
          if (hearing.pongs.delete(s)) {
            pings.delete(s);
          } else if (Number(t - sent) >= k.timeout_ns) {
            pings.delete(s);
            if (Number(t - hearing.alive) >= k.fail_after_ns) return done({ cause: 'keepalive' });
          }
        }
      }
      const timeout = w.outbox?.timeout_ns ?? null;
      const oldest = outbox.oldestUnacked();
      if (timeout !== null && oldest !== undefined && Number(t - oldest) >= timeout) {
        return done({ cause: 'send-timeout' });
      }
    }, WATCH_MS);
    const onAbort = () => done(undefined);
    let over = false;
    const done = (loss: Loss | undefined) => {
      if (over) return;
      over = true;
      clearInterval(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(loss);
    };
    if (ctx.signal.aborted) return done(undefined);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    void conn.closed.then((reason) => done({ cause: 'closed', reason }));
  });
}
