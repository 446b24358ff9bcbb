import type { CompiledWorkload } from '../scenario/compiled.js';
import { PROTOCOLS } from '../scenario/protocols/index.js';
import { now } from './clock.js';
import { Kind, decodeMessage, encodeMessage, type Header } from './message.js';
import { intervalNs } from '../scenario/budget.js';
import { Pacer } from './pacer.js';
import type { AgentContext, MessageHub } from './types.js';

/** Messages to one peer: queued while it is not connected, as a messaging app queues. */
export class Outbox {
  private queue: Buffer[] = [];
  private sink: ((b: Buffer) => void) | undefined;
  /** A bounded queue: a long outage must not exhaust memory. */
  static readonly LIMIT = 10_000;

  push(b: Buffer): void {
    if (this.sink !== undefined) this.sink(b);
    else if (this.queue.length < Outbox.LIMIT) this.queue.push(b);
  }

  attach(sink: (b: Buffer) => void): void {
    this.sink = sink;
    const queued = this.queue;
    this.queue = [];
    for (const b of queued) sink(b);
  }

  detach(sink: (b: Buffer) => void): void {
    if (this.sink === sink) this.sink = undefined;
  }
}

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
  outbox: Outbox,
): Pacer {
  const w = ctx.workloads[index]!;
  const from = ctx.t0 + BigInt(w.start_ns);
  const until = ctx.t0 + BigInt(w.stop_ns);
  return new Pacer(from, until, intervalNs(w), (seq) =>
    sendStamped(ctx, index, c, dir, seq, (msg) => outbox.push(msg)),
  ).start();
}

/** Record a received data message; returns its header (undefined if not ours or a hello). */
/** `at`: when the application had it, if not now (a browser page reports its own instant). */
export function receive(ctx: AgentContext, b: Buffer, at: bigint = now()): Header | undefined {
  const h = decodeMessage(b);
  const w = h === undefined ? undefined : ctx.workloads[h.w];
  if (h === undefined || w === undefined) return undefined;
  if (h.kind === Kind.data) {
    ctx.emit({
      ev: 'recv',
      w: w.name,
      dir: h.dir,
      c: h.c,
      seq: h.seq,
      t: Number(at - ctx.t0),
      sent: Number(h.sentAbs - ctx.t0),
      bytes: b.length,
    });
  }
  return h;
}

/**
 * The server side of the message workloads: down-direction messages are produced per
 * workload connection from the start (queued until that client connects), and whichever
 * transport a client arrives on attaches to its outbox.
 */
export class Hub implements MessageHub {
  private readonly outboxes = new Map<string, Outbox>();
  private readonly pacers: Pacer[] = [];
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
        this.pacers.push(startSending(ctx, index, c, 'down', this.outbox(index, c)));
      }
    }
  }

  stop(): void {
    for (const p of this.pacers) p.stop();
  }

  private outbox(w: number, c: number): Outbox {
    const key = `${w}/${c}`;
    let box = this.outboxes.get(key);
    if (box === undefined) this.outboxes.set(key, (box = new Outbox()));
    return box;
  }

  /** A client connection identified itself: deliver its down messages through `send`. */
  attach(w: number, c: number, send: (b: Buffer) => void): () => void {
    const box = this.outbox(w, c);
    box.attach(send);
    return () => box.detach(send);
  }

  /** Bytes from a client: record data, and return the header (hellos included). */
  receive(b: Buffer): Header | undefined {
    return this.ctx === undefined ? undefined : receive(this.ctx, b);
  }
}
