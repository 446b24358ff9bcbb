import type { Dir } from '../record/events.js';
import type { CompiledWorkload } from '../scenario/compiled.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { now } from './clock.js';
import { Kind, controlFrame, decodeMessage, encodeMessage, type Header } from './message.js';
import { Inbox, Outbox, type OutboxEvents } from './outbox.js';
import { intervalNs } from '../scenario/budget.js';
import { Pacer } from './pacer.js';
import type { AgentContext, MessageHub } from './types.js';

export function wantsUp(w: CompiledWorkload): boolean {
  return w.direction === 'up' || w.direction === 'both';
}
export function wantsDown(w: CompiledWorkload): boolean {
  return w.direction === 'down' || w.direction === 'both';
}

/**
 * Encodes message `seq` of one direction of a workload connection, stamped with its send
 * time, hands it to `send`, and records it as sent. Every protocol's sender goes through
 * here. The record is written after `send`: writing it costs about 0.1 ms on a busy
 * 2-core machine, which is the lab's bookkeeping, not the application's latency.
 */
export function sendStamped(
  ctx: AgentContext,
  index: number,
  c: number,
  dir: 'up' | 'down',
  seq: number,
  send: (msg: Buffer) => void,
): void {
  const w = ctx.workloads[index]!;
  const sentAbs = now();
  const msg = encodeMessage({
    kind: Kind.data,
    dir,
    w: index,
    c,
    seq,
    sentAbs,
    length: w.size_bytes,
  });
  try {
    send(msg);
  } finally {
    ctx.emit({
      ev: 'send',
      w: w.name,
      dir,
      c,
      seq,
      t: Number(sentAbs - ctx.t0),
      bytes: msg.length,
    });
  }
}

/**
 * Creates the paced messages of one direction of one workload connection: each is
 * stamped, handed to the outbox, and recorded as sent.
 */
export function startSending(
  ctx: AgentContext,
  index: number,
  c: number,
  dir: 'up' | 'down',
  outbox: Pick<Outbox, 'push'>,
): Pacer {
  const w = ctx.workloads[index]!;
  const from = ctx.t0 + BigInt(w.start_ns);
  const until = ctx.t0 + BigInt(w.stop_ns);
  return new Pacer(from, until, intervalNs(w), (seq) =>
    sendStamped(ctx, index, c, dir, seq, (msg) => outbox.push(seq, msg)),
  ).start();
}

/** Records the arrival of data message `h` (`at`: when the application had it). */
export function recordRecv(ctx: AgentContext, h: Header, bytes: number, at: bigint): void {
  const w = ctx.workloads[h.w];
  if (w === undefined) return;
  ctx.emit({
    ev: 'recv',
    w: w.name,
    dir: h.dir,
    c: h.c,
    seq: h.seq,
    t: Number(at - ctx.t0),
    sent: Number(h.sentAbs - ctx.t0),
    bytes,
  });
}

/** Record a received data message; returns its header (undefined if not ours or a hello). */
/** `at`: when the application had it, if not now (a browser page reports its own instant). */
export function receive(ctx: AgentContext, b: Buffer, at: bigint = now()): Header | undefined {
  const h = decodeMessage(b);
  const w = h === undefined ? undefined : ctx.workloads[h.w];
  if (h === undefined || w === undefined) return undefined;
  if (h.kind === Kind.data) recordRecv(ctx, h, b.length, at);
  return h;
}

/** The events of one direction's outbox: resends and messages given up. */
export function outboxEvents(
  ctx: AgentContext,
  workload: string,
  c: number,
  dir: Dir,
): OutboxEvents {
  const t = () => Number(now() - ctx.t0);
  return {
    retry: (seq, attempt) => ctx.emit({ ev: 'retry', w: workload, dir, c, seq, t: t(), attempt }),
    giveUp: (seq, attempts) =>
      ctx.emit({ ev: 'giveup', w: workload, dir, c, seq, t: t(), attempts }),
  };
}

/** The login frame of round trip `i` (or its reply): the login's bytes spread over its round trips. */
export function loginFrame(
  w: CompiledWorkload,
  kind: Kind,
  to: { dir: Dir; w: number; c: number },
  i: number,
): Buffer {
  const login = w.login!;
  return controlFrame(kind, to, i, now(), Math.round(login.bytes / login.round_trips));
}

/** How often the server gives up down messages past their give-up time. */
const SWEEP_MS = 1000;

/** One workload connection as the server sees it: its down outbox and what it has had up. */
interface ServerSide {
  outbox: Outbox;
  inbox: Inbox;
}

/**
 * The server side of the message workloads: down-direction messages are produced per
 * workload connection from the start (queued until that client connects), and whichever
 * transport a client arrives on attaches to its outbox. It answers the clients' control
 * frames as a messenger's server does: acknowledges each message (when the workload has
 * an `outbox`), answers pings and login round trips, and on a client's hello — a new
 * connection — resends the down messages the last one did not acknowledge.
 */
export class Hub implements MessageHub {
  private readonly sides = new Map<string, ServerSide>();
  private readonly pacers: Pacer[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private ctx: AgentContext | undefined;

  constructor(private readonly indices: number[]) {}

  begin(ctx: AgentContext): void {
    this.ctx = ctx;
    for (const index of this.indices) {
      const w = ctx.workloads[index]!;
      // A protocol whose agent sends down on its own (voice frames, bulk objects, a media
      // stack) says `down: 'agent'` on its row.
      if (!wantsDown(w) || PROTOCOLS[w.protocol].down !== 'hub') continue;
      for (let c = 0; c < w.connections; c++) {
        this.pacers.push(startSending(ctx, index, c, 'down', this.side(index, c).outbox));
      }
    }
    this.sweeper = setInterval(() => {
      for (const side of this.sides.values()) {
        side.outbox.sweep();
        side.outbox.resendStale();
      }
    }, SWEEP_MS);
  }

  stop(): void {
    for (const p of this.pacers) p.stop();
    clearInterval(this.sweeper);
  }

  private side(w: number, c: number): ServerSide {
    const key = `${w}/${c}`;
    let side = this.sides.get(key);
    if (side === undefined) {
      const workload = this.ctx?.workloads[w];
      const events =
        this.ctx === undefined || workload === undefined
          ? undefined
          : outboxEvents(this.ctx, workload.name, c, 'down');
      side = { outbox: new Outbox(workload?.outbox ?? null, events), inbox: new Inbox() };
      this.sides.set(key, side);
    }
    return side;
  }

  /** A client connection identified itself: deliver its down messages through `send`. */
  attach(w: number, c: number, send: (b: Buffer) => void): () => void {
    const box = this.side(w, c).outbox;
    box.attach(send);
    return () => box.detach(send);
  }

  detach(w: number, c: number, send: (b: Buffer) => void): void {
    this.side(w, c).outbox.detach(send);
  }

  /** Bytes from a client: record data, answer control frames, and return the header (hellos included). */
  receive(b: Buffer, send?: (b: Buffer) => void, reply?: (b: Buffer) => void): Header | undefined {
    const ctx = this.ctx;
    const h = decodeMessage(b);
    const w = h === undefined || ctx === undefined ? undefined : ctx.workloads[h.w];
    if (h === undefined || w === undefined || ctx === undefined) return undefined;
    const side = this.side(h.w, h.c);
    const back = { dir: 'up' as const, w: h.w, c: h.c };
    // Answers go back with the request when the transport has one (an HTTP POST), else
    // with the connection's down messages.
    const answer = reply ?? ((f: Buffer) => side.outbox.pushControl(f));
    switch (h.kind) {
      case Kind.data:
        if (w.outbox === null) {
          recordRecv(ctx, h, b.length, now());
          break;
        }
        // Acknowledged every time (the last ack may be what got lost), counted once.
        answer(controlFrame(Kind.ack, back, h.seq, now()));
        if (side.inbox.first(h.seq)) recordRecv(ctx, h, b.length, now());
        break;
      case Kind.hello:
        // A new connection: it takes the down messages, and what an older one was
        // written and did not acknowledge goes again (data only after the login).
        side.outbox.hold(w.login !== null);
        if (send !== undefined) side.outbox.attach(send);
        side.outbox.resend(side.outbox.current);
        break;
      case Kind.login:
        answer(loginFrame(w, Kind.loginOk, { ...back, dir: 'down' }, h.seq));
        if (w.login === null || h.seq >= w.login.round_trips - 1) side.outbox.hold(false);
        break;
      case Kind.ping:
        // The pong goes the way down messages go, not back with the request that carried
        // the ping (as Engine.IO's heartbeat rides the poll): a long poll that died while
        // its POSTs still answer is then noticed by the keepalive, not waited out.
        side.outbox.pushControl(controlFrame(Kind.pong, { ...back, dir: 'down' }, h.seq, now()));
        break;
      case Kind.ack:
        side.outbox.ack(h.seq);
        break;
    }
    return h;
  }
}
