/**
 * The outbox of one direction of a workload connection, on either side: messages wait in
 * it while there is no connection, and — with the scenario's `outbox` — stay in it until
 * the peer acknowledges them, go again on the next connection when they were written to
 * one that died, and are given up when too old or resent too often, as a messenger's
 * outgoing queue behaves. Without `outbox`, a message is written once and forgotten (a
 * plain socket). The receiving side drops what it already had (`Inbox`), as apps do by
 * message id, so a resend never shows twice.
 */
import type { CompiledOutbox } from '../scenario/compiled.js';
import { now } from './clock.js';
import { withAttempt } from './message.js';

/** What the outbox tells its owner, to be recorded as events. */
export interface OutboxEvents {
  /** Message `seq` is written again; `attempt` counts from 1 for the first resend. */
  retry(seq: number, attempt: number): void;
  /** The app gave up on message `seq` after `attempts` writes. */
  giveUp(seq: number, attempts: number): void;
}

interface Pending {
  seq: number;
  msg: Buffer;
  /** When the message was first queued (the user pressed send). */
  queuedAt: bigint;
  /** Writes so far. */
  attempts: number;
  /** When it was last written, and to which connection; undefined: not written since it was queued or resent. */
  wiredAt: bigint | undefined;
  wiredTo: ((b: Buffer) => void) | undefined;
}

const NO_EVENTS: OutboxEvents = { retry: () => {}, giveUp: () => {} };

export class Outbox {
  /** A bounded queue: a long outage must not exhaust memory. */
  static readonly LIMIT = 10_000;
  private control: Buffer[] = [];
  /** Data messages by seq, in the order they were queued. */
  private readonly pending = new Map<number, Pending>();
  private sink: ((b: Buffer) => void) | undefined;
  private held = false;

  constructor(
    private readonly policy: CompiledOutbox | null,
    private readonly on: OutboxEvents = NO_EVENTS,
  ) {}

  /** A data message to deliver: written now if connected, else when a connection comes. */
  push(seq: number, msg: Buffer): void {
    if (this.pending.size >= Outbox.LIMIT) return;
    this.pending.set(seq, {
      seq,
      msg,
      queuedAt: now(),
      attempts: 0,
      wiredAt: undefined,
      wiredTo: undefined,
    });
    this.flush();
  }

  /** A control frame (ack, pong, login reply): written now, or first on the next connection. */
  pushControl(b: Buffer): void {
    if (this.sink !== undefined) this.sink(b);
    else if (this.control.length < Outbox.LIMIT) this.control.push(b);
  }

  attach(sink: (b: Buffer) => void): void {
    this.sink = sink;
    this.flush();
  }

  detach(sink: (b: Buffer) => void): void {
    if (this.sink === sink) this.sink = undefined;
  }

  /** While held (a login under way), only control frames are written. */
  hold(on: boolean): void {
    this.held = on;
    if (!on) this.flush();
  }

  /**
   * A new connection: what was written to another one and not acknowledged goes again
   * (messages past their retries are given up instead). `keep`: the new connection's own
   * sink, when it was attached first (an HTTP/2 down stream opens before the hello): what
   * it was written stays.
   */
  resend(keep?: (b: Buffer) => void): void {
    for (const p of this.pending.values()) {
      if (p.wiredAt === undefined || (keep !== undefined && p.wiredTo === keep)) continue;
      p.wiredAt = undefined;
      p.wiredTo = undefined;
      const retries = this.policy?.retries ?? null;
      if (retries !== null && p.attempts > retries) this.giveUp(p);
    }
    this.flush();
  }

  /**
   * The server's send timeout: a message written to another connection than the current
   * one and not acknowledged within the policy's timeout goes again on the current one.
   * (A long poll's response can die with a connection the server never hears close; the
   * client's own send timeout gives its connection up instead.)
   */
  resendStale(at: bigint = now()): void {
    const timeout = this.policy?.timeout_ns ?? null;
    if (timeout === null || this.sink === undefined) return;
    let any = false;
    for (const p of this.pending.values()) {
      if (p.wiredAt === undefined || p.wiredTo === this.sink) continue;
      if (Number(at - p.wiredAt) < timeout) continue;
      p.wiredAt = undefined;
      p.wiredTo = undefined;
      any = true;
    }
    if (any) this.flush();
  }

  /** The peer has message `seq`. */
  ack(seq: number): void {
    this.pending.delete(seq);
  }

  /** When the oldest message written to the current connection and not acknowledged was written. */
  oldestUnacked(): bigint | undefined {
    let oldest: bigint | undefined;
    for (const p of this.pending.values()) {
      if (p.wiredTo !== this.sink || p.wiredAt === undefined) continue;
      if (oldest === undefined || p.wiredAt < oldest) oldest = p.wiredAt;
    }
    return oldest;
  }

  /** The sink writing to the current connection, if any. */
  get current(): ((b: Buffer) => void) | undefined {
    return this.sink;
  }

  /** Gives up the messages queued longer than the policy's give-up time. */
  sweep(at: bigint = now()): void {
    const limit = this.policy?.give_up_ns ?? null;
    if (limit === null) return;
    for (const p of this.pending.values()) {
      if (Number(at - p.queuedAt) >= limit) this.giveUp(p);
    }
  }

  /** Messages not yet acknowledged (or, without a policy, not yet written). */
  get size(): number {
    return this.pending.size;
  }

  private giveUp(p: Pending): void {
    this.pending.delete(p.seq);
    this.on.giveUp(p.seq, p.attempts);
  }

  private flush(): void {
    const sink = this.sink;
    if (sink === undefined) return;
    const control = this.control;
    this.control = [];
    for (const b of control) sink(b);
    if (this.held) return;
    for (const p of this.pending.values()) {
      if (p.wiredAt !== undefined) continue;
      const attempt = p.attempts++;
      if (attempt > 0) this.on.retry(p.seq, attempt);
      p.wiredAt = now();
      p.wiredTo = sink;
      // Without a policy a message is written once, as to a plain socket.
      if (this.policy === null) this.pending.delete(p.seq);
      sink(attempt === 0 ? p.msg : withAttempt(p.msg, attempt));
    }
  }
}

/** What one side has received of one direction: a resend it already had is not counted again. */
export class Inbox {
  private readonly seen = new Set<number>();
  /** True the first time `seq` arrives. */
  first(seq: number): boolean {
    if (this.seen.has(seq)) return false;
    this.seen.add(seq);
    return true;
  }
}
