/**
 * The application message every workload carries: a fixed header (who, which direction,
 * sequence number, send instant) padded to the workload's message size. Carrying the
 * send instant in the message makes one-way latency exact without a side channel.
 */

export const HEADER_BYTES = 32;
/** Where a frame says which attempt of its message it is (a resend keeps everything else). */
export const ATTEMPT_OFFSET = 24;
const MAGIC = 0x514c; // "QL"

/**
 * What a frame is. `data` is a measured message; the rest is the application's own
 * control traffic, as real messengers have it: `hello` names the workload connection,
 * `ack` confirms a data message (its `dir` and `seq`), `ping`/`pong` are the keepalive,
 * `login`/`login-ok` the round trips of a login after each connect.
 */
export const Kind = { data: 0, hello: 1, ack: 2, ping: 3, pong: 4, login: 5, loginOk: 6 } as const;
export type Kind = (typeof Kind)[keyof typeof Kind];
const KINDS: ReadonlySet<number> = new Set(Object.values(Kind));

export interface Header {
  kind: Kind;
  dir: 'up' | 'down';
  /** Index of the workload in the scenario's list. */
  w: number;
  c: number;
  seq: number;
  /** CLOCK_MONOTONIC ns at creation. */
  sentAbs: bigint;
  /** Total length of the message, header included. */
  length: number;
  /** How many times the sender sent it before (0: first attempt; resends count up, at most 255). */
  attempt?: number;
}

/** Header then filler up to `length` (at least the header); filler bytes are `fill`. */
export function encodeMessage(h: Header, fill = 0x61): Buffer {
  const length = Math.max(HEADER_BYTES, h.length);
  const b = Buffer.alloc(length, fill);
  b.writeUInt16BE(MAGIC, 0);
  b.writeUInt8(h.kind, 2);
  b.writeUInt8(h.dir === 'up' ? 0 : 1, 3);
  b.writeUInt16BE(h.w, 4);
  b.writeUInt16BE(h.c, 6);
  b.writeUInt32BE(h.seq >>> 0, 8);
  b.writeUInt32BE(length, 12);
  b.writeBigInt64BE(h.sentAbs, 16);
  b.fill(0, 24, HEADER_BYTES);
  b.writeUInt8(Math.min(255, h.attempt ?? 0), ATTEMPT_OFFSET);
  return b;
}

/** Undefined when the bytes are not one of our messages (a bug or corruption). */
export function decodeMessage(b: Buffer): Header | undefined {
  if (b.length < HEADER_BYTES || b.readUInt16BE(0) !== MAGIC) return undefined;
  const kind = b.readUInt8(2);
  if (!KINDS.has(kind)) return undefined;
  return {
    kind: kind as Kind,
    dir: b.readUInt8(3) === 0 ? 'up' : 'down',
    w: b.readUInt16BE(4),
    c: b.readUInt16BE(6),
    seq: b.readUInt32BE(8),
    length: b.readUInt32BE(12),
    sentAbs: b.readBigInt64BE(16),
    attempt: b.readUInt8(ATTEMPT_OFFSET),
  };
}

/** A copy of a message marked as attempt `attempt` (the original stays as it was). */
export function withAttempt(msg: Buffer, attempt: number): Buffer {
  const copy = Buffer.from(msg);
  copy.writeUInt8(Math.min(255, attempt), ATTEMPT_OFFSET);
  return copy;
}

/** The hello that names workload connection (w, c) to the server. */
export function helloFrame(w: number, c: number, sentAbs: bigint): Buffer {
  return controlFrame(Kind.hello, { dir: 'up', w, c }, 0, sentAbs);
}

/** A control frame (no payload beyond the header unless `length` asks for padding). */
export function controlFrame(
  kind: Kind,
  to: { dir: 'up' | 'down'; w: number; c: number },
  seq: number,
  sentAbs: bigint,
  length = HEADER_BYTES,
): Buffer {
  return encodeMessage({ kind, dir: to.dir, w: to.w, c: to.c, seq, sentAbs, length });
}

/**
 * Splits a byte stream into frames with a 4-byte big-endian length prefix (the plain
 * framing of tcp-framed, the down stream of http2 and the batches of longpoll).
 */
export class LengthPrefixed {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (frame: Buffer) => void) {}

  static frame(payload: Buffer): Buffer {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(payload.length, 0);
    return Buffer.concat([head, payload]);
  }

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + n) break;
      this.onFrame(this.buf.subarray(4, 4 + n));
      this.buf = this.buf.subarray(4 + n);
    }
  }
}
